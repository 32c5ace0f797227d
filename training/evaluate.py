"""How closely a student follows its teacher on held-out sources.

  python training/evaluate.py --model runs/mast-t/model.safetensors --data teacher:data/corpus,data/teacher
      [--json docs/metrics.json]

Metrics, on every window of the test split (sources never seen in training):
  top1_agreement  the student's most likely class is the teacher's
  map             mean over classes of the average precision of the student's scores, with the
                  teacher's labels as truth: a window's positives are the classes the teacher
                  gives ≥ 0.5, and always its top class; classes with no positive are left out
  map_frequent    the same mean over classes with at least 20 positive windows (rare classes'
                  AP rests on a handful of windows; this shows what the student learned well)
  per_class_ap    that AP for each class, with its positive count

--teacher-reference adds `teacher_delayed_10ms`: the same metrics for the teacher itself, run on
the test audio delayed by 10 ms (one frame hop), against its own labels. A student sees the audio
through another front end and another window (AST's 128-bin fbank over 1.015 s, not YAMNet's
64-bin log-mel over 0.975 s), so this says how much of each metric is within reach at all: the
teacher disagrees with itself this much over a 10 ms shift.

A model trained with --hold-out-files (the file records the fraction) is also measured on those
files of the training sources: `test_files` holds the same metrics (and teacher reference) there.
"""

from __future__ import annotations

import argparse
import json
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
    from mast_tagger.distill_data import read_clips
    from mast_tagger.teacher import Teacher, read_audio

    teacher = Teacher()
    scores, labels = [], []
    for clip in (c for c in read_clips(corpus, cache, hold_out_files) if c.split == split):
        scores.append(delayed_teacher_scores(teacher, read_audio(corpus / clip.path), clip.patches))
        labels.append(np.load(cache / f"{clip.key}.npy"))
    metrics = agreement_metrics(np.concatenate(scores), np.concatenate(labels))
    return {k: metrics[k] for k in ("top1_agreement", "map", "map_frequent")}


def main() -> None:
    import torch

    from mast_tagger.model_file import load_model
    from mast_tagger.distill_data import HELD_OUT_FILES
    from train import datasets, predict, teacher_paths

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", required=True, help="teacher:CORPUS,CACHE")
    parser.add_argument("--json", type=Path, help="write the metrics here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--teacher-reference", action="store_true",
                        help="also measure the teacher against itself on audio delayed by 10 ms")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_model(args.model)
    hold_out_files = float(meta.get("held_out_files", 0.0))
    _, held_out, classes = datasets(args.data, model.cfg.frames, hold_out_files)
    if not held_out:
        raise SystemExit(f"--data {args.data}: evaluation needs teacher data (teacher:CORPUS,CACHE)")

    def measure(split: str) -> dict:
        data = held_out[split]
        probabilities, targets = predict(model, data, 64)
        metrics = agreement_metrics(probabilities, targets)
        metrics["per_class_ap"] = {classes[c]["name"]: v for c, v in metrics["per_class_ap"].items()}
        by_source: dict[str, list[int]] = {}
        for i, source in enumerate(data.sources()):
            by_source.setdefault(source, []).append(i)
        metrics["per_source"] = {s: agreement_metrics(probabilities[ix], targets[ix])["top1_agreement"]
                                 for s, ix in by_source.items()}
        if args.teacher_reference:
            metrics["teacher_delayed_10ms"] = teacher_reference(*teacher_paths(args.data), split, hold_out_files)
        return metrics

    metrics = measure("test")
    if HELD_OUT_FILES in held_out:
        metrics["test_files"] = measure(HELD_OUT_FILES) | {"held_out_fraction": hold_out_files}
    def summary(m: dict) -> dict:  # the printout leaves per-class APs to the JSON file
        return {k: summary(v) if k == "test_files" else v for k, v in m.items() if k != "per_class_ap"}

    print(json.dumps(summary(metrics), indent=1))
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=1) + "\n")


if __name__ == "__main__":
    main()
