"""Convert an official AST checkpoint (YuanGongND/ast) into the engine's model file.

AST's released AudioSet checkpoints (e.g. audioset_10_10_0.4593.pth) hold a timm DeiT and a
classifier head under names that the reference AST in mast_tagger/model.py shares but for a
prefix, so this is a rename plus metadata; mast_tagger/ast_conversion.py says how. With --frames
other than the checkpoint's, the time axis of the position embedding is interpolated (bilinear),
as AST itself does when its input length changes.

Usage:
  python training/convert_ast.py CHECKPOINT.pth OUT.safetensors
      [--labels class_labels_indices.csv] [--frames 1024] [--fstride 10] [--tstride 10]
      [--heads 12] [--f16]

`--labels` is AudioSet's class_labels_indices.csv (index,mid,display_name), shipped in AST's
repository under egs/audioset/data/; without it classes are named "class N".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from mast_tagger.ast_conversion import convert, load_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--labels", type=Path, help="AudioSet class_labels_indices.csv")
    parser.add_argument("--frames", type=int, help="input length in 10 ms frames (default: the checkpoint's)")
    parser.add_argument("--fstride", type=int, default=10)
    parser.add_argument("--tstride", type=int, default=10)
    parser.add_argument("--heads", type=int, default=12, help="attention heads (not recoverable from shapes)")
    parser.add_argument("--f16", action="store_true", help="store weights as F16 (half the size)")
    args = parser.parse_args()
    checkpoint = load_checkpoint(args.checkpoint)
    try:
        cfg = convert(checkpoint, args.out, args.labels, args.frames, args.fstride, args.tstride, args.heads,
                      torch.float16 if args.f16 else torch.float32)
    except ValueError as error:
        raise SystemExit(f"{args.checkpoint}: {error}")
    print(f"wrote {args.out}: AST depth {cfg.depth}, dim {cfg.dim}, {cfg.num_classes} classes, {cfg.frames} frames")


if __name__ == "__main__":
    main()
