"""Parity fixtures: small random-weight MAST and AST models and their reference activations.

For each model this writes, under Tests/MASTTests/Fixtures/:
  NAME.safetensors       the model file (F32), as the engine loads it
  NAME-f16.safetensors   the same weights stored as F16 (tiny-mast only)
  NAME-io.safetensors    waveform [N], features [frames, mel] (normalised fbank), every tap
                         of the forward pass (patch_embed, stage outputs, embedding, logits)
                         for batch 1, and logits_f16 where an F16 file exists

The input is non-square (128 mel × 200 frames) so that frequency and time can't be confused.
The Swift tests compare each tap; tests/test_fixtures.py re-runs this reference on the
committed inputs so the two implementations can't drift apart.

Usage: python training/make_fixtures.py [--out Tests/MASTTests/Fixtures]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mast_tagger.fixtures import write_fixtures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "Tests/MASTTests/Fixtures")
    args = parser.parse_args()
    write_fixtures(args.out)


if __name__ == "__main__":
    main()
