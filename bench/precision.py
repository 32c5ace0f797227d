"""int8 against float32 on held-out recordings (a benchmark, not a test).

  .venv/bin/python bench/precision.py [--model models/mast-tagger.safetensors] [--files 60]

Runs `mast-tagger run` over each held-out file of data/corpus (build_corpus.py's `test` split,
every n-th file so all sources appear) in both precisions, with a `tags` record holding every
class's score per window, and reports how often the top class agrees, how far scores move, and
whether the events (label, start, end) are the same. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build/release/mast-tagger"


def run(model: Path, wav: Path, precision: str, config: Path) -> tuple[np.ndarray, list[tuple]]:
    done = subprocess.run([str(BINARY), "run", "--config", str(config), "--model", str(model), "--precision", precision,
                           "--input", f"wav:{wav}"], check=True, capture_output=True, text=True)
    windows, events = [], []
    for line in done.stdout.splitlines():
        record = json.loads(line)
        if record["type"] == "tags":
            scores = {tag["id"]: tag["score"] for tag in record["labels"]}
            windows.append([scores[key] for key in sorted(scores)])
        elif record["type"] == "event":
            events.append((record["label"], record["start"], record["end"]))
    return np.array(windows), events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models/mast-tagger.safetensors")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data/corpus")
    parser.add_argument("--files", type=int, default=60)
    args = parser.parse_args()
    manifest = [json.loads(line) for line in (args.corpus / "manifest.jsonl").open()]
    held_out = [entry for entry in manifest if entry["split"] == "test"]
    chosen = held_out[:: max(1, len(held_out) // args.files)][: args.files]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text("input:\n  realtime: false\ntags:\n  top_k: 1000\n  min_score: 0\n")
        top1, worst, mean, same_events, seconds = [], [], [], 0, 0.0
        for entry in chosen:
            wav = args.corpus / entry["path"]
            f32, f32_events = run(args.model, wav, "f32", config)
            int8, int8_events = run(args.model, wav, "int8", config)
            assert f32.shape == int8.shape, wav
            top1.extend(f32.argmax(1) == int8.argmax(1))
            difference = np.abs(f32 - int8)
            worst.append(difference.max())
            mean.append(difference.mean())
            same_events += f32_events == int8_events
            seconds += entry["seconds"]
    print(json.dumps({"files": len(chosen), "audio_seconds": round(seconds, 1), "windows": len(top1),
                      "top1_agreement": float(np.mean(top1)), "max_abs_score_change": float(max(worst)),
                      "mean_abs_score_change": float(np.mean(mean)), "files_with_identical_events": same_events}))


if __name__ == "__main__":
    main()
