"""What ArduCopter announces on its own as it boots and first flies: the boot STATUSTEXTs and
calibration PARAM_VALUEs at SITL's times, home/origin being set, STAT_RUNTIME, and the EKF's
in-flight yaw alignment."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import telemetry
from sim.state import VehicleState

# Boot STATUSTEXT recorded from SITL (sim seconds, as most recorded runs show; 01 was ~0.5 s
# earlier for the EKF lines); all severity INFO.
BOOT_TEXTS = (
    (1.45, "Barometer 1 calibration complete"),
    (1.45, "Barometer 2 calibration complete"),
    (1.96, "ArduPilot Ready"),
    (1.97, "AHRS: DCM active"),
    (2.27, "RC7: SaveWaypoint LOW"),
    (4.44, "EKF3 IMU0 initialised"),
    (4.44, "EKF3 IMU1 initialised"),
    (4.45, "AHRS: EKF3 active"),
    (5.79, "EKF3 IMU0 tilt alignment complete"),
    (5.79, "EKF3 IMU1 tilt alignment complete"),
    (5.89, "EKF3 IMU0 MAG0 initial yaw alignment complete"),
    (5.89, "EKF3 IMU1 MAG0 initial yaw alignment complete"),
    (9.30, "GPS 1: probing for u-blox at 230400 baud"),
    (9.33, "GPS 1: detected u-blox"),
    (20.05, "EKF3 IMU0 origin set"),
    (20.23, "EKF3 IMU1 origin set"),
    (41.41, "EKF3 IMU0 is using GPS"),
    (41.62, "EKF3 IMU1 is using GPS"),
)
HOME_SET_TEXT = "EKF3 IMU0 origin set"
GYRO_CAL_PARAMS = (
    "INS_GYROFFS_X", "INS_GYROFFS_Y", "INS_GYROFFS_Z", "INS_GYR_ID", "INS_GYR1_CALTEMP",
    "INS_GYR2OFFS_X", "INS_GYR2OFFS_Y", "INS_GYR2OFFS_Z", "INS_GYR2_ID", "INS_GYR2_CALTEMP",
    "INS_GYR3OFFS_X", "INS_GYR3OFFS_Y", "INS_GYR3OFFS_Z", "INS_GYR3_ID",
)  # fmt: skip
# Unsolicited PARAM_VALUE SITL sends while it boots (calibration results), sim seconds.
BOOT_PARAMS = (
    (1.45, ("BARO1_GND_PRESS", "BARO2_GND_PRESS", "INS_GYR_ID", "INS_ACC_ID", "INS_GYR2_ID",
            "INS_ACC2_ID")),
    (1.99, GYRO_CAL_PARAMS),
    (2.99, ("EK3_SRC1_POSXY",)),
)  # fmt: skip
# What a reboot's boot says first (12; SITL's first boot in 01 was not seen this early):
# (sim s, STATUSTEXT (severity, text) or PARAM_VALUE names).
REBOOT_MESSAGES: tuple[tuple[float, tuple[int, str] | tuple[str, ...]], ...] = (
    (0.055, (mavlink.MAV_SEVERITY_DEBUG, "RCInput: decoding UDP (Pulses)")),
    (0.056, ("ESC_CALIBRATION", "COMPASS_EXTERNAL", "COMPASS_PRIO1_ID", "COMPASS_DEV_ID",
             "COMPASS_PRIO2_ID", "COMPASS_DEV_ID2", "COMPASS_PRIO3_ID", "COMPASS_DEV_ID3")),
    (0.068, (mavlink.MAV_SEVERITY_INFO, "Calibrating barometer")),
    (0.069, ("BARO_ALT_OFFSET",)),
)  # fmt: skip
STAT_RUNTIME_PERIOD_S = 30.0
YAW_ALIGN_AFTER_LIFTOFF_S = 1.85
FIRMWARE_TEXT = "ArduCopter V4.7.0-dev (90700977)"
FRAME_TEXT = "Frame: QUAD/PLUS"


class Boot:
    def __init__(self, vehicle: VehicleState):
        self.v = vehicle
        self.text_index = 0
        self.param_index = 0
        self.runtime_at_boot = vehicle.params.get("STAT_RUNTIME")
        self.next_stat_runtime = STAT_RUNTIME_PERIOD_S + 0.43
        self.liftoff_at: float | None = None
        self.yaw_aligned = False
        self.rebooted = False  # set after a reboot: its first messages are known too
        self.reboot_index = 0

    def step(self) -> None:
        """The boot timeline and the periodic STAT_RUNTIME, before the vehicle moves."""
        v = self.v
        if self.rebooted:
            self._reboot_messages()
        while self.text_index < len(BOOT_TEXTS) and v.booted(BOOT_TEXTS[self.text_index][0]):
            text = BOOT_TEXTS[self.text_index][1]
            v.text(mavlink.MAV_SEVERITY_INFO, text)
            if text == HOME_SET_TEXT:
                self._set_home()
            self.text_index += 1
        while self.param_index < len(BOOT_PARAMS) and v.booted(BOOT_PARAMS[self.param_index][0]):
            for name in BOOT_PARAMS[self.param_index][1]:
                v.send_param_value(name, v.params[name])
            self.param_index += 1
        if v.sim_time >= self.next_stat_runtime:
            self.next_stat_runtime += STAT_RUNTIME_PERIOD_S
            runtime = float(int(self.runtime_at_boot + v.sim_time))
            v.params.set("STAT_RUNTIME", runtime, persist=False)  # saved when the fleet stops
            v.send_param_value("STAT_RUNTIME", runtime)

    def _reboot_messages(self) -> None:
        v = self.v
        while self.reboot_index < len(REBOOT_MESSAGES) and v.booted(
            REBOOT_MESSAGES[self.reboot_index][0]
        ):
            payload = REBOOT_MESSAGES[self.reboot_index][1]
            if isinstance(payload[0], int):
                v.text(payload[0], str(payload[1]))
            else:
                for name in payload:
                    v.send_param_value(str(name), v.params[str(name)])
            self.reboot_index += 1

    def after_move(self) -> None:
        """The EKF's in-flight yaw alignment, ~1.85 s after the first liftoff."""
        v = self.v
        if self.liftoff_at is None and v.flying:
            self.liftoff_at = v.sim_time
        if (
            self.liftoff_at is not None
            and not self.yaw_aligned
            and v.sim_time >= self.liftoff_at + YAW_ALIGN_AFTER_LIFTOFF_S
        ):
            self.yaw_aligned = True
            for imu in (0, 1):
                v.text(
                    mavlink.MAV_SEVERITY_INFO,
                    f"EKF3 IMU{imu} MAG0 in-flight yaw alignment complete",
                )

    def _set_home(self) -> None:
        v = self.v
        v.home_set = True
        v.broadcast(telemetry.gps_global_origin(v))
        v.broadcast(telemetry.home_position(v))
        v.text(mavlink.MAV_SEVERITY_INFO, f"Field Elevation Set: {round(v.home[2])}m")
        if v.missions.write_home():  # home is item 0: an empty mission now holds it
            v.missions.param_value("MIS_TOTAL", float(v.missions.count()))
        for name in ("BARO1_GND_PRESS", "BARO2_GND_PRESS"):  # re-zeroed at the origin
            v.send_param_value(name, v.params[name])
