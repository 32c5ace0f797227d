"""The `signals` generator: tones, sweeps, DTMF, beeps, clicks and coloured noise from numpy."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..audio import SAMPLE_RATE
from .core import Clip, Context, Source, seeded


def signal_clip(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """One synthetic test signal as float in [-1, 1]."""
    t = np.arange(n) / SAMPLE_RATE
    if kind == "sine":
        x = np.sin(2 * np.pi * rng.uniform(100, 5000) * t)
    elif kind == "sweep":
        f0, f1 = rng.uniform(50, 500), rng.uniform(1000, 7500)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1])))
    elif kind == "beeps":
        gate = (t % rng.uniform(0.3, 1.5)) < rng.uniform(0.05, 0.25)
        x = np.sign(np.sin(2 * np.pi * rng.uniform(400, 3000) * t)) * gate * 0.5
    elif kind == "dtmf":
        rows, cols = [697, 770, 852, 941], [1209, 1336, 1477]
        tone = (t % 0.2) < 0.1
        key = (t // 0.2).astype(int)
        fr = np.array(rows)[seeded_digits(rng, key, 4)]
        fc = np.array(cols)[seeded_digits(rng, key, 3)]
        x = 0.5 * (np.sin(2 * np.pi * fr * t) + np.sin(2 * np.pi * fc * t)) * tone
    elif kind == "clicks":
        x = np.zeros(n)
        period = int(rng.uniform(0.1, 1.0) * SAMPLE_RATE)
        x[::period] = 1.0
        x = np.convolve(x, np.exp(-np.arange(200) / 20.0) * rng.standard_normal(200), mode="same")
    else:  # white, pink or brown noise: white noise with a 1/f^alpha power slope
        alpha = {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind]
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
        spectrum[1:] /= f[1:] ** (alpha / 2)
        spectrum[0] = 0
        x = np.fft.irfft(spectrum, n)
    return x / max(np.abs(x).max(), 1e-9)


def seeded_digits(rng: np.random.Generator, key: np.ndarray, count: int) -> np.ndarray:
    table = rng.integers(0, count, size=int(key.max()) + 1)
    return table[key]


SIGNAL_KINDS = ["sine", "sweep", "beeps", "dtmf", "clicks", "white", "pink", "brown"]


def signal_clips(ctx: Context, source: Source) -> Iterator[Clip]:
    for i in range(16 if ctx.quick else 240):
        rng = seeded(source.name, i)
        kind = SIGNAL_KINDS[i % len(SIGNAL_KINDS)]
        seconds = float(rng.uniform(2, 10))
        level = 10 ** (rng.uniform(-30, -3) / 20)
        x = signal_clip(rng, kind, int(seconds * SAMPLE_RATE)) * level
        yield Clip(np.round(x * 32767).astype(np.int16), f"{kind} seconds={seconds:.1f} level={level:.3f}",
                   source.category)
