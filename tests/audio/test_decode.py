import numpy as np
import pytest

from audio.decode import ImportRefused, decode
from tests.audio.media import FORMATS, encode, tone


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_every_supported_format_decodes_to_48k_mono(tmp_path, suffix):
    decoded = decode(encode(tmp_path / f"rec.{suffix}", suffix, seconds=2.0))
    assert decoded.duration_s == pytest.approx(2.0, abs=0.1)
    # The 440 Hz tone survives the codec: its spectral peak is at 440 Hz.
    window = decoded.samples[4800:52800]
    freqs = np.fft.rfftfreq(len(window), 1 / 48_000)
    assert freqs[np.argmax(np.abs(np.fft.rfft(window)))] == pytest.approx(440, abs=2)


def test_webm_opus_is_what_mediarecorder_makes(tmp_path):
    decoded = decode(encode(tmp_path / "browser.webm", "webm"))
    assert (decoded.container, decoded.codec) == ("matroska,webm", "opus")


def test_not_audio_is_refused(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(ImportRefused, match=r"notes\.mp3: not a readable audio file"):
        decode(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(ImportRefused, match="empty"):
        decode(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportRefused, match="no such file"):
        decode(tmp_path / "nope.wav")


def test_too_long_is_refused(tmp_path):
    path = encode(tmp_path / "long.ogg", "ogg", seconds=6.0)
    with pytest.raises(ImportRefused, match="longer than the 5 s limit"):
        decode(path, max_seconds=5.0)


def test_too_big_is_refused(tmp_path):
    path = encode(tmp_path / "big.wav", "wav", tone(3.0, 44_100))
    with pytest.raises(ImportRefused, match="byte limit"):
        decode(path, max_bytes=10_000)


def test_video_without_audio_is_refused(tmp_path):
    import av

    path = tmp_path / "silent-film.webm"
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=10) if _has("libvpx") else None
        if stream is None:
            pytest.fail("the av wheel has no libvpx encoder to make the test file")
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(ImportRefused, match="no audio stream"):
        decode(path)


def _has(codec: str) -> bool:
    import av

    try:
        av.codec.Codec(codec, "w")
    except Exception:
        return False
    return True


def test_stereo_is_downmixed(tmp_path):
    import soundfile as sf

    t = np.arange(44_100) / 44_100
    left = 0.9 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / "stereo.wav", np.column_stack([left, left]), 44_100, subtype="PCM_16")
    decoded = decode(tmp_path / "stereo.wav")
    assert decoded.duration_s == pytest.approx(1.0, abs=0.01)
    # FFmpeg's downmix adds the channels at -3 dB each; in float nothing clips (mastering
    # brings the level back down).
    assert np.max(np.abs(decoded.samples)) == pytest.approx(0.9 * 2**0.5, abs=0.02)
