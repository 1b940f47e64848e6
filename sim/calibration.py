"""Sensor calibrations as ArduCopter SITL answers them (transcript 12): MAV_CMD_PREFLIGHT_
CALIBRATION (gyro, baro, simple accel, 6-position accel with its ACCELCAL_VEHICLE_POS exchange,
board level) and DO_START/CANCEL_MAG_CAL, with the recorded ACK delays, STATUSTEXTs,
PARAM_VALUEs and SYS_STATUS bits. The simulated copter sits level and cannot be turned over,
so a 6-position calibration fails at its second position and a compass calibration never
progresses, as SITL's did when it was not rotated."""

from __future__ import annotations

import math
from collections.abc import Callable

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.boot import GYRO_CAL_PARAMS
from sim.state import VehicleState
from sim.telemetry import COMPASSES

ACCEPTED = mavlink.MAV_RESULT_ACCEPTED
TEMPORARILY_REJECTED = mavlink.MAV_RESULT_TEMPORARILY_REJECTED
UNSUPPORTED = mavlink.MAV_RESULT_UNSUPPORTED
FAILED = mavlink.MAV_RESULT_FAILED

INIT_TEXT = "Initialising ArduPilot"  # each blocking calibration announces itself
INIT_TEXT_S = 0.05
GYRO_CAL_S = 0.54  # gyro calibration: its ACK (and the gyro offsets) after this
SIMPLE_ACCEL_PARAMS_S = 0.55
SIMPLE_ACCEL_ACK_S = 1.05
LEVEL_ACK_S = 1.07
FIRST_POSITION_S = 0.574  # after the 6-position command: the first ACCELCAL_VEHICLE_POS
POSITION_PERIOD_S = 1.1  # the vehicle repeats its position request, without a timeout
SAMPLE_FAIL_S = 0.58  # an answered position whose samples repeat the last: "FAILED"
GPS_STALE_S = 1.5  # the GPS health bit is down after an accelerometer calibration
GPS_BIT = mavlink.MAV_SYS_STATUS_SENSOR_GPS
INS_BITS = mavlink.MAV_SYS_STATUS_SENSOR_3D_GYRO | mavlink.MAV_SYS_STATUS_SENSOR_3D_ACCEL
AHRS_BIT = mavlink.MAV_SYS_STATUS_AHRS

ACCEL_CAL_PARAMS = (
    "INS_ACCOFFS_X", "INS_ACCOFFS_Y", "INS_ACCOFFS_Z", "INS_ACCSCAL_X", "INS_ACCSCAL_Y",
    "INS_ACCSCAL_Z", "INS_ACC_ID", "INS_ACC1_CALTEMP", "INS_ACC2OFFS_X", "INS_ACC2OFFS_Y",
    "INS_ACC2OFFS_Z", "INS_ACC2SCAL_X", "INS_ACC2SCAL_Y", "INS_ACC2SCAL_Z", "INS_ACC2_ID",
    "INS_ACC2_CALTEMP", "INS_ACC3OFFS_X", "INS_ACC3OFFS_Y", "INS_ACC3OFFS_Z", "INS_ACC3SCAL_X",
    "INS_ACC3SCAL_Y", "INS_ACC3SCAL_Z", "INS_GYR3OFFS_X", "INS_GYR3OFFS_Y", "INS_GYR3OFFS_Z",
    "INS_ACC3_ID", "AHRS_TRIM_X", "AHRS_TRIM_Y", "AHRS_TRIM_Z",
)  # fmt: skip
ACCEL_OFFSET_PARAMS = tuple(f"INS_ACC{n}OFFS_{a}" for n in ("", "2") for a in "XYZ")
TRIM_PARAMS = ("AHRS_TRIM_X", "AHRS_TRIM_Y", "AHRS_TRIM_Z")
BARO_PARAMS = ("BARO1_GND_PRESS", "BARO2_GND_PRESS")

Reply = Callable[[int], None]  # sends the COMMAND_ACK with this result to whoever asked


