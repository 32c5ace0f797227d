"""What the cost benchmarks share: a long recording made from the example, and a free port.

Imported by the scripts beside it (`python3 bench/X.py` puts this folder on the path).
"""

import socket
import wave


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def long_recording(source: str, repeat: int, path: str) -> float:
    """`source` repeated `repeat` times into `path`; returns its length in seconds."""
    with wave.open(source) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    with wave.open(path, "wb") as out:
        out.setparams(params)
        for _ in range(repeat):
            out.writeframes(frames)
    return params.nframes * repeat / params.framerate
