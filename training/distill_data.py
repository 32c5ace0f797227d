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

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from mast_tagger.frontend import torchaudio_fbank
from mast_tagger.model_file import AST_FBANK

PATCH_HOP_FRAMES = 48  # teacher patch hop, 0.48 s in 10 ms frames


@dataclass
class Clip:
    path: str
    key: str
    source: str
    split: str
    patches: int


def read_clips(corpus: Path, teacher_cache: Path) -> list[Clip]:
    """Clips of the manifest that the teacher has labelled, with their split and source."""
    manifest = {row["path"]: row for row in map(json.loads, (corpus / "manifest.jsonl").read_text().splitlines())}
    clips = []
    for row in map(json.loads, (teacher_cache / "index.jsonl").read_text().splitlines()):
        info = manifest.get(row["path"])
        if info is not None:
            clips.append(Clip(row["path"], row["key"], info["source"], info["split"], row["patches"]))
    return clips


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
    """(normalised features [frames, 128], teacher probabilities [classes]) for every window."""

    def __init__(self, corpus: Path, teacher_cache: Path, features_dir: Path, clips: list[Clip], frames: int,
                 mean: float, std: float):
        self.corpus, self.teacher_cache, self.features_dir = corpus, teacher_cache, features_dir
        self.clips, self.frames, self.mean, self.std = clips, frames, mean, std
        self.items = [(c, i) for c, clip in enumerate(clips) for i in range(clip.patches)]
        self.targets = [np.load(teacher_cache / f"{clip.key}.npy", mmap_mode="r") for clip in clips]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        c, i = self.items[item]
        fbank = cached_features(self.corpus, self.features_dir, self.clips[c])
        x = (window(fbank, i, self.frames) - self.mean) / (2 * self.std)
        return torch.from_numpy(x), torch.from_numpy(np.asarray(self.targets[c][i], dtype=np.float32))

    def class_of_items(self) -> np.ndarray:
        """The teacher's top class for every item (for balanced sampling)."""
        tops = [np.asarray(t).argmax(axis=1) for t in self.targets]
        return np.array([tops[c][i] for c, i in self.items])

    def sources(self) -> list[str]:
        """The source of every item (for per-source evaluation)."""
        return [self.clips[c].source for c, _ in self.items]
