"""Benchmark: the vision detectors and the pipeline around them.

Sections, each a function called from main (add yours the same way):
- people: precision/recall (IoU >= 0.3) on the labelled vtest frames (data/eval/), per detector;
- small: the same labels on 1280x720 mosaics of shrunk frames (people 13-51 px tall);
- sizes: mosaics shrunk more and less (people 9-67 px): "nanodet-drone" at its scale and at the
  scale matched to the people's median height (scale_for_people);
- speed: detector time per 1280x720 frame on this machine;
- network: the int8 network alone: 416 px tiles one by one or batched, the enlarged frame;
- throughput: 1280x720 frames decoded from an MJPEG file and detected by "nanodet-drone" on
  one or two threads: CPU time per frame, and frames/s on two cores;
- gatherings, geolocation, pipeline, camera: the pipeline on the simulated camera
  (bench/vision_pipeline.py says what each measures; --detector picks their people detector);
- masks: precision/recall of no_mask on ../shared/data/masks (per source group and overall),
  faces unknown or not found, and faces under the size threshold coming out unknown.
Frames 400 and later of vtest.avi are never read here: they are a held-out check.
Time is CPU time (time.process_time, or per thread time.thread_time) besides wall time: the
machine is shared, and the wall time says more about the others' load than about the code.
Run: .venv/bin/python bench/vision.py [--sections people,small,...] (default: all of them)"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import vision_pipeline  # noqa: E402  (bench/, beside this file)

from vision.detect import load_detector  # noqa: E402
from vision.detect.evaluation import Counts, match_frame  # noqa: E402
from vision.detect.models import onnx_session  # noqa: E402
from vision.detect.nanodet import INT8_MODEL_PATH, scale_for_people  # noqa: E402
from vision.detect.parallel import detect_frames  # noqa: E402

LABELS = ROOT / "data" / "eval" / "vtest-people.json"
MASKS = next(
    (p for p in (ROOT / ".." / "shared" / "data" / "masks", Path("/work/shared/data/masks"))
     if p.is_dir()),
    None,
)  # fmt: skip
HELD_OUT_FROM = 400  # vtest frames from here on are never read by the bench
GEOLOCATE_MS = 20  # the time left for geolocation and clustering per frame (vision.pipeline)


def labelled_frames() -> tuple[dict, dict[int, np.ndarray]]:
    labels = json.loads(LABELS.read_text())
    capture = cv2.VideoCapture(labels["video_path"])
    if not capture.isOpened():
        raise SystemExit(f"{labels['video_path']}: cannot open (scripts/setup.sh installs it)")
    frames = {}
    for entry in labels["frames"]:
        index = entry["frame"]
        if index >= HELD_OUT_FROM:
            raise SystemExit(f"{LABELS}: frame {index} is in the held-out part (>= 400)")
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{labels['video_path']}: cannot read frame {index}")
        frames[index] = frame
    return labels, frames


def label_of(name: str, options: dict) -> str:
    text = {k: getattr(v, "name", v) for k, v in options.items()}  # a model path by its name
    return name + "".join(f" {k}={v}" for k, v in text.items())


def people() -> None:
    labels, frames = labelled_frames()
    heights = [b[3] - b[1] for e in labels["frames"] for b in e["people"]]
    n_people = len(heights)
    matched = round(scale_for_people(statistics.median(heights)), 2)
    print(
        f"people: {len(frames)} labelled vtest frames, {n_people} people "
        f"(median {statistics.median(heights):.0f} px tall), IoU >= 0.3"
    )
    variants = [("nanodet", {}), ("nanodet-small", {}), ("nanodet-full", {}),
                ("nanodet-full", {"model_path": INT8_MODEL_PATH}), ("nanodet-drone", {}),
                ("nanodet-drone", {"scale": matched}), ("hog", {})]  # fmt: skip
    for name, options in variants:
        detector = load_detector(name, **options)
        found = {i: detector.detect(f) for i, f in frames.items()}
        thresholds = [getattr(detector, "min_score", None)]
        if name != "hog":
            # the curve: every box down to 0.25 (re-run below the default threshold)
            low = load_detector(name, **{**options, "min_score": 0.25})
            found = {i: low.detect(f) for i, f in frames.items()}
            thresholds = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
        label = label_of(name, options)
        for threshold in thresholds:
            counts = Counts()
            for entry in labels["frames"]:
                boxes = [b for b in found[entry["frame"]] if threshold is None or
                         b.score >= threshold]  # fmt: skip
                counts.add(match_frame(boxes, entry["people"], entry["ignore"]))
            mark = " (default)" if threshold == getattr(detector, "min_score", None) else ""
            at = "" if threshold is None else f" score >= {threshold:.2f}"
            print(
                f"  {label:42s}{at:15s} precision {counts.precision:.3f} recall "
                f"{counts.recall:.3f}  (TP {counts.true_positives}, FP "
                f"{counts.false_positives}, FN {counts.false_negatives}){mark}"
            )


def mosaic(labels: dict, frames: dict[int, np.ndarray], indices: list[int]):
    """12 labelled frames shrunk to 320x240 (x 0.417) in a 4 x 3 grid: one 1280x720 frame in
    which the people are 13-46 px tall, as from the drone at 30-40 m, with their labels."""
    by_index = {e["frame"]: e for e in labels["frames"]}
    canvas = np.zeros((720, 1280, 3), np.uint8)
    people, ignore = [], []
    scale = 320 / 768
    for k, index in enumerate(indices):
        ox, oy = 320 * (k % 4), 240 * (k // 4)
        canvas[oy : oy + 240, ox : ox + 320] = cv2.resize(
            frames[index], (320, 240), interpolation=cv2.INTER_AREA
        )
        shift = np.array([ox, oy, ox, oy])
        people += [list(np.array(b) * scale + shift) for b in by_index[index]["people"]]
        ignore += [list(np.array(b) * scale + shift) for b in by_index[index]["ignore"]]
    return canvas, people, ignore


def small_people() -> None:
    labels, frames = labelled_frames()
    order = sorted(frames)
    groups = [order[:12], order[-12:]]  # two mosaics (two frames appear in both)
    mosaics = [mosaic(labels, frames, g) for g in groups]
    heights = [b[3] - b[1] for _, people, _ in mosaics for b in people]
    print(
        f"small people: {len(mosaics)} 1280x720 mosaics of 12 shrunk labelled frames, "
        f"{len(heights)} people {min(heights):.0f}-{max(heights):.0f} px tall "
        f"(median {statistics.median(heights):.0f}), IoU >= 0.3"
    )
    variants = [
        ("nanodet", {}),
        ("nanodet", {"min_score": 0.35}),
        ("nanodet", {"tile": 720, "overlap": 160, "full_frame": False}),
        ("nanodet-small", {}),
        ("nanodet-small", {"min_score": 0.35}),
        ("nanodet-small", {"model_path": INT8_MODEL_PATH}),
        ("nanodet-small", {"model_path": INT8_MODEL_PATH, "min_score": 0.35}),
        ("nanodet-full", {}),
        ("nanodet-drone", {"min_score": 0.3}),
        ("nanodet-drone", {}),
        ("nanodet-drone", {"min_score": 0.4}),
        ("nanodet-drone", {"scale": 1.15}),
        ("nanodet-drone", {"scale": 1.45}),
    ]
    for name, options in variants:
        detector = load_detector(name, **options)
        counts = Counts()
        for canvas, people, ignore in mosaics:
            counts.add(match_frame(detector.detect(canvas), people, ignore))
        label = label_of(name, options)
        print(
            f"  {label:58s} precision {counts.precision:.3f} recall {counts.recall:.3f}  "
            f"(TP {counts.true_positives}, FP {counts.false_positives}, "
            f"FN {counts.false_negatives}; score >= {detector.min_score})"
        )


def shrunk_mosaics(labels: dict, frames: dict[int, np.ndarray], shrink: float):
    """Every labelled frame shrunk by `shrink`, as many to a 1280x720 mosaic as fit (the last
    mosaic filled up from the first frames again), with their labels."""
    by_index = {e["frame"]: e for e in labels["frames"]}
    order = sorted(frames)
    cell_w, cell_h = int(768 * shrink), int(576 * shrink)
    columns, rows = 1280 // cell_w, 720 // cell_h
    per_mosaic = columns * rows
    mosaics = []
    for m in range(-(-len(order) // per_mosaic)):
        canvas = np.zeros((720, 1280, 3), np.uint8)
        people, ignore = [], []
        for k in range(per_mosaic):
            index = order[(m * per_mosaic + k) % len(order)]
            ox, oy = cell_w * (k % columns), cell_h * (k // columns)
            canvas[oy : oy + cell_h, ox : ox + cell_w] = cv2.resize(
                frames[index], (cell_w, cell_h), interpolation=cv2.INTER_AREA
            )
            factor = np.array([cell_w / 768, cell_h / 576] * 2)
            shift = np.array([ox, oy, ox, oy])
            people += [list(np.array(b) * factor + shift) for b in by_index[index]["people"]]
            ignore += [list(np.array(b) * factor + shift) for b in by_index[index]["ignore"]]
        mosaics.append((canvas, people, ignore))
    return mosaics


def sizes() -> None:
    labels, frames = labelled_frames()
    print("sizes: all labelled frames shrunk into 1280x720 mosaics, IoU >= 0.3; nanodet-drone")
    for shrink in (0.3, 0.417, 0.55):
        mosaics = shrunk_mosaics(labels, frames, shrink)
        heights = [b[3] - b[1] for _, people, _ in mosaics for b in people]
        median = statistics.median(heights)
        print(
            f"  frames x {shrink}: {len(mosaics)} mosaics, {len(heights)} people "
            f"{min(heights):.0f}-{max(heights):.0f} px tall (median {median:.0f})"
        )
        for scale in sorted({1.3, round(scale_for_people(median), 2)}):
            low = load_detector("nanodet-drone", scale=scale, min_score=0.25)
            found = [low.detect(canvas) for canvas, _, _ in mosaics]
            parts = []
            for threshold in (0.3, 0.35, 0.4):
                counts = Counts()
                for boxes, (_, people, ignore) in zip(found, mosaics, strict=True):
                    kept = [b for b in boxes if b.score >= threshold]
                    counts.add(match_frame(kept, people, ignore))
                parts.append(
                    f"score >= {threshold:.2f}: P {counts.precision:.3f} R {counts.recall:.3f}"
                )
            matched = " (matched)" if scale == round(scale_for_people(median), 2) else ""
            print(f"    scale {scale:.2f}{matched:10s} " + "; ".join(parts))


def speed(repeats: int = 5) -> None:
    _, frames = labelled_frames()
    frame = cv2.resize(next(iter(frames.values())), (1280, 720), interpolation=cv2.INTER_CUBIC)
    print(
        f"speed: one 1280x720 frame (vtest frame 0 enlarged), median of {repeats} runs; CPU "
        "time is what the detector costs, wall time what it took beside other work"
    )
    below_horizon = {"region": (0, 240, 1280, 720)}  # a horizon a third of the way down
    variants = [  # name, options, detect()'s keywords
        ("nanodet", {}, {}),
        ("nanodet", {"full_frame": False}, {}),
        ("nanodet", {"tile": 720, "overlap": 160, "full_frame": False}, {}),
        ("nanodet-small", {}, {}),
        ("nanodet-small", {"threads": 2}, {}),
        ("nanodet-small", {"model_path": INT8_MODEL_PATH}, {}),
        ("nanodet-full", {}, {}),
        ("nanodet-drone", {}, {}),
        ("nanodet-drone", {"threads": 2}, {}),
        ("nanodet-drone", {"scale": 1.15}, {}),
        ("nanodet-drone", {"scale": 1.45}, {}),
        ("nanodet-drone", {"scale": 1.8}, {}),
        ("nanodet-drone", {}, below_horizon),
        ("hog", {}, {}),
        ("faces", {}, {}),
    ]
    for name, options, call in variants:
        detector = load_detector(name, **options)
        detector.detect(frame, **call)  # warm-up
        wall, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            detector.detect(frame, **call)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        runs = len(detector.regions(1280, 720)) if hasattr(detector, "regions") else 1
        label = label_of(name, {**options, **call})
        print(
            f"  {label:58s} {runs:2d} runs  wall {statistics.median(wall) * 1000:6.0f} ms  "
            f"CPU {statistics.median(cpu) * 1000:6.0f} ms/frame "
            f"(= {1 / statistics.median(cpu):5.2f} frames/s on one free core)"
        )
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def network(repeats: int = 5) -> None:
    """The int8 network alone (no pre- or post-processing), one onnxruntime thread."""
    session = onnx_session(INT8_MODEL_PATH, threads=1)
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(0)
    print(f"network: {INT8_MODEL_PATH.name} alone, CPU time, median of {repeats} runs")
    for label, shape, per in (
        ("one 416 px tile", (1, 3, 416, 416), 1),
        ("4 tiles, one run each", (1, 3, 416, 416), 4),
        ("4 tiles batched in one run", (4, 3, 416, 416), 1),
        ("1280x720 x 1.3 (1664x960)", (1, 3, 960, 1664), 1),
    ):
        blob = rng.uniform(0, 1, shape).astype(np.float32)
        session.run(None, {name: blob})
        cpu = []
        for _ in range(repeats):
            c0 = time.process_time()
            for _ in range(per):
                session.run(None, {name: blob})
            cpu.append(time.process_time() - c0)
        print(f"  {label:30s} {statistics.median(cpu) * 1000:6.0f} ms")


class ThreadTimed:
    """A detector that adds each detecting thread's CPU time to `busy` (by thread name)."""

    name = "timed"

    def __init__(self, detector, busy: dict[str, float], lock: threading.Lock) -> None:
        self.detector, self.busy, self.lock = detector, busy, lock

    def detect(self, frame: np.ndarray):
        c0 = time.thread_time()
        boxes = self.detector.detect(frame)
        spent = time.thread_time() - c0
        with self.lock:
            key = threading.current_thread().name
            self.busy[key] = self.busy.get(key, 0.0) + spent
        return boxes


