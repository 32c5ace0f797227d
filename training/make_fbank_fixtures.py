"""Reference log-mel filterbanks for the Swift `Features` target.

Writes Tests/FeaturesTests/Fixtures/fbank_NAME.safetensors, each holding
  waveform  F32 [N]                 the input, mono, in [-1, 1]
  fbank     F32 [frames, mel_bins]  torchaudio.compliance.kaldi.fbank of it
and `__metadata__["fbank"]`: the options as JSON, with the keys of Swift's `FbankOptions`
(the same object a model file carries), so both sides read one description of the front end.
The signals, and why each must be well-conditioned in float32: mast_tagger/fbank_fixtures.py.

Usage: python training/make_fbank_fixtures.py [--out Tests/FeaturesTests/Fixtures]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mast_tagger.fbank_fixtures import make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--out", type=Path, default=root / "Tests/FeaturesTests/Fixtures")
    make(parser.parse_args().out)


if __name__ == "__main__":
    main()
