import numpy as np
import pytest

from audio.chime import chime
from audio.mastering import SilentAudioError, master
from audio.silence import trim_silence
from audio.wav import SAMPLE_RATE, read_wav, write_wav
from tests.audio.media import tone


def test_trim_removes_head_and_tail_silence():
    rate = 16_000
    x = np.concatenate([np.zeros(rate), tone(1.0, rate), np.zeros(2 * rate)])
    y = trim_silence(x, rate)
    assert 1.0 <= len(y) / rate <= 1.15


def test_master_writes_48k_mono_16bit_at_target(tmp_path):
    x = np.concatenate([np.zeros(22_050), tone(2.0, 22_050, 0.9), np.zeros(22_050)])
    m = master(x, 22_050, target_lufs=-16.0, with_chime=True)
    path = tmp_path / "m.wav"
    write_wav(path, m.samples)
    import soundfile as sf

    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
    y, _ = read_wav(path)
    from audio.loudness import measure_lufs, peak_dbfs

    assert abs(measure_lufs(y, SAMPLE_RATE) - -16.0) <= 1.0
    assert peak_dbfs(y) <= -1.0
    # chime (1.5 s) + gap + 2 s tone, silence trimmed
    assert 3.6 <= m.duration_s <= 4.0


def test_chime_is_two_decaying_notes():
    c = chime()
    half = len(c) // 2
    assert np.abs(c[:half]).max() > 0.3 and np.abs(c[half:]).max() > 0.3
    assert np.abs(c[half - 480 : half]).max() < 0.3 * np.abs(c[:half]).max()  # decayed


def test_master_refuses_silence():
    with pytest.raises(SilentAudioError):
        master(np.zeros(48_000), 48_000)
