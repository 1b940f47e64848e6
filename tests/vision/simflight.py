"""A simulated copter with a camera flying waypoints over a scenario, in lock-step: the test
(or benchmark) advances simulated time, renders the frame of that moment, and reads the
aircraft's pose from its MAVLink telemetry as the detection would (ATTITUDE,
GLOBAL_POSITION_INT, SYSTEM_TIME and the gimbal's status), all deterministic whatever the
machine's load."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import SimFleet
from sim.camera import CameraRig, CameraSpec, World
from sim.geo import offset
from tests.sim.gcs import Gcs, item
from vision.camera import CameraModel
from vision.poses import PoseTrack
from vision.poses_mavlink import MavlinkPoses
from vision.sources import Frame

HOME = (27.57, 119.71, 200.0, 0.0)
STREAMS = ((10, 10), (6, 10), (12, 4))  # EXTRA1 (ATTITUDE), POSITION, EXTRA3 (time, gimbal)


def place(north: float, east: float, home=HOME) -> dict:
    lat, lon = offset(home[0], home[1], north, east)
    return {"lat": lat, "lon": lon}


def row(north: float, east: float, count: int, gap: float = 1.4) -> list[dict]:
    """``count`` people side by side, west to east, ``gap`` metres apart."""
    return [place(north, east + k * gap) for k in range(count)]


def camera_model(spec: CameraSpec, name: str = "sim-test") -> CameraModel:
    """What the detection side knows of the simulated camera."""
    return CameraModel(
        name=name,
        width=spec.width,
        height=spec.height,
        hfov_deg=spec.hfov_deg,
        pitch_deg=spec.pitch_deg,
        attitude_sigma_deg=0.5,
        yaw_sigma_deg=1.0,
    )


class CameraFlight:
    """One copter taking off to ``alt`` and flying ``waypoints`` (north, east metres from
    home) at ``speed`` m/s, a frame every ``frame_every`` simulated seconds."""

    def __init__(
        self,
        tmp: Path,
        scenario: dict | Path,
        spec: CameraSpec,
        cache: Path,
        waypoints: list[tuple[float, float]],
        alt: float = 8.0,
        speed: float = 3.0,
        frame_every: float = 1.0,
        home=HOME,
    ) -> None:
        if isinstance(scenario, dict):
            path = tmp / "scenario.json"
            path.write_text(json.dumps(scenario))
            scenario = path
        self.home = home
        self.fleet = SimFleet(
            count=1, home=home, base_port=0, state_dir=tmp / "sim", boot_time_scale=0.1
        )
        self.vehicle = self.fleet.vehicles[0]
        self.world = World(scenario, home[:2], cache)
        self.rig = CameraRig(self.vehicle, self.world, spec, lock=self.fleet.lock)
        self.track = PoseTrack(max_gap=1.0)
        self.poses = MavlinkPoses(self.track)
        self.gcs = Gcs(self.vehicle.port, fleet=self.fleet)
        self.frame_every = frame_every
        self._fed = 0
        self._launch(waypoints, alt, speed)

    def _launch(self, waypoints: list[tuple[float, float]], alt: float, speed: float) -> None:
        gcs, v = self.gcs, self.vehicle
        gcs.wait_for(v.ekf_has_position, 60)
        for stream, rate in STREAMS:
            gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, stream, rate, 1))
        lat, lon = self.home[:2]
        items = [item(0, 16, lat, lon, 0), item(1, 22, alt=alt)]
        for seq, (n, e) in enumerate(waypoints, start=2):
            items.append(item(seq, 16, *offset(lat, lon, n, e), alt))
        items.append(item(len(items), 20))
        assert gcs.upload(items).type == 0
        self.last_item = len(items) - 1
        gcs.set_param("WPNAV_SPEED", speed * 100)
        for command, params in ((176, (1, 4)), (400, (1,)), (22, (0, 0, 0, 0, 0, 0, alt))):
            assert gcs.command(command, *params).result == 0
        gcs.wait_for(lambda: v.pose().alt_rel > alt - 0.5, 60)
        assert gcs.command(176, 1, 3).result == 0  # AUTO

    def _feed(self) -> None:
        log = self.gcs.log
        for msg in log[self._fed :]:
            self.poses.feed(msg, self.vehicle.wall_epoch0 + self.vehicle.sim_time)
        self._fed = len(log)

    def frames(self, limit: int = 1000) -> Iterator[Frame]:
        """Frames until the copter heads home (RTL), each with its capture time; the pose
        samples on both sides of it have arrived by then."""
        v = self.vehicle
        for index in range(limit):
            if v.auto.current >= self.last_item:
                return
            self.gcs.heartbeat()
            self.fleet.advance(self.frame_every)
            self.gcs.pump_all()
            self._feed()
            t = v.sim_time - 0.3
            image, utc = self.rig.frame_at(t)
            yield Frame(index, image, utc)

    def close(self) -> None:
        self.gcs.close()
        self.fleet.stop()
