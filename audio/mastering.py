"""From any mono signal to the delivered broadcast file: 48 kHz, trimmed, chime, loudness."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from audio.chime import chime
from audio.loudness import DEFAULT_PEAK_DBFS, DEFAULT_TARGET_LUFS, measure_lufs, normalise
from audio.loudness import peak_dbfs as _peak_dbfs
from audio.silence import trim_silence
from audio.wav import SAMPLE_RATE, resample

CHIME_GAP_S = 0.25
# Below what a drone's loudspeaker reproduces: the filter removes DC offsets and rumble, so a
# constant signal (zero data in 8-bit PCM, A-law or µ-law) is measured as the silence it is.
HIGH_PASS_HZ = 60.0
_HIGH_PASS = butter(4, HIGH_PASS_HZ, "highpass", fs=SAMPLE_RATE, output="sos")


class SilentAudioError(ValueError):
    """The audio holds nothing above the silence threshold."""


@dataclass(frozen=True)
class Mastered:
    samples: np.ndarray  # float32 at SAMPLE_RATE
    loudness_lufs: float
    peak_dbfs: float
    voice_s: float  # the sound itself, trimmed, without the chime

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def master(
    samples: np.ndarray,
    rate: int,
    *,
    target_lufs: float = DEFAULT_TARGET_LUFS,
    ceiling_dbfs: float = DEFAULT_PEAK_DBFS,
    with_chime: bool = False,
) -> Mastered:
    """Resample to 48 kHz, high-pass at HIGH_PASS_HZ, trim silence, optionally put the chime
    in front, then normalise the whole to ``target_lufs`` under a ``ceiling_dbfs`` peak limit.
    The result quantised to 16 bits stays under the ceiling."""
    if not np.isfinite(target_lufs):
        raise ValueError(f"the loudness target must be finite, not {target_lufs}")
    voice = resample(np.asarray(samples, dtype=np.float32), rate)
    if len(voice) > 64:  # sosfiltfilt pads each end with a few dozen samples
        voice = sosfiltfilt(_HIGH_PASS, voice).astype(np.float32)
    voice = trim_silence(voice, SAMPLE_RATE)
    if len(voice) == 0:
        raise SilentAudioError(
            "the audio is silent (nothing above -60 dBFS once DC and rumble under "
            f"{HIGH_PASS_HZ:g} Hz are removed)"
        )
    voice_s = len(voice) / SAMPLE_RATE
    voice = voice / max(float(np.max(np.abs(voice))), 1e-9)
    if with_chime:
        # The chime sits about 6 dB under the voice peak so it calls attention without
        # dominating the loudness measurement.
        voice = np.concatenate([chime(), np.zeros(int(CHIME_GAP_S * SAMPLE_RATE)), voice])
    out = normalise(voice, SAMPLE_RATE, target_lufs, ceiling_dbfs)
    quantised = np.round(out * 32767) / 32767
    return Mastered(
        out, measure_lufs(quantised, SAMPLE_RATE), _peak_dbfs(quantised.astype(np.float64)),
        voice_s,
    )  # fmt: skip
