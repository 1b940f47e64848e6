"""Flags made as the camera pipeline makes them (FlagStore.record), with real JPEG crops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from vision.flags import FlagStore, Observation

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def jpeg(width: int = 64, height: int = 48, shade: int = 128) -> bytes:
    image = np.full((height, width, 3), shade, np.uint8)
    cv2.circle(image, (width // 2, height // 2), min(width, height) // 4, (0, 0, 255), -1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


def record_flags(flags: FlagStore) -> list[int]:
    """Three flags: a gathering in 上洋村 (two sightings), a no-mask in 下洋村, one in patrol 2."""
    made = [
        flags.record(Observation("gathering", 6, 0.8, 27.5731, 119.7035, 4.0, T0, radius_m=6,
                                 grid="上洋村 Shangyang", patrol_id=1, sortie_id=1, source="cam1",
                                 track="t1", crop_jpeg=jpeg(), thumbnail_jpeg=jpeg(32, 24))),
        flags.record(Observation("gathering", 8, 0.9, 27.5732, 119.7036, 3.0,
                                 T0 + timedelta(seconds=30), radius_m=7, grid="上洋村 Shangyang",
                                 patrol_id=1, sortie_id=1, source="cam1", track="t1",
                                 crop_jpeg=jpeg(shade=90))),
        flags.record(Observation("no_mask", 1, 0.6, 27.5690, 119.7101, 5.0,
                                 T0 + timedelta(minutes=5), grid="下洋村 Xiayang", patrol_id=1,
                                 source="cam1", track="t2", crop_jpeg=jpeg())),
        flags.record(Observation("gathering", 5, 0.7, 27.5800, 119.7200, 6.0,
                                 T0 + timedelta(hours=2), grid="下洋村 Xiayang", patrol_id=2,
                                 source="cam2", track="t9")),
    ]  # fmt: skip
    return sorted({f.id for f in made})
