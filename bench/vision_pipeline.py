"""The pipeline sections of bench/vision.py: the detection pipeline on the simulated camera.

Sections (bench/vision.py runs them):
- gatherings: precision/recall of gathering flags over sweep lines flown by a simulated copter
  (lock-step, deterministic): a flag matches a true gathering within 4 m; a second flag for the
  same gathering counts as a false one. Geometry "low" (8 m up, 960x540, 50 degrees, gimbal
  -25: people 90-130 px, where OpenCV's HOG works) and "demo" (35 m, 1920x1080, 70 degrees,
  gimbal -45: people 30-45 px, which needs a detector for small people; three lines 50 m
  apart, so that the whole 90 m strip is seen from near as a planned sweep would see it);
- geolocation: ground error at 40 m altitude (1280x720, gimbal -45), with the feet at the exact
  pixels the renderer drew them (the pipeline's geometry: unreported gimbal jitter, poses from
  MAVLink, pixel-to-ground) and, where the detector finds people, from its boxes;
- pipeline: frames per second on 1280x720 frames at 35 m over the sample township, the whole
  pipeline (detector, pose pairing, geolocation, clustering, tracking, the flag store). Every
  frame of a pass is processed (a frame every 0.5 s of flight; no sampling), pre-rendered;
- camera: the simulated camera's frames per second (render and JPEG, one camera, one thread)
  at 1920x1080 and 1280x720 over the sample township's market from 35 m."""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyproj import Geod  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from sim.camera import CameraSpec  # noqa: E402
from tests.vision.simflight import CameraFlight, camera_model, place  # noqa: E402
from vision.detect import load_detector  # noqa: E402
from vision.detect.parallel import detect_frames  # noqa: E402
from vision.flags import FlagStore  # noqa: E402
from vision.geolocate import Geolocator  # noqa: E402
from vision.pipeline import Pipeline, Settings  # noqa: E402

GEOD = Geod(ellps="WGS84")
CACHE = Path(tempfile.gettempdir()) / "gridpatrol-bench-sim-camera"
MATCH_M = 4.0
GEOMETRIES = {
    # name: camera, altitude, speed, frame spacing (s), sweep lines (east offsets), length
    "low": (CameraSpec(960, 540, hfov_deg=50, pitch_deg=-25), 8.0, 3.0, 1.0, (0, 5), 200),
    "demo": (CameraSpec(1920, 1080, hfov_deg=70, pitch_deg=-45), 35.0, 8.0, 0.5, (0, 50, 100), 260),
}


def crowd(length: float, width: float, seed: int = 11) -> dict:
    """Gatherings of 3-8, pairs, people alone and walkers over a strip ``length`` m north by
    ``width`` m east (centred on the first sweep line's east offset + width / 2 - 5)."""
    rng = np.random.default_rng(seed)
    taken: list[tuple[float, float]] = []

    def spot(spacing: float) -> tuple[float, float]:
        for _ in range(10_000):
            p = (rng.uniform(20, length - 20), rng.uniform(-5, width - 5))
            if all(math.dist(p, q) > spacing for q in taken):
                taken.append(p)
                return p
        raise SystemExit(f"a {length} x {width} m strip has no room left {spacing} m apart")

    groups = [
        {**place(*spot(12)), "name": f"g{k}", "people": int(n), "spread_m": 1.0 + 0.15 * n}
        for k, n in enumerate(rng.integers(3, 9, 6))
    ]
    pairs = [{**place(*spot(10)), "people": 2, "spread_m": 0.6} for _ in range(3)]
    alone = [place(*spot(6)) for _ in range(8)]
    walkers = []
    for _ in range(3):
        n, e = spot(10)
        walkers.append({"path": [list(place(n, e - 8).values()), list(place(n, e + 8).values())]})
    return {"seed": seed, "groups": groups + pairs, "people": alone, "walkers": walkers}


def sweep(lines: tuple[float, ...], length: float) -> list[tuple[float, float]]:
    points = []
    for k, east in enumerate(lines):
        ends = [(0.0, east), (length, east)]
        points += ends if k % 2 == 0 else ends[::-1]
    return points


