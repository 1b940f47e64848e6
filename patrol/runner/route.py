"""Route arithmetic on a Mission: which items are waypoints, how far is left, and the route that
remains after a patrol stopped part-way (for ``patrol resume``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import Mission, MissionItem
from patrol.geodesy import distance

DEFAULT_SPEED = 10.0  # m/s, ArduCopter WPNAV_SPEED default
_NOT_WAYPOINTS = {mavlink.MAV_CMD_NAV_TAKEOFF, mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH}


class RouteError(Exception):
    """A route that cannot be built (nothing left to fly, no takeoff)."""


def is_waypoint(item: MissionItem) -> bool:
    """A NAV item that flies to a position (waypoint, loiter, spline, land at a point)."""
    return (
        item.command < mavlink.MAV_CMD_NAV_LAST
        and item.command not in _NOT_WAYPOINTS
        and (item.lat, item.lon) != (0.0, 0.0)
    )


def waypoint_seqs(mission: Mission) -> list[int]:
    """Seqs of the waypoints (home, item 0, excluded)."""
    return [seq for seq, item in enumerate(mission.items) if seq > 0 and is_waypoint(item)]


def legs(mission: Mission) -> list[tuple[int, float]]:
    """(waypoint seq, length of the leg that ends there), starting from home."""
    home = mission.home
    prev = (home.lat, home.lon)
    out = []
    for seq in waypoint_seqs(mission):
        item = mission.items[seq]
        out.append((seq, distance(*prev, item.lat, item.lon)))
        prev = (item.lat, item.lon)
    return out


def planned_speed(mission: Mission, before: int | None = None) -> float:
    """The DO_CHANGE_SPEED in effect before item ``before`` (else the default)."""
    speed = DEFAULT_SPEED
    for seq, item in enumerate(mission.items):
        if before is not None and seq >= before:
            break
        if item.command == mavlink.MAV_CMD_DO_CHANGE_SPEED and item.param2 > 0:
            speed = item.param2
    return speed


@dataclass(frozen=True)
class Progress:
    reached: int  # waypoints reached
    total: int  # waypoints in the plan
    left_m: float
    eta_s: float | None


def returns_home(mission: Mission) -> int | None:
    """The seq of the RTL item that ends the route (after its last waypoint), if any."""
    wps = waypoint_seqs(mission)
    after = wps[-1] if wps else 0
    return next(
        (
            seq
            for seq, item in enumerate(mission.items)
            if seq > after and item.command == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH
        ),
        None,
    )


def progress(
    mission: Mission,
    reached: set[int],
    lat: float | None,
    lon: float | None,
    speed: float | None,
    toward: str = "route",
) -> Progress:
    """How far the aircraft still has to fly. ``toward`` is what it flies now: ``route`` (the
    next unreached waypoint, the remaining legs, then the way home when the plan ends with an
    RTL item), ``home`` (it is returning: RTL mode) or ``here`` (it is landing where it is).
    ``reached`` holds seqs of ``mission``."""
    route = legs(mission)
    done = [seq for seq, _ in route if seq in reached]
    home = mission.home
    here = lat is not None and lon is not None
    if toward == "here":
        left = 0.0
    elif toward == "home":
        left = distance(lat, lon, home.lat, home.lon) if here else 0.0
    else:
        ends = [(seq, mission.items[seq].lat, mission.items[seq].lon) for seq, _ in route]
        lengths = [length for _, length in route]
        rtl = returns_home(mission)
        if rtl is not None:
            last = (ends[-1][1], ends[-1][2]) if ends else (home.lat, home.lon)
            ends.append((rtl, home.lat, home.lon))
            lengths.append(distance(*last, home.lat, home.lon))
        last_done = max(done, default=0)
        remaining = [(end, n) for end, n in zip(ends, lengths, strict=True) if end[0] > last_done]
        left = sum(n for _, n in remaining)
        if remaining and here:
            (_seq, to_lat, to_lon), length = remaining[0]
            left += distance(lat, lon, to_lat, to_lon) - length
    left = max(0.0, left)
    use = speed if speed and speed > 1.0 else planned_speed(mission)
    eta = left / use if use > 0 else None
    return Progress(len(done), len(route), left, eta)


def resume_mission(plan: Mission, last_reached: int | None) -> tuple[Mission, list[int]]:
    """The rest of ``plan`` after waypoint ``last_reached`` (a plan seq): home, the plan's
    takeoff, the speed then in effect, the last reached waypoint (so the interrupted leg is
    flown whole) and every item after it. Returns the mission and, for each of its seqs, the
    plan seq it came from."""
    items = plan.items
    takeoffs = [s for s, i in enumerate(items) if i.command == mavlink.MAV_CMD_NAV_TAKEOFF]
    if not takeoffs:
        raise RouteError("the plan has no NAV_TAKEOFF item to resume with")
    takeoff = takeoffs[0]
    wps = waypoint_seqs(plan)
    if not wps:
        raise RouteError("the plan has no waypoints")
    if last_reached is None or last_reached < wps[0]:
        start = takeoff + 1
    else:
        if last_reached >= wps[-1]:
            raise RouteError("every waypoint was reached; nothing left to fly")
        start = [s for s in wps if s <= last_reached][-1]
    seq_map = [0, takeoff]
    new_items = [items[0], items[takeoff]]
    speeds = [
        s for s in range(takeoff + 1, start) if items[s].command == mavlink.MAV_CMD_DO_CHANGE_SPEED
    ]
    if speeds:
        seq_map.append(speeds[-1])
        new_items.append(items[speeds[-1]])
    for seq in range(start, len(items)):
        seq_map.append(seq)
        new_items.append(items[seq])
    resumed = Mission(
        items=new_items, fence=list(plan.fence), rally=list(plan.rally), name=plan.name
    )
    if hasattr(plan, "params") and hasattr(resumed, "params"):
        resumed.params.update(plan.params)
    return resumed, seq_map


def fence_alt_max(mission: Mission, margin: float = 10.0) -> float:
    """A ceiling above the plan's highest relative altitude."""
    highest = max(
        (i.alt for i in mission.items[1:] if i.command < mavlink.MAV_CMD_NAV_LAST),
        default=0.0,
    )
    return float(math.ceil(highest + margin))
