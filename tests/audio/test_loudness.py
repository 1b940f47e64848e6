import numpy as np
import pytest

from audio.loudness import limit, measure_lufs, normalise, peak_dbfs

RATE = 48_000


def _noise_bursts(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.05, RATE * 3)
    t = np.arange(480) / RATE
    x[RATE : RATE + 480] += 0.9 * np.sin(2 * np.pi * 1000 * t)  # a sharp 10 ms burst
    return x


def test_limiter_holds_the_ceiling_without_clipping():
    x = _noise_bursts(1) * 8  # peaks far above full scale
    y = limit(x, RATE, -1.0)
    assert peak_dbfs(y) <= -1.0
    # Not clipping: the output is the input times a gain that moves smoothly (clipping would
    # change the gain from one sample to the next at every peak).
    loud = np.flatnonzero(np.abs(x) > 1e-3)
    gain = y[loud] / x[loud]
    assert np.all(gain <= 1.0 + 1e-6)
    assert np.max(np.abs(np.diff(gain))) < 0.02


def test_limiter_leaves_quiet_signals_alone():
    x = _noise_bursts(2) * 0.5
    assert np.allclose(limit(x, RATE, -1.0), x, atol=1e-6)


@pytest.mark.parametrize("target", [-23.0, -16.0, -12.0])
def test_normalise_hits_target_and_peak_limit(target):
    y = normalise(_noise_bursts(3), RATE, target, -1.0)
    assert abs(measure_lufs(y, RATE) - target) <= 0.2
    assert peak_dbfs(y) <= -1.0


def test_normalise_refuses_silence():
    with pytest.raises(ValueError, match="silent"):
        normalise(np.zeros(RATE), RATE)


def test_short_clip_is_measured():
    t = np.arange(int(0.2 * RATE)) / RATE
    assert np.isfinite(measure_lufs(0.5 * np.sin(2 * np.pi * 1000 * t), RATE))
