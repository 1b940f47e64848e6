"""The renderer delivers a complete file with the requested settings every time.

The oracle is the espeak-ng command-line program (same library, no pyttsx3): for the same text,
voice, rate and amplitude its speech must have the same duration and level as ours. A dropped
rate change shows as a wrong duration, a dropped volume change as a wrong level, a swallowed or
truncated file as a wrong duration."""

import math
import subprocess

import numpy as np
import pytest

from audio import tts
from audio.library import MessageLibrary
from audio.loudness import measure_lufs, peak_dbfs
from audio.silence import trim_silence
from audio.tts import VOICES, speak
from audio.wav import SAMPLE_RATE, read_wav

CASES = [
    ("请注意。", "cmn", 100, 0.5),
    ("各位村民请注意，今天下午三点在村委会开会，请大家准时参加。", "cmn", 250, 1.0),
    ("防溺水，不要到河边玩耍。", "cmn", 175, 0.8),
    ("落雨喇，大家小心路滑。", "yue", 170, 0.8),
    ("开会。", "cmn", 400, 0.3),
    ("请戴好口罩，保持距离，不要聚集。疫情防控，人人有责。", "cmn", 120, 0.9),
    ("火警", "yue", 90, 1.0),
    ("今天有大风，请把阳台上的花盆收好。", "cmn", 300, 0.6),
    ("请注意。", "cmn", 200, 0.5),
    ("各位村民请注意，今天下午三点在村委会开会，请大家准时参加。", "cmn", 90, 0.4),
]


def _reference(tmp_path, text, lang, rate, volume):
    out = tmp_path / "reference.wav"
    args = ["espeak-ng", "-v", VOICES[lang], "-s", str(rate), "-a", str(round(volume * 100))]
    subprocess.run([*args, "-w", str(out), text], check=True, capture_output=True)
    samples, sr = read_wav(out)
    return trim_silence(samples, sr), sr


def _rms_db(x):
    return 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2))


def test_many_renders_in_a_row_each_have_their_own_duration_and_level(tmp_path):
    for text, lang, rate, volume in CASES:
        speech = speak(text, lang, rate, volume)
        ours = trim_silence(speech.samples, speech.rate)
        ref, ref_rate = _reference(tmp_path, text, lang, rate, volume)
        assert speech.rate == ref_rate
        assert len(ours) == pytest.approx(len(ref), rel=0.01), (text, rate)
        assert _rms_db(ours) == pytest.approx(_rms_db(ref), abs=0.5), (text, volume)


def test_rate_changes_duration_and_volume_changes_level():
    text = "今天下午三点在村委会开会。"
    slow, fast = speak(text, "cmn", 100), speak(text, "cmn", 300)
    assert len(slow.samples) > 1.8 * len(fast.samples)
    loud, quiet = speak(text, "cmn", 150, 1.0), speak(text, "cmn", 150, 0.25)
    assert _rms_db(loud.samples) - _rms_db(quiet.samples) > 9.0


def test_library_renders_in_a_row_meet_loudness_and_peak(tmp_path):
    from sqlalchemy import create_engine

    library = MessageLibrary(tmp_path, create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    for i, (text, lang, rate, volume) in enumerate(CASES):
        message = library.add_tts(f"m{i}", text, lang, rate=rate, volume=volume, with_chime=i % 2)
        samples, sr = read_wav(message.path)
        assert sr == SAMPLE_RATE
        expected = -16.0 + 20 * math.log10(volume)
        assert abs(measure_lufs(samples, sr) - expected) <= 1.0, (text, volume)
        assert peak_dbfs(samples) <= -1.0
        ref, ref_rate = _reference(tmp_path, text, lang, rate, volume)
        speech_s = len(ref) / ref_rate + (2.0 if i % 2 else 0.0)  # chime 1.5 s + 0.25 s gap
        assert message.duration_s == pytest.approx(speech_s, abs=0.4), text


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="language"):
        speak("你好", "wuu")
    with pytest.raises(ValueError, match="rate"):
        speak("你好", "cmn", rate=20)
    with pytest.raises(ValueError, match="volume"):
        speak("你好", "cmn", volume=1.5)
    with pytest.raises(ValueError, match="empty"):
        speak("  ", "cmn")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\udcff\udcfe通知", "the text holds a byte that is not UTF-8 (0xff at 1)"),
        ("通知\ud800", "the text holds a lone surrogate (U+D800 at 3), not text"),
        ("通知\x1b[31m", "the text holds a control character (U+001B at 3)"),
        ("通\x00知", "the text holds a control character (U+0000 at 2)"),
        ("通知" * 251, "the text is longer than 500 characters (502)"),
    ],
)
def test_text_the_engine_cannot_take_is_refused_before_it_runs(monkeypatch, text, message):
    monkeypatch.setattr("audio.tts._run_worker", lambda request: pytest.fail("engine ran"))
    with pytest.raises(ValueError) as err:
        speak(text, "cmn")
    assert str(err.value) == message


def test_lines_and_500_characters_are_spoken():
    assert len(speak("第一行\n第二行\t完", "cmn").samples) > 0
    assert speak("通" * 500, "cmn", rate=450).samples.size > 0


def test_mandarin_voice_reads_characters_not_english_tone_numbers():
    # espeak-ng 1.51's plain cmn voice switches to English for characters ("(en)...Tri:..." =
    # "three"); the voice we use must read them as Mandarin syllables.
    def phonemes(voice):
        args = ["espeak-ng", "-q", "-x", "-v", voice, "下午三点开会"]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    assert "(en)" in phonemes("cmn")
    ours = phonemes(VOICES["cmn"])
    assert "(en)" not in ours and "s'a55n" in ours  # sān, first tone


def test_an_engine_that_hangs_is_stopped_and_the_render_tried_again(monkeypatch):
    real_run, calls = tts.subprocess.run, []

    def hangs_once(*args, **kwargs):
        calls.append(kwargs["timeout"])
        if len(calls) == 1:
            raise tts.subprocess.TimeoutExpired(args[0], kwargs["timeout"])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(tts.subprocess, "run", hangs_once)
    speech = tts.speak("请戴口罩", "cmn")
    assert len(calls) == 2 and calls[0] == tts.WORKER_TIMEOUT_S
    assert len(speech.samples) > speech.rate * 0.5
