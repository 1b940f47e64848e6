"""Fly a planned sortie on the built-in simulator in lock-step, launched as the patrol runner
launches it (GUIDED, arm, take-off, AUTO at 90 % of the altitude), and keep what it flew: the
time from arming to the disarm, every step's position and the waypoints reached."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import Mission
from sim import SimFleet
from tests.sim.gcs import Gcs

LAUNCH_FRACTION = 0.9  # patrol.runner.sortie waits for 90 % of the take-off altitude


@dataclass
class Flown:
    seconds: float  # arming to disarm, simulated
    track: list[tuple[float, float, float]] = field(default_factory=list)  # (t, north, east)
    reached: dict[int, tuple[float, float]] = field(default_factory=dict)  # "Reached command #n"
    leg_times: dict[int, float] = field(default_factory=dict)  # seq: "Mission: n" to reached
    legs: list[tuple[float, float]] = field(default_factory=list)  # waypoints (north, east)


def fly(mission: Mission, state_dir: Path, timeout_s: float = 3600.0) -> Flown:
    home = mission.home
    fleet = SimFleet(
        count=1,
        home=(home.lat, home.lon, home.alt, 0.0),
        base_port=0,
        state_dir=state_dir,
        boot_time_scale=0.1,
    )
    gcs = Gcs(fleet.vehicles[0].port, fleet=fleet)
    vehicle = fleet.vehicles[0]
    try:
        gcs.wait_for(vehicle.ekf_has_position, 60)
        items = [
            mavlink.MAVLink_mission_item_int_message(
                1, 1, seq, it.frame, it.command, 0, it.autocontinue, it.param1, it.param2,
                it.param3, it.param4, it.x, it.y, it.alt, it.mission_type,
            )
            for seq, it in enumerate(mission.items)
        ]  # fmt: skip
        assert gcs.upload(items).type == mavlink.MAV_MISSION_ACCEPTED
        alt = next(it.alt for it in mission.items if it.command == mavlink.MAV_CMD_NAV_TAKEOFF)
        assert gcs.command(176, 1, 4).result == 0  # GUIDED
        assert gcs.command(400, 1).result == 0
        armed_at = fleet.sim_time
        assert gcs.command(22, 0, 0, 0, 0, 0, 0, alt).result == 0
        flown = Flown(0.0)
        state = vehicle.copter.state
        started: dict[int, float] = {}
        seen = len(gcs.log)

        def record() -> bool:
            nonlocal seen
            now = fleet.sim_time
            flown.track.append((now, state.n, state.e))
            for msg in gcs.log[seen:]:
                if msg.get_type() != "STATUSTEXT":
                    continue
                if msg.text.startswith("Mission: "):
                    started[int(msg.text.split()[1])] = now
                elif msg.text.startswith("Reached command #"):
                    seq = int(msg.text.rsplit("#", 1)[1])
                    flown.reached[seq] = (state.n, state.e)
                    if seq in started:
                        flown.leg_times[seq] = now - started[seq]
            seen = len(gcs.log)
            return not vehicle.armed

        gcs.wait_for(lambda: record() or state.alt >= LAUNCH_FRACTION * alt, 120)
        assert gcs.command(176, 1, 3).result == 0  # AUTO
        gcs.wait_for(record, timeout_s)
        flown.seconds = fleet.sim_time - armed_at
        flown.legs = [vehicle.local_of(it.lat, it.lon) for it in mission.items[2:] if it.x or it.y]
        return flown
    finally:
        gcs.close()
        fleet.stop()


def outside_corners(
    track: list[tuple[float, float, float]], legs: list[tuple[float, float]]
) -> float:
    """How far (m) the flown track strays from the planned legs anywhere but inside a corner
    (the triangle a waypoint's two legs span, where ArduCopter cuts its corners)."""
    import shapely
    from shapely.geometry import LineString, Polygon

    line = LineString(legs)
    corners = [Polygon(legs[i - 1 : i + 2]) for i in range(1, len(legs) - 1)]
    inside = shapely.union_all([c.buffer(1e-6) for c in corners if c.area > 0])
    pts = shapely.points([(n, e) for _, n, e in track])
    dist = shapely.distance(line, pts)
    if not inside.is_empty:
        dist[shapely.contains(inside, pts)] = 0.0
    return float(dist.max()) if len(dist) else math.nan
