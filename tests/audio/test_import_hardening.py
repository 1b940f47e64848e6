"""Recordings as they really come: odd tags, constant signals, cut-short files, absurd limits.
Each is refused with its reason (or imported, when it is a real recording), and the library is
left as it was."""

import numpy as np
import pytest
from sqlalchemy import create_engine

from audio.decode import ImportRefused, decode
from audio.library import LibraryError, MessageLibrary
from tests.audio.media import encode, info_chunk, riff_wav, tone


@pytest.fixture
def library(tmp_path):
    return MessageLibrary(tmp_path / "audio", create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))


def speech_pcm(rate: int = 8000) -> bytes:
    return (tone(2.0, rate) * 20000).astype("<i2").tobytes()


@pytest.mark.parametrize(
    "title", ["温州话通知".encode("gbk"), b"\xff\xfe\xfa broken", "Ünïcode".encode("latin-1")]
)
def test_tags_that_are_not_utf8_do_not_stop_an_import(library, tmp_path, title):
    path = tmp_path / "recorder.wav"
    path.write_bytes(riff_wav(speech_pcm(), extra=info_chunk(title)))
    message = library.import_recording(path, "录音", "wuu")
    assert message.duration_s == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(
    ("name", "data", "fmt_code", "bits"),
    [
        ("zero 8-bit PCM", bytes(16000), 1, 8),  # 0 is full-scale negative DC in 8-bit PCM
        ("A-law", bytes([0xD5]) * 16000, 6, 8),
        ("µ-law", bytes([0x00]) * 16000, 7, 8),
        ("16-bit DC", np.full(16000, 12000, "<i2").tobytes(), 1, 16),
    ],
)
def test_a_constant_signal_is_silence(library, tmp_path, name, data, fmt_code, bits):
    path = tmp_path / "constant.wav"
    path.write_bytes(riff_wav(data, fmt_code, bits))
    with pytest.raises(LibraryError, match="silent"):
        library.import_recording(path, name, "wuu")
    assert library.list() == []


def test_a_cut_short_file_is_refused_not_stored_as_a_blip(library, tmp_path):
    whole = encode(tmp_path / "whole.webm", "webm", seconds=3.0).read_bytes()
    cut = tmp_path / "cut.webm"
    cut.write_bytes(whole[: len(whole) // 10])
    with pytest.raises(ImportRefused, match=r"cut short: it declares 3\.0 s"):
        library.import_recording(cut, "cut", "wuu")
    assert library.list() == []


def test_too_little_sound_is_not_a_message(library, tmp_path):
    blip = np.concatenate([np.zeros(8000), tone(0.2, 8000), np.zeros(8000)])
    path = tmp_path / "tap.wav"
    path.write_bytes(riff_wav((blip * 20000).astype("<i2").tobytes()))
    with pytest.raises(LibraryError, match="too short to be a message"):
        library.import_recording(path, "tap", "wuu")


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), 0.0, -5.0, 1e9])
def test_absurd_length_limits_are_refused(tmp_path, limit):
    path = encode(tmp_path / "a.wav", "wav")
    with pytest.raises(ImportRefused, match="length limit"):
        decode(path, max_seconds=limit)


@pytest.mark.parametrize("limit", [0, -1, 10**12])
def test_absurd_size_limits_are_refused(tmp_path, limit):
    with pytest.raises(ImportRefused, match="size limit"):
        decode(encode(tmp_path / "a.wav", "wav"), max_bytes=limit)


@pytest.mark.parametrize("target", [float("nan"), float("inf"), -1000.0, 3.0])
def test_absurd_loudness_targets_are_refused(library, tmp_path, target):
    with pytest.raises(LibraryError, match="loudness target"):
        library.import_recording(encode(tmp_path / "a.wav", "wav"), "a", "wuu", target_lufs=target)
    assert library.list() == []


def test_titles_longer_than_the_store_keeps_are_refused(library, tmp_path):
    with pytest.raises(LibraryError, match="longer than 200"):
        library.import_recording(encode(tmp_path / "a.wav", "wav"), "通" * 201, "wuu")
    assert library.import_recording(encode(tmp_path / "b.wav", "wav"), "通" * 200, "wuu")


def test_a_wav_whose_data_chunk_declares_more_than_it_holds_is_cut_short(library, tmp_path):
    whole = riff_wav(speech_pcm())  # 2 s at 8 kHz, 16-bit
    path = tmp_path / "cut.wav"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImportRefused, match=r"cut short: its data chunk declares 2\.0 s but holds"):
        library.import_recording(path, "cut", "wuu")
    path.write_bytes(whole[:-800])  # 0.05 s missing: within what a recorder's last block loses
    assert library.import_recording(path, "almost whole", "wuu").duration_s > 1.9


@pytest.mark.parametrize("size", [b"\xff\xff\xff\xff", b"\0\0\0\0"])
def test_a_streaming_writer_s_unknown_data_size_is_not_cut_short(library, tmp_path, size):
    wav = riff_wav(speech_pcm())
    path = tmp_path / "stream.wav"
    path.write_bytes(wav[:40] + size + wav[44:])
    assert library.import_recording(path, "stream", "wuu").duration_s == pytest.approx(2, abs=0.1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_float_samples_that_are_not_numbers_are_corrupt(library, tmp_path, bad):
    samples = np.r_[tone(2.0, 8000), bad].astype("<f4")
    path = tmp_path / "float.wav"
    path.write_bytes(riff_wav(samples.tobytes(), 3, 32))
    with pytest.raises(ImportRefused, match=r"corrupt .* samples are NaN or infinite"):
        library.import_recording(path, "float", "wuu")


def test_a_wav_of_a_million_empty_chunks_is_refused_at_once(library, tmp_path):
    path = tmp_path / "chunks.wav"
    path.write_bytes(riff_wav(speech_pcm(), extra=b"junk\0\0\0\0" * 1_000_000))
    with pytest.raises(ImportRefused, match="over 1000 chunks before the audio data"):
        library.import_recording(path, "chunks", "wuu")
