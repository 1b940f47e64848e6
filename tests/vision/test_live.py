"""The live path: ``patrol detect`` reads a simulated copter's camera over HTTP MJPEG and its
pose over its own MAVLink port (SERIAL2), pairs them by the aircraft's GPS time, and flags the
gathering in front of the hovering copter once."""

import json
import threading
from pathlib import Path

import pytest
from pyproj import Geod

from patrol.cli import main
from sim import SimFleet
from sim.camera import CameraRig, CameraSpec, World
from sim.camera_people import VTEST
from sim.camera_stream import CameraServer
from tests.sim.gcs import Gcs
from tests.vision.simflight import HOME, row

pytestmark = pytest.mark.skipif(not VTEST.is_file(), reason="needs opencv-doc's vtest.avi")


@pytest.fixture(scope="session")
def cache(request) -> Path:
    return Path(request.config.cache.mkdir("sim-camera"))


def test_detect_pairs_a_live_stream_with_the_aircrafts_own_link(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "data"))
    scenario = tmp_path / "people.json"
    scenario.write_text(json.dumps({"people": row(17, -1.4, 3)}))
    spec = CameraSpec(960, 540, hfov_deg=50, pitch_deg=-25, fps=4)
    (tmp_path / "cam.toml").write_text(
        "width = 960\nheight = 540\nhfov_deg = 50\npitch_deg = -25\nattitude_sigma_deg = 0.5\n"
    )
    fleet = SimFleet(
        count=1,
        home=HOME,
        speedup=2,
        base_port=0,
        state_dir=tmp_path / "sim",
        boot_time_scale=0.1,
        start_time=1_780_000_000,
    )
    vehicle = fleet.vehicles[0]
    world = World(scenario, HOME[:2], cache)
    server = CameraServer(CameraRig(vehicle, world, spec, lock=fleet.lock), speedup=lambda: 2.0)
    with fleet:
        server.start()
        gcs = Gcs(vehicle.port)
        try:
            fleet.wait_for(vehicle.ekf_has_position, 60)
            for command, params in ((176, (1, 4)), (400, (1,)), (22, (0,) * 6 + (8,))):
                assert gcs.command(command, *params).result == 0
            fleet.wait_for(lambda: vehicle.pose().alt_rel > 7.5, 60)
            out = tmp_path / "flags.geojson"
            code = main(
                [
                    "detect",
                    server.url,
                    "--connect",
                    f"tcp:127.0.0.1:{vehicle.ports[2]}",
                    "--camera",
                    str(tmp_path / "cam.toml"),
                    "--max-frames",
                    "6",
                    "--boxes",
                    str(tmp_path / "boxes.jsonl"),
                    "-o",
                    str(out),
                ]
            )
        finally:
            gcs.close()
            server.stop()
    assert code == 0
    [feature] = json.loads(out.read_text())["features"]
    props = feature["properties"]
    assert props["kind"] == "gathering" and props["count"] == 3
    [truth] = world.scene.truth()["gatherings"]
    lon, lat = feature["geometry"]["coordinates"]
    distance = Geod(ellps="WGS84").inv(lon, lat, truth["lon"], truth["lat"])[2]
    assert distance <= min(2 * props["error_m"], 3.0)
    lines = (tmp_path / "boxes.jsonl").read_text().splitlines()
    assert len(lines) == 6 and all(set(json.loads(x)) == {"frame", "boxes"} for x in lines)
    assert threading.active_count() < 20  # the reader and pose threads were stopped
