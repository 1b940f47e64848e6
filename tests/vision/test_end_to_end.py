"""End to end: a simulated copter with a gimbal camera flies two overlapping sweep lines over
a scene of real people (cut from footage); the pipeline with a real detector, poses from the
copter's MAVLink and the flag store must flag every gathering once, nothing else (not the
pair, not the person alone, not the walker), each within its expected error.

The geometry suits OpenCV's HOG (people 90-130 px tall: 8 m up, 17 m ahead). Another
detector: VISION_E2E_DETECTOR=nanodet (and the altitude and camera of the demo, if it can)."""

import os
from pathlib import Path

import pytest
from pyproj import Geod
from sqlalchemy import create_engine

from sim.camera import CameraSpec
from sim.camera_people import VTEST
from tests.vision.simflight import CameraFlight, camera_model, place, row
from vision.detect import load_detector
from vision.flags import FlagStore
from vision.pipeline import Pipeline, Settings

DETECTOR = os.environ.get("VISION_E2E_DETECTOR", "hog")
GEOD = Geod(ellps="WGS84")


@pytest.fixture
def cache(camera_cache: Path) -> Path:
    return camera_cache


@pytest.mark.skipif(not VTEST.is_file(), reason="needs opencv-doc's vtest.avi")
def test_every_gathering_is_flagged_once_and_nothing_else(tmp_path, cache):
    scenario = {
        "seed": 3,
        "people": row(30, 0, 4) + row(50, 0, 3) + row(15, 1, 2) + row(40, -4, 1),
        "walkers": [{"path": [list(place(40, 0).values()), list(place(40, 8).values())]}],
    }
    spec = CameraSpec(960, 540, hfov_deg=50, pitch_deg=-25, jitter_deg=0.3)
    # north along east 0, back south along east 5: each gathering is seen from both lines
    flight = CameraFlight(tmp_path, scenario, spec, cache, [(0, 0), (65, 0), (65, 5), (0, 5)])
    store = FlagStore(create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"), tmp_path / "m")
    pipeline = Pipeline(
        load_detector(DETECTOR), camera_model(spec), Settings(), flight.track.at, store, "sim"
    )
    try:
        reports = [pipeline.process(frame) for frame in flight.frames()]
    finally:
        flight.close()
    assert len(reports) > 40 and all(r.pose is not None for r in reports)
    truth = flight.world.scene.truth()["gatherings"]
    assert sorted(g["count"] for g in truth) == [3, 4]
    flags = store.list()
    assert len(flags) == len(truth), [(f.count, f.lat, f.lon) for f in flags]
    for g in truth:
        near = [(GEOD.inv(f.lon, f.lat, g["lon"], g["lat"])[2], f) for f in flags]
        distance, flag = min(near, key=lambda x: x[0])
        assert flag.kind == "gathering" and flag.count == g["count"]
        assert distance <= min(2 * flag.error_m, 3.0), (distance, flag.error_m)
        assert flag.observations >= 2  # seen again from the second sweep line: same flag
