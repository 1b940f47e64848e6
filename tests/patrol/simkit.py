"""Shared pieces for the tests that fly against ``sim.SimFleet``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import FENCE, Mission, MissionItem
from patrol.runner.connect import LinkOptions
from patrol.runner.patrol import PatrolRun, SortieSpec
from patrol.runner.profile import SiteProfile
from patrol.store.patrols import PatrolStore
from patrol.timebase import TimeBase

HOME = (27.57, 119.71, 200.0, 0.0)
M_LAT = 1 / 110_800  # degrees of latitude per metre near 27.6°N
M_LON = 1 / 98_500


def square_plan(
    size_m: float = 100.0, alt: float = 20.0, home=HOME, fence_polygon=None, legs: int = 4
) -> Mission:
    """Home, takeoff, the corners of a square (``legs`` waypoints) north-east of home, RTL."""
    lat, lon = home[0], home[1]
    corners = [(1, 0), (1, 1), (0, 1), (0.5, 0.5)]
    items = [
        MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, frame=0, lat=lat, lon=lon, alt=home[2]),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, alt=alt),
        *[
            MissionItem(
                mavlink.MAV_CMD_NAV_WAYPOINT,
                lat=lat + n * size_m * M_LAT,
                lon=lon + e * size_m * M_LON,
                alt=alt,
            )
            for n, e in corners[:legs]
        ],
        MissionItem(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH),
    ]
    fence = [
        MissionItem(
            mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
            frame=0,
            lat=p[0],
            lon=p[1],
            param1=len(fence_polygon),
            mission_type=FENCE,
        )
        for p in fence_polygon or []
    ]
    return Mission(items, fence=fence, name="square")


class Collector:
    """Collects the runner's printed lines (thread-safe)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines)


def steady_profile() -> SiteProfile:
    """The default profile with a 20 s GCS failsafe timeout. Under a busy CPU the simulator
    catches up in bursts of up to 0.25 s of wall time (10 s of vehicle time at speedup 40)
    without reading its sockets in between, which would look like a lost ground station;
    tests that are not about link loss must not trip on that."""
    profile = SiteProfile()
    profile.params["FS_GCS_TIMEOUT"] = 20
    return profile


def patrol_run(tmp_path: Path, speedup: float | None, profile: SiteProfile | None = None):
    """A PatrolRun at ``speedup`` (None: each vehicle's own SIM_SPEEDUP, as ``patrol fly``
    without ``--speedup``)."""
    store = PatrolStore(url=f"sqlite:///{tmp_path / 'patrol.db'}")
    say = Collector()
    run = PatrolRun(
        store,
        LinkOptions(timebase=TimeBase(speedup) if speedup else None, wait=10.0),
        profile or steady_profile(),
        say=say,
        progress_every=0.2,
    )
    return run, store, say


def spec(vehicle, mission: Mission) -> SortieSpec:
    return SortieSpec(f"tcp:127.0.0.1:{vehicle.port}", "test.plan", mission)


def in_thread(fn, *args):
    """Run ``fn(*args)`` in a thread; returns (thread, result list)."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(fn(*args)), daemon=True)
    thread.start()
    return thread, result


def wait_until(condition, timeout: float = 30.0, poll: float = 0.01, describe=None):
    """Poll ``condition`` until truthy; on timeout raise with ``describe()`` (e.g. the
    runner's output so far)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError("condition not met" + (f":\n{describe()}" if describe else ""))


@contextmanager
def gcs_udp_port() -> Iterator[int]:
    """A UDP port on 127.0.0.1 for a ground station to listen on (``udpin:``), held by this
    process until the block ends.

    Binding port 0 and closing the socket at once frees the port for anyone: the kernel gives
    it to the next socket that sends without binding first (the simulator's own UDP output
    sockets, another session's clients), and the ground station's bind then fails with
    EADDRINUSE for as long as that socket lives. Held with SO_REUSEADDR, the port stays taken:
    the kernel never hands a bound port to another socket, while pymavlink's ``udpin``, which
    sets SO_REUSEADDR too, still binds it; the socket bound last receives the datagrams."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()
