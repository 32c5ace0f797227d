"""Averages two models' weights: (1 - W)·FIRST + W·SECOND, written as F16 (or --f32).

  python training/interpolate_models.py FIRST SECOND --weight W --out OUT.safetensors

For two fine-tunes of one ancestor (say, one that follows the teacher closely and one trained
further on named sounds), a weight between them often keeps much of both; measure the result
with evaluate.py. The code is mast_tagger/model_file.py's interpolate_models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from mast_tagger.model_file import interpolate_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--weight", type=float, required=True, help="the second model's share, 0…1")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--f32", action="store_true", help="write F32 (default F16)")
    args = parser.parse_args()
    try:
        interpolate_models(args.first, args.second, args.weight, args.out,
                           dtype=torch.float32 if args.f32 else torch.float16)
    except ValueError as error:
        raise SystemExit(f"interpolate_models: {error}") from None


if __name__ == "__main__":
    main()
