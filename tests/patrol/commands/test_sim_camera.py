"""``patrol sim --camera``: every copter serves its camera over HTTP and the truth is written."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from patrol.cli import main
from sim.camera_people import VTEST

pytestmark = pytest.mark.skipif(not VTEST.is_file(), reason="needs opencv-doc's vtest.avi")


def test_each_copter_serves_its_camera_and_the_truth_is_written(tmp_path, camera_cache):
    # the people and the ground made in earlier tests (they take a while on a busy machine)
    shutil.copytree(camera_cache, tmp_path / "cache" / "sim-camera")
    env = {**os.environ, "PATROL_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    sim = subprocess.Popen(
        [sys.executable, "-m", "patrol.cli", "sim", "--count", "2", "--port", "0", "--camera",
         "--camera-port", "0", "--camera-size", "1280x720", "--boot-time-scale", "0.1",
         "--duration", "60"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        urls = []
        for line in sim.stdout:
            if line.startswith("camera "):
                urls.append(line.split()[2])
            if line.startswith("speedup"):
                break
        assert len(urls) == 2, urls
        with urllib.request.urlopen(
            urls[1].replace("stream.mjpg", "snapshot.jpg"), timeout=30
        ) as r:
            stamp = float(r.headers["X-Timestamp"])
            image = cv2.imdecode(np.frombuffer(r.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (720, 1280, 3) and stamp > 1.7e9
    finally:
        sim.terminate()
        sim.wait(10)
    truth = json.loads((tmp_path / "sim" / "camera-truth.json").read_text())
    assert truth["scenario"] == "样例乡镇 sample township"
    assert sorted(g["count"] for g in truth["gatherings"]) == [3, 3, 4, 5, 6, 8]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "none.json"], "scenario none.json: cannot read it"),
        (["--camera", "--camera-pitch", "50"], "gimbal pitch 50.0 must be within -90..30"),
        (["--camera", "--sitl", "/bin/true"], "--camera needs the built-in simulator"),
    ],
)
def test_bad_camera_options(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "--port", "0", "--camera-port", "0", "--duration", "0.1", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("patrol sim: ") and message in err, err
    assert not Path(tmp_path / "sim" / "camera-truth.json").exists()
