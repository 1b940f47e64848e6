"""``patrol fly --camera``: a detection process per sortie beside the flight (reading the
camera's MJPEG stream and the aircraft's pose from its SERIAL2), its flags tagged with the
patrol and the sortie; camera options checked before anything flies."""

import argparse
import json
from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from pyproj import Geod

from missions.formats import write_mission
from missions.items import Mission, MissionItem
from patrol.cli import main
from patrol.detection import CameraRuns, open_flag_store
from sim import SimFleet
from sim.camera import CameraRig, CameraSpec, World
from sim.camera_people import VTEST
from sim.camera_stream import CameraServer
from tests.patrol.simkit import HOME, square_plan
from tests.vision.simflight import row

CAMERA = "width = 960\nheight = 540\nhfov_deg = 50\npitch_deg = -25\nattitude_sigma_deg = 0.5\n"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("PATROL_DATA_DIR", str(path))
    return path


def test_camera_options_are_checked_before_anything_flies(tmp_path, data_dir, capsys):
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan())
    bad_camera = tmp_path / "cam.json"
    bad_camera.write_text('{"width": 1280, "height": 720, "hfov_deg": 70, "mount": "helmet"}')
    fly = ["fly", str(plan), "--connect", "tcp:127.0.0.1:9", "--wait", "0.3"]
    cam = ["--camera", "http://127.0.0.1:9/stream.mjpg"]
    link = ["--camera-link", "tcp:127.0.0.1:12"]
    cases = [
        (cam, "1 --camera but 0 --camera-link"),
        (cam * 2 + link * 2, "2 --camera for 1 plan(s)"),
        (cam + link + ["--camera-model", str(bad_camera)], "mount: Input should be 'gimbal'"),
        (cam + link + ["--camera-detector", "hog,yolo"], "--camera-detector 'yolo'"),
        (cam + link + ["--camera-confirm", "0"], "--camera-confirm must be at least 1"),
    ]
    for extra, message in cases:
        assert main(fly + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("patrol fly: ") and message in err, err
    assert main(["status"]) == 0
    assert "no patrols yet" in capsys.readouterr().out  # refused before a patrol was stored


def hover_plan(hold_s: float, alt: float = 8.0) -> Mission:
    """Take off, hold a few metres north of home (facing north), come home."""
    lat, lon = HOME[0], HOME[1]
    items = [
        MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, frame=0, lat=lat, lon=lon, alt=HOME[2]),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, alt=alt),
        MissionItem(
            mavlink.MAV_CMD_NAV_WAYPOINT, lat=lat + 3 / 110_800, lon=lon, alt=alt, param1=hold_s
        ),
        MissionItem(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH),
    ]
    return Mission(items, name="hover")


@pytest.mark.skipif(not VTEST.is_file(), reason="needs opencv-doc's vtest.avi")
def test_a_sorties_camera_raises_flags_tagged_with_the_patrol_and_sortie(
    tmp_path, data_dir, camera_cache, capsys
):
    cache = camera_cache
    plan = tmp_path / "hover.plan"
    write_mission(plan, hover_plan(hold_s=60))
    (tmp_path / "cam.toml").write_text(CAMERA)
    (tmp_path / "site.toml").write_text("[params]\nFS_GCS_TIMEOUT = 20\n")
    scenario = tmp_path / "people.json"
    scenario.write_text(json.dumps({"people": row(20, -1.4, 3)}))
    world = World(scenario, HOME[:2], cache)
    speedup = 5.0
    with SimFleet(
        count=1,
        home=HOME,
        speedup=speedup,
        base_port=0,
        state_dir=tmp_path / "sim",
        boot_time_scale=0.1,
    ) as fleet:
        vehicle = fleet.vehicles[0]
        rig = CameraRig(
            vehicle,
            World(scenario, HOME[:2], cache),
            CameraSpec(960, 540, hfov_deg=50, pitch_deg=-25, fps=2),
            lock=fleet.lock,
        )
        server = CameraServer(rig, speedup=lambda: fleet.speedup).start()
        try:
            code = main(
                [
                    "fly",
                    str(plan),
                    "--connect",
                    f"tcp:127.0.0.1:{vehicle.port}",
                    "--speedup",
                    str(speedup),
                    "--profile",
                    str(tmp_path / "site.toml"),
                    "--camera",
                    server.url,
                    "--camera-link",
                    f"tcp:127.0.0.1:{vehicle.ports[2]}",
                    "--camera-model",
                    str(tmp_path / "cam.toml"),
                ]
            )
        finally:
            server.stop()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[sortie 1] detection on http://" in out
    assert "[sortie 1] detection: flags: 1 gathering(s), 0 no_mask" in out
    [flag] = open_flag_store().list()
    assert (flag.patrol_id, flag.sortie_id, flag.source, flag.track) == (1, 1, "patrol-1", "s1-g1")
    assert flag.count == 3
    # placed from the live stream's capture times and the aircraft's own link (SERIAL2)
    [truth] = world.scene.truth()["gatherings"]
    distance = Geod(ellps="WGS84").inv(flag.lon, flag.lat, truth["lon"], truth["lat"])[2]
    assert distance <= min(2 * flag.error_m, 3.0)
    log = (data_dir / "logs" / "detect-patrol1-sortie1.log").read_text()
    assert "placed" in log and (data_dir / "vision" / "flags-patrol1-sortie1.geojson").is_file()


@pytest.mark.parametrize("cameras", [1, 2, 4])
def test_the_sorties_detectors_share_the_cores_out(cameras, monkeypatch):
    monkeypatch.setattr("patrol.detection.os.cpu_count", lambda: 2)
    args = argparse.Namespace(
        camera=[f"http://127.0.0.1:{8080 + i}/stream.mjpg" for i in range(cameras)],
        camera_link=[f"tcp:127.0.0.1:{5763 + 10 * i}" for i in range(cameras)],
        camera_model="sim-720p", camera_grids=None, camera_detector="nanodet-drone",
        camera_confirm=2, db=None, speedup=None,
    )  # fmt: skip
    assert CameraRuns(args, cameras).threads == {1: 2, 2: 1, 4: 1}[cameras]
