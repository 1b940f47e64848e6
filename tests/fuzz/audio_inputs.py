"""Hypothesis strategies for recordings as recorders, phones and broken uploads deliver them:
real encodings (WAV, FLAC, OGG/Opus, MP3, WebM, M4A) cut short or with bytes flipped, WAV files
built by hand (any format code, bit depth, rate, declared size, DC-only or constant data, tags
in GBK), MP3 with ID3 tags that are not UTF-8, and files that are no audio at all."""

from __future__ import annotations

import functools
import struct
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from tests.audio.media import FORMATS, encode, info_chunk, riff_wav, tone

ENCODED = [*FORMATS, "flac"]
SUFFIXES = [".wav", ".mp3", ".ogg", ".opus", ".webm", ".m4a", ".flac", ".amr", ".bin", ""]


@functools.cache
def encoded(suffix: str, seconds: float = 2.0) -> bytes:
    """A real ``seconds`` tone in that format (made once per process)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"a.{suffix}"
        if suffix == "flac":
            import soundfile as sf

            sf.write(path, tone(seconds, 44_100), 44_100, format="FLAC")
            return path.read_bytes()
        return encode(path, suffix, seconds=seconds).read_bytes()


def id3v2(title: bytes, encoding: int = 0) -> bytes:
    """An ID3v2.3 tag with a TIT2 (title) frame of raw bytes, e.g. GBK marked as Latin-1 (0) or
    as UTF-8 (3), as Chinese recorders write it."""
    body = bytes([encoding]) + title
    frame = b"TIT2" + struct.pack(">I", len(body)) + b"\0\0" + body
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + frame


def pcm16(seconds: float, rate: int) -> bytes:
    return (tone(seconds, rate) * 20000).astype("<i2").tobytes()


tag_bytes = st.one_of(
    st.sampled_from(
        [
            "温州话通知".encode("gbk"),
            "村委会广播".encode("gb18030"),
            b"\xff\xfe\xfa",
            "Ünïcode".encode("latin-1"),
            b"\x00\x00",
            b"\xe4\xb8",
        ]
    ),
    st.binary(max_size=40),
)


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` cut short, with bytes flipped or overwritten, or a declared size made huge."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["cut", "flip", "huge", "zero", "insert"]))
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        if how == "cut":
            del out[at:]
        elif how == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif how == "huge":
            out[at : at + 4] = b"\xff\xff\xff\x7f"
        elif how == "zero":
            out[at : at + draw(st.integers(1, 64))] = b""
        else:
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(out)


@st.composite
def hand_wav(draw) -> bytes:
    """A RIFF/WAVE file built field by field."""
    code, bits = draw(
        st.sampled_from(
            [
                (1, 16),
                (1, 8),
                (1, 24),
                (1, 32),
                (3, 32),
                (6, 8),
                (7, 8),
                (2, 4),
                (0x11, 4),
                (0xFFFE, 16),
                (0, 16),
                (1, 0),
                (1, 12),
            ]
        )
    )
    rate = draw(st.sampled_from([8000, 16000, 44100, 48000, 1, 0, 2**30 - 1, 7]))
    seconds = draw(st.sampled_from([0.05, 0.6, 2.0]))
    n = int(seconds * min(max(rate, 1), 48000))
    content = draw(st.sampled_from(["tone", "zero", "constant", "noise", "quiet"]))
    if content == "tone":
        data = pcm16(seconds, min(max(rate, 8000), 48000))[: n * max(bits, 8) // 8]
    elif content == "zero":
        data = bytes(n * max(bits, 8) // 8)
    elif content == "constant":
        data = bytes([draw(st.integers(0, 255))]) * (n * max(bits, 8) // 8)
    elif content == "quiet":
        data = (tone(seconds, 8000, 0.0005) * 32767).astype("<i2").tobytes()
    else:
        data = np.random.default_rng(draw(st.integers(0, 99))).bytes(n * 2)
    extra = info_chunk(draw(tag_bytes)) if draw(st.booleans()) else b""
    wav = bytearray(riff_wav(data, code, bits, rate, extra))
    if draw(st.integers(0, 3)) == 0:  # channels the data does not have
        wav[22:24] = struct.pack("<H", draw(st.sampled_from([0, 2, 6, 255, 65535])))
    if draw(st.integers(0, 3)) == 0:  # the declared sizes of a streaming or broken writer
        field = draw(st.sampled_from([4, len(wav) - len(data) - 4]))
        wav[field : field + 4] = draw(
            st.sampled_from([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\xff\xff\xff\x7f"])
        )
    return bytes(wav)


@st.composite
def audio_files(draw) -> tuple[str, bytes]:
    """(file name, contents) of something offered as a recording."""
    kind = draw(st.sampled_from(["encoded", "encoded", "hand-wav", "hand-wav", "id3", "junk"]))
    if kind == "encoded":
        suffix = draw(st.sampled_from(ENCODED))
        data = draw(mutated(encoded(suffix)))
    elif kind == "hand-wav":
        suffix, data = "wav", draw(hand_wav())
    elif kind == "id3":
        suffix = "mp3"
        data = id3v2(draw(tag_bytes), draw(st.sampled_from([0, 1, 3, 9]))) + encoded("mp3")
    else:
        suffix = draw(st.sampled_from(["wav", "mp3", "webm"]))
        head = draw(
            st.sampled_from(
                [
                    b"RIFF\xff\xff\xff\xffWAVE",
                    b"ID3\x04",
                    b"OggS",
                    b"\x1aE\xdf\xa3",
                    b"fLaC",
                    b"",
                    b"\xff\xfb",
                ]
            )
        )
        data = head + draw(st.binary(max_size=2000))
    if draw(st.integers(0, 5)) == 0:
        suffix = draw(st.sampled_from(SUFFIXES)).lstrip(".")
    return (f"rec.{suffix}" if suffix else "rec"), data
