"""Benchmark: render a 30-character Mandarin message; import a 60 s recording (several formats).

Prints wall times (median and range over repeats) and the loudness/peak of what was delivered.
Run: .venv/bin/python bench/audio.py [--repeats N]"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.library import MessageLibrary
from audio.tts import speak
from tests.audio.media import FORMATS, encode

TEXT_30 = "各位村民请注意，今天下午三点在村委会召开防汛会议，请准时参加"
RECORDING_FORMATS = ("webm", "mp3", "m4a", "wav")  # browser MediaRecorder first


def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Noise shaped into 3-6 Hz syllables with pauses: the level behaviour of speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    envelope = np.clip(np.sin(2 * np.pi * 4.3 * t) + 0.3 * np.sin(2 * np.pi * 0.4 * t), 0, None)
    carrier = np.convolve(rng.normal(size=n), np.ones(8) / 8, mode="same")
    return (0.25 * envelope * carrier).astype(np.float32)


def timed(fn, repeats: int) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def report(label: str, times: list[float], extra: str = "") -> None:
    print(
        f"{label:44s} median {statistics.median(times):6.3f} s  "
        f"(min {min(times):.3f}, max {max(times):.3f}, n={len(times)}) {extra}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"text: {TEXT_30} ({len(TEXT_30)} characters)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        library = MessageLibrary(tmp / "audio", create_engine(f"sqlite:///{tmp / 'db.sqlite'}"))
        times, speech = timed(lambda: speak(TEXT_30, "cmn", 150), args.repeats)
        report(
            "TTS only (fresh espeak-ng process)",
            times,
            f"-> {len(speech.samples) / speech.rate:.2f} s of speech",
        )
        counter = iter(range(10_000))
        times, msg = timed(
            lambda: library.add_tts(f"tts {next(counter)}", TEXT_30, "cmn", with_chime=True),
            args.repeats,
        )
        report(
            "render 30-char message (TTS+master+store)",
            times,
            f"-> {msg.duration_s:.2f} s, {msg.loudness_lufs:.2f} LUFS, "
            f"peak {msg.peak_dbfs:.2f} dBFS",
        )
        for suffix in RECORDING_FORMATS:
            rate = FORMATS[suffix][2]
            source = encode(tmp / f"rec60.{suffix}", suffix, speech_like(60.0, rate))
            size_mb = source.stat().st_size / 1e6
            times, msg = timed(
                lambda s=source, x=suffix: library.import_recording(
                    s, f"rec {x} {next(counter)}", "wuu"
                ),
                args.repeats,
            )
            report(
                f"import 60 s {suffix} ({size_mb:.1f} MB)",
                times,
                f"-> {msg.duration_s:.2f} s, {msg.loudness_lufs:.2f} LUFS, "
                f"peak {msg.peak_dbfs:.2f} dBFS",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
