"""The one delivery format for broadcast audio: 48 kHz mono 16-bit PCM WAV."""

from __future__ import annotations

import os
import tempfile
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SAMPLE_RATE = 48_000


def resample(samples: np.ndarray, from_rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited polyphase resampling of a mono float signal."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    g = gcd(from_rate, to_rate)
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Write 48 kHz mono 16-bit PCM atomically (a reader never sees a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, np.asarray(samples, dtype=np.float32), SAMPLE_RATE, subtype="PCM_16")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a WAV file as mono float32 samples and its sample rate."""
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)


def duration_s(path: Path) -> float:
    info = sf.info(str(path))
    return info.frames / info.samplerate
