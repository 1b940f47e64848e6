"""Where the agent's audio goes: ALSA (``aplay``) on the aircraft, a directory of WAV files that
holds what would have been heard, or nowhere."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np

from audio.clock import AgentClock
from audio.wav import SAMPLE_RATE, read_wav, write_wav


class SinkError(ValueError):
    """A sink that cannot be used as given."""


class Playback(Protocol):
    def finished(self) -> bool: ...

    def stop(self) -> float:
        """Stop now; returns the aircraft seconds that were heard."""
        ...


class Sink(Protocol):
    def play(self, path: Path, duration_s: float, volume: float, label: str) -> Playback: ...

    def close(self) -> None: ...


class _ClockedPlayback:
    """A play that lasts ``duration_s`` of aircraft time; ``on_end(heard_s)`` runs once."""

    def __init__(self, clock: AgentClock, duration_s: float, on_end=None) -> None:  # type: ignore[no-untyped-def]
        self._clock = clock
        self._start = clock.elapsed()
        self._duration = duration_s
        self._on_end = on_end
        self._heard: float | None = None

    def _end(self, heard: float) -> float:
        if self._heard is None:
            self._heard = heard
            if self._on_end:
                self._on_end(heard)
        return self._heard

    def finished(self) -> bool:
        if self._heard is not None:
            return True
        if self._clock.elapsed() - self._start >= self._duration:
            self._end(self._duration)
            return True
        return False

    def stop(self) -> float:
        return self._end(min(self._duration, self._clock.elapsed() - self._start))


class NullSink:
    """Plays nothing, taking the message's time."""

    def __init__(self, clock: AgentClock) -> None:
        self.clock = clock

    def play(self, path: Path, duration_s: float, volume: float, label: str) -> Playback:
        return _ClockedPlayback(self.clock, duration_s)

    def close(self) -> None:
        pass


class DirSink:
    """Writes each play as a WAV file holding exactly what was heard (cut short when the play
    was stopped, scaled by the zone volume): ``0001-<label>.wav``, ``0002-...``."""

    def __init__(self, directory: Path, clock: AgentClock) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._count = len(list(self.directory.glob("[0-9][0-9][0-9][0-9]-*.wav")))

    def play(self, path: Path, duration_s: float, volume: float, label: str) -> Playback:
        self._count += 1
        target = self.directory / f"{self._count:04d}-{_safe(label)}.wav"

        def write(heard_s: float) -> None:
            samples, _ = read_wav(path)
            write_wav(target, samples[: round(heard_s * SAMPLE_RATE)] * volume)

        return _ClockedPlayback(self.clock, duration_s, write)

    def close(self) -> None:
        pass


class _AplayPlayback:
    def __init__(self, proc: subprocess.Popen, clock: AgentClock, tmp: Path | None) -> None:
        self._proc, self._clock, self._tmp = proc, clock, tmp
        self._start = clock.elapsed()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)

    def finished(self) -> bool:
        if self._proc.poll() is None:
            return False
        self._cleanup()
        if self._proc.returncode != 0:
            error = (
                self._proc.stderr.read().decode(errors="replace").strip()
                if self._proc.stderr
                else ""
            )
            raise SinkError(f"aplay failed ({self._proc.returncode}): {error}")
        return True

    def stop(self) -> float:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._cleanup()
        return self._clock.elapsed() - self._start


class AlsaSink:
    """Plays through ``aplay -D DEVICE`` on the companion computer, in real time only."""

    def __init__(self, device: str, clock: AgentClock) -> None:
        if shutil.which("aplay") is None:
            raise SinkError("aplay is not installed (Debian package alsa-utils)")
        if clock.time_scale != 1.0:
            raise SinkError("an ALSA sink plays in real time; use null or dir: with a time scale")
        self.device = device
        self.clock = clock
        self._tmp = Path(tempfile.mkdtemp(prefix="gridpatrol-aplay-"))

    def play(self, path: Path, duration_s: float, volume: float, label: str) -> Playback:
        scaled = None
        if volume != 1.0:
            samples, _ = read_wav(path)
            scaled = self._tmp / f"{_safe(label)}.wav"
            write_wav(scaled, np.asarray(samples) * volume)
        proc = subprocess.Popen(
            ["aplay", "-q", "-D", self.device, str(scaled or path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return _AplayPlayback(proc, self.clock, scaled)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def open_sink(spec: str, clock: AgentClock) -> Sink:
    """``alsa:DEVICE``, ``dir:PATH`` or ``null``."""
    kind, _, arg = spec.partition(":")
    if kind == "null" and not arg:
        return NullSink(clock)
    if kind == "dir" and arg:
        return DirSink(Path(arg), clock)
    if kind == "alsa" and arg:
        return AlsaSink(arg, clock)
    raise SinkError(f"unknown sink {spec!r}: use alsa:DEVICE, dir:PATH or null")


def _safe(label: str) -> str:
    return re.sub(r"[^\w.-]+", "_", label, flags=re.UNICODE).strip("_")[:80] or "play"
