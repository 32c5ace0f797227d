"""The corpus's named clips and the yardstick's exclusions (mast_tagger.corpus.named)."""

from __future__ import annotations

import numpy as np

from mast_tagger import named_sounds as N
from mast_tagger.audio import write_wav
from mast_tagger.corpus.core import Context
from mast_tagger.corpus.named import EXCLUDED, YARDSTICK, annotate
from mast_tagger.fingerprint import words

RATE = 16000


def call(seed: int, seconds: float = 2.0) -> np.ndarray:
    """A distinct made-up sound per seed: overlapping tone bursts."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * RATE))
    for _ in range(100):
        n = int(rng.uniform(0.03, 0.15) * RATE)
        at = int(rng.integers(0, len(x) - n))
        x[at:at + n] += rng.uniform(0.2, 1) * np.sin(2 * np.pi * rng.uniform(300, 3000) * np.arange(n) / RATE) * np.hanning(n)
    return (x / np.abs(x).max() * 12000).astype(np.int16)


def entry(ctx, name, samples, package, origin, split, **extra):
    path = f"{package}/{name}.wav"
    write_wav(ctx.corpus / path, samples)
    return {"path": path, "package": package, "source": package, "origin": origin, "split": split,
            "pcm_sha1": f"sha-{name}", "seconds": len(samples) / RATE, **extra}


def test_named_clips_yardstick_quarter_and_copies_are_kept_out_of_training(tmp_path):
    ctx = Context(tmp_path, tmp_path / "corpus", quick=False)
    rows = [N.Row(1, "game", "sounds/cow*.ogg", ("Moo",)), N.Row(2, "game", "sounds/dog*.ogg", ("Bark",))]
    # Find a named file of the game that falls on the yardstick, and one that does not.
    held = next(f"sounds/cow{i}.ogg" for i in range(100) if N.on_yardstick("game", f"sounds/cow{i}.ogg"))
    kept = next(f"sounds/dog{i}.ogg" for i in range(100) if not N.on_yardstick("game", f"sounds/dog{i}.ogg"))
    outside = call(1)                       # a yardstick package's recording, not in the corpus
    scene = (np.random.default_rng(9).standard_normal(8 * RATE) * 40).astype(np.int16)
    scene[RATE:RATE + len(outside)] += outside
    entries = [
        entry(ctx, "held", call(2), "game", held, "train"),
        entry(ctx, "kept", call(3), "game", kept, "train"),
        entry(ctx, "copy-of-held", call(2)[800:], "other", "sfx/moo_copy.wav", "train"),
        entry(ctx, "has-outside-in-it", scene, "other", "amb/farm.wav", "train"),
        entry(ctx, "test-clip", call(4), "testpkg", "a/b.wav", "test"),
        entry(ctx, "copy-of-test", call(4), "other", "sfx/b_again.wav", "train"),
        entry(ctx, "unrelated", call(5), "other", "sfx/thing.wav", "train"),
    ]
    entries.append({"path": "mixtures/m0.wav", "package": "generator:mixtures", "source": "mixtures", "origin": "",
                    "split": "train", "components": ["other/copy-of-held.wav", "other/unrelated.wav"], "seconds": 1.0})
    counts = annotate(ctx, entries, rows, lambda ctx, rows: [("yardpkg/cow.ogg", words(outside))])
    split = {e["path"]: e["split"] for e in entries}
    assert split["game/held.wav"] == YARDSTICK
    assert split["game/kept.wav"] == "train"
    assert split["other/copy-of-held.wav"] == EXCLUDED
    assert split["other/has-outside-in-it.wav"] == EXCLUDED
    assert split["testpkg/test-clip.wav"] == "test" and split["other/copy-of-test.wav"] == EXCLUDED
    assert split["other/unrelated.wav"] == "train"
    assert split["mixtures/m0.wav"] == EXCLUDED
    named = {e["path"]: e.get("named_classes") for e in entries}
    assert named["game/kept.wav"] == ["Bark"] and named["game/held.wav"] == ["Moo"]
    assert entries[1]["description"] == "dog " + kept.split("dog")[1].split(".")[0]
    assert counts == {"yardstick": 1, "excluded": 4, "named": 2}


def test_generated_clips_are_named_by_what_their_generator_made(tmp_path):
    ctx = Context(tmp_path, tmp_path / "corpus", quick=False)
    entries = [
        entry(ctx, "white", call(6), "generator:signals", "white seconds=3.0 level=0.100", "train"),
        entry(ctx, "brown", call(7), "generator:signals", "brown seconds=3.0 level=0.100", "train"),
        entry(ctx, "violin", call(8), "generator:fluidsynth", "fluid-soundfont-gm program=40 seconds=7.4", "train"),
        entry(ctx, "kit", call(9), "generator:fluidsynth", "timgm6mb-soundfont drums seconds=9.0", "train"),
        entry(ctx, "gunshot", call(10), "generator:fluidsynth", "timgm6mb-soundfont program=127 seconds=6.0", "train"),
    ]
    counts = annotate(ctx, entries, [], lambda ctx, rows: [])
    named = {e["path"].rsplit("/", 1)[1].removesuffix(".wav"): e.get("named_classes") for e in entries}
    assert named == {"white": ["White noise"], "brown": None, "violin": ["Violin, fiddle"],
                     "kit": ["Drum kit"], "gunshot": None}
    assert counts["named"] == 3 and all(e["split"] == "train" for e in entries)
