"""Decoding imported recordings (WAV, MP3, OGG/Opus, M4A/AAC, WebM/Opus ...) with PyAV."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from audio.wav import SAMPLE_RATE

DEFAULT_MAX_SECONDS = 120.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# the most an operator may raise the limits to: a broadcast message is not a programme
LIMIT_SECONDS = 600.0
LIMIT_BYTES = 500 * 1024 * 1024
# a file that declares this much more than it decodes to was cut short (a truncated upload)
TRUNCATED_TOLERANCE_S = 0.5
MAX_RIFF_CHUNKS = 1000


class ImportRefused(ValueError):
    """A file that cannot be taken into the library, with the reason."""


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # mono float32 at SAMPLE_RATE
    container: str
    codec: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def decode(
    path: Path,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Decoded:
    """Decode the first audio stream of ``path`` to 48 kHz mono float32.
    Raises ImportRefused for a missing, empty, too big, too long or non-audio file."""
    path = Path(path)
    if not (isinstance(max_seconds, int | float) and 0 < max_seconds <= LIMIT_SECONDS):
        raise ImportRefused(f"the length limit must be over 0 and at most {LIMIT_SECONDS:g} s")
    if not (isinstance(max_bytes, int) and 0 < max_bytes <= LIMIT_BYTES):
        raise ImportRefused(f"the size limit must be over 0 and at most {LIMIT_BYTES} bytes")
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise ImportRefused(f"{path}: the file is empty")
    if size > max_bytes:
        raise ImportRefused(f"{path}: {size} bytes is over the {max_bytes}-byte limit")
    _check_riff_complete(path, size)
    try:
        # tags are never used: a recorder writing them in GBK must not stop the import
        container = av.open(str(path), metadata_errors="replace")
    except (av.error.FFmpegError, UnicodeError, ValueError) as exc:
        raise ImportRefused(f"{path}: not a readable audio file ({_reason(exc)})") from None
    with container:
        if not container.streams.audio:
            raise ImportRefused(f"{path}: the file has no audio stream")
        stream = container.streams.audio[0]
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > max_seconds + 0.5:
            raise ImportRefused(
                f"{path}: {declared:.1f} s is longer than the {max_seconds:g} s limit"
            )
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        limit = int((max_seconds + 0.5) * SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > limit:
                    raise ImportRefused(f"{path}: longer than the {max_seconds:g} s limit")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            raise ImportRefused(f"{path}: the audio is corrupt ({_reason(exc)})") from None
        codec = stream.codec_context.name
        fmt = container.format.name
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if len(samples) == 0:
        raise ImportRefused(f"{path}: the audio stream holds no samples")
    if not np.isfinite(samples).all():  # a float WAV of random or damaged bytes
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        raise ImportRefused(f"{path}: the audio is corrupt ({bad} samples are NaN or infinite)")
    if len(samples) > max_seconds * SAMPLE_RATE + 0.5 * SAMPLE_RATE:
        raise ImportRefused(f"{path}: longer than the {max_seconds:g} s limit")
    got = len(samples) / SAMPLE_RATE
    if declared is not None and got < declared - TRUNCATED_TOLERANCE_S:
        raise ImportRefused(
            f"{path}: the file is cut short: it declares {declared:.1f} s but only {got:.2f} s "
            "can be decoded (an interrupted upload or recording?)"
        )
    return Decoded(samples.astype(np.float32), fmt, codec)


def _check_riff_complete(path: Path, size: int) -> None:
    """A WAV file whose data chunk declares more than the file holds was cut short (ffmpeg
    takes a WAV's length from the bytes present, so the declared length says nothing else).
    0 and 0xFFFFFFFF are the sizes a streaming writer leaves: unknown, not cut."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        byte_rate = 0
        for _ in range(MAX_RIFF_CHUNKS):  # a writer puts a handful before the data
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            kind, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"data":
                break
            body = f.read(min(length, 64)) if kind == b"fmt " else b""
            if len(body) >= 12:
                byte_rate = struct.unpack("<I", body[8:12])[0]
            f.seek(f.tell() - len(body) + length + (length & 1))
        else:
            raise ImportRefused(f"{path}: over {MAX_RIFF_CHUNKS} chunks before the audio data")
        present = size - f.tell()
    if length in (0, 0xFFFFFFFF) or not byte_rate:
        return
    missing = length - present
    if missing > TRUNCATED_TOLERANCE_S * byte_rate:
        raise ImportRefused(
            f"{path}: the file is cut short: its data chunk declares {length / byte_rate:.1f} s "
            f"but holds {max(present, 0) / byte_rate:.2f} s (an interrupted upload or recording?)"
        )


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc)


def _declared_seconds(container: av.container.InputContainer, stream) -> float | None:  # type: ignore[no-untyped-def]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None
