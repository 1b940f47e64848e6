"""Benchmark: the vision detectors (and, later, the pipeline around them).

Sections, each a function called from main (add yours the same way):
- people: precision/recall (IoU >= 0.3) on the labelled vtest frames (data/eval/), per detector;
- small: the same labels on 1280x720 mosaics of shrunk frames (people 13-46 px tall);
- speed: detector time per 1280x720 frame on this machine;
- masks: precision/recall of no_mask on ../shared/data/masks (per source group and overall),
  faces unknown or not found, and faces under the size threshold coming out unknown.
Frames 400 and later of vtest.avi are never read here: they are a held-out check.
Run: .venv/bin/python bench/vision.py [--sections people,small,speed,masks]"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vision.detect import load_detector  # noqa: E402
from vision.detect.evaluation import Counts, match_frame  # noqa: E402

LABELS = ROOT / "data" / "eval" / "vtest-people.json"
MASKS = next(
    (p for p in (ROOT / ".." / "shared" / "data" / "masks", Path("/work/shared/data/masks"))
     if p.is_dir()),
    None,
)  # fmt: skip
HELD_OUT_FROM = 400  # vtest frames from here on are never read by the bench


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


def people() -> None:
    labels, frames = labelled_frames()
    n_people = sum(len(e["people"]) for e in labels["frames"])
    print(f"people: {len(frames)} labelled vtest frames, {n_people} people, IoU >= 0.3")
    for name, options in (("nanodet", {}), ("nanodet-small", {}), ("nanodet-full", {}),
                          ("hog", {})):  # fmt: skip
        detector = load_detector(name, **options)
        found = {i: detector.detect(f) for i, f in frames.items()}
        thresholds = [getattr(detector, "min_score", None)]
        if name != "hog":
            # the curve: every box down to 0.25 (re-run below the default threshold)
            low = load_detector(name, min_score=0.25)
            found = {i: low.detect(f) for i, f in frames.items()}
            thresholds = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
        for threshold in thresholds:
            counts = Counts()
            for entry in labels["frames"]:
                boxes = [b for b in found[entry["frame"]] if threshold is None or
                         b.score >= threshold]  # fmt: skip
                counts.add(match_frame(boxes, entry["people"], entry["ignore"]))
            mark = " (default)" if threshold == getattr(detector, "min_score", None) else ""
            at = "" if threshold is None else f" score >= {threshold:.2f}"
            print(
                f"  {name:13s}{at:15s} precision {counts.precision:.3f} recall "
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
        ("nanodet-full", {}),
    ]
    for name, options in variants:
        detector = load_detector(name, **options)
        counts = Counts()
        for canvas, people, ignore in mosaics:
            counts.add(match_frame(detector.detect(canvas), people, ignore))
        label = name + "".join(f" {k}={v}" for k, v in options.items())
        print(
            f"  {label:46s} precision {counts.precision:.3f} recall {counts.recall:.3f}  "
            f"(TP {counts.true_positives}, FP {counts.false_positives}, "
            f"FN {counts.false_negatives}; score >= {detector.min_score})"
        )


def speed(repeats: int = 5) -> None:
    _, frames = labelled_frames()
    frame = cv2.resize(next(iter(frames.values())), (1280, 720), interpolation=cv2.INTER_CUBIC)
    print(
        f"speed: one 1280x720 frame (vtest frame 0 enlarged), median of {repeats} runs; CPU "
        "time is what the detector costs, wall time what it took beside other work"
    )
    variants = [
        ("nanodet", {}),
        ("nanodet", {"full_frame": False}),
        ("nanodet", {"tile": 720, "overlap": 160, "full_frame": False}),
        ("nanodet-small", {}),
        ("nanodet-small", {"threads": 2}),
        ("nanodet-full", {}),
        ("hog", {}),
        ("faces", {}),
    ]
    for name, options in variants:
        detector = load_detector(name, **options)
        detector.detect(frame)  # warm-up
        wall, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            detector.detect(frame)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        runs = len(detector.regions(1280, 720)) if hasattr(detector, "regions") else 1
        label = name + "".join(f" {k}={v}" for k, v in options.items())
        print(
            f"  {label:46s} {runs} runs  wall {statistics.median(wall) * 1000:6.0f} ms  "
            f"CPU {statistics.median(cpu) * 1000:6.0f} ms/frame "
            f"(= {1 / statistics.median(cpu):5.2f} frames/s on one free core)"
        )
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


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


SECTIONS = {"people": people, "small": small_people, "speed": speed, "masks": masks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    args = parser.parse_args()
    for name in args.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; one of {', '.join(SECTIONS)}")
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
