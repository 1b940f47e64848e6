"""The site profile: failsafe parameters the preflight enforces and the checklist thresholds.

A small default lives here; a site overrides it with a TOML or JSON file::

    [params]            # set on the vehicle and confirmed before every flight
    BATT_LOW_VOLT = 14.4
    [checks]
    min_voltage = 15.2
    max_hdop = 1.5
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from missions.items import Mission
from patrol.runner.route import fence_alt_max

# ArduCopter: FS_GCS_ENABLE 1 = RTL, BATT_FS_LOW_ACT 2 = RTL, FENCE_ACTION 1 = RTL or land.
DEFAULT_PARAMS: dict[str, float] = {
    "FS_GCS_ENABLE": 1,
    "BATT_FS_LOW_ACT": 2,
    "BATT_LOW_VOLT": 10.5,
    "FENCE_ENABLE": 1,
    "FENCE_ACTION": 1,
}
FENCE_TYPE_ALT_MAX, FENCE_TYPE_CIRCLE, FENCE_TYPE_POLYGON = 1, 2, 4


class ProfileError(Exception):
    """A site profile file that cannot be used."""


@dataclass
class SiteProfile:
    params: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    min_voltage: float = 11.0  # V, SYS_STATUS voltage_battery
    min_battery_pct: int = 50  # % remaining (if the vehicle reports it)
    max_hdop: float = 2.0
    max_home_distance: float = 50.0  # m between the vehicle's home and the plan's
    gps_timeout: float = 90.0  # vehicle s to wait for fix and EKF (SITL needs ~42 s from boot)
    prearm_timeout: float = 30.0  # vehicle s to wait for the pre-arm checks to pass
    pause_method: str = "BRAKE"
    link_lost_after: float = 3.0  # vehicle s without a HEARTBEAT

    def params_for(self, mission: Mission) -> dict[str, float]:
        """Parameters to enforce for this plan: the fence the plan asks for (its ``params``;
        else a ceiling above its highest item and the polygon when it has one), then the
        profile's failsafes, which win: the site decides what a lost link or a low battery do."""
        out: dict[str, float] = {}
        if self.params.get("FENCE_ENABLE"):
            out["FENCE_ALT_MAX"] = fence_alt_max(mission)
            out["FENCE_TYPE"] = FENCE_TYPE_ALT_MAX | (FENCE_TYPE_POLYGON if mission.fence else 0)
        out.update(getattr(mission, "params", None) or {})
        out.update(self.params)
        return out


_CHECK_FIELDS = {f.name: f.type for f in fields(SiteProfile) if f.name != "params"}


def load_profile(path: Path | None) -> SiteProfile:
    """The default profile, overridden by ``path`` (.toml or .json) when given."""
    profile = SiteProfile()
    if path is None:
        return profile
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except OSError as exc:
        raise ProfileError(f"site profile {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"site profile {path}: {exc}") from None
    unknown = set(data) - {"params", "checks"}
    if unknown:
        raise ProfileError(f"site profile {path}: unknown section(s) {sorted(unknown)}")
    for name, value in data.get("params", {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProfileError(f"site profile {path}: params.{name} must be a number")
        profile.params[name.upper()] = value
    for name, value in data.get("checks", {}).items():
        if name not in _CHECK_FIELDS:
            raise ProfileError(
                f"site profile {path}: unknown check {name!r}; known: {sorted(_CHECK_FIELDS)}"
            )
        current = getattr(profile, name)
        if isinstance(current, str) != isinstance(value, str):
            raise ProfileError(f"site profile {path}: checks.{name} has the wrong type")
        setattr(profile, name, type(current)(value))
    return profile
