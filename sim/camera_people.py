"""People for the simulated camera: real photographs cut from real footage.

The source is Debian's opencv-doc ``vtest.avi`` (a static camera over a walkway), frames 0-399
only (the frames after 400 are a held-out check for the detectors and are never read here).
A static camera makes the cut-out honest and simple: the per-pixel median of the frames is the
empty scene; a frame minus that background, cleaned by morphology, leaves the people, each a
connected blob that becomes a sprite with its own alpha mask. Nothing is committed: sprites
are made at run time from the installed file and cached as PNGs under the cache directory.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
FRAMES = 400  # 0-399 only
CACHE_NAME = "vtest-people-v1"
DIFF_THRESHOLD = 35
MIN_HEIGHT, MAX_HEIGHT = 50, 160  # pixels: a whole person at this footage's scale
MIN_ASPECT, MAX_ASPECT = 1.7, 4.2  # height / width of one standing or walking person
OCCLUDER_X = (400, 455)  # the lamp post and its sign cut people in two there
MAX_SPRITES = 60


class PeopleError(RuntimeError):
    """The footage the people are cut from is missing or unusable."""


def _frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while len(frames) < FRAMES:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    if len(frames) < FRAMES:
        raise PeopleError(f"{path}: {len(frames)} frames readable, {FRAMES} needed")
    return frames


def cut_people(path: Path = VTEST) -> list[np.ndarray]:
    """BGRA sprites of single people (feet at the bottom row) from frames 0-399 of ``path``."""
    if not path.is_file():
        raise PeopleError(
            f"{path} is missing: the simulated camera cuts its people from it "
            "(Debian package opencv-doc; scripts/setup.sh installs it)"
        )
    frames = _frames(path)
    background = np.median(np.stack(frames[::4]), axis=0).astype(np.uint8)
    open_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    close_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    height, width = background.shape[:2]
    sprites: list[tuple[int, np.ndarray]] = []
    for index in range(0, FRAMES, 5):
        frame = frames[index]
        diff = cv2.absdiff(frame, background).max(axis=2)
        mask = (diff > DIFF_THRESHOLD).astype(np.uint8) * 255
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, open_k)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close_k)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
        for k in range(1, n):
            x, y, w, h, area = stats[k]
            if not (MIN_HEIGHT <= h <= MAX_HEIGHT and MIN_ASPECT <= h / w <= MAX_ASPECT):
                continue
            if x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1:
                continue  # cut by the frame's edge
            if x < OCCLUDER_X[1] and x + w > OCCLUDER_X[0]:
                continue
            if area < 0.35 * w * h:
                continue  # a thin fragment, not a body
            blob = (labels[y : y + h, x : x + w] == k).astype(np.uint8) * 255
            alpha = cv2.GaussianBlur(blob, (3, 3), 0)
            sprite = np.dstack([frame[y : y + h, x : x + w], alpha])
            sprites.append((index, sprite))
    if len(sprites) < 10:
        raise PeopleError(f"{path}: only {len(sprites)} people could be cut out")
    step = max(1, len(sprites) // MAX_SPRITES)
    return [s for _, s in sprites[::step]][:MAX_SPRITES]


def load_people(cache_dir: Path, path: Path = VTEST) -> list[np.ndarray]:
    """The sprites, cut once and then read from ``cache_dir``."""
    folder = cache_dir / CACHE_NAME
    done = folder / "done"
    if done.is_file():
        files = sorted(folder.glob("*.png"))
        sprites = [cv2.imread(str(f), cv2.IMREAD_UNCHANGED) for f in files]
        if sprites and all(s is not None and s.ndim == 3 and s.shape[2] == 4 for s in sprites):
            return sprites
    sprites = cut_people(path)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for i, sprite in enumerate(sprites):
        cv2.imwrite(str(folder / f"{i:03d}.png"), sprite)
    done.write_text(f"{len(sprites)} people from {path} frames 0-{FRAMES - 1}\n")
    return sprites
