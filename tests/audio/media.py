"""Test media made with PyAV encoders: tones and speech-like signals in every import format."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# (suffix, container format, encoder, sample rate) for every supported import format.
FORMATS = {
    "wav": ("wav", "pcm_s16le", 44_100),
    "mp3": ("mp3", "libmp3lame", 44_100),
    "ogg": ("ogg", "libopus", 48_000),
    "m4a": ("ipod", "aac", 44_100),
    # What a browser's MediaRecorder produces.
    "webm": ("webm", "libopus", 48_000),
}


def tone(seconds: float, rate: int, amplitude: float = 0.3) -> np.ndarray:
    """A 440 Hz tone with a 3 Hz amplitude wobble (roughly speech-like in level variation)."""
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(
        np.float32
    )


def encode(
    path: Path, suffix: str, samples: np.ndarray | None = None, seconds: float = 2.0
) -> Path:
    fmt, codec, rate = FORMATS[suffix]
    x = tone(seconds, rate) if samples is None else samples.astype(np.float32)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        sample_format = stream.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=rate)
        step = 960
        for i in range(0, len(x), step):
            frame = av.AudioFrame.from_ndarray(x[i : i + step].reshape(1, -1), "flt", "mono")
            frame.sample_rate = rate
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
