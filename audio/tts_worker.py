"""One text-to-speech render in a fresh process (run as ``python -m audio.tts_worker``).

pyttsx3's espeak driver keeps libespeak-ng as process-wide state and has races: runAndWait can
return before the file is written, a second save_to_file can replace the first, and queued
property changes can be dropped. Each render therefore gets its own process and engine; the
properties are applied in their own run loop and read back from the engine before synthesis;
the file is only reported once the driver's ``finished-utterance`` callback says it completed.

Reads one JSON request on stdin: {"text", "voice", "rate", "volume", "out"}; writes one line
``RESULT {json}`` on stdout: {"ok", "voice", "rate", "volume", "frames", "rate_hz", "error"}.
"""

from __future__ import annotations

import ctypes
import json
import sys
import threading
import time

FINISH_TIMEOUT_S = 60.0
APPLY_TIMEOUT_S = 2.0


def _current_parameter(name: str) -> int:
    """The value espeak-ng is using now. pyttsx3 declares espeak_GetParameter without its
    ``current`` argument, so its getProperty returns the default or the current value at random;
    call the same loaded library with current=1."""
    from pyttsx3.drivers import _espeak

    getter = _espeak.dll.espeak_GetParameter
    getter.argtypes = [ctypes.c_int, ctypes.c_int]
    getter.restype = ctypes.c_int
    return getter(getattr(_espeak, name), 1)


def _apply(engine, voice: str, rate: int, volume: float) -> dict:  # type: ignore[no-untyped-def]
    """Set voice, rate and volume and wait until espeak-ng reports them in use (property
    commands can be queued or dropped); re-apply while they are not."""
    deadline = time.monotonic() + APPLY_TIMEOUT_S
    while True:
        engine.setProperty("voice", voice)
        engine.setProperty("rate", rate)
        engine.setProperty("volume", volume)
        engine.runAndWait()  # runs the queued property commands; nothing is synthesised
        applied = {
            "voice": engine.getProperty("voice"),
            "rate": _current_parameter("RATE"),
            "volume": _current_parameter("VOLUME") / 100.0,
        }
        ok = applied["rate"] == rate and abs(applied["volume"] - volume) < 0.011
        if ok or time.monotonic() > deadline:
            return applied
        time.sleep(0.02)


def render(request: dict) -> dict:
    import pyttsx3
    import soundfile

    engine = pyttsx3.init("espeak")
    applied = _apply(engine, request["voice"], int(request["rate"]), float(request["volume"]))
    finished = threading.Event()
    outcome: dict = {}

    def on_finished(name: str | None, completed: bool) -> None:
        outcome["completed"] = completed
        finished.set()

    engine.connect("finished-utterance", on_finished)
    engine.save_to_file(request["text"], request["out"])
    engine.runAndWait()
    if not finished.wait(FINISH_TIMEOUT_S):
        return {"ok": False, "error": "espeak did not finish the utterance", **applied}
    if not outcome.get("completed"):
        return {"ok": False, "error": "espeak reported an incomplete utterance", **applied}
    info = soundfile.info(request["out"])
    return {"ok": True, "frames": info.frames, "rate_hz": info.samplerate, **applied}


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        result = render(request)
    except Exception as exc:  # reported to the parent, which raises a clear error
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write("\nRESULT " + json.dumps(result) + "\n")
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
