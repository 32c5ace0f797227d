"""Clip embeddings of the student and the teacher, and how well each separates the corpus's
categories (training/embeddings.py is the command line; its docstring says what it measures)."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CATEGORIES = ["speech", "music", "sfx", "notification"]


def pick_clips(corpus: Path, per_category: int, seed: int = 0) -> list[dict]:
    rows = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    chosen = []
    for category in CATEGORIES:
        pool = [r for r in rows if r["split"] == "test" and r["category"] == category and r["seconds"] >= 1.0]
        chosen += rng.sample(pool, min(per_category, len(pool)))
    return chosen


def student_embeddings(binary: Path, model: Path, corpus: Path, clips: list[dict]) -> np.ndarray:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, clip in enumerate(clips):
            npy = Path(tmp) / f"{i}.npy"
            subprocess.run([str(binary), "embed", "--model", str(model), "--npy", str(npy), str(corpus / clip["path"])],
                           check=True, capture_output=True)
            out.append(np.load(npy).mean(axis=0))
    return np.stack(out)


def teacher_embeddings(corpus: Path, clips: list[dict]) -> np.ndarray:
    from .audio import read_audio
    from .teacher import Teacher

    teacher = Teacher(with_embeddings=True)
    return np.stack([teacher.embeddings(read_audio(corpus / c["path"])).mean(axis=0) for c in clips])


def cluster_metrics(x: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score, silhouette_score
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(x)
    clusters = KMeans(n_clusters=len(set(labels)), n_init=10, random_state=seed).fit_predict(z)
    return {"nmi": float(normalized_mutual_info_score(labels, clusters)),
            "silhouette": float(silhouette_score(z, labels)), "dim": int(x.shape[1])}


def plot(maps: dict[str, np.ndarray], labels: np.ndarray, metrics: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    fig, axes = plt.subplots(1, len(maps), figsize=(6 * len(maps), 5.5))
    for ax, (name, x) in zip(axes, maps.items()):
        xy = TSNE(n_components=2, perplexity=30, random_state=0, init="pca").fit_transform(StandardScaler().fit_transform(x))
        for category in CATEGORIES:
            mask = labels == category
            ax.scatter(xy[mask, 0], xy[mask, 1], s=12, label=f"{category} ({mask.sum()})", alpha=0.8)
        m = metrics[name]
        ax.set_title(f"{name}: NMI {m['nmi']:.2f}, silhouette {m['silhouette']:.2f}")
        ax.set_xticks([]), ax.set_yticks([])
    axes[0].legend(loc="best", fontsize=9)
    fig.suptitle("t-SNE of clip embeddings, held-out sources, coloured by category")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
