"""Training from labelled audio instead of a teacher: a folder per class, or AudioSet-style CSV.

Both yield the same examples as distillation: (normalised features [frames, 128], multi-hot
targets [classes]), one window every 0.48 s of every file, so `train.py` trains either way.

  folders:DIR            DIR/<class name>/*.wav; the folder name is the class (and its id)
  audioset:SEGMENTS,AUDIO,LABELS
                         SEGMENTS: AudioSet's segment CSV (YTID, start_seconds, end_seconds,
                         positive_labels), AUDIO: a directory of YTID.wav (or YTID_<start>.wav)
                         clips, LABELS: class_labels_indices.csv (index, mid, display_name)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .audio import read_audio
from .distill_data import PATCH_HOP_FRAMES, window
from .frontend import torchaudio_fbank
from .model_file import AST_FBANK


def folder_examples(root: Path) -> tuple[list[dict], list[tuple[Path, list[int]]]]:
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise SystemExit(f"{root}: no class folders (expected {root}/<class>/*.wav)")
    files = [(f, [c]) for c, name in enumerate(classes) for f in sorted((root / name).glob("*.wav"))]
    return [{"name": n, "id": n} for n in classes], files


def audioset_examples(segments: Path, audio: Path, labels: Path) -> tuple[list[dict], list[tuple[Path, list[int]]]]:
    with open(labels, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
    classes = [{"name": r["display_name"], "id": r["mid"]} for r in rows]
    index = {c["id"]: i for i, c in enumerate(classes)}
    files = []
    with open(segments, newline="") as f:
        for row in csv.reader(line for line in f if not line.startswith("#")):
            if len(row) < 4:
                continue
            ytid, start = row[0].strip(), row[1].strip()
            mids = ",".join(row[3:]).strip().strip('"').split(",")
            candidates = [audio / f"{ytid}.wav", audio / f"{ytid}_{int(float(start))}.wav"]
            path = next((p for p in candidates if p.exists()), None)
            if path is not None:
                files.append((path, [index[m.strip()] for m in mids if m.strip() in index]))
    if not files:
        raise SystemExit(f"{segments}: none of its clips was found in {audio}")
    return classes, files


def parse_spec(spec: str) -> tuple[list[dict], list[tuple[Path, list[int]]]]:
    kind, _, rest = spec.partition(":")
    if kind == "folders":
        return folder_examples(Path(rest))
    if kind == "audioset":
        parts = rest.split(",")
        if len(parts) != 3:
            raise SystemExit("audioset: needs SEGMENTS_CSV,AUDIO_DIR,LABELS_CSV")
        return audioset_examples(*(Path(p) for p in parts))
    raise SystemExit(f"unknown labelled data '{spec}' (folders:DIR or audioset:SEGMENTS,AUDIO,LABELS)")


class LabelledWindows(Dataset):
    def __init__(self, files: list[tuple[Path, list[int]]], num_classes: int, frames: int, mean: float, std: float):
        self.frames, self.mean, self.std = frames, mean, std
        self.fbanks, self.targets, self.items = [], [], []
        for f, (path, labels) in enumerate(files):
            fbank = torchaudio_fbank(read_audio(path), AST_FBANK)
            target = np.zeros(num_classes, dtype=np.float32)
            target[labels] = 1
            self.fbanks.append(fbank)
            self.targets.append(target)
            windows = 1 + max(0, len(fbank) - frames + PATCH_HOP_FRAMES - 1) // PATCH_HOP_FRAMES
            self.items += [(f, i) for i in range(windows)]

    def __len__(self) -> int:
        return len(self.items)

    def class_of_items(self) -> np.ndarray:
        """The first label of every item's file (for balanced sampling)."""
        return np.array([self.targets[f].argmax() for f, _ in self.items])

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        f, i = self.items[item]
        x = (window(self.fbanks[f], i, self.frames) - self.mean) / (2 * self.std)
        return torch.from_numpy(x), torch.from_numpy(self.targets[f])
