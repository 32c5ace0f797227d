"""The named-sounds yardstick: how often a model's best classes name what a real recording holds.

Truth comes from training/data/named_sounds.tsv (mapped by hand from file and folder names), not
from a teacher, and only recordings that training never hears count (named_sounds.on_yardstick;
the corpus also drops their copies). For each recording, a model's score for a class is its
highest score over the recording's windows (at most MAX_SECONDS are read); the recording is a
top-k hit when any of its named classes is among the model's k best. The student (the PyTorch
reference of a model file, which the Swift engine matches) and YAMNet are measured on the same
audio in the same run.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import named_sounds as N
from .audio import SAMPLE_RATE, decode
from .corpus.core import Context
from .corpus.packages import extracted_root
from .distill_data import PATCH_HOP_FRAMES, window
from .frontend import torchaudio_fbank
from .metrics import cluster_bootstrap_ci
from .model_file import AST_FBANK, AUDIOSET_NORMALIZATION

MAX_SECONDS = 60.0
TOP_K = (1, 5)


@dataclass(frozen=True)
class Scored:
    recording: N.NamedRecording
    student: np.ndarray   # [classes] highest window score
    teacher: np.ndarray


def yardstick_recordings(data: Path, rows: list[N.Row]) -> list[N.NamedRecording]:
    """Every yardstick recording the table names; packages are unpacked (fetched) as needed.

    A row whose glob matches none of its package's files raises TableError naming the line."""
    ctx = Context(data, data / "corpus", quick=False)
    found = []
    for package in sorted({r.package for r in rows}):
        files = N.audio_files(extracted_root(ctx, package))
        stale = N.unmatched_rows(rows, package, files)
        if stale:
            raise N.TableError(f"{N.TABLE}:{stale[0].line}: {stale[0].glob!r} matches no audio file of {package}")
        found += [r for path, r in N.name_package(rows, package, files).items() if N.on_yardstick(package, path)]
    return found


@torch.no_grad()
def student_scores(model: torch.nn.Module, waveform: np.ndarray) -> np.ndarray:
    """[classes]: the highest of the model's window probabilities over the recording (windows
    every 0.48 s as in training; a recording shorter than a window repeats, as the engine pads)."""
    fbank = torchaudio_fbank(waveform - waveform.mean(), AST_FBANK)
    if len(fbank) == 0:
        fbank = np.zeros((1, AST_FBANK["num_mel_bins"]), dtype=np.float32)
    frames = model.cfg.frames
    count = 1 + max(0, -(-(len(fbank) - frames) // PATCH_HOP_FRAMES))
    mean, std = AUDIOSET_NORMALIZATION["mean"], AUDIOSET_NORMALIZATION["std"]
    x = np.stack([(window(fbank, i, frames) - mean) / (2 * std) for i in range(count)])
    return torch.sigmoid(model(torch.from_numpy(x))).max(dim=0).values.numpy()


def load(data: Path, recordings: list[N.NamedRecording]) -> list[tuple[N.NamedRecording, np.ndarray]]:
    """(recording, float waveform of at most MAX_SECONDS at 16 kHz) for each readable recording."""
    ctx = Context(data, data / "corpus", quick=False)
    loaded = []
    for r in recordings:
        samples = decode(extracted_root(ctx, r.package) / r.path)[: int(MAX_SECONDS * SAMPLE_RATE)]
        if len(samples) == 0:
            print(f"  {r.package}/{r.path}: no audio, left out", file=sys.stderr)
            continue
        loaded.append((r, samples.astype(np.float32) / 32768.0))
    return loaded


def score(model: torch.nn.Module, teacher, loaded: list[tuple[N.NamedRecording, np.ndarray]]) -> list[Scored]:
    return [Scored(r, student_scores(model, w), teacher.scores(w).max(axis=0)) for r, w in loaded]


def student_hit_rates(model: torch.nn.Module, loaded: list[tuple[N.NamedRecording, np.ndarray]],
                      class_names: list[str]) -> dict:
    """{named_top1, named_top5}: the student's hit rates alone (for the per-epoch history)."""
    index = {name: i for i, name in enumerate(class_names)}
    scores = [(student_scores(model, w), [index[c] for c in r.classes]) for r, w in loaded]
    return {f"named_top{k}": round(sum(hits(s, t, k) for s, t in scores) / max(len(scores), 1), 4) for k in TOP_K}


def hits(scores: np.ndarray, truth: list[int], k: int) -> bool:
    best = np.argsort(-scores, kind="stable")[:k]
    return bool(set(best.tolist()) & set(truth))


def report(scored: list[Scored], class_names: list[str]) -> dict:
    """Hit rates overall and per named class (a recording's first class), and per recording."""
    index = {name: i for i, name in enumerate(class_names)}
    files, by_class = [], {}
    for s in scored:
        truth = [index[c] for c in s.recording.classes]
        row = {"file": f"{s.recording.package}/{s.recording.path}", "classes": list(s.recording.classes),
               "student_best5": [class_names[c] for c in np.argsort(-s.student, kind="stable")[:5]],
               "teacher_best5": [class_names[c] for c in np.argsort(-s.teacher, kind="stable")[:5]]}
        for k in TOP_K:
            row[f"student_top{k}"], row[f"teacher_top{k}"] = hits(s.student, truth, k), hits(s.teacher, truth, k)
        files.append(row)
        by_class.setdefault(s.recording.classes[0], []).append(row)

    def rates(rows: list[dict]) -> dict:
        out = {"files": len(rows)}
        for who in ("student", "teacher"):
            for k in TOP_K:
                out[f"{who}_top{k}"] = round(sum(r[f"{who}_top{k}"] for r in rows) / max(len(rows), 1), 4)
        return out

    return {"overall": rates(files) | {"classes": len(by_class)},
            "student_minus_teacher": {f"top{k}": paired_difference(files, k) for k in TOP_K},
            "per_class": {c: rates(rows) for c, rows in sorted(by_class.items())},
            "per_file": files}


def paired_difference(files: list[dict], k: int) -> dict:
    """The student's top-k hit rate minus YAMNet's on the same recordings, with its 95 % interval
    over named classes drawn again (a class's recordings often share a source and a recorder), and
    the recordings that only one of the two gets."""
    if not files:
        return {"difference": 0.0, "ci95": [0.0, 0.0], "only_student": 0, "only_teacher": 0}
    difference = np.array([int(f[f"student_top{k}"]) - int(f[f"teacher_top{k}"]) for f in files])
    return {"difference": round(float(difference.mean()), 4),
            "ci95": cluster_bootstrap_ci(difference, np.array([f["classes"][0] for f in files])),
            "only_student": int((difference > 0).sum()), "only_teacher": int((difference < 0).sum())}


def summary(report_: dict) -> str:
    o = report_["overall"]
    return (f"named sounds: {o['files']} recordings in {o['classes']} classes\n"
            f"  top-1 hit rate: student {o['student_top1']:.3f}, YAMNet {o['teacher_top1']:.3f}\n"
            f"  top-5 hit rate: student {o['student_top5']:.3f}, YAMNet {o['teacher_top5']:.3f}"
            + "".join(f"\n  student − YAMNet, {k}: {d['difference']:+.3f} (95 % interval {d['ci95'][0]:+.3f} … {d['ci95'][1]:+.3f})"
                      for k, d in report_.get("student_minus_teacher", {}).items()))
