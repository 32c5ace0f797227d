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


def cluster_bootstrap_ci(values: np.ndarray, groups: np.ndarray, resamples: int = 2000, seed: int = 0) -> list[float]:
    """The 95 % interval of the mean of `values` over whole groups drawn again with replacement.

    A recording's windows, or the recordings of one named class, are not independent evidence:
    a long music track is hundreds of windows that the student gets mostly right or mostly
    wrong together. Drawing groups, not items, gives the interval another test set of the same
    kinds of recordings would fall in."""
    _, group = np.unique(np.asarray(groups), return_inverse=True)
    sums = np.bincount(group, weights=np.asarray(values, dtype=np.float64))
    counts = np.bincount(group)
    draws = np.random.default_rng(seed).integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return [round(float(q), 4) for q in np.percentile(means, [2.5, 97.5])]


def teacher_labels(teacher: np.ndarray) -> np.ndarray:
    labels = teacher >= POSITIVE
    labels[np.arange(len(teacher)), teacher.argmax(axis=1)] = True
    return labels


def agreement_metrics(student: np.ndarray, teacher: np.ndarray, recordings: np.ndarray | None = None) -> dict:
    """student, teacher: [windows, classes] probabilities; recordings: each window's recording,
    for the agreement's interval (cluster_bootstrap_ci)."""
    labels = teacher_labels(teacher)
    agrees = student.argmax(axis=1) == teacher.argmax(axis=1)
    per_class = {int(c): {"ap": average_precision(student[:, c], labels[:, c]), "positives": int(labels[:, c].sum())}
                 for c in np.flatnonzero(labels.any(axis=0))}
    metrics = {
        "windows": int(len(student)),
        "top1_agreement": float(agrees.mean()),
        "map": float(np.mean([v["ap"] for v in per_class.values()])),
        "classes_evaluated": len(per_class),
        "map_frequent": float(np.mean([v["ap"] for v in per_class.values() if v["positives"] >= FREQUENT] or [np.nan])),
        "classes_frequent": sum(v["positives"] >= FREQUENT for v in per_class.values()),
        "per_class_ap": per_class,
    }
    if recordings is not None:
        metrics["top1_agreement_ci95"] = cluster_bootstrap_ci(agrees, recordings)
    return metrics


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
