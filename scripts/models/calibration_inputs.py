"""Calibration inputs for the int8 NanoDet (scripts/models/nanodet_int8.py): opencv-doc's sample
images and frames of its other sample videos (never vtest.avi, whose frames are the evaluation
set and its held-out check), shrunk into 4 x 3 mosaics of 1664 x 960: what the network sees of
a 1280 x 720 drone frame enlarged 1.3 times, with people and things small.
Run with the product's venv (OpenCV). Usage: python calibration_inputs.py OUT.npy
Writes uint8 RGB, N x 960 x 1664 x 3."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
IMAGES = (
    "messi5.jpg", "basketball1.png", "basketball2.png", "aero1.jpg", "aero3.jpg", "building.jpg",
    "home.jpg", "leuvenA.jpg", "leuvenB.jpg", "pca_test1.jpg", "fruits.jpg", "baboon.jpg",
    "stuff.jpg", "starry_night.jpg", "squirrel_cls.jpg", "graf1.png", "box_in_scene.png",
    "board.jpg", "left01.jpg", "rubberwhale1.png", "orange.jpg", "apple.jpg", "butterfly.jpg",
    "smarties.png", "licenseplate_motion.jpg", "text_defocus.jpg",
)  # fmt: skip
VIDEO_FRAMES = {"Megamind.avi": (0, 60, 120, 180, 240), "tree.avi": (0, 30, 60)}
MOSAICS = 8
WIDTH, HEIGHT, COLUMNS, ROWS = 1664, 960, 4, 3


def video_frames(path: Path, wanted: tuple[int, ...]) -> list[np.ndarray]:
    capture, frames, index = cv2.VideoCapture(str(path)), [], 0
    while len(frames) < len(wanted):
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{path}: frame {wanted[len(frames)]} cannot be read")
        if index in wanted:
            frames.append(frame)
        index += 1
    return frames


def main() -> int:
    images = []
    for name in IMAGES:
        image = cv2.imread(str(DATA / name))
        if image is None:
            raise SystemExit(f"{DATA / name}: cannot read (opencv-doc is installed by setup.sh)")
        images.append(image)
    for name, wanted in VIDEO_FRAMES.items():
        images += video_frames(DATA / name, wanted)
    rng = np.random.default_rng(0)
    cell_w, cell_h = WIDTH // COLUMNS, HEIGHT // ROWS
    mosaics = np.zeros((MOSAICS, HEIGHT, WIDTH, 3), np.uint8)
    for mosaic in mosaics:
        for k, pick in enumerate(rng.permutation(len(images))[: COLUMNS * ROWS]):
            x, y = cell_w * (k % COLUMNS), cell_h * (k // COLUMNS)
            cell = cv2.resize(images[pick], (cell_w, cell_h), interpolation=cv2.INTER_AREA)
            mosaic[y : y + cell_h, x : x + cell_w] = cv2.cvtColor(cell, cv2.COLOR_BGR2RGB)
    np.save(sys.argv[1], mosaics)
    print(f"calibration_inputs: {len(mosaics)} mosaics from {len(images)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
