"""What MQTT costs: `mast-tagger run` over the same recording with MQTT off and on, alternated
in one run, CPU time (user + system) per audio second and peak RSS of each, medians.

MQTT on publishes to a mosquitto started here on a free loopback port, with a subscriber
reading everything; `--tags 5` makes a record per window, so publishing has work to do.

  python3 bench/mqtt_cost.py [--binary .build/release/mast-tagger] [--repeat 10] [--rounds 5]

Uses only the standard library (and mosquitto, mosquitto_sub from Debian).
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

from recordings import free_port, long_recording


def measure(command: list[str]) -> tuple[float, int]:
    """CPU seconds (user + system) and peak RSS (KiB) of one run."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} exited with status {status}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/mast-tagger")
    parser.add_argument("--recording", default="examples/scene.wav")
    parser.add_argument("--repeat", type=int, default=10, help="copies of the recording in one run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        wav = os.path.join(scratch, "long.wav")
        seconds = long_recording(args.recording, args.repeat, wav)
        port = free_port()
        config = os.path.join(scratch, "mosquitto.conf")
        with open(config, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n" + ("user root\n" if os.getuid() == 0 else ""))
        broker = subprocess.Popen(["mosquitto", "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        reader = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-t", "#"], stdout=subprocess.DEVNULL)
        base = [args.binary, "run", "--input", f"wav:{wav}", "--tags", "5"]
        tagger_config = os.path.join(scratch, "config.yaml")
        with open(tagger_config, "w") as f:
            f.write("input: {realtime: false}\n")
        runs = {"off": ([], []), "on": ([], [])}
        try:
            for _ in range(args.rounds):
                for name, extra in (("off", []), ("on", ["--mqtt", f"mqtt://127.0.0.1:{port}"])):
                    cpu, rss = measure(base + ["--config", tagger_config] + extra)
                    runs[name][0].append(cpu / seconds)
                    runs[name][1].append(rss)
        finally:
            reader.terminate()
            broker.terminate()
        off, on = (statistics.median(runs[n][0]) for n in ("off", "on"))
        ratios = [b / a for a, b in zip(*(runs[n][0] for n in ("off", "on")))]
        print(f"{seconds:.0f} s of audio per run, {args.rounds} rounds, --tags 5 (a record per window)")
        for name in ("off", "on"):
            cpu, rss = runs[name]
            print(f"MQTT {name:3}: CPU {statistics.median(cpu) * 1000:.2f} ms per audio second (median; runs "
                  f"{', '.join(f'{c * 1000:.2f}' for c in cpu)}), peak RSS {statistics.median(rss) / 1024:.1f} MiB")
        print(f"on/off: {on / off:.3f} (ratio of medians); per round {', '.join(f'{r:.3f}' for r in ratios)}")


if __name__ == "__main__":
    main()