def fly(tmp: Path, geometry: str, scenario: dict, detector, store_name: str):
    spec, alt, speed, every, lines, length = GEOMETRIES[geometry]
    flight = CameraFlight(
        tmp, scenario, spec, CACHE, sweep(lines, length), alt=alt, speed=speed, frame_every=every
    )
    store = FlagStore(create_engine(f"sqlite:///{tmp / store_name}"), tmp / "media")
    pipeline = Pipeline(detector, camera_model(spec), Settings(), flight.track.at, store, "sim")
    return flight, store, pipeline


def gatherings(detector_name: str, geometries: list[str]) -> None:
    detector = load_detector(detector_name)
    for geometry in geometries:
        spec, alt, *_, length = GEOMETRIES[geometry]
        width = 10 if geometry == "low" else 90
        with tempfile.TemporaryDirectory() as name:
            flight, store, pipeline = fly(
                Path(name), geometry, crowd(length, width), detector, "g.db"
            )
            began, frames = time.perf_counter(), 0
            try:
                for frame in flight.frames():
                    pipeline.process(frame)
                    frames += 1
            finally:
                flight.close()
            truth = flight.world.scene.truth()["gatherings"]
            flags = [f for f in store.list(limit=1000) if f.kind == "gathering"]
        matched: set[int] = set()
        true_flags = 0
        errors = []
        for f in flags:
            near = [(GEOD.inv(f.lon, f.lat, g["lon"], g["lat"])[2], i) for i, g in enumerate(truth)]
            distance, i = min(near) if near else (math.inf, -1)
            if distance <= MATCH_M and i not in matched:
                matched.add(i)
                true_flags += 1
                errors.append(distance)
        precision = true_flags / len(flags) if flags else float("nan")
        recall = len(matched) / len(truth) if truth else float("nan")
        print(
            f"gatherings [{geometry}: {alt:g} m, {spec.width}x{spec.height}, "
            f"{spec.hfov_deg:g} deg, gimbal {spec.pitch_deg:g}; {detector_name}]: "
            f"{len(truth)} true, {len(flags)} "
            f"flagged, precision {precision:.2f}, recall {recall:.2f}; "
            f"{frames} frames in {time.perf_counter() - began:.0f} s"
            + (f"; centre error median {statistics.median(errors):.2f} m" if errors else "")
        )


def geolocation(detector_name: str) -> None:
    """Ground error at 40 m: exact foot pixels (geometry only) and the detector's boxes."""
    from sim.camera_render import Renderer

    spec = CameraSpec(1280, 720, hfov_deg=70, pitch_deg=-45)
    rng = np.random.default_rng(5)
    people = [place(rng.uniform(40, 180), rng.uniform(-25, 25)) for _ in range(40)]
    detector = load_detector(detector_name)
    exact, boxed, predicted = [], [], []
    with tempfile.TemporaryDirectory() as name:
        flight = CameraFlight(
            Path(name),
            {"people": people},
            spec,
            CACHE,
            [(0, 0), (200, 0)],
            alt=40.0,
            speed=8.0,
            frame_every=0.5,
        )
        project = Renderer(1280, 720, spec.hfov_deg, np.zeros((8, 8, 3), np.uint8), []).project
        geo = Geolocator(camera_model(spec), 1280, 720)
        truth = [(p.north, p.east) for p in flight.world.scene.people]
        truth_ll = [flight.world.scene.geo(n, e) for n, e in truth]
        try:
            for frame in flight.frames():
                pose = flight.track.at(frame.time)
                view = flight.rig.last_view
                feet, depth = project(view, np.array([(n, e, 0.0) for n, e in truth]))
                seen = [
                    i
                    for i, ((u, v), d) in enumerate(zip(feet, depth, strict=True))
                    if d > 0 and 0 <= u < 1280 and 0 <= v < 720
                ]
                if seen:
                    fix = geo.locate(pose, feet[seen])
                    for k, i in enumerate(seen):
                        lat, lon = truth_ll[i]
                        exact.append(GEOD.inv(fix.lon[k], fix.lat[k], lon, lat)[2])
                        predicted.append(fix.error_m[k])
                boxes = [b for b in detector.detect(frame.image) if b.cls == "person"]
                if boxes:
                    fix = geo.locate(pose, np.array([b.foot for b in boxes]))
                    for lat, lon in zip(fix.lat, fix.lon, strict=True):
                        d = min(GEOD.inv(lon, lat, tl, tt)[2] for tt, tl in truth_ll)
                        if d <= 3.0:
                            boxed.append(d)
        finally:
            flight.close()
    print(
        f"geolocation [40 m, 1280x720, 70 deg, gimbal -45, jitter {spec.jitter_deg} deg]: exact "
        f"feet: median {statistics.median(exact):.2f} m, 90th percentile "
        f"{np.percentile(exact, 90):.2f} m over {len(exact)} sightings (expected error median "
        f"{statistics.median(predicted):.2f} m)"
    )
    if boxed:
        print(
            f"geolocation [{detector_name} boxes matched within 3 m]: median "
            f"{statistics.median(boxed):.2f} m over {len(boxed)} boxes"
        )
    else:
        print(f"geolocation [{detector_name} boxes]: no person found at 40 m")


