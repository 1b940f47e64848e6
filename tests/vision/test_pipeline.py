"""The pipeline with a scripted detector that sees exactly what stands on the ground: flags
with grid, patrol, sortie and images; frames it cannot place; masks; a second sortie."""

import math
from dataclasses import replace

import numpy as np
import pytest
from shapely.geometry import box as rectangle
from sqlalchemy import create_engine

from missions.grids import Grid
from sim.camera_render import Renderer, View
from sim.geo import ne_between, offset
from vision.boxes import Box
from vision.camera import CameraModel
from vision.flags import FlagError, FlagStore
from vision.pipeline import Pipeline, Settings
from vision.poses import Pose, PoseError
from vision.sources import Frame

HOME = (27.57, 119.71)
CAM = CameraModel(name="t", width=1280, height=720, hfov_deg=70, pitch_deg=-45)
PROJECT = Renderer(1280, 720, 70, np.zeros((8, 8, 3), np.uint8), []).project
GROUP = [(40.0, 0.0), (40.8, 0.6), (39.5, 1.1), (40.3, -0.9)]
ALONE = [(30.0, -12.0)]
T0 = 1_780_000_000.0


class GroundTruthDetector:
    """Boxes where the people of ``scene`` stand, as seen from the pose of each frame."""

    name = "truth"

    def __init__(self) -> None:
        self.pose: Pose | None = None
        self.people: list[tuple[float, float]] = []
        self.faces: list[bool | str] = []  # mask state per person, for those with a face

    def detect(self, image) -> list[Box]:
        p = self.pose
        north, east = ne_between(*HOME, p.lat, p.lon)
        view = View(north, east, p.height, p.gimbal[0], p.gimbal[1], p.yaw + p.gimbal[2])
        ground = np.array([(n, e, 0.0) for n, e in self.people])
        feet, depth = PROJECT(view, ground)
        boxes = []
        for k, ((u, v), d) in enumerate(zip(feet, depth, strict=True)):
            if d > 0 and 0 <= u < 1280 and 0 <= v < 720:
                boxes.append(Box("person", u - 10, v - 50, u + 10, v, 0.9))
                if k < len(self.faces):
                    boxes.append(Box("face", u - 4, v - 48, u + 4, v - 40, 0.8, self.faces[k]))
        return boxes


def at(seconds: float, north: float = 0.0) -> Pose:
    lat, lon = offset(*HOME, north, 0.0)
    return Pose(T0 + seconds, lat, lon, 240, 40, 0, 0, 0, 0, 0, (0, math.radians(-45), 0))


