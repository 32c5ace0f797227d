"""A tiny MAST trained in a minute on synthetic sounds, for the pipeline's end-to-end tests.

It knows four classes: a 1 kHz tone, a 3 kHz tone, white noise, and silence. The tests play a
recording with these sounds at known times through the whole pipeline (fbank, windows, model,
decoder) and check the events' labels and times. It stands in for a real model where a test
must not depend on one; it is not a useful tagger.

Usage: python training/make_test_model.py [--out Tests/TaggerTests/Fixtures/test-tones.safetensors]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mast_tagger.tones_model import make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "Tests/TaggerTests/Fixtures/test-tones.safetensors")
    parser.add_argument("--steps", type=int, default=800)
    args = parser.parse_args()
    make(args.out, args.steps)


if __name__ == "__main__":
    main()
