"""The daemon's costs, measured on this machine in one run (a benchmark, not a test).

  .venv/bin/python bench/daemon.py [--model models/mast-tagger.safetensors] [--runs 5]

1. CPU per audio second: `mast-tagger tag` at the default settings in f32 and int8 (user +
   system CPU of the process), beside YAMNet under onnxruntime (the teacher, docs/model-card.md)
   scoring the same audio in this process (process CPU time): over a whole 60 s run, and in the
   steady state, from the difference between 600 s and 60 s runs.
2. Onset latency: `mast-tagger run --input stdin` is fed audio at real time, 10 ms at a time;
   the time from writing the first sample of a 1 kHz tone to reading its `onset` record. Uses the
   test model (tones), since the latency is the pipeline's, not the weights'.
3. Peak RSS of `mast-tagger run` over 60 s of real-time input, from GNU time's %M (not this
   process's wait4: a child forked from Python counts Python's pages until it execs).
4. Time to ready: from starting the process to its sd_notify READY=1.

Medians over --runs; one JSON object per measure on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build/release/mast-tagger"
TEST_MODEL = ROOT / "Tests/TaggerTests/Fixtures/test-tones.safetensors"
RATE = 16000


def scene(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-band noise bursts, tones and quiet: something for every stage to do."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.01 * rng.standard_normal(len(t))
    for start in np.arange(0, seconds, 4.0):
        on = (t >= start) & (t < start + 1.5)
        x[on] += 0.3 * np.sin(2 * np.pi * (440 + 100 * start) * t[on])
    return x.astype(np.float32)


def child_cpu(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, check=True, capture_output=True, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def cpu_per_audio_second(model: Path, runs: int, tmp: Path) -> dict:
    """Two figures per tagger: a whole 60 s run (start-up included, as a one-shot `tag` costs)
    and the steady state a daemon lives in, (CPU over 600 s − CPU over 60 s) / 540 s."""
    from mast_tagger.teacher import Teacher

    lengths = (60, 600)
    audio = {seconds: scene(seconds) for seconds in lengths}
    for seconds in lengths:
        soundfile.write(tmp / f"scene{seconds}.wav", audio[seconds], RATE, subtype="PCM_16")
    teacher = Teacher(threads=1)
    cpu: dict[str, dict[int, list[float]]] = {name: {s: [] for s in lengths} for name in ("f32", "int8", "yamnet")}
    for _ in range(runs):
        for seconds in lengths:
            for precision in ("f32", "int8"):
                used, _ = child_cpu([str(BINARY), "tag", "--model", str(model), "--precision", precision,
                                     str(tmp / f"scene{seconds}.wav")])
                cpu[precision][seconds].append(used)
            start = time.process_time()
            teacher.scores(audio[seconds])
            cpu["yamnet"][seconds].append(time.process_time() - start)
    result = {"measure": "cpu_per_audio_second", "runs": runs, "model": str(model)}
    for name, by_length in cpu.items():
        whole = statistics.median(by_length[60]) / 60
        steady = (statistics.median(by_length[600]) - statistics.median(by_length[60])) / 540
        result[name] = {"whole_60s_run": whole, "steady_state": steady}
    for name in ("f32", "int8"):
        result[f"ratio_{name}_to_yamnet_steady"] = result[name]["steady_state"] / result["yamnet"]["steady_state"]
        result[f"ratio_{name}_to_yamnet_whole"] = result[name]["whole_60s_run"] / result["yamnet"]["whole_60s_run"]
    return result


def onset_latency(runs: int) -> dict:
    latencies = []
    tone_at = 3.0
    t = np.arange(int(6 * RATE)) / RATE
    audio = np.where(t >= tone_at, 0.3 * np.sin(2 * np.pi * 1000 * t), 1e-4 * np.random.default_rng(1).standard_normal(len(t)))
    pcm = (audio * 32767).astype("<i2").tobytes()
    chunk = RATE // 100 * 2  # 10 ms of S16 mono
    for _ in range(runs):
        daemon = subprocess.Popen([str(BINARY), "run", "--model", str(TEST_MODEL), "--input", "stdin"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        arrived: dict[str, float] = {}

        def read() -> None:
            for line in daemon.stdout:
                record = json.loads(line)
                if record["type"] == "onset" and record["label"] == "Tone 1 kHz":
                    arrived.setdefault("onset", time.monotonic())

        reader = threading.Thread(target=read)
        reader.start()
        start = time.monotonic()
        tone_written = None
        for offset in range(0, len(pcm), chunk):
            target = start + offset / 2 / RATE
            time.sleep(max(0, target - time.monotonic()))
            if tone_written is None and offset / 2 / RATE >= tone_at:
                tone_written = time.monotonic()
            daemon.stdin.write(pcm[offset:offset + chunk])
            daemon.stdin.flush()
        daemon.stdin.close()
        daemon.wait(timeout=30)
        reader.join()
        if "onset" in arrived:
            latencies.append(arrived["onset"] - tone_written)
    return {"measure": "onset_latency_seconds", "median": statistics.median(latencies), "max": max(latencies),
            "runs": len(latencies), "hop": 1.0, "goal": 1.05}


def rss_and_ready(model: Path, runs: int, tmp: Path) -> list[dict]:
    rss, ready = [], []
    wav = tmp / "scene60.wav"  # written by cpu_per_audio_second
    for i in range(runs):
        notify = tmp / f"notify{i}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(notify))
        sock.settimeout(30)
        start = time.monotonic()
        daemon = subprocess.Popen(["/usr/bin/time", "-f", "%M", str(BINARY), "run", "--model", str(model),
                                   "--input", f"wav:{wav}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=os.environ | {"NOTIFY_SOCKET": str(notify)})
        while b"READY=1" not in sock.recv(4096):
            pass
        ready.append(time.monotonic() - start)
        sock.close()
        _, errors = daemon.communicate()  # the real-time file ends after 60 s
        rss.append(int(errors.decode().strip().splitlines()[-1]) / 1024)
    return [{"measure": "peak_rss_mib", "median": statistics.median(rss), "max": max(rss), "runs": runs,
             "input": "60 s paced at real time", "goal": 64},
            {"measure": "time_to_ready_seconds", "median": statistics.median(ready), "runs": runs}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models/mast-tagger.safetensors")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-rss", action="store_true", help="skip the 60 s real-time runs")
    args = parser.parse_args()
    if not BINARY.exists():
        raise SystemExit(f"{BINARY} not found: run `make build` first")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(json.dumps(cpu_per_audio_second(args.model, args.runs, tmp)), flush=True)
        print(json.dumps(onset_latency(args.runs)), flush=True)
        if not args.skip_rss:
            for result in rss_and_ready(args.model, max(1, args.runs // 2), tmp):
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
