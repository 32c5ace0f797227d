"""How closely a student follows its teacher: average precision against the teacher's labels,
top-1 agreement, and the delayed-teacher reference (training/evaluate.py's docstring defines each
metric; train.py reports them after every epoch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

POSITIVE = 0.5
FREQUENT = 20
REFERENCE_DELAY = 160  # samples: 10 ms, one hop of either front end


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = positives[order]
    precision_at_hit = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1)
    return float(precision_at_hit.mean())


def teacher_labels(teacher: np.ndarray) -> np.ndarray:
    labels = teacher >= POSITIVE
    labels[np.arange(len(teacher)), teacher.argmax(axis=1)] = True
    return labels


def agreement_metrics(student: np.ndarray, teacher: np.ndarray) -> dict:
    """student, teacher: [windows, classes] probabilities."""
    labels = teacher_labels(teacher)
    per_class = {int(c): {"ap": average_precision(student[:, c], labels[:, c]), "positives": int(labels[:, c].sum())}
                 for c in np.flatnonzero(labels.any(axis=0))}
    return {
        "windows": int(len(student)),
        "top1_agreement": float((student.argmax(axis=1) == teacher.argmax(axis=1)).mean()),
        "map": float(np.mean([v["ap"] for v in per_class.values()])),
        "classes_evaluated": len(per_class),
        "map_frequent": float(np.mean([v["ap"] for v in per_class.values() if v["positives"] >= FREQUENT] or [np.nan])),
        "classes_frequent": sum(v["positives"] >= FREQUENT for v in per_class.values()),
        "per_class_ap": per_class,
    }


def delayed_teacher_scores(teacher, waveform: np.ndarray, patches: int, delay: int = REFERENCE_DELAY) -> np.ndarray:
    """[patches, classes]: the teacher's scores for the clip delayed by `delay` samples, patch for
    patch against its cached labels of the undelayed clip."""
    delayed = np.concatenate([np.zeros(delay, dtype=np.float32), waveform.astype(np.float32)])
    return teacher.scores(delayed)[:patches]


def teacher_reference(corpus: Path, cache: Path, split: str = "test", hold_out_files: float = 0.0) -> dict:
    """agreement_metrics of the delayed teacher against its own labels, on a held-out split."""
    from .audio import read_audio
    from .distill_data import read_clips
    from .teacher import Teacher

    teacher = Teacher()
    scores, labels = [], []
    for clip in (c for c in read_clips(corpus, cache, hold_out_files) if c.split == split):
        scores.append(delayed_teacher_scores(teacher, read_audio(corpus / clip.path), clip.patches))
        labels.append(np.load(cache / f"{clip.key}.npy"))
    metrics = agreement_metrics(np.concatenate(scores), np.concatenate(labels))
    return {k: metrics[k] for k in ("top1_agreement", "map", "map_frequent")}
