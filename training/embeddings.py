"""Does the student's representation separate kinds of sound as well as the teacher's?

  python training/embeddings.py --model models/mast-tagger.safetensors [--per-category 60]
      [--plot docs/embeddings.png] [--json docs/embeddings.json]

Clips: the corpus's held-out (test) sources, labelled by their category (speech, music, sound
effect, notification), up to --per-category of each, chosen with a fixed seed. Student: the
mean over windows of `mast-tagger embed` (the Swift engine, the embedding its head reads).
Teacher: the mean over patches of YAMNet's 1024-wide embedding. For each: NMI between k-means
clusters (k = number of categories) and the categories, the silhouette of the categories, and a
t-SNE map coloured by category, as the MAST paper shows its representation separating classes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mast_tagger.embeddings import CATEGORIES, cluster_metrics, pick_clips, plot, student_embeddings, teacher_embeddings

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models/mast-tagger.safetensors")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data/corpus")
    parser.add_argument("--binary", type=Path, default=ROOT / ".build/release/mast-tagger")
    parser.add_argument("--per-category", type=int, default=60)
    parser.add_argument("--plot", type=Path, default=ROOT / "docs/embeddings.png")
    parser.add_argument("--json", type=Path, default=ROOT / "docs/embeddings.json")
    args = parser.parse_args()
    clips = pick_clips(args.corpus, args.per_category)
    labels = np.array([c["category"] for c in clips])
    maps = {"student (mast-tagger embed)": student_embeddings(args.binary, args.model, args.corpus, clips),
            "teacher (YAMNet)": teacher_embeddings(args.corpus, clips)}
    metrics = {name: cluster_metrics(x, labels) for name, x in maps.items()}
    metrics["clips"] = {c: int((labels == c).sum()) for c in CATEGORIES}
    print(json.dumps(metrics, indent=1))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(metrics, indent=1) + "\n")
    plot({k: v for k, v in maps.items()}, labels, metrics, args.plot)
    print(f"wrote {args.plot} and {args.json}")


if __name__ == "__main__":
    main()
