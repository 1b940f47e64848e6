"""ArduCopter's failsafes: ground station (FS_GCS_*), battery (BATT_*), fence breach
(FENCE_ACTION) and EKF, each switching to its chain of modes as the firmware does."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes
from sim.arming import Arming
from sim.fence import BREACH_BOUNDARY, BREACH_MAXALT
from sim.mode_change import set_mode
from sim.state import EKF_POSITION_S, VehicleState

BATTERY_CHAINS = {
    1: (modes.LAND,),
    2: (modes.RTL, modes.LAND),
    3: (modes.SMART_RTL, modes.RTL, modes.LAND),
    4: (modes.SMART_RTL, modes.LAND),
    6: (modes.RTL, modes.LAND),
    7: (modes.BRAKE, modes.LAND),
}
GCS_CHAINS = {
    1: (modes.RTL, modes.LAND),
    2: (modes.RTL, modes.LAND),
    3: (modes.SMART_RTL, modes.RTL, modes.LAND),
    4: (modes.SMART_RTL, modes.LAND),
    5: (modes.LAND,),
    7: (modes.BRAKE, modes.LAND),
}
FENCE_CHAINS = {
    1: (modes.RTL, modes.LAND),
    2: (modes.LAND,),
    3: (modes.SMART_RTL, modes.RTL, modes.LAND),
    4: (modes.BRAKE, modes.LAND),
    5: (modes.SMART_RTL, modes.LAND),
}


class Failsafes:
    def __init__(self, vehicle: VehicleState, arming: Arming):
        self.v = vehicle
        self.arming = arming

    def step(self, dt: float) -> None:
        self.battery(dt)
        self.gcs()
        self.fence()
        self.ekf()

    def failsafe_mode(self, preferred: tuple[int, ...]) -> None:
        """Switch to the first mode of ``preferred`` that can be entered (ArduCopter's
        set_mode_X_or_Y chains); disarm instead when on the ground."""
        v = self.v
        if not v.flying:
            self.arming.disarm(force=True)
            return
        for mode in preferred:
            if v.mode == mode or set_mode(v, mode):
                return
        set_mode(v, modes.LAND)

    # -- battery ------------------------------------------------------------------------------
    def battery(self, dt: float) -> None:
        v = self.v
        p = v.params
        s = v.copter.state
        b = v.battery
        b.update(
            dt, p.get("SIM_BATT_VOLTAGE"), v.faults.battery_sag_v, v.armed, v.flying,
            v.copter.airspeed, s.vu, p.get("SIM_BATT_CAP_AH"),
        )  # fmt: skip
        if p.get("BATT_MONITOR") == 0:
            return
        remaining_mah = b.capacity_mah - b.consumed_mah
        now = v.sim_time
        timer = p.get("BATT_LOW_TIMER")

        def below(volt_param: str, mah_param: str, since: float | None):
            """(reason or None, when the voltage first fell below the threshold)."""
            volt, mah = p.get(volt_param), p.get(mah_param)
            if mah > 0 and remaining_mah < mah:
                return "capacity", since
            if volt > 0 and b.voltage < volt:
                since = now if since is None else since
                return ("voltage" if now - since >= timer else None), since
            return None, None

        crit, b.crit_since = below("BATT_CRT_VOLT", "BATT_CRT_MAH", b.crit_since)
        low, b.low_since = below("BATT_LOW_VOLT", "BATT_LOW_MAH", b.low_since)
        level = 2 if crit else (1 if low else 0)
        if level > b.failsafe:
            b.failsafe = level
            b.failsafe_reason = crit or low
            kind = "critical" if level == 2 else "low"
            b.charge_state = (
                mavlink.MAV_BATTERY_CHARGE_STATE_CRITICAL
                if level == 2
                else mavlink.MAV_BATTERY_CHARGE_STATE_LOW
            )
            v.text(
                mavlink.MAV_SEVERITY_WARNING,
                f"Battery 1 is {kind} {b.voltage:.2f}V used {b.consumed_mah:.0f} mAh",
            )
            v.text(mavlink.MAV_SEVERITY_WARNING, "Battery Failsafe")
            action = int(p.get("BATT_FS_CRT_ACT" if level == 2 else "BATT_FS_LOW_ACT"))
            self._battery_action(action)

    def _battery_action(self, action: int) -> None:
        v = self.v
        if action == 0 or not v.armed:
            return
        if action == 5:
            self.arming.disarm(force=True)
            return
        if v.mode == modes.LAND:
            return
        self.failsafe_mode(BATTERY_CHAINS.get(action, (modes.LAND,)))

    # -- ground station -----------------------------------------------------------------------
    def gcs(self) -> None:
        v = self.v
        p = v.params
        if v.last_gcs_heartbeat is None:
            return
        lost = v.sim_time - v.last_gcs_heartbeat > p.get("FS_GCS_TIMEOUT")
        if not lost:
            if v.gcs_failsafe:
                v.gcs_failsafe = False
                v.text(mavlink.MAV_SEVERITY_WARNING, "GCS Failsafe Cleared")
            return
        if v.gcs_failsafe or not p.get("FS_GCS_ENABLE") or not v.armed:
            return
        v.gcs_failsafe = True
        v.text(mavlink.MAV_SEVERITY_WARNING, "GCS Failsafe")
        options = int(p.get("FS_OPTIONS"))
        if not v.flying:
            self.arming.disarm(force=True)
            return
        fs_gcs = int(p.get("FS_GCS_ENABLE"))
        if (options & 2 or fs_gcs == 2) and v.mode == modes.AUTO:
            return  # FS_OPTIONS bit 1 (or the deprecated FS_GCS_ENABLE 2): continue the mission
        if options & 8 and (v.mode == modes.LAND or v.nav.landing):
            return
        if options & 16 and v.mode in modes.PILOT_CONTROLLED:
            return
        self.failsafe_mode(GCS_CHAINS.get(fs_gcs, (modes.RTL, modes.LAND)))

    # -- fence --------------------------------------------------------------------------------
    def fence(self) -> None:
        """AC_Fence: act on a new breach (outside a manual-recovery window), report when the
        copter is back inside."""
        v = self.v
        f = v.fence
        if not f.enabled or not v.armed or not v.ekf_has_position():
            if not f.enabled:
                f.breached = 0
            return
        s = v.copter.state
        bad = f.violations(s.n, s.e, s.alt) if v.flying else 0
        new = bad & ~f.breached
        recovering = f.recovery_until is not None and v.sim_time < f.recovery_until
        if f.breached and not bad:
            f.breached = 0
            v.text(mavlink.MAV_SEVERITY_NOTICE, "Fence breach cleared")
            return
        f.breached = bad
        if not new:
            return
        f.breach_count += 1
        f.breach_time = v.sim_time
        f.breach_type = BREACH_MAXALT if new & 1 and not new & 6 else BREACH_BOUNDARY
        if recovering:
            return  # counted, but a pilot/GCS recovering is left alone
        names = [name for bit, name in ((4, "Polygon"), (2, "Circle"), (1, "Max alt")) if new & bit]
        v.text(mavlink.MAV_SEVERITY_NOTICE, f"{' '.join(names)} fence breached")
        for mode in FENCE_CHAINS.get(int(v.params.get("FENCE_ACTION")), ()):
            if set_mode(v, mode):
                break

    # -- EKF ----------------------------------------------------------------------------------
    def ekf(self) -> None:
        v = self.v
        lost = v.faults.gps_loss and v.booted(EKF_POSITION_S)
        if lost and not v.ekf_failsafe and v.armed and v.flying:
            if v.mode in modes.NEEDS_POSITION:
                v.ekf_failsafe = True
                v.text(mavlink.MAV_SEVERITY_CRITICAL, "EKF variance")
                v.mode = modes.LAND
                v.nav.enter_mode(modes.LAND)
                v.queue_heartbeat()
                v.text(mavlink.MAV_SEVERITY_CRITICAL, "EKF Failsafe: changed to LAND Mode")
        elif not lost and v.ekf_failsafe:
            v.ekf_failsafe = False
            v.text(mavlink.MAV_SEVERITY_CRITICAL, "EKF Failsafe Cleared")
