"""Evaluating a model file on the held-out splits of teacher data (training/evaluate.py is the
command line; its docstring lists what is measured)."""

from __future__ import annotations

from pathlib import Path

import torch

from .distill_data import HELD_OUT_FILES
from .metrics import agreement_metrics, teacher_reference
from .model_file import load_model
from .training import datasets, predict, teacher_paths


def evaluate(model_path: Path, data_spec: str, threads: int = 2, with_teacher_reference: bool = False) -> dict:
    """The metrics of evaluate.py's JSON file: the test split's, and test_files's for a model
    trained with --hold-out-files."""
    torch.set_num_threads(threads)
    model, meta = load_model(model_path)
    hold_out_files = float(meta.get("held_out_files", 0.0))
    _, held_out, classes = datasets(data_spec, model.cfg.frames, hold_out_files)
    if not held_out:
        raise SystemExit(f"--data {data_spec}: evaluation needs teacher data (teacher:CORPUS,CACHE)")

    def measure(split: str) -> dict:
        data = held_out[split]
        probabilities, targets = predict(model, data, 64)
        metrics = agreement_metrics(probabilities, targets, data.recordings())
        metrics["per_class_ap"] = {classes[c]["name"]: v for c, v in metrics["per_class_ap"].items()}
        by_source: dict[str, list[int]] = {}
        for i, source in enumerate(data.sources()):
            by_source.setdefault(source, []).append(i)
        metrics["per_source"] = {s: agreement_metrics(probabilities[ix], targets[ix])["top1_agreement"]
                                 for s, ix in by_source.items()}
        if with_teacher_reference:
            metrics["teacher_delayed_10ms"] = teacher_reference(*teacher_paths(data_spec), split, hold_out_files)
        return metrics

    metrics = measure("test")
    if HELD_OUT_FILES in held_out:
        metrics["test_files"] = measure(HELD_OUT_FILES) | {"held_out_fraction": hold_out_files}
    return metrics


def summary(metrics: dict) -> dict:
    """The metrics as evaluate.py prints them: per-class APs are left to the JSON file."""
    return {k: summary(v) if k == "test_files" else v for k, v in metrics.items() if k != "per_class_ap"}
