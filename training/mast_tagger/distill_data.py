"""Training examples for distillation: student features and teacher targets, window by window.

A student window of the corpus is aligned with a teacher patch: window i of a clip starts at
sample i·7680 (0.48 s, YAMNet's patch hop) and spans the student's input length (mast-t: 100
frames, 16,240 samples; YAMNet's patch is 15,600), so teacher patch i labels it.

The student's features (AST's Kaldi fbank, as the Swift engine computes them) are computed once
per clip and cached as float16 in data/features/<teacher key>.npy ([frames, 128]), so epochs
after the first read arrays instead of decoding audio. Windows past the end of a short clip
repeat its frames, as the Swift pipeline pads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .frontend import torchaudio_fbank
from .model_file import AST_FBANK

PATCH_HOP_FRAMES = 48  # teacher patch hop, 0.48 s in 10 ms frames
HELD_OUT_FILES = "test-files"  # files of training sources that --hold-out-files keeps from training
EXCLUDED = "excluded"  # a training mixture with a held-out file in it: on neither side


@dataclass
class Clip:
    path: str
    key: str
    source: str
    split: str
    patches: int
    named: tuple[str, ...] = ()   # the classes its file name says it holds (manifest named_classes)
    # where in the clip the named sound is, in seconds (a scene's event); None: all of it
    named_span: tuple[float, float] | None = None


def read_clips(corpus: Path, teacher_cache: Path, hold_out_files: float = 0.0) -> list[Clip]:
    """Clips of the manifest that the teacher has labelled, with their split and source.

    hold_out_files > 0 moves that fraction of the training sources' recordings to the split
    HELD_OUT_FILES (chosen by file_is_held_out, so the pieces of one recording stay together), and
    marks EXCLUDED the training mixtures made from any of them: a measure of agreement on files
    the student has not heard, from packages it has, beside the test split's unseen packages.
    """
    manifest = {row["path"]: row for row in map(json.loads, (corpus / "manifest.jsonl").read_text().splitlines())}
    held = {path for path, info in manifest.items()
            if info["split"] == "train" and "components" not in info
            and file_is_held_out(info["source"], info["origin"], hold_out_files)}

    def split_of(info: dict) -> str:
        if info["path"] in held:
            return HELD_OUT_FILES
        if info["split"] == "train" and held.intersection(info.get("components", ())):
            return EXCLUDED
        return info["split"]

    clips = []
    for row in map(json.loads, (teacher_cache / "index.jsonl").read_text().splitlines()):
        info = manifest.get(row["path"])
        if info is not None:
            span = (info["event_at_s"], info["event_at_s"] + info["event_seconds"]) if "event_at_s" in info else None
            clips.append(Clip(row["path"], row["key"], info["source"], split_of(info), row["patches"],
                              tuple(info.get("named_classes", ())), span))
    return clips


def named_positives(clips: list[Clip], class_names: list[str], parents: dict[str, tuple[str, ...]]) -> list[np.ndarray]:
    """Per clip, the indices of its named classes and their ontology parents (named first)."""
    from .named_sounds import expand

    index = {name: i for i, name in enumerate(class_names)}
    return [np.array([index[c] for c in expand(clip.named, parents)], dtype=np.int64) for clip in clips]


def file_is_held_out(source: str, origin: str, fraction: float) -> bool:
    """Whether a recording (a package file or generator setting) falls in the held-out fraction:
    a hash of its name, the same on every machine and for every piece cut from it."""
    rank = int(hashlib.sha1(f"{source}/{origin}".encode()).hexdigest()[:8], 16) / 2**32
    return rank < fraction


def cached_features(corpus: Path, features_dir: Path, clip: Clip) -> np.ndarray:
    """[frames, 128] float16 log-mel of a clip (computed on first use)."""
    target = features_dir / f"{clip.key}.npy"
    if target.exists():
        return np.load(target, mmap_mode="r")
    import soundfile

    waveform, rate = soundfile.read(str(corpus / clip.path), dtype="float32")
    assert rate == AST_FBANK["sample_rate"], f"{clip.path}: corpus audio must be 16 kHz"
    fbank = torchaudio_fbank(waveform - waveform.mean(), AST_FBANK).astype(np.float16)
    features_dir.mkdir(parents=True, exist_ok=True)
    tmp = features_dir / f"{clip.key}.tmp.npy"
    np.save(tmp, fbank)
    tmp.replace(target)
    return fbank


def window(fbank: np.ndarray, index: int, frames: int) -> np.ndarray:
    """Window `index` (frames [48·index, 48·index + frames)), repeat-padded past the end."""
    start = index * PATCH_HOP_FRAMES
    rows = np.arange(start, start + frames)
    available = max(len(fbank) - start, 1)
    if len(fbank) < start + frames:
        rows = start + (np.arange(frames) % available)
    rows = np.minimum(rows, len(fbank) - 1)
    return np.asarray(fbank[rows], dtype=np.float32)


class DistillationWindows(Dataset):
    """(normalised features [frames, 128], teacher probabilities [classes]) for every window.

    `positives` (class indices per clip, from its name; see named_positives) are set to 1 in every
    window of that clip that holds sound, whatever the teacher says: ground truth where a recording
    is named. A window the teacher hears as silence (`silence`, the Silence class's index, at 0.5
    or more) keeps the teacher's targets: a named file's silent lead-in or tail (a rendered tune's
    last seconds) holds none of its sound, and naming it taught a model to hear music in digital
    silence."""

    def __init__(self, corpus: Path, teacher_cache: Path, features_dir: Path, clips: list[Clip], frames: int,
                 mean: float, std: float, positives: list[np.ndarray] | None = None, silence: int | None = None):
        self.corpus, self.teacher_cache, self.features_dir = corpus, teacher_cache, features_dir
        self.clips, self.frames, self.mean, self.std, self.silence = clips, frames, mean, std, silence
        self.items = [(c, i) for c, clip in enumerate(clips) for i in range(clip.patches)]
        self.targets = [np.load(teacher_cache / f"{clip.key}.npy", mmap_mode="r") for clip in clips]
        self.positives = positives or [np.zeros(0, dtype=np.int64)] * len(clips)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        c, i = self.items[item]
        fbank = cached_features(self.corpus, self.features_dir, self.clips[c])
        x = (window(fbank, i, self.frames) - self.mean) / (2 * self.std)
        y = np.array(self.targets[c][i], dtype=np.float32)
        if self.names_window(c, i):
            y[self.positives[c]] = 1.0
        return torch.from_numpy(x), torch.from_numpy(y)

    def names_window(self, c: int, i: int) -> bool:
        """Whether window i of clip c hears the clip's named sound: a named file's windows do, a
        scene's where they overlap its event; neither where the teacher hears silence."""
        if self.silence is not None and self.targets[c][i][self.silence] >= 0.5:
            return False
        span = self.clips[c].named_span
        if span is None:
            return True
        start = i * PATCH_HOP_FRAMES * 0.01
        return start < span[1] and start + self.frames * 0.01 > span[0]

    def class_of_items(self) -> np.ndarray:
        """The top class of every item's target (for balanced sampling): a named clip's first
        named class, else the teacher's top class."""
        tops = [np.asarray(t).argmax(axis=1) for t in self.targets]
        return np.array([self.positives[c][0] if len(self.positives[c]) and self.names_window(c, i) else tops[c][i]
                         for c, i in self.items])

    def recordings(self) -> np.ndarray:
        """The clip (an index into `clips`) of every item."""
        return np.array([c for c, _ in self.items])

    def sources(self) -> list[str]:
        """The source of every item (for per-source evaluation)."""
        return [self.clips[c].source for c, _ in self.items]
