"""AP_Arming for a simulated copter: the pre-arm checks as ArduCopter words them, their
periodic report, and arming / disarming."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes, telemetry
from sim.land_detector import LandDetector
from sim.state import VehicleState

PREARM_HEALTHY_S = 23.5  # 23.56-23.6 s in the recordings
PREARM_TICK_PHASE_S = 0.44  # the 1 Hz arming check ran at x.43-x.48 s in the recordings
PREARM_EVAL_PHASE_S = 0.06
FORCE_DISARM = 21196


class Arming:
    """Failures are shown by the 1 Hz update every 30 s, or (4 s apart) after the checks'
    result changed; the result is also evaluated at 2 Hz for SYS_STATUS."""

    def __init__(self, vehicle: VehicleState, land: LandDetector):
        self.v = vehicle
        self.land = land
        self.next_check = PREARM_TICK_PHASE_S
        self.next_eval = PREARM_EVAL_PHASE_S
        self.last_display = 0.0
        self.report_now = False

    def failures(self, mode: int | None = None) -> list[str]:
        """ArduCopter's failing pre-arm checks, worded as its STATUSTEXT (without prefix)."""
        v = self.v
        mode = v.mode if mode is None else mode
        failures: list[str] = []
        checks = v.params.get("ARMING_CHECK") != 0
        if checks:
            if not v.booted(PREARM_HEALTHY_S):
                failures.append("Accels inconsistent")
            if not v.booted(5.79):
                failures.append("EKF attitude is bad")
            if not v.booted(4.45):
                failures.append("AHRS: not using configured AHRS type")
            if v.calibration_status.accel_needed:
                failures.append("3D Accel calibration needed")
            if v.calibration_status.compasses:
                failures.append("Compass calibration running")
            if v.faults.gps_loss and v.booted(PREARM_HEALTHY_S):
                failures.append("GPS 1: Bad fix")
        if v.battery.failsafe:
            kind = "critical" if v.battery.failsafe == 2 else "low"
            failures.append(f"Battery 1 {kind} {v.battery.failsafe_reason} failsafe")
            failures.append("Battery failsafe")
        fence = v.fence
        if checks and fence.enabled:
            present = fence.types & 3 or (fence.types & 4 and fence.has_polygon)
            if not present:
                failures.append("Fences enabled, but none selected")
            elif fence.types & 6 and not v.ekf_has_position():
                failures.append("Fence requires position")
            elif fence.violations(0.0, 0.0, 0.0) and v.booted(PREARM_HEALTHY_S):
                failures.append("Vehicle breaching fence")
        if (
            v.booted(PREARM_HEALTHY_S)
            and mode in modes.NEEDS_POSITION
            and not v.ekf_has_position()
            and not failures
        ):
            failures.append("Need Position Estimate")
        return failures

    def healthy(self) -> bool:
        return self.v.armed or not self.failures()

    def step(self) -> None:
        v = self.v
        t = v.sim_time
        if t >= self.next_eval:
            self.next_eval += 0.5
            healthy = self.healthy()
            if v.last_prearm_result is not None and healthy != v.last_prearm_result:
                self.report_now = True
            v.last_prearm_result = healthy
        if t >= self.next_check:
            self.next_check += 1.0
            failures = [] if v.armed else self.failures()
            since = t - self.last_display
            if (self.report_now and since > 4.0 + 1e-6) or since > 30.0 + 1e-6:
                self.report_now = False
                self.last_display = t
                for failure in failures:
                    v.text(mavlink.MAV_SEVERITY_CRITICAL, f"PreArm: {failure}")

    def arm(self, force: bool = False) -> bool:
        v = self.v
        if v.armed:
            return True
        failures = [] if force else self.failures()
        if not force and v.mode not in modes.ARMABLE:
            failures.append("Mode not armable")
        if failures:
            for failure in failures:
                v.text(mavlink.MAV_SEVERITY_CRITICAL, f"Arm: {failure}")
            return False
        v.armed = True
        v.ever_armed = True
        self.land.on_arm()
        v.nav.touched_down = False
        v.nav.breadcrumbs = []
        v.text(mavlink.MAV_SEVERITY_INFO, "Arming motors")
        if not v.flying and v.home_set:
            # ArduCopter moves home to where it is armed
            lat, lon = v.position()
            v.relocate_home(lat, lon, v.alt_amsl())
            v.broadcast(telemetry.gps_global_origin(v))
            v.broadcast(telemetry.home_position(v))
        return True

    def disarm(self, force: bool = False) -> bool:
        v = self.v
        if not v.armed:
            return True
        if v.flying and not force:
            return False
        v.armed = False
        self.land.on_disarm()
        v.nav.on_disarm()
        v.auto.on_disarm()
        v.text(mavlink.MAV_SEVERITY_INFO, "Disarming motors")
        return True