def read_timed(path: str, busy: dict[str, float]):
    """The frames of a video, adding the reading thread's CPU time to busy["reading"]."""
    capture = cv2.VideoCapture(path)
    while True:
        c0 = time.thread_time()
        ok, frame = capture.read()
        busy["reading"] = busy.get("reading", 0.0) + time.thread_time() - c0
        if not ok:
            return
        yield frame


def throughput(count: int = 40) -> None:
    """Frames as a camera would give them (MJPEG, decoded here), detected on 1 or 2 threads.
    Per-thread CPU time shows how the work splits; frames/s on two cores is the frame count
    over the busiest thread's CPU time (the reading thread's with GEOLOCATE_MS added for
    geolocation and clustering, which vision's pipeline does after detection)."""
    labels, frames = labelled_frames()
    mosaics = [m[0] for m in shrunk_mosaics(labels, frames, 0.417)]
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "frames.avi")
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 720))
        for k in range(count):
            writer.write(mosaics[k % len(mosaics)])
        writer.release()
        print(
            f"throughput: {count} 1280x720 frames (small-people mosaics) read from an MJPEG "
            f"file and detected by nanodet-drone, every frame; geolocation and clustering "
            f"counted as {GEOLOCATE_MS} ms/frame on the reading thread"
        )
        for workers, threads in ((1, 1), (1, 2), (2, 1)):
            busy: dict[str, float] = {}
            lock = threading.Lock()

            def make(busy=busy, lock=lock, threads=threads) -> ThreadTimed:
                return ThreadTimed(load_detector("nanodet-drone", threads=threads), busy, lock)

            t0, c0 = time.perf_counter(), time.process_time()
            n = sum(1 for _ in detect_frames(make, read_timed(path, busy), workers))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            busy["reading"] += n * GEOLOCATE_MS / 1000
            split = ", ".join(f"{k} {v / n * 1000:.0f}" for k, v in sorted(busy.items()))
            if threads == 1:  # every thread's CPU time is seen
                rate = f"{n / max(busy.values()):5.2f} frames/s on two free cores (busiest thread)"
            else:  # onnxruntime's own second thread is not: the whole CPU time over two cores
                best = n / ((cpu + n * GEOLOCATE_MS / 1000) / 2)
                rate = f"{best:5.2f} frames/s on two free cores at best (CPU / 2)"
            print(
                f"  {workers} detecting thread(s), {threads} onnxruntime thread(s): CPU "
                f"{cpu / n * 1000:4.0f} ms/frame (ms/frame by thread: {split}); wall "
                f"{wall / n * 1000:4.0f} ms/frame; {rate}; load {os.getloadavg()[0]:.1f}"
            )


