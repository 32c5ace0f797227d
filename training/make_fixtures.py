"""Writes the parity fixtures (small random-weight MAST and AST models and their reference
activations) that mast_tagger/fixtures.py describes, under Tests/MASTTests/Fixtures/.

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
