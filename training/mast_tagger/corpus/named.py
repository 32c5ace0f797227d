"""What the corpus's recordings are named, and keeping the named-sounds yardstick unheard.

After the sources are built, every package clip gets `description` (what its file name says) and,
where training/data/named_sounds.tsv names it, `named_classes`; a generated clip whose generator
says what it is (generated_names.py) gets `named_classes` too. Then the yardstick is kept out of
training:
- a clip that is itself a yardstick recording (a hashed quarter of each package's named files)
  gets split "yardstick";
- a clip that is a copy of a yardstick recording, or contains one (audio fingerprints: the same
  Freesound clip ships in several games), gets split "excluded" and `duplicate_of`;
- a training clip that copies a clip of a held-out test source gets "excluded" too, so no
  recording straddles that split either;
- a mixture (or scene) made from any of these is "excluded".
Splits other than "train" and "test" are on neither side: training and evaluation skip them.
Fingerprints are cached in DATA/fingerprints/, so a rebuild fingerprints only new clips.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np

from .. import named_sounds as N
from ..audio import decode, read_wav
from ..fingerprint import FingerprintIndex, words
from ..teacher import read_class_map
from .core import Context
from .generated_names import generated_classes
from .packages import extracted_root

YARDSTICK = "yardstick"
EXCLUDED = "excluded"


def cached_words(ctx: Context, key: str, load) -> np.ndarray:
    path = ctx.data / "fingerprints" / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"
    if path.exists():
        return np.load(path)
    w = words(load())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, w)
    tmp.replace(path)
    return w


def yardstick_packages_recordings(ctx: Context, rows: list[N.Row]) -> list[tuple[str, np.ndarray]]:
    """(package/path, fingerprint) of every named recording of the packages never trained on."""
    found = []
    for package in sorted(N.YARDSTICK_PACKAGES):
        root = extracted_root(ctx, package)
        for path in N.name_package(rows, package, N.audio_files(root)):
            try:
                w = cached_words(ctx, f"{package}/{path}", lambda: decode(root / path))
            except subprocess.CalledProcessError:
                print(f"  yardstick {package}/{path}: unreadable, not fingerprinted", file=sys.stderr)
                continue
            found.append((f"{package}/{path}", w))
    return found


def annotate(ctx: Context, entries: list[dict], rows: list[N.Row] | None = None,
             yardstick_recordings=yardstick_packages_recordings) -> dict:
    """Adds description, named_classes and the yardstick splits to the entries in place; returns
    counts. `rows` defaults to the shipped table; `yardstick_recordings(ctx, rows)` gives the
    fingerprints of the recordings that are on the yardstick without being in the corpus."""
    if rows is None:
        rows = N.read_rows(N.TABLE, read_class_map()[1])
    by_package: dict[str, dict[str, N.NamedRecording]] = {}
    for e in entries:
        package = e["package"]
        if "components" in e:
            continue
        if package.startswith("generator:"):
            if made := generated_classes(package, e["origin"]):
                e["named_classes"] = list(made)
            continue
        if package not in by_package:
            by_package[package] = N.name_package(rows, package, sorted({x["origin"] for x in entries
                                                                        if x["package"] == package}))
        e["description"] = N.description(e["origin"])
        named = by_package[package].get(e["origin"])
        if named:
            e["named_classes"] = list(named.classes)
            if N.on_yardstick(package, e["origin"]):
                e["split"] = YARDSTICK

    # Every clip's fingerprint, from the corpus WAV (cached by its PCM hash).
    clips = [e for e in entries if "components" not in e]
    prints = [cached_words(ctx, e["pcm_sha1"], lambda e=e: read_wav(ctx.corpus / e["path"])) for e in clips]
    index = FingerprintIndex(prints)
    references = yardstick_recordings(ctx, rows) + \
        [(e["path"], w) for e, w in zip(clips, prints) if e["split"] == YARDSTICK]
    for name, w in references:
        for i, _ in index.copies_of(w):
            if clips[i]["split"] in ("train", "test"):
                clips[i]["split"], clips[i]["duplicate_of"] = EXCLUDED, name
    for e, w in zip(clips, prints):
        if e["split"] == "test":
            for i, _ in index.copies_of(w):
                if clips[i]["split"] == "train":
                    clips[i]["split"], clips[i]["duplicate_of"] = EXCLUDED, e["path"]

    exclude_mixed(entries, {e["path"]: e["split"] for e in clips})
    return {"yardstick": sum(e["split"] == YARDSTICK for e in entries),
            "excluded": sum(e["split"] == EXCLUDED for e in entries),
            "named": sum("named_classes" in e for e in entries)}


def exclude_mixed(entries: list[dict], split_of: dict[str, str]) -> None:
    """Marks EXCLUDED each mixture or scene (an entry with components) made from a clip that is
    on neither side (split_of: {path: split} of the clips; one missing there counts as neither)."""
    for e in entries:
        if "components" in e and any(split_of.get(c) not in ("train", "test") for c in e["components"]):
            e["split"] = EXCLUDED
