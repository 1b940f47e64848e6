"""Trimming leading and trailing silence."""

from __future__ import annotations

import numpy as np

FRAME_S = 0.010
KEEP_S = 0.050  # a little room either side so consonants are not clipped


def trim_silence(
    samples: np.ndarray, rate: int, floor_dbfs: float = -60.0, below_peak_db: float = 45.0
) -> np.ndarray:
    """Cut the silent head and tail. A 10 ms frame is sound when its RMS is above both
    ``floor_dbfs`` and ``below_peak_db`` under the loudest frame. Returns an empty array when
    nothing is above the threshold."""
    frame = max(1, int(FRAME_S * rate))
    n = len(samples) // frame
    if n == 0:
        return samples[:0]
    frames = samples[: n * frame].reshape(n, frame).astype(np.float64)
    rms_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    threshold = max(floor_dbfs, rms_db.max() - below_peak_db)
    loud = np.flatnonzero(rms_db > threshold)
    if loud.size == 0:
        return samples[:0]
    keep = int(KEEP_S * rate)
    start = max(0, loud[0] * frame - keep)
    end = min(len(samples), (loud[-1] + 1) * frame + keep)
    return samples[start:end]
