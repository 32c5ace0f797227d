"""PyTorch eager against the Swift engine on the same weights, input and thread count, one
architecture at a time (training/bench_torch.py is the command line)."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from .model import build_model
from .model_file import placeholder_classes, preset, save_model


def torch_ms(model: torch.nn.Module, features: torch.Tensor, iterations: int) -> list[float]:
    batch = features.unsqueeze(0)
    with torch.inference_mode():
        for _ in range(2):
            model(batch)
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            model(batch)
            times.append((time.perf_counter() - start) * 1000)
    return times


def compare(name: str, binary: Path, threads: int, iterations: int, tmp: Path) -> tuple[dict, float]:
    """Writes a random-weight model of architecture `name` and an input into `tmp`, runs
    `mast-tagger bench` on them and then the PyTorch reference (at torch's current thread count);
    returns both timings in milliseconds per window and their ratio swift / torch, rounded, as
    bench_torch.py's JSON line, and the ratio unrounded."""
    cfg = preset(name)
    model = build_model(cfg).eval()
    with torch.no_grad():  # non-trivial relative-position tables, as a trained model has
        for key, p in model.named_parameters():
            if "rel_pos" in key:
                p.normal_(0, 0.02)
    model_path, input_path = tmp / f"{name}.safetensors", tmp / f"{name}-input.safetensors"
    save_model(model, cfg, model_path, placeholder_classes(cfg.num_classes))
    features = torch.randn(cfg.frames, cfg.mel_bins)
    save_file({"features": features}, str(input_path))

    swift = json.loads(subprocess.run(
        [str(binary), "bench", "--model", str(model_path), "--input", str(input_path),
         "--threads", str(threads), "--iterations", str(iterations), "--json"],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    torch_median = statistics.median(torch_ms(model, features, iterations))
    ratio = swift["ms_per_window"] / torch_median
    result = {"arch": name, "threads": threads, "swift_ms": round(swift["ms_per_window"], 3),
              "torch_ms": round(torch_median, 3), "ratio": round(ratio, 3),
              "swift_gflops": round(swift["gflops"], 1),
              "fraction_of_sgemm": round(swift.get("fraction_of_sgemm", float("nan")), 3)}
    return result, ratio
