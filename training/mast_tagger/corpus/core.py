"""The corpus builder's core: sources, clips, the build context, pure helpers, splits, the
manifest, and writing one source's clips (see training/build_corpus.py for what it makes)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..audio import SAMPLE_RATE, write_wav
MIN_SECONDS = 0.5
MAX_PIECE_SECONDS = 30.0
# A piece whose RMS is below this carries nothing a tagger should learn from.
SILENCE_DBFS = -60.0
TEST_FRACTION = 0.15
MIN_TEST_SOURCES = 2


# ----------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class Source:
    """One corpus source: a Debian package (`package`) or a generator (`generate`)."""

    name: str
    category: str                      # default category of its files
    package: str | None = None
    generate: Callable[["Context", "Source"], Iterator["Clip"]] | None = None
    max_seconds: float | None = None   # cap on kept audio, None for all of it
    quick: bool = False                # part of the --quick subset
    # "train" keeps a source out of the split draw: sources added after a model was trained go
    # to training, so the held-out set (and every metric measured on it) stays comparable.
    pinned_split: str | None = None
    skip: str | None = None            # regex: package paths left out (a game's music, when there is enough)


@dataclass
class Clip:
    """A decoded recording before splitting: int16 samples at SAMPLE_RATE."""

    samples: np.ndarray
    origin: str
    category: str
    extra: dict = field(default_factory=dict)  # fields that override or add to its entries


@dataclass
class Context:
    data: Path
    corpus: Path
    quick: bool
    # pcm_sha1 of every clip taken so far, across sources, for deduplication
    seen: set[str] = field(default_factory=set)
    # recordings ffmpeg could not read, per source; sources that could not be built, with why
    unreadable: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    # builds nothing: the manifest of the sources built so far (to label and train while the rest builds)
    built_only: bool = False
    unbuilt: list[str] = field(default_factory=list)

    @property
    def debs(self) -> Path:
        return self.data / "debs"

    @property
    def extracted(self) -> Path:
        return self.data / "extracted"


# ----------------------------------------------------------------------------- pure helpers

def piece_bounds(n_samples: int, max_samples: int) -> list[tuple[int, int]]:
    """Cut n samples into the fewest equal pieces of at most max_samples each."""
    if n_samples <= 0:
        return []
    pieces = math.ceil(n_samples / max_samples)
    edges = [round(i * n_samples / pieces) for i in range(pieces + 1)]
    return list(zip(edges[:-1], edges[1:]))


def split_clip(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[np.ndarray]:
    """Pieces of at most MAX_PIECE_SECONDS; none shorter than MIN_SECONDS or nearly silent."""
    pieces = []
    for start, end in piece_bounds(len(samples), int(MAX_PIECE_SECONDS * sample_rate)):
        piece = samples[start:end]
        if len(piece) >= MIN_SECONDS * sample_rate and not is_silent(piece):
            pieces.append(piece)
    return pieces


def is_silent(samples: np.ndarray) -> bool:
    x = samples.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(x * x))) if len(x) else 0.0
    return rms == 0.0 or 20 * math.log10(rms) < SILENCE_DBFS


def pcm_sha1(samples: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(samples, dtype="<i2").tobytes()).hexdigest()


def safe_name(relpath: str) -> str:
    """A flat file name for a path inside a package: 'usr/share/a/b c.ogg' -> 'a__b_c'."""
    relpath = re.sub(r"^usr/share/(games/)?", "", relpath)  # on nearly every path: noise in names
    stem = relpath.rsplit(".", 1)[0] if "." in Path(relpath).name else relpath
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem.replace("/", "__")).strip("_")


def hash_rank(name: str) -> str:
    """A stable pseudo-random order key, the same on every machine and run."""
    return hashlib.sha1(name.encode()).hexdigest()


def assign_splits(categories: dict[str, str], fraction: float = TEST_FRACTION,
                  minimum: int = MIN_TEST_SOURCES) -> dict[str, str]:
    """{source: category} -> {source: "train"|"test"}.

    round(fraction * n) sources, at least `minimum`, go to test: first one per category,
    categories and sources taken in hash order, then more in hash order. A category's last
    train source never goes, so training sees every category (the only drum-sample package,
    the only signal generator).
    """
    names = sorted(categories, key=hash_rank)
    target = max(minimum, round(fraction * len(names)))
    test: list[str] = []

    def can_go(name: str) -> bool:
        same = [n for n in names if categories[n] == categories[name] and n not in test]
        return len(test) < target and name not in test and len(same) >= 2

    for name in names:
        if can_go(name) and categories[name] not in {categories[t] for t in test}:
            test.append(name)
    for name in names:
        if can_go(name):
            test.append(name)
    return {name: "test" if name in test else "train" for name in categories}


def source_splits(sources: list[Source]) -> dict[str, str]:
    """{source: split}: pinned sources as pinned, the others drawn by assign_splits."""
    drawn = assign_splits({s.name: s.category for s in sources if s.pinned_split is None})
    return drawn | {s.name: s.pinned_split for s in sources if s.pinned_split is not None}


def write_manifest(entries: Iterable[dict], path: Path) -> int:
    """Write entries sorted by path as JSON lines, atomically; returns how many."""
    rows = sorted(entries, key=lambda e: e["path"])
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return len(rows)


def read_jsonl(path: Path) -> list[dict]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def seeded(name: str, index: int) -> np.random.Generator:
    """A generator's random numbers for its index-th clip, the same on every machine and run."""
    return np.random.default_rng(int(hash_rank(f"{name}:{index}")[:16], 16))