def pipeline(detector_name: str, frames_wanted: int = 40) -> None:
    """Frames per second of the whole pipeline on 1280x720 frames of the sample township."""
    spec = CameraSpec(1280, 720, hfov_deg=70, pitch_deg=-45)
    detector = load_detector(detector_name)
    scenario = ROOT / "data" / "sample" / "people.json"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        # over 新村's market and east lane, north then back
        flight = CameraFlight(
            tmp,
            scenario,
            spec,
            CACHE,
            [(20, 0), (150, 0), (150, 30), (20, 30)],
            alt=35.0,
            speed=8.0,
            frame_every=0.5,
        )
        try:
            frames = [f for _, f in zip(range(frames_wanted), flight.frames(), strict=False)]
        finally:
            flight.close()
        store = FlagStore(create_engine(f"sqlite:///{tmp / 'p.db'}"), tmp / "media")
        run = Pipeline(detector, camera_model(spec), Settings(), flight.track.at, store, "sim")
        detect_s = 0.0
        began = time.perf_counter()
        for frame in frames:
            t0 = time.perf_counter()
            boxes = detector.detect(frame.image)
            detect_s += time.perf_counter() - t0
            run.process(frame, boxes)  # the boxes just found: time the rest on its own too
        total = time.perf_counter() - began
        n = len(frames)
        print(
            f"pipeline [1280x720, {detector_name}, every frame of a pass at 0.5 s]: "
            f"{n / total:.2f} frames/s on one thread ({1000 * total / n:.0f} ms/frame: detector "
            f"{1000 * detect_s / n:.0f} ms, pose + geolocation + clustering + tracking + store "
            f"{1000 * (total - detect_s) / n:.0f} ms), {run.people} people, "
            f"{len(run.flag_ids)} flags"
        )
        # as patrol detect runs it (--threads 2): two frames detected at once, in order
        store = FlagStore(create_engine(f"sqlite:///{tmp / 'p2.db'}"), tmp / "media2")
        run = Pipeline(detector, camera_model(spec), Settings(), flight.track.at, store, "sim")
        began, cpu = time.perf_counter(), time.process_time()
        for frame, boxes in detect_frames(
            lambda: load_detector(detector_name), frames, 2, lambda f: f.image
        ):
            run.process(frame, boxes)
        total, cpu = time.perf_counter() - began, time.process_time() - cpu
        print(
            f"  with two detecting threads (patrol detect's default): {n / total:.2f} frames/s "
            f"of wall time ({1000 * cpu / n:.0f} ms CPU/frame, load {os.getloadavg()[0]:.1f}), "
            f"{run.people} people, {len(run.flag_ids)} flags"
        )


def camera(frames: int = 60) -> None:
    """Rendering speed of one simulated camera (render + JPEG), people in view."""
    import cv2

    from sim.camera import World
    from sim.camera_render import View

    world = World(ROOT / "data" / "sample" / "people.json", (27.57, 119.71), CACHE)
    people = [(p.north, p.east, p.height_m, p.sprite, False) for p in world.scene.people]
    for width, height in ((1920, 1080), (1280, 720)):
        spec = CameraSpec(width, height)
        renderer = world.renderer(spec)
        began = time.perf_counter()
        for k in range(frames):  # flying north over 新村's market, 0.5 m per frame
            view = View(-10 + 0.5 * k, 10, 35, 0, math.radians(spec.pitch_deg), 0)
            image = renderer.render(view, people)
            cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, spec.quality])
        rate = frames / (time.perf_counter() - began)
        print(
            f"camera [{width}x{height}, {len(people)} people in the scene]: {rate:.1f} "
            "frames/s rendered and encoded"
        )
