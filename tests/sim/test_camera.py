"""The simulated camera: people cut from real footage, the scene and its truth, rendering that
puts each person's feet where the ground point projects, the gimbal's MAVLink, and the MJPEG
stream with capture times."""

import http.client
import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim import SimFleet
from sim.camera import CameraRig, CameraSpec, World
from sim.camera_people import VTEST, load_people
from sim.camera_render import Renderer, View
from sim.camera_scene import Scenario, Scene, SceneError, load_scenario
from sim.camera_stream import BOUNDARY, CameraServer
from sim.geo import offset
from tests.sim.conftest import HOME
from tests.sim.gcs import Gcs

pytestmark = pytest.mark.skipif(not VTEST.is_file(), reason="needs opencv-doc's vtest.avi")


@pytest.fixture
def cache(camera_cache: Path) -> Path:
    return camera_cache


def place(north: float, east: float) -> dict:
    lat, lon = offset(HOME[0], HOME[1], north, east)
    return {"lat": lat, "lon": lon}


def write_scenario(path: Path, **doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_people_are_cut_from_the_footage_with_an_alpha_mask(cache):
    sprites = load_people(cache)
    assert len(sprites) >= 20
    for sprite in sprites:
        h, w, channels = sprite.shape
        assert channels == 4 and 1.7 <= h / w <= 4.2
        alpha = sprite[:, :, 3]
        assert alpha[alpha > 0].size > 0.35 * h * w  # a body, not a speck
        assert alpha[-3:].max() > 0  # the feet reach the bottom row
    again = load_people(cache)  # from the cache, the same pictures
    assert all(np.array_equal(a, b) for a, b in zip(sprites, again, strict=True))


def test_groups_are_chained_within_their_spread_and_are_the_truths_gatherings():
    scenario = Scenario.model_validate(
        {
            "seed": 5,
            "groups": [
                {"name": "big", **place(50, 0), "people": 7, "spread_m": 1.8},
                {"name": "pair", **place(90, 0), "people": 2, "spread_m": 0.5},
            ],
            "people": [place(20, 20)],
            "walkers": [{"path": [[*place(0, 0).values()], [*place(0, 30).values()]]}],
        }
    )
    scene = Scene(scenario, HOME[:2], sprites=10)
    big = [p for p in scene.people if p.group == "big"]
    points = np.array([(p.north, p.east) for p in big])
    assert len(big) == 7
    assert np.hypot(*(points - (50, 0)).T).max() <= 1.8 + 1e-9
    gaps = np.hypot(*(points[:, None] - points[None]).transpose(2, 0, 1))
    assert gaps[~np.eye(7, dtype=bool)].min() >= 0.6
    truth = scene.truth()
    assert [g["count"] for g in truth["gatherings"]] == [7]  # the pair is no gathering
    assert truth["gatherings"][0]["groups"] == ["big"]
    assert len(truth["people"]) == 7 + 2 + 1 + 1
    walker = next(p for p in scene.people if p.path is not None)
    # 1.3 m/s back and forth along 30 m east
    assert walker.at(0.0) == pytest.approx((0.0, 0.0), abs=1e-6)
    assert walker.at(10.0)[1] == pytest.approx(13.0, abs=1e-6)
    assert walker.at(30.0)[1] == pytest.approx(30 - (39 - 30), abs=1e-6)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"groups": [{"lat": 27.57, "lon": 119.71, "people": 0}]}, "groups.0.people"),
        ({"groups": [{"lat": 127.57, "lon": 119.71, "people": 3}]}, "groups.0.lat"),
        ({"walkers": [{"path": [[27.57, 119.71]]}]}, "walkers.0.path"),
        ({"crowds": []}, "crowds"),
    ],
)
def test_a_bad_scenario_names_the_field(tmp_path, doc, message):
    with pytest.raises(SceneError, match=message):
        load_scenario(write_scenario(tmp_path / "s.json", **doc))


