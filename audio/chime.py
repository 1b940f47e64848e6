"""An attention chime ("ding-dong") synthesised from decaying sine partials."""

from __future__ import annotations

import numpy as np

from audio.wav import SAMPLE_RATE

# Two bell-like notes, E5 then C5; each note is a few harmonic partials with their own decay.
NOTES_HZ = (659.25, 523.25)
PARTIALS = ((1.0, 1.0, 0.55), (2.0, 0.35, 0.30), (3.0, 0.12, 0.18))  # (ratio, amplitude, tau s)
NOTE_S = 0.75
ATTACK_S = 0.004


def chime(rate: int = SAMPLE_RATE) -> np.ndarray:
    """The chime as float32 samples with a peak of 0.5 (mastering sets the final level)."""
    t = np.arange(int(NOTE_S * rate)) / rate
    attack = np.minimum(t / ATTACK_S, 1.0)
    notes = []
    for f0 in NOTES_HZ:
        note = sum(a * np.exp(-t / tau) * np.sin(2 * np.pi * f0 * k * t) for k, a, tau in PARTIALS)
        notes.append(note * attack)
    out = np.concatenate(notes)
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)
