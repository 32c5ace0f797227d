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
import tempfile
from pathlib import Path

import torch

from mast_tagger.model_file import ARCHITECTURES
from mast_tagger.torch_bench import compare

ROOT = Path(__file__).resolve().parent.parent


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
            result, ratio = compare(name, args.binary, args.threads, args.iterations, Path(tmp))
            if args.json:
                print(json.dumps(result))
            else:
                print(f"{name:8} swift {result['swift_ms']:9.2f} ms  torch {result['torch_ms']:9.2f} ms  "
                      f"ratio {ratio:5.2f}  ({result['swift_gflops']} GFLOP/s, "
                      f"{100 * result['fraction_of_sgemm']:.0f}% of sgemm)", flush=True)


if __name__ == "__main__":
    main()
