"""The preflight checklist: every line printed pass or fail, nothing flown unless all pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from missions.items import FENCE, MISSION, RALLY, Mission
from patrol.geodesy import distance
from patrol.runner.profile import SiteProfile
from patrol.vehicle import Vehicle
from patrol.vehicle.mission_transfer import TYPE_NAMES, MissionTransferError
from patrol.vehicle.params import ParamError
from patrol.vehicle.telemetry import State


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"  [{' ok ' if self.ok else 'FAIL'}] {self.name}: {self.detail}"


class Preflight:
    """Runs the checks on ``vehicle`` for ``mission`` under ``profile``; ``say`` prints a line."""

    def __init__(
        self,
        vehicle: Vehicle,
        mission: Mission,
        profile: SiteProfile,
        say: Callable[[str], None] = print,
    ) -> None:
        self.vehicle = vehicle
        self.mission = mission
        self.profile = profile
        self.say = say
        self.checks: list[Check] = []

    def _record(self, name: str, ok: bool, detail: str) -> bool:
        check = Check(name, ok, detail)
        self.checks.append(check)
        self.say(check.line())
        return ok

    def _wait(self, condition: Callable[[State], bool], vehicle_seconds: float) -> bool:
        return self.vehicle.telemetry.wait(condition, vehicle_seconds)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def run(self) -> bool:
        """All checks in order; uploads only when the vehicle is there. True if all passed."""
        v, p = self.vehicle, self.profile
        st = v.telemetry.state
        if not self._record(
            "heartbeat",
            v.wait_heartbeat(10.0),
            f"vehicle {v.sysid}, mode {st.mode_name}" if st.heartbeat_at else "none in 10 s",
        ):
            return False
        v.telemetry.request_streams()

        def gps_ok(s: State) -> bool:
            return s.gps_fix >= 3 and s.hdop is not None and s.hdop <= p.max_hdop

        ok = self._wait(gps_ok, p.gps_timeout)
        hdop = f"{st.hdop:.2f}" if st.hdop is not None else "unknown"
        self._record("GPS", ok, f"fix type {st.gps_fix} (3D needs >= 3), HDOP {hdop}")
        ok = self._wait(lambda s: s.ekf_healthy, p.gps_timeout)
        flags = f"0x{st.ekf_flags:x}" if st.ekf_flags is not None else "no EKF_STATUS_REPORT"
        self._record("EKF", ok, f"flags {flags}")

        self._wait(lambda s: s.voltage is not None, 5.0)
        volts, pct = st.voltage, st.battery_remaining
        ok = volts is not None and volts >= p.min_voltage
        ok = ok and (pct is None or pct >= p.min_battery_pct)
        shown = f"{volts:.2f} V" if volts is not None else "no voltage"
        self._record(
            "battery",
            ok,
            f"{shown}, {pct if pct is not None else '?'} % "
            f"(needs >= {p.min_voltage:g} V, >= {p.min_battery_pct} %)",
        )
        self._check_home()
        # fence items before FENCE_ENABLE/FENCE_TYPE, in the order recorded against SITL
        self._check_uploads()
        self._check_params()
        return self.passed

    def _check_home(self) -> None:
        v = self.vehicle
        v.telemetry.fetch_home(10.0)
        home = v.telemetry.state.home
        plan = self.mission.home
        if home is None:
            self._record("home", False, "vehicle has no home position")
            return
        off = distance(home.lat, home.lon, plan.lat, plan.lon)
        self._record(
            "home",
            off <= self.profile.max_home_distance,
            f"{home.lat:.6f},{home.lon:.6f}, {off:.0f} m from the plan's home "
            f"(limit {self.profile.max_home_distance:g} m)",
        )

    def _check_params(self) -> None:
        for name, value in self.profile.params_for(self.mission).items():
            try:
                before, changed = self.vehicle.params.ensure(name, value)
            except ParamError as exc:
                self._record(f"param {name}", False, str(exc))
                continue
            detail = f"{value:g}" + (f" (was {before:g}, set and confirmed)" if changed else "")
            self._record(f"param {name}", True, detail)

    def _check_uploads(self) -> None:
        for mission_type in (MISSION, FENCE, RALLY):
            items = self.mission.of_type(mission_type)
            name = TYPE_NAMES[mission_type]
            try:
                stats = self.vehicle.missions.upload_verified(items, mission_type)
            except MissionTransferError as exc:
                self._record(f"{name} upload", False, str(exc))
                continue
            self._record(
                f"{name} upload",
                True,
                f"{len(items)} items uploaded {stats.way()}, read back identical "
                f"({stats.seconds:.1f} s)",
            )
