"""The `mixtures` source: pairs of corpus clips of different categories mixed at seeded random
SNRs, within a split, never across."""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from ..audio import SAMPLE_RATE, read_wav
from .core import TEST_FRACTION, Clip, Context, Source, seeded

MIXTURES = 300
MIX_SECONDS = 10.0
SNR_RANGE_DB = (-5.0, 20.0)


def mix_at_snr(foreground: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """foreground + background scaled to snr_db below it, background looped or cut to fit;
    the sum is scaled down only if it would clip. int16 in, int16 out."""
    fg = foreground.astype(np.float64)
    bg = np.resize(background.astype(np.float64), len(fg))  # np.resize repeats to fill
    p_fg, p_bg = np.mean(fg * fg), np.mean(bg * bg)
    if p_bg > 0:
        bg *= math.sqrt(p_fg / (p_bg * 10 ** (snr_db / 10)))
    mix = fg + bg
    peak = np.abs(mix).max()
    if peak > 32000:
        mix *= 32000 / peak
    return np.round(mix).astype(np.int16)


def mixture_clips(ctx: Context, source: Source, base: list[dict]) -> Iterator[Clip]:
    """Pairs from different categories within one split, never across splits."""
    count = 20 if ctx.quick else MIXTURES
    for split in ("train", "test"):
        pool = [e for e in base if e["split"] == split]
        if len({e["category"] for e in pool}) < 2:
            continue
        share = TEST_FRACTION if split == "test" else 1 - TEST_FRACTION
        for i in range(round(count * share)):
            rng = seeded(f"{source.name}:{split}", i)
            a = pool[rng.integers(len(pool))]
            b = pool[rng.integers(len(pool))]
            while b["category"] == a["category"]:
                b = pool[rng.integers(len(pool))]
            fg = read_wav(ctx.corpus / a["path"])[: int(MIX_SECONDS * SAMPLE_RATE)]
            bg = read_wav(ctx.corpus / b["path"])
            snr = float(rng.uniform(*SNR_RANGE_DB))
            yield Clip(mix_at_snr(fg, bg, snr), f"{a['path']} + {b['path']} @ {snr:.1f} dB", source.category,
                       {"split": split, "group": f"mixtures-{split}",
                        "components": [a["path"], b["path"]], "snr_db": round(snr, 2)})


def mixtures_stale(mixtures: list[dict], base: list[dict]) -> bool:
    """True when a mixture's components are no longer all in the mixture's split."""
    split_of = {e["path"]: e["split"] for e in base}
    return any(split_of.get(path) != m["split"] for m in mixtures for path in m["components"])