def test_each_person_stands_where_their_ground_point_projects(cache):
    sprites = load_people(cache)
    texture = np.full((256, 256, 3), 90, np.uint8)  # plain ground: every other pixel is a person
    renderer = Renderer(1280, 720, 60.0, texture, sprites)
    view = View(3.0, -2.0, 12.0, 0.02, math.radians(-35), math.radians(30))
    people = [(20.0, 15.0, 1.7, 0, False), (25.0, 4.0, 1.7, 1, True)]
    image = renderer.render(view, people)
    feet, _ = renderer.project(view, np.array([(n, e, 0.0) for n, e, *_ in people]))
    mask = np.abs(image.astype(int) - 90).max(axis=2) > 12
    for (u, v), (n, e, *_) in zip(feet, people, strict=True):
        ys, xs = np.nonzero(mask[int(v) - 60 : int(v) + 8, int(u) - 30 : int(u) + 30])
        assert ys.size, f"nobody drawn at {n}, {e}"
        assert abs(ys.max() - 60) <= 3  # the lowest drawn pixel is the feet
        assert abs(np.median(xs) - 30) <= 8
    assert mask.sum() < 0.05 * mask.size  # nothing else on the ground


def test_the_gimbal_is_reported_as_ardupilot_does(tmp_path, cache):
    scenario = write_scenario(tmp_path / "s.json", groups=[])
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path, boot_time_scale=0.1)
    try:
        vehicle = fleet.vehicles[0]
        CameraRig(vehicle, World(scenario, HOME[:2], cache), CameraSpec(pitch_deg=-50))
        gcs = Gcs(vehicle.port, fleet=fleet)
        gcs.send(gcs.mav.request_data_stream_encode(1, 1, 12, 4, 1))  # EXTRA3
        status = gcs.recv("GIMBAL_DEVICE_ATTITUDE_STATUS", 3)
        w, x, y, z = status.q
        assert math.degrees(math.asin(2 * (w * y - z * x))) == pytest.approx(-50, abs=0.01)
        assert status.flags & 32  # yaw in the vehicle frame
        gcs.send(gcs.mav.command_long_encode(1, 1, 512, 0, 158, 0, 0, 0, 0, 0, 0))
        mount = gcs.recv("MOUNT_STATUS", 3)
        assert (mount.pointing_a, mount.pointing_b, mount.pointing_c) == (-5000, 0, 0)
        gcs.close()
    finally:
        fleet.stop()


def test_frames_are_served_as_mjpeg_stamped_with_the_aircrafts_time(tmp_path, cache):
    scenario = write_scenario(tmp_path / "s.json", people=[place(20, 0)])
    start = 1_780_000_000.0
    fleet = SimFleet(
        count=1,
        home=HOME,
        speedup=5,
        base_port=0,
        state_dir=tmp_path,
        boot_time_scale=0.1,
        start_time=start,
    )
    vehicle = fleet.vehicles[0]
    rig = CameraRig(vehicle, World(scenario, HOME[:2], cache), CameraSpec(640, 360, fps=5))
    server = CameraServer(rig, speedup=lambda: fleet.speedup)
    with fleet:
        server.start()
        try:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
            conn.request("GET", "/stream.mjpg")
            resp = conn.getresponse()
            assert resp.getheader("Content-Type").endswith(f"boundary={BOUNDARY}")
            stamps = []
            for _ in range(3):
                assert resp.readline().strip() == f"--{BOUNDARY}".encode()
                headers = {}
                while line := resp.readline().strip():
                    name, _, value = line.decode().partition(":")
                    headers[name.lower()] = value.strip()
                body = resp.read(int(headers["content-length"]))
                assert body[:3] == b"\xff\xd8\xff"
                resp.readline()
                stamps.append(float(headers["x-timestamp"]))
            conn.close()
            now = start + vehicle.sim_time
            assert stamps == sorted(stamps) and start < stamps[0] <= now
            # frames come fps times per simulated second (or fewer, when the CPU is short)
            assert stamps[-1] - stamps[0] >= 2 / 5 - 1e-6
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
            conn.request("GET", "/truth.json")
            truth = json.loads(conn.getresponse().read())
            assert len(truth["people"]) == 1 and truth["gatherings"] == []
        finally:
            server.stop()
