"""Text-to-speech with pyttsx3 over espeak-ng, one fresh engine per render (see tts_worker)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.text import check_text
from audio.wav import read_wav

# espeak-ng 1.51: the plain ``cmn``/``zh`` voice reads tone numbers aloud in English; the
# ``cmn-latn-pinyin`` voice reads Chinese characters correctly.
VOICES = {"cmn": "cmn-latn-pinyin", "yue": "yue"}
# pyttsx3 reports the engine's voice by its espeak identifier.
VOICE_IDS = {"cmn": "sit/cmn-latn-pinyin", "yue": "sit/yue"}
MIN_RATE, MAX_RATE = 80, 450  # espeak-ng words per minute
DEFAULT_RATE = 150
# A broadcast message is a notice, not a programme: 500 characters of Mandarin are about two
# minutes of speech (the longest recording an import takes by default is 120 s).
MAX_TEXT_CHARS = 500
ATTEMPTS = 3
WORKER_TIMEOUT_S = 60.0  # espeak-ng renders 500 characters in a few seconds


class TtsError(RuntimeError):
    """Text-to-speech failed or produced something other than what was asked."""


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # mono float32 at ``rate``
    rate: int
    voice: str
    wpm: int
    volume: float


def check_settings(lang: str, rate: int, volume: float) -> None:
    if not isinstance(lang, str) or lang not in VOICES:
        voices = ", ".join(VOICES)
        raise ValueError(f"no text-to-speech voice for language {lang!r}; use one of {voices}")
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(f"rate {rate} wpm is outside {MIN_RATE}-{MAX_RATE}")
    if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 < volume <= 1:
        raise ValueError(f"volume {volume} is outside (0, 1]")


def speak(text: str, lang: str = "cmn", rate: int = DEFAULT_RATE, volume: float = 1.0) -> Speech:
    """Synthesise ``text``. Verifies the engine used the requested voice, rate and volume and
    that the file it wrote is complete; retries a failed render, then raises TtsError."""
    check_settings(lang, rate, volume)
    text = check_text(text, "the text", MAX_TEXT_CHARS, lines=True)
    errors = []
    with tempfile.TemporaryDirectory(prefix="gridpatrol-tts-") as tmp:
        for attempt in range(ATTEMPTS):
            out = Path(tmp) / f"speech-{attempt}.wav"
            request = {"text": text, "voice": VOICES[lang], "rate": rate, "volume": volume}
            result = _run_worker({**request, "out": str(out)})
            problem = _problem(result, lang, rate, volume, out)
            if problem is None:
                samples, sr = read_wav(out)
                return Speech(samples, sr, VOICES[lang], rate, volume)
            errors.append(problem)
    raise TtsError(f"text-to-speech failed {ATTEMPTS} times: {'; '.join(errors)}")


def _run_worker(request: dict) -> dict:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "audio.tts_worker"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            cwd=Path(__file__).resolve().parent.parent,
        )
    except subprocess.TimeoutExpired:  # the engine hung (seen once in a loaded test run)
        return {"ok": False, "error": f"the engine did not finish in {WORKER_TIMEOUT_S:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"ok": False, "error": f"worker exited {proc.returncode}: {proc.stderr.strip()[-300:]}"}


def _problem(result: dict, lang: str, rate: int, volume: float, out: Path) -> str | None:
    if not result.get("ok"):
        return result.get("error", "unknown worker error")
    if result["voice"] != VOICE_IDS[lang]:
        return f"engine used voice {result['voice']!r}, not {VOICE_IDS[lang]!r}"
    if result["rate"] != rate:
        return f"engine used rate {result['rate']}, not {rate}"
    if abs(result["volume"] - volume) > 0.011:
        return f"engine used volume {result['volume']}, not {volume}"
    if not out.exists():
        return "the engine reported success but wrote no file"
    frames = len(read_wav(out)[0])
    if frames == 0 or frames != result["frames"]:
        return f"the written file has {frames} frames, the engine reported {result['frames']}"
    return None
