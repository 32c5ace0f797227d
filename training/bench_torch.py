"""PyTorch eager against the Swift engine on the same weights, input and thread count.

For each architecture this writes a random-weight model file and an input, runs
`mast-tagger bench --model FILE --input FILE --json` and then the reference model in PyTorch
with torch.set_num_threads(THREADS), both in this one session, and prints milliseconds per
window and the ratio swift / torch (≤ 1.0 means the engine is no slower).

Usage: python training/bench_torch.py [--arch mast-t ...] [--threads 2] [--iterations 10]
                                      [--binary .build/release/mast-tagger] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mast_tagger.model import build_model  # noqa: E402
from mast_tagger.model_file import ARCHITECTURES, placeholder_classes, preset, save_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="*", default=sorted(ARCHITECTURES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--binary", type=Path, default=ROOT / ".build/release/mast-tagger")
    parser.add_argument("--json", action="store_true", help="one JSON object per architecture")
    args = parser.parse_args()
    if not args.binary.exists():
        raise SystemExit(f"{args.binary} not found: build it with `swift build -c release`")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    with tempfile.TemporaryDirectory() as tmp:
        for name in args.arch:
            cfg = preset(name)
            model = build_model(cfg).eval()
            with torch.no_grad():  # non-trivial relative-position tables, as a trained model has
                for key, p in model.named_parameters():
                    if "rel_pos" in key:
                        p.normal_(0, 0.02)
            model_path, input_path = Path(tmp) / f"{name}.safetensors", Path(tmp) / f"{name}-input.safetensors"
            save_model(model, cfg, model_path, placeholder_classes(cfg.num_classes))
            features = torch.randn(cfg.frames, cfg.mel_bins)
            save_file({"features": features}, str(input_path))

            swift = json.loads(subprocess.run(
                [str(args.binary), "bench", "--model", str(model_path), "--input", str(input_path),
                 "--threads", str(args.threads), "--iterations", str(args.iterations), "--json"],
                check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            torch_median = statistics.median(torch_ms(model, features, args.iterations))
            ratio = swift["ms_per_window"] / torch_median
            result = {"arch": name, "threads": args.threads, "swift_ms": round(swift["ms_per_window"], 3),
                      "torch_ms": round(torch_median, 3), "ratio": round(ratio, 3),
                      "swift_gflops": round(swift["gflops"], 1),
                      "fraction_of_sgemm": round(swift.get("fraction_of_sgemm", float("nan")), 3)}
            if args.json:
                print(json.dumps(result))
            else:
                print(f"{name:8} swift {result['swift_ms']:9.2f} ms  torch {result['torch_ms']:9.2f} ms  "
                      f"ratio {ratio:5.2f}  ({result['swift_gflops']} GFLOP/s, "
                      f"{100 * result['fraction_of_sgemm']:.0f}% of sgemm)", flush=True)


if __name__ == "__main__":
    main()
