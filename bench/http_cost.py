"""What HTTP costs: `mast-tagger run` over the same recording with HTTP off, on (scraped), and on
with a live page connected, one daemon at a time, the three alternated in every round; CPU time
(user + system) per audio second of each, medians and the ratios of medians.

  python3 bench/http_cost.py [--binary .build/release/mast-tagger] [--repeat 8] [--rounds 3] [--realtime]

Without --realtime the recording is tagged as fast as the CPU allows (`input.realtime: false`):
what HTTP adds per window and per frame, with nothing else in the figure. With --realtime the
daemon reads it at real time, 10 ms at a time, as it would a microphone: the deployed cost, in
which the pacing's wake-ups dominate. Scrapes come every --scrape seconds (0.5 s, or 5 s with
--realtime); the page is a reader of `/api/live` (four updates a second), not a browser.

The whole run's CPU includes the start (the model's load; with HTTP, the server's threads and the
Swift runtime's first lookups, about 40 ms more, once). With --realtime the script also reports
the steady state, what a daemon that runs for days pays: the CPU between two readings of
/proc/PID/stat, --settle seconds after the start and --settle seconds before the end, per
second between them (at real time, per audio second).

One daemon at a time, so that they do not compete for the two cores (three side by side did,
and gave ratios that moved with the start order); each round starts with another mode.
Standard library only.
"""

import argparse
import http.client
import os
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

from recordings import free_port, long_recording


def scrape(url: str, every: float, done: threading.Event) -> int:
    """GETs `url` every `every` seconds until `done`; returns how many answered."""
    answered = 0
    while not done.wait(every):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                answered += 1
        except OSError:
            pass  # not listening yet, or already stopped
    return answered


def read_live(url: str, done: threading.Event, received: list[int]) -> None:
    """Reads the live feed (reconnecting until the server listens) and counts its bytes."""
    while not done.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                while chunk := response.read1(65536):
                    received[0] += len(chunk)
        except (OSError, http.client.HTTPException):  # not listening yet, or stopped mid-chunk
            done.wait(0.05)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) `pid` has used so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def steady_cpu(pid: int, start: float, stop: float, done: threading.Event, result: list[float]) -> None:
    """Stores in `result` the CPU per second between `start` and `stop` (monotonic times)."""
    if done.wait(max(0.0, start - time.monotonic())):
        return
    first, first_at = process_cpu(pid), time.monotonic()
    if done.wait(max(0.0, stop - time.monotonic())):
        return
    result.append((process_cpu(pid) - first) / (time.monotonic() - first_at))


def measure(command: list[str], port: int | None, page: bool, every: float,
            steady: tuple[float, float] | None) -> tuple[float, float | None, int, int]:
    """CPU seconds (user + system), the steady state's CPU per second (when `steady`: seconds
    after the start and before the end, at real time), scrapes answered and live bytes read,
    for one run."""
    done = threading.Event()
    counts: list[int] = [0]
    live_bytes: list[int] = [0]
    steady_result: list[float] = []
    helpers = []
    if port is not None:
        helpers.append(threading.Thread(target=lambda: counts.__setitem__(0, scrape(f"http://127.0.0.1:{port}/metrics", every, done))))
        if page:
            helpers.append(threading.Thread(target=read_live, args=(f"http://127.0.0.1:{port}/api/live", done, live_bytes)))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if steady is not None:
        launched = time.monotonic()
        helpers.append(threading.Thread(target=steady_cpu, args=(process.pid, launched + steady[0], launched + steady[1],
                                                                 done, steady_result)))
    for helper in helpers:
        helper.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    for helper in helpers:
        helper.join()
    if status != 0:
        raise SystemExit(f"{' '.join(command)} exited with status {status}")
    if steady is not None and not steady_result:
        raise SystemExit(f"{' '.join(command)} ended before its steady state was read (a longer --repeat?)")
    return usage.ru_utime + usage.ru_stime, steady_result[0] if steady_result else None, counts[0], live_bytes[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/mast-tagger")
    parser.add_argument("--model", default="models/mast-tagger.safetensors")
    parser.add_argument("--recording", default="examples/scene.wav")
    parser.add_argument("--repeat", type=int, default=8, help="copies of the recording in one run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--realtime", action="store_true", help="read the recording at real time")
    parser.add_argument("--scrape", type=float, help="seconds between scrapes of /metrics")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="with --realtime: seconds after the start and before the end left out of the steady state")
    args = parser.parse_args()
    every = args.scrape or (5.0 if args.realtime else 0.5)

    with tempfile.TemporaryDirectory() as scratch:
        wav = os.path.join(scratch, "long.wav")
        seconds = long_recording(args.recording, args.repeat, wav)
        config = os.path.join(scratch, "config.yaml")
        with open(config, "w") as f:
            f.write(f"input: {{realtime: {'true' if args.realtime else 'false'}}}\n")
        base = [args.binary, "run", "--model", args.model, "--config", config, "--input", f"wav:{wav}", "--tags", "3"]
        modes = ("off", "on", "page")
        cpu: dict[str, list[float]] = {mode: [] for mode in modes}
        steady_cpu_per_second: dict[str, list[float]] = {mode: [] for mode in modes}
        steady = (args.settle, seconds - args.settle) if args.realtime else None
        if steady is not None and steady[1] - steady[0] < 10:
            raise SystemExit(f"--realtime: {seconds:.0f} s of audio leaves under 10 s of steady state; raise --repeat")
        for round_ in range(args.rounds):
            for mode in modes[round_ % 3:] + modes[:round_ % 3]:  # each mode first in turn
                port = None if mode == "off" else free_port()
                extra = [] if port is None else ["--http", f"127.0.0.1:{port}"]
                used, steady_used, scrapes, live = measure(base + extra, port, mode == "page", every, steady)
                if mode != "off" and scrapes == 0:
                    raise SystemExit(f"HTTP {mode}: no scrape was answered")
                if mode == "page" and live == 0:
                    raise SystemExit("HTTP page: the live feed sent nothing")
                cpu[mode].append(used / seconds)
                if steady_used is not None:
                    steady_cpu_per_second[mode].append(steady_used)

    print(f"{seconds:.0f} s of audio per run, {'real time' if args.realtime else 'as fast as possible'}, "
          f"{args.rounds} rounds, --tags 3, /metrics every {every:g} s")
    report("whole run, start included", cpu)
    if args.realtime:
        report(f"steady state, from {steady[0]:g} s to {steady[1]:g} s", steady_cpu_per_second)


def report(title: str, cpu: dict[str, list[float]]) -> None:
    """Each mode's median CPU per audio second, and on's and page's ratios to off."""
    print(f"{title}:")
    medians = {mode: statistics.median(values) for mode, values in cpu.items()}
    for mode, values in cpu.items():
        print(f"  HTTP {mode:4}: CPU {medians[mode] * 1000:.2f} ms per audio second (median; runs "
              f"{', '.join(f'{c * 1000:.2f}' for c in values)})")
    for mode in ("on", "page"):
        rounds = [b / a for a, b in zip(cpu["off"], cpu[mode])]
        print(f"  {mode}/off: {medians[mode] / medians['off']:.3f} (ratio of medians); per round "
              f"{', '.join(f'{r:.3f}' for r in rounds)}")


if __name__ == "__main__":
    main()
