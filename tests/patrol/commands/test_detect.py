"""``patrol detect`` from the command line: boxes of any footage, flags with a .tlog, a stream
that drops part-way (what was found is kept), and bad input as one clear line."""

import json
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from patrol.cli import main
from patrol.detection import open_flag_store
from sim.camera_people import VTEST, load_people
from sim.camera_render import Renderer, View
from sim.camera_scene import load_texture
from tests.vision.mavlog import hover_messages, write_tlog
from tests.vision.mjpeg import MjpegCamera

pytestmark = pytest.mark.skipif(not VTEST.is_file(), reason="needs opencv-doc's vtest.avi")
T0 = 1_780_000_000.0
HOME = (27.57, 119.71)
CAMERA = "width = 960\nheight = 540\nhfov_deg = 50\npitch_deg = -25\n"


@pytest.fixture(scope="module")
def frames(camera_cache) -> list[np.ndarray]:
    """A copter 8 m up, gimbal at -25 degrees, looking north at three people 17 m ahead."""
    cache = camera_cache
    renderer = Renderer(960, 540, 50, load_texture(cache), load_people(cache))
    view = View(0, 0, 8, 0, math.radians(-25), 0)
    people = [(17.0, -1.4 + 1.4 * k, 1.7, 5 * k, k == 1) for k in range(3)]
    return [renderer.render(view, people) for _ in range(5)]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("PATROL_DATA_DIR", str(path))
    return path


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (960, 540))
    for image in frames:
        writer.write(image)
    writer.release()
    return path


def test_boxes_of_every_nth_frame_without_poses(tmp_path, data_dir, frames, capsys):
    video = write_video(tmp_path / "v.avi", frames)
    boxes = tmp_path / "out" / "boxes.jsonl"
    assert main(["detect", str(video), "--every", "2", "--boxes", str(boxes)]) == 0
    out = capsys.readouterr().out
    assert "detecting only (no poses: no flags)" in out and "processed 3 frames" in out
    lines = [json.loads(line) for line in boxes.read_text().splitlines()]
    assert [line["frame"] for line in lines] == [0, 2, 4]
    people = [b for line in lines for b in line["boxes"]]
    assert len(people) >= 6
    assert all(set(b) == {"class", "x1", "y1", "x2", "y2", "score"} for b in people)
    assert all(b["class"] == "person" and 0 <= b["x1"] < b["x2"] <= 960 for b in people)


def test_two_threads_detect_what_one_does_in_frame_order(tmp_path, data_dir, frames, capsys):
    video = write_video(tmp_path / "v.avi", frames)
    found = {}
    for threads in (1, 2):
        boxes = tmp_path / f"boxes-{threads}.jsonl"
        argv = ["detect", str(video), "--detector", "nanodet", "--threads", str(threads)]
        assert main([*argv, "--boxes", str(boxes)]) == 0
        found[threads] = [json.loads(line) for line in boxes.read_text().splitlines()]
    assert [line["frame"] for line in found[2]] == list(range(len(frames)))
    assert found[2] == found[1] and sum(len(line["boxes"]) for line in found[1]) >= 6


def test_a_stream_that_drops_keeps_what_was_found(tmp_path, data_dir, frames, capsys):
    lat, lon = HOME
    tlog = write_tlog(tmp_path / "f.tlog", hover_messages(T0, 10.0, lat, lon, 8.0, -25.0))
    (tmp_path / "cam.toml").write_text(CAMERA)
    out = tmp_path / "flags.geojson"
    parts = [(image, T0 + 2 + 0.5 * k) for k, image in enumerate(frames)]
    with MjpegCamera(parts, interval=0.3) as camera:
        # a live stream drops frames while the detector is busy: flag on the first sighting
        code = main(
            [
                "detect",
                camera.url,
                "--tlog",
                str(tlog),
                "--camera",
                str(tmp_path / "cam.toml"),
                "--reconnect",
                "0.5",
                "--confirm",
                "1",
                "-o",
                str(out),
            ]
        )
    captured = capsys.readouterr()
    assert code == 3
    assert "no frame for 0.5 s; what was found until then is kept" in captured.err
    [feature] = json.loads(out.read_text())["features"]
    assert feature["properties"]["count"] == 3
    [flag] = open_flag_store().list()  # in the store too
    assert flag.id == feature["id"] and flag.crop.is_file()
    processed = int(re.search(r"^processed (\d+) frames", captured.out, re.M)[1])
    assert f"placed {processed} frames on the ground" in captured.out  # paired by X-Timestamp


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("junk-video", "cannot be opened (not a video FFmpeg can read)"),
        ("bad-camera", "hfov_deg: Input should be less than 170 (got 190)"),
        ("tlog-elsewhere", "no frame can be paired"),
        ("no-start", "has no start time (no creation_time tag): give --video-start"),
        ("bad-detector", "detector yolo: unknown detector"),
        ("every", "--every must be at least 1"),
        ("threads", "--threads must be 1 to 8"),
        ("output", "give a .geojson or .csv file"),
        ("no-tlog", "no such file"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, data_dir, frames, capsys, case, message):
    video = write_video(tmp_path / "v.avi", frames)
    tlog = write_tlog(tmp_path / "f.tlog", hover_messages(T0, 10.0, *HOME, 8.0, -25.0))
    camera = tmp_path / "cam.toml"
    camera.write_text(CAMERA.replace("50", "190") if case == "bad-camera" else CAMERA)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(bytes(range(256)) * 8)
    start = ["--video-start", "2026-05-28T20:00:00+00:00"]  # an hour after the tlog
    argv = {
        "junk-video": [str(junk)],
        "bad-camera": [str(video), "--camera", str(camera)],
        "tlog-elsewhere": [str(video), "--tlog", str(tlog), *start],
        "no-start": [str(video), "--tlog", str(tlog)],
        "bad-detector": [str(video), "--detector", "yolo"],
        "every": [str(video), "--every", "0"],
        "threads": [str(video), "--threads", "0"],
        "output": [str(video), "-o", str(tmp_path / "flags.txt")],
        "no-tlog": [str(video), "--tlog", str(tmp_path / "none.tlog")],
    }[case]
    assert main(["detect", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("patrol detect: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
