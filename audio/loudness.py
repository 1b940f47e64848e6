"""Loudness (ITU-R BS.1770 via pyloudnorm) and a look-ahead peak limiter."""

from __future__ import annotations

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d

DEFAULT_TARGET_LUFS = -16.0
DEFAULT_PEAK_DBFS = -1.0
LOOKAHEAD_S = 0.005
HOLD_S = 0.020
# The limiter aims a little under the ceiling so that 16-bit rounding cannot cross it.
CEILING_MARGIN_DB = 0.05
MIN_BLOCK_S = 0.4  # one BS.1770 gating block
# loudness targets that make sense for a loudspeaker message (EBU R 128 is -23, podcasts -16)
TARGET_RANGE_LUFS = (-40.0, -5.0)


def check_target(target_lufs: float) -> float:
    """``target_lufs`` if it is a plausible loudness target, else ValueError saying why."""
    low, high = TARGET_RANGE_LUFS
    if isinstance(target_lufs, bool) or not isinstance(target_lufs, int | float):
        raise ValueError(f"the loudness target must be a number of LUFS, not {target_lufs!r}")
    if not low <= target_lufs <= high:
        raise ValueError(
            f"the loudness target {target_lufs:g} LUFS is outside {low:g}..{high:g} LUFS"
        )
    return float(target_lufs)


def measure_lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS. Clips shorter than one 400 ms gating block are measured
    padded with silence, which the absolute gate ignores."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < int(MIN_BLOCK_S * rate) + 1:
        x = np.concatenate([x, np.zeros(int(MIN_BLOCK_S * rate) + 1 - len(x))])
    return float(pyloudnorm.Meter(rate).integrated_loudness(x))


def peak_dbfs(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def _forward_min(x: np.ndarray, size: int) -> np.ndarray:
    """y[n] = min(x[n : n + size])."""
    # minimum_filter1d centres the window; shift the origin so the window looks ahead.
    return minimum_filter1d(x, size, mode="nearest", origin=-(size // 2))


def _backward_min(x: np.ndarray, size: int) -> np.ndarray:
    """y[n] = min(x[n - size + 1 : n + 1])."""
    return minimum_filter1d(x, size, mode="nearest", origin=(size - 1) // 2)


def _backward_mean(x: np.ndarray, size: int) -> np.ndarray:
    """y[n] = mean(x[n - size + 1 : n + 1])."""
    return uniform_filter1d(x, size, mode="nearest", origin=(size - 1) // 2)


def limit(samples: np.ndarray, rate: int, ceiling_dbfs: float = DEFAULT_PEAK_DBFS) -> np.ndarray:
    """Look-ahead peak limiter: the gain ramps down over the look-ahead window *before* a peak,
    holds, and ramps back up, so the output never exceeds the ceiling and is never clipped.

    The gain g[n] is the mean over the last L samples of the forward minimum (over L samples) of
    the required gain; every term of that mean is <= the requirement at n, so |x[n] g[n]| stays
    under the ceiling while the gain changes smoothly."""
    x = np.asarray(samples, dtype=np.float64)
    ceiling = 10 ** ((ceiling_dbfs - CEILING_MARGIN_DB) / 20)
    magnitude = np.abs(x)
    if len(x) == 0 or magnitude.max() <= ceiling:
        return x.astype(np.float32)
    needed = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-12))
    size = max(2, int(LOOKAHEAD_S * rate))
    gain = _forward_min(needed, size)
    gain = _backward_min(gain, max(1, int(HOLD_S * rate)))
    gain = _backward_mean(gain, size)
    out = x * np.minimum(gain, needed)  # guards the float rounding of the running mean
    return out.astype(np.float32)


def normalise(
    samples: np.ndarray,
    rate: int,
    target_lufs: float = DEFAULT_TARGET_LUFS,
    ceiling_dbfs: float = DEFAULT_PEAK_DBFS,
) -> np.ndarray:
    """Bring ``samples`` to ``target_lufs`` with peaks limited to ``ceiling_dbfs``.
    Limiting lowers the loudness a little, so the gain is corrected and re-limited until the
    result is within 0.1 LU of the target (or the limiter cannot give more)."""
    x = np.asarray(samples, dtype=np.float64)
    loudness = measure_lufs(x, rate)
    if not np.isfinite(loudness):
        raise ValueError("the audio is silent: no loudness to normalise")
    gain_db = target_lufs - loudness
    out = x
    for _ in range(6):
        out = limit(x * 10 ** (gain_db / 20), rate, ceiling_dbfs)
        error = target_lufs - measure_lufs(out, rate)
        if abs(error) < 0.1:
            break
        gain_db += error
    return out.astype(np.float32)