def ground_pressure_pa(alt_amsl: float) -> float:
    """The simulated barometer's static pressure (ISA) at ``alt_amsl`` metres."""
    return 101325.0 * (1 - 2.25577e-5 * alt_amsl) ** 5.25588


class Calibration:
    """The calibrations of one vehicle; ``status`` (on the vehicle state) is what SYS_STATUS,
    the pre-arm checks and MAG_CAL_PROGRESS read."""

    def __init__(self, vehicle: VehicleState):
        self.v = vehicle
        self.events: list[tuple[float, Callable[[], None]]] = []
        self.position: int | None = None  # 6-position cal: the position asked for (1..6)
        self.positions_done = 0
        self.next_request = 0.0
        self.accel_failed = False
        self.gps_stale_until = 0.0

    @property
    def accel_waiting(self) -> bool:
        return self.position is not None

    # -- scheduling --------------------------------------------------------------------------
    def _at(self, delay: float, action: Callable[[], None]) -> None:
        self.events.append((self.v.sim_time + delay, action))

    def step(self) -> None:
        v = self.v
        due = [e for e in self.events if e[0] <= v.sim_time + 1e-9]
        if due:
            self.events = [e for e in self.events if e[0] > v.sim_time + 1e-9]
            for _, action in sorted(due, key=lambda e: e[0]):
                action()
        if (self.accel_waiting or self.accel_failed) and v.sim_time >= self.next_request:
            self.next_request += POSITION_PERIOD_S
            self._request_position()
        self._update_status()

    def _update_status(self) -> None:
        status = self.v.calibration_status
        status.sensors_off = INS_BITS if self.accel_waiting else 0
        unhealthy = AHRS_BIT if self.accel_failed else 0
        if self.v.sim_time < self.gps_stale_until:
            unhealthy |= GPS_BIT
        status.unhealthy = unhealthy
        status.accel_needed = self.accel_failed

    # -- MAV_CMD_PREFLIGHT_CALIBRATION ------------------------------------------------------------
    def preflight(self, p1: float, p3: float, p5: float, reply: Reply) -> int | None:
        """Start the calibration the command asks for; the result when answered at once,
        else None (``reply`` sends the ACK when the calibration finishes)."""
        v = self.v
        if v.armed or self.accel_waiting:
            return TEMPORARILY_REJECTED
        if p1 == 1:
            self._blocking(GYRO_CAL_S, lambda: self._finish(reply, GYRO_CAL_PARAMS))
            return None
        if p3 == 1:
            pressure = ground_pressure_pa(v.alt_amsl())
            for name in BARO_PARAMS:
                self._set(name, pressure)
            v.text(mavlink.MAV_SEVERITY_INFO, "Updating barometer calibration")
            v.text(mavlink.MAV_SEVERITY_INFO, "Barometer calibration complete")
            return ACCEPTED
        if p5 == 4:
            self._blocking(SIMPLE_ACCEL_PARAMS_S, self._simple_accel_params)
            self._at(SIMPLE_ACCEL_ACK_S, lambda: self._finish(reply, (), gps_stale=True))
            return None
        if p5 == 1:
            self._blocking(GYRO_CAL_S, lambda: self._start_six_position(reply))
            return None
        if p5 == 2:
            self._blocking(GYRO_CAL_S, lambda: self._announce(GYRO_CAL_PARAMS))
            self._at(LEVEL_ACK_S, lambda: self._level(reply))
            return None
        return UNSUPPORTED

    def _blocking(self, delay: float, action: Callable[[], None]) -> None:
        self._at(INIT_TEXT_S, lambda: self.v.text(mavlink.MAV_SEVERITY_INFO, INIT_TEXT))
        self._at(delay, action)

    def _set(self, name: str, value: float) -> None:
        """A calibration result: saved, and announced as ArduPilot announces saved params."""
        self.v.params.set(name, value)
        self.v.send_param_value(name, self.v.params[name])

    def _announce(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.v.send_param_value(name, self.v.params[name])

    def _finish(self, reply: Reply, names: tuple[str, ...], gps_stale: bool = False) -> None:
        reply(ACCEPTED)
        self._announce(names)
        if gps_stale:
            self.gps_stale_until = self.v.sim_time + GPS_STALE_S

    def _simple_accel_params(self) -> None:
        """The simulated IMUs are ideal: no offsets, unit scale; there is no third IMU, and
        the level copter needs no trim."""
        temperature = self.v.params["INS_GYR1_CALTEMP"]
        for name in ACCEL_CAL_PARAMS:
            if name.endswith("_ID"):
                value = self.v.params[name]
            elif "CALTEMP" in name:
                value = temperature
            elif "SCAL" in name:
                value = 0.0 if name.startswith("INS_ACC3") else 1.0
            else:
                value = 0.0
            self._set(name, value)

    def _level(self, reply: Reply) -> None:
        s = self.v.copter.state
        reply(ACCEPTED)
        for name, value in zip(TRIM_PARAMS, (s.roll, s.pitch, 0.0), strict=True):
            self._set(name, value)
        self.gps_stale_until = self.v.sim_time + GPS_STALE_S
        roll, pitch = math.degrees(s.roll), math.degrees(s.pitch)
        self.v.text(
            mavlink.MAV_SEVERITY_INFO, f"Trim OK: roll={roll:.2f} pitch={pitch:.2f} yaw=0.00"
        )

    # -- 6-position accelerometer calibration ----------------------------------------------------
    def _start_six_position(self, reply: Reply) -> None:
        self._finish(reply, GYRO_CAL_PARAMS, gps_stale=True)  # gyros first, as ArduPilot
        self.position = mavlink.ACCELCAL_VEHICLE_POS_LEVEL
        self.positions_done = 0
        self.accel_failed = False
        self.next_request = self.v.sim_time + FIRST_POSITION_S - GYRO_CAL_S + POSITION_PERIOD_S
        self._at(FIRST_POSITION_S - GYRO_CAL_S, self._first_request)

    def _first_request(self) -> None:
        if self.position is None:
            return
        self._request_position()
        self.v.text(mavlink.MAV_SEVERITY_CRITICAL, "Place vehicle level and press any key.")

    def _request_position(self) -> None:
        """COMMAND_LONG ACCELCAL_VEHICLE_POS from the vehicle to everyone: the position it
        waits for, or FAILED once the calibration has failed (repeated until a reboot)."""
        param1 = self.position if self.position is not None else mavlink.ACCELCAL_VEHICLE_POS_FAILED
        self.v.broadcast(
            mavlink.MAVLink_command_long_message(
                0, 0, mavlink.MAV_CMD_ACCELCAL_VEHICLE_POS, 0, float(param1), 0, 0, 0, 0, 0, 0
            )
        )

    def vehicle_position(self, position: float) -> int:
        """The GCS says the vehicle is in ``position`` (MAV_CMD_ACCELCAL_VEHICLE_POS)."""
        if self.position is None or position != self.position:
            return FAILED
        self.positions_done += 1
        if self.positions_done == 1:
            self.position += 1  # asked for at the next request
        else:
            self._at(SAMPLE_FAIL_S, self._accel_failed)  # still level: the same samples
        return ACCEPTED

    def _accel_failed(self) -> None:
        self.position = None
        self.accel_failed = True
        for name in ACCEL_OFFSET_PARAMS:
            self._set(name, 0.0)
        self.v.text(mavlink.MAV_SEVERITY_CRITICAL, "Calibration FAILED")

    # -- compass calibration ---------------------------------------------------------------------
    def start_mag(self, mask: float) -> int:
        v = self.v
        if v.armed:
            return FAILED
        bits = int(mask) or (1 << len(COMPASSES)) - 1
        v.calibration_status.compasses = tuple(c for c in COMPASSES if bits & (1 << c))
        self._at(0.0, lambda: self._set("COMPASS_LEARN", 0.0))  # follows the ACK
        return ACCEPTED

    def cancel_mag(self) -> int:
        self.v.calibration_status.compasses = ()
        return ACCEPTED