# ----------------------------------------------------------------------------- external tools

def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def check_tools() -> None:
    missing = [t for t in ("apt-get", "dpkg-deb", "ffmpeg", "fluidsynth", "espeak-ng") if not shutil.which(t)]
    if missing:
        raise SystemExit(f"missing {' '.join(missing)}: apt-get install ffmpeg fluidsynth espeak-ng")


# ----------------------------------------------------------------------------- building

def build_source(ctx: Context, source: Source, clips: Iterable[Clip], note: str) -> list[dict]:
    """Split, deduplicate and write one source's clips; entries.jsonl last (the done marker)."""
    out_dir = ctx.corpus / source.name
    shutil.rmtree(out_dir, ignore_errors=True)  # a half-built source is rebuilt from scratch
    out_dir.mkdir(parents=True)
    package = source.package or f"generator:{source.name}"
    entries, kept_seconds = [], 0.0
    for index, clip in enumerate(clips):
        if source.max_seconds and kept_seconds >= source.max_seconds:
            break
        pieces = split_clip(clip.samples)
        base = safe_name(clip.origin) if source.package else f"{index:05d}"
        for p, piece in enumerate(pieces):
            digest = pcm_sha1(piece)
            if digest in ctx.seen:
                continue
            ctx.seen.add(digest)
            name = base if len(pieces) == 1 else f"{base}_p{p:02d}"
            path = out_dir / f"{name}.wav"
            if path.exists():  # two package paths that differ only in characters safe_name drops
                path = out_dir / f"{name}-{digest[:8]}.wav"
            write_wav(path, piece)
            seconds = len(piece) / SAMPLE_RATE
            kept_seconds += seconds
            entry = {"path": path.relative_to(ctx.corpus).as_posix(), "source": source.name,
                     "package": package, "license_note": note, "seconds": round(seconds, 3),
                     "group": source.name, "category": clip.category, "origin": clip.origin,
                     "pcm_sha1": digest}
            entries.append(entry | clip.extra)
    tmp = out_dir / "entries.tmp"
    with tmp.open("w") as f:
        for entry in entries:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    tmp.replace(out_dir / "entries.jsonl")
    return entries


def source_entries(ctx: Context, source: Source, clips: Callable[[], Iterable[Clip]],
                   note: Callable[[], str]) -> list[dict]:
    done = ctx.corpus / source.name / "entries.jsonl"
    if done.exists():
        entries = read_jsonl(done)
        print(f"{source.name}: done already ({len(entries)} files)")
    elif ctx.built_only:
        ctx.unbuilt.append(source.name)
        return []
    else:
        print(f"{source.name}: building", flush=True)
        entries = build_source(ctx, source, clips(), note())
    ctx.seen.update(e["pcm_sha1"] for e in entries)
    return entries


def summary(entries: list[dict]) -> str:
    rows: dict[str, list] = {}
    for e in entries:
        row = rows.setdefault(e["source"], [0, 0.0, "both" if "components" in e else e["split"]])
        if row[2] not in ("train", "test", "both"):  # a yardstick or excluded clip: the source's split is another's
            row[2] = e["split"]
        row[0] += 1
        row[1] += e["seconds"]
    width = max(len(s) for s in rows) if rows else 6
    lines = [f"{'source':<{width}}  {'files':>6}  {'hours':>6}  split"]
    for name, (files, seconds, split) in sorted(rows.items()):
        lines.append(f"{name:<{width}}  {files:>6}  {seconds / 3600:>6.2f}  {split}")
    total = sum(e["seconds"] for e in entries)
    hours = {split: sum(e["seconds"] for e in entries if e["split"] == split) / 3600
             for split in ("train", "test", "yardstick", "excluded")}
    lines.append(f"{'total':<{width}}  {len(entries):>6}  {total / 3600:>6.2f}  ({len(rows)} sources; "
                 + ", ".join(f"{split} {h:.2f} h" for split, h in hours.items()) + ")")
    named = [e for e in entries if "named_classes" in e]
    lines.append(f"named by their file names: {len(named)} clips in "
                 f"{len({c for e in named for c in e['named_classes']})} classes")
    return "\n".join(lines)
