"""A soak of `mast-tagger run` (a check of resources over time, not a test): audio on stdin at
10x real time, a reload every few seconds alternating two configurations that each change the
model's options, the hop and the output format, and socket clients coming and going (readers,
and clients that never read). Prints RSS, threads and open descriptors of the daemon at the
start and the end, and every minute between.

  python3 bench/soak.py [--binary .build/release/mast-tagger] [--audio-seconds 3600] [--speed 10]

Uses only the standard library, so it runs without the training venv.
"""

import argparse
import math
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

CONFIGS = [
    "precision: f32\nthreads: 1\nwindows: {hop: 1.0}\noutput: {format: jsonl}\n",
    "precision: f32\nthreads: 2\nwindows: {hop: 0.5}\noutput: {format: text}\n",
]


def resources(pid):
    with open(f"/proc/{pid}/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return {"rss_mb": round(rss / 1024, 1), "threads": len(os.listdir(f"/proc/{pid}/task")),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def feed(stdin, seconds, speed, stop):
    """A 1 kHz tone, 5 s on and 5 s off, in 100 ms blocks paced at `speed` x real time (a block
    is a whole number of periods, so the same bytes repeat)."""
    rate, block = 16000, 1600
    tone = struct.pack(f"<{block}h", *(int(9000 * math.sin(2 * math.pi * 1000 * i / rate)) for i in range(block)))
    silence = bytes(2 * block)
    start = time.monotonic()
    for n in range(int(seconds * rate / block)):
        if stop.is_set():
            break
        stdin.write(tone if int(n * block / rate / 5) % 2 == 0 else silence)
        ahead = (n + 1) * block / rate / speed - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)


def clients(path, stop, counts):
    """Clients that read for a while and leave, and some that connect and never read."""
    stuck = []
    while not stop.is_set():
        try:
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.connect(path)
        except OSError:
            time.sleep(0.2)
            continue
        if random.random() < 0.2:
            stuck.append(client)  # never reads; the daemon drops it when its buffer fills
            counts["stuck"] += 1
            if len(stuck) > 5:
                stuck.pop(0).close()
            continue
        client.settimeout(0.2)
        until = time.monotonic() + random.uniform(0.3, 3)
        while time.monotonic() < until and not stop.is_set():
            try:
                if not client.recv(65536):
                    break
            except socket.timeout:
                pass
            except OSError:
                break
        client.close()
        counts["readers"] += 1
    for client in stuck:
        client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/mast-tagger")
    parser.add_argument("--model", default="models/mast-tagger.safetensors")
    parser.add_argument("--audio-seconds", type=float, default=3600)
    parser.add_argument("--speed", type=float, default=10)
    parser.add_argument("--reload-every", type=float, default=3)
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="mast-soak-")
    config, sock = os.path.join(directory, "config.yaml"), os.path.join(directory, "tagger.sock")
    with open(config, "w") as file:
        file.write(CONFIGS[0])
    daemon = subprocess.Popen([args.binary, "run", "--config", config, "--model", args.model, "--input", "stdin",
                               "--output", f"unix:{sock}"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    log = []
    threading.Thread(target=lambda: log.extend(daemon.stderr), daemon=True).start()
    stop = threading.Event()
    counts = {"readers": 0, "stuck": 0, "reloads": 0}
    feeder = threading.Thread(target=feed, args=(daemon.stdin, args.audio_seconds, args.speed, stop))
    feeder.start()
    threading.Thread(target=clients, args=(sock, stop, counts), daemon=True).start()

    time.sleep(10)
    start = resources(daemon.pid)
    print("start", start, flush=True)
    began, last_print, which = time.monotonic(), time.monotonic(), 0
    while feeder.is_alive():
        time.sleep(args.reload_every)
        which = 1 - which
        with open(config, "w") as file:
            file.write(CONFIGS[which])
        daemon.send_signal(signal.SIGHUP)
        counts["reloads"] += 1
        if time.monotonic() - last_print >= 60:
            last_print = time.monotonic()
            print(f"{last_print - began:.0f} s", resources(daemon.pid), counts, flush=True)
    end = resources(daemon.pid)
    print("end", end, counts, flush=True)
    stop.set()
    daemon.stdin.close()
    status = daemon.wait(timeout=30)
    lines = [line.decode(errors="replace").rstrip() for line in log]
    summary = next((line for line in reversed(lines) if "stopped status=" in line), "no summary")
    reloaded = sum("configuration reloaded" in line for line in lines)
    rejected = sum("not reloaded" in line for line in lines)
    print(f"exit {status}; {reloaded} reloads applied, {rejected} rejected; {summary}")
    for line in lines:
        if " error " in line or "critical" in line or "not reloaded" in line:
            print("log:", line)


if __name__ == "__main__":
    sys.exit(main())
