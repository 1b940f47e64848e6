"""Test media made with PyAV encoders: tones and speech-like signals in every import format."""

from __future__ import annotations

import struct
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


def riff_wav(data: bytes, fmt_code: int = 1, bits: int = 16, rate: int = 8000,
             extra: bytes = b"") -> bytes:  # fmt: skip
    """A mono RIFF/WAVE file built by hand: PCM (1), A-law (6) or µ-law (7) ``data``, with
    ``extra`` chunks (e.g. LIST/INFO tags) before the data chunk."""
    block = bits // 8
    fmt = struct.pack("<HHIIHH", fmt_code, 1, rate, rate * block, block, bits)
    body = b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def info_chunk(title: bytes) -> bytes:
    """A LIST/INFO chunk with an INAM (title) tag of raw bytes, e.g. GBK as Chinese recorders
    write it."""
    value = title + b"\0"
    if len(value) % 2:
        value += b"\0"
    info = b"INFO" + b"INAM" + struct.pack("<I", len(title) + 1) + value
    return b"LIST" + struct.pack("<I", len(info)) + info