@pytest.fixture
def store(tmp_path):
    return FlagStore(create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"), tmp_path / "media")


def run(pipeline: Pipeline, detector: GroundTruthDetector, poses: list[Pose]):
    reports = []
    for k, pose in enumerate(poses):
        detector.pose = pose
        reports.append(pipeline.process(Frame(k, np.zeros((720, 1280, 3), np.uint8), pose.time)))
    return reports


def make(store, detector, poses, **kw):
    by_time = {p.time: p for p in poses}

    def lookup(t):
        if t not in by_time:
            raise PoseError("no pose")
        return by_time[t]

    grid = Grid("上洋村", rectangle(*offset(*HOME, 30, -10)[::-1], *offset(*HOME, 50, 10)[::-1]))
    kw = {"poses": lookup, "store": store, "source": "cam-1", "grids": [grid], **kw}
    return Pipeline(detector, CAM, Settings(), **kw)


def test_a_group_becomes_one_flag_with_its_grid_tags_and_images(store):
    detector = GroundTruthDetector()
    detector.people = GROUP + ALONE
    poses = [at(k, north=0.5 * k) for k in range(4)]
    pipeline = make(store, detector, poses, patrol_id=3, sortie_id=8)
    reports = run(pipeline, detector, poses)
    assert [len(r.recorded) for r in reports] == [0, 1, 0, 0]  # confirmed on the 2nd frame
    assert all(r.people == 5 and r.located == 5 for r in reports)
    [flag] = store.list()
    assert (flag.kind, flag.count, flag.grid, flag.patrol_id, flag.sortie_id) == (
        "gathering",
        4,
        "上洋村",
        3,
        8,
    )
    north, east = ne_between(*HOME, flag.lat, flag.lon)
    # metres here are the simulator's (ArduPilot's flat earth: 0.5 % off WGS84 in latitude)
    assert (north, east) == pytest.approx(np.mean(GROUP, axis=0), abs=0.25)
    assert 0.5 < flag.error_m < 5 and flag.radius_m == pytest.approx(1.0, abs=0.3)
    assert flag.crop.read_bytes()[:3] == b"\xff\xd8\xff" and flag.thumbnail.is_file()
    # seen again later with two more people: the same flag, updated
    detector.people = [*GROUP, (41.5, 0.2), (38.8, -0.2)]
    later = [at(30 + k, north=1.0) for k in range(2)]
    pipeline.poses = make(store, detector, poses + later).poses
    run(pipeline, detector, later)
    [flag] = store.list()
    assert flag.count == 6 and flag.observations == 2


def test_frames_without_a_pose_still_report_their_boxes(store):
    detector = GroundTruthDetector()
    detector.people = GROUP
    poses = [at(0), at(1)]
    pipeline = make(store, detector, poses[:1])
    reports = run(pipeline, detector, poses)
    assert reports[1].pose is None and reports[1].pose_error == "no pose"
    assert reports[1].people == 4 and store.count() == 0
    boxes_only = Pipeline(detector, CAM)  # no poses at all: detection only
    detector.pose = poses[0]
    report = boxes_only.process(Frame(0, np.zeros((720, 1280, 3), np.uint8), None))
    assert report.people == 4 and report.pose is None and report.gatherings == []


def test_only_faces_known_to_be_unmasked_are_flagged(store):
    detector = GroundTruthDetector()
    detector.people = [(40.0, 0.0), (40.0, 5.0), (40.0, -5.0), (35.0, 8.0)]
    detector.faces = [False, "unknown", True, False]
    poses = [at(k) for k in range(3)]
    run(make(store, detector, poses), detector, poses)
    flags = store.list()
    assert {f.kind for f in flags} == {"no_mask"}
    places = sorted(ne_between(*HOME, f.lat, f.lon) for f in flags)
    # at the feet of the people wearing none
    assert np.array(places) == pytest.approx(np.array([[35.0, 8.0], [40.0, 0.0]]), abs=0.25)


def test_a_flag_that_cannot_be_stored_is_reported_and_the_run_goes_on(store, monkeypatch):
    detector = GroundTruthDetector()
    detector.people = [*GROUP, (40.0, 20.0), (40.5, 20.5), (39.6, 21.0)]
    poses = [at(k) for k in range(3)]
    pipeline = make(store, detector, poses)
    real = store.record

    def flaky(obs):
        if obs.track == "g2":
            raise FlagError("disk full")
        return real(obs)

    monkeypatch.setattr(store, "record", flaky)
    reports = run(pipeline, detector, poses)
    assert any("disk full" in e for r in reports for e in r.store_errors)
    assert [f.track for f in store.list()] == ["g1"]


def test_a_second_sortie_continues_the_first_sorties_flag(store):
    detector = GroundTruthDetector()
    detector.people = GROUP
    first = [at(k) for k in range(3)]
    run(
        make(
            store, detector, first, source="patrol-1", patrol_id=1, sortie_id=1, track_prefix="s1-"
        ),
        detector,
        first,
    )
    second = [replace(at(100 + k, north=2.0), yaw=0.0) for k in range(3)]
    run(
        make(
            store, detector, second, source="patrol-1", patrol_id=1, sortie_id=2, track_prefix="s2-"
        ),
        detector,
        second,
    )
    [flag] = store.list()
    assert flag.track == "s1-g1" and flag.sortie_id == 2 and flag.observations >= 2


@pytest.mark.parametrize("span_cover", [0.7, None])
def test_a_box_the_detector_puts_around_a_pair_is_no_third_person(store, monkeypatch, span_cover):
    """The network's boxes for two people 0.9 m apart, as nanodet-drone gave them on the
    simulated camera: one each and, scored lower, one around both. Kept (span_cover=None), it
    stands between the two on the ground and makes the pair a gathering of three."""
    from vision.detect import load_detector

    truth = GroundTruthDetector()
    truth.people = [(40.0, -0.45), (40.0, 0.45)]
    drone = load_detector("nanodet-drone", span_cover=span_cover)

    def network(image):
        (ua, va), (ub, vb) = sorted(box.foot for box in truth.detect(image))
        assert 10 < ub - ua < 20  # the two boxes, 15 px wide, just touch
        boxes = [[ua - 7.5, va - 33, ua + 7.5, va], [ub - 7.5, vb - 33, ub + 7.5, vb],
                 [ua - 3, min(va, vb) - 33, ub + 3, max(va, vb)]]  # fmt: skip
        return np.array(boxes, np.float32), np.array([0.62, 0.58, 0.46], np.float32)

    monkeypatch.setattr(drone, "run_scaled", network)
    poses = [at(k, north=0.5 * k) for k in range(3)]
    reports = run(make(store, drone, poses), truth, poses)
    if span_cover is None:
        assert [r.people for r in reports] == [3, 3, 3] and store.count() == 1
    else:
        assert [r.people for r in reports] == [2, 2, 2] and store.count() == 0