def mask_group(label: str, source_path: str) -> str:
    """The four groups of ../shared/data/masks/SOURCE.md, told apart by source file name."""
    name = Path(source_path).name
    if label == "with_mask":
        return "with_mask web" if re.match(r"(with_mask|black)", name) else "with_mask RMFD"
    return "without_mask portrait" if re.fullmatch(r"\d+\.jpe?g", name) else "without_mask RMFD"


def masks() -> None:
    if MASKS is None:
        print("masks: ../shared/data/masks not found, skipped")
        return
    rows = list(csv.DictReader((MASKS / "labels.csv").open()))
    detector = load_detector("faces")
    outcomes: dict[str, Counter] = {}
    small_decided = small_tested = 0
    for row in rows:
        image = cv2.imread(str(MASKS / row["file"]))
        if image is None:
            raise SystemExit(f"{MASKS / row['file']}: cannot read the image")
        faces = detector.detect(image)
        face = max(faces, key=lambda b: b.score) if faces else None
        outcome = (
            "not found"
            if face is None
            else {True: "mask", False: "no_mask"}.get(face.mask, "unknown")
        )
        group = mask_group(row["label"], row["source_path"])
        outcomes.setdefault(group, Counter())[outcome] += 1
        if face is not None and face.width >= detector.min_face_px:
            # the same picture shrunk so that this face is 30 px wide: it must be unknown
            scale = 30.0 / face.width
            small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            small_faces = detector.detect(small)
            small_tested += len(small_faces)
            small_decided += sum(
                1 for b in small_faces if b.width < detector.min_face_px and b.mask != "unknown"
            )
    print(
        f"masks: {len(rows)} photographs in {MASKS.resolve()}, largest face per image, "
        f"min face {detector.min_face_px:.0f} px, mask confidence {detector.mask_confidence}"
    )

    def report(title: str, counters: list[tuple[str, Counter]]) -> None:
        masked = [c for g, c in counters if g.startswith("with_")]
        bare = [c for g, c in counters if g.startswith("without")]
        tp, fp = sum(c["no_mask"] for c in bare), sum(c["no_mask"] for c in masked)
        parts = []
        if bare and masked:
            parts.append(f"no_mask precision {tp / (tp + fp) if tp + fp else float('nan'):.3f}")
        if bare:
            parts.append(f"no_mask recall {tp / sum(sum(c.values()) for c in bare):.3f}")
        if masked:
            parts.append(f"masked faces called no_mask {fp}/{sum(sum(c.values()) for c in masked)}")
        total = sum((c for _, c in counters), Counter())
        outcome_text = ", ".join(f"{k} {v}" for k, v in sorted(total.items()))
        print(f"  {title:22s} {'; '.join(parts)}  ({outcome_text})")

    for group in sorted(outcomes):
        report(group, [(group, outcomes[group])])
    report("web + portraits", [(g, c) for g, c in outcomes.items() if "RMFD" not in g])
    report("RMFD crops", [(g, c) for g, c in outcomes.items() if "RMFD" in g])
    report("overall", list(outcomes.items()))
    print(
        f"  faces shrunk to 30 px wide: {small_tested} faces found again, "
        f"{small_decided} of them given a mask decision (must be 0)"
    )


PIPELINE = {"detector": "nanodet-drone"}  # --detector: the pipeline sections' people detector
SECTIONS = {
    "people": people,
    "small": small_people,
    "sizes": sizes,
    "speed": speed,
    "network": network,
    "throughput": throughput,
    "masks": masks,
    "gatherings": lambda: vision_pipeline.gatherings(PIPELINE["detector"], ["low", "demo"]),
    "geolocation": lambda: vision_pipeline.geolocation(PIPELINE["detector"]),
    "pipeline": lambda: vision_pipeline.pipeline(PIPELINE["detector"]),
    "camera": lambda: vision_pipeline.camera(),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--detector", default=PIPELINE["detector"], help="pipeline sections'")
    args = parser.parse_args()
    PIPELINE["detector"] = args.detector
    vision_pipeline.CACHE.mkdir(exist_ok=True)
    for name in args.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; one of {', '.join(SECTIONS)}")
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
