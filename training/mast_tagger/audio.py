"""Reading and writing audio: any file to 16 kHz mono, and the corpus's WAV format.

Two readers for two uses: `read_audio` (soundfile, float) is what the teacher, training and
evaluation read clips with; `decode` (ffmpeg, int16) is what the corpus builder takes any
packaged format in with. The corpus is written and read back as 16 kHz mono 16-bit PCM WAV.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


def read_audio(path: Path) -> np.ndarray:
    """Any file soundfile reads -> float mono at 16 kHz."""
    import soundfile
    from scipy.signal import resample_poly

    x, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = np.gcd(rate, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, rate // g)
    return x.astype(np.float32)


def decode(path: Path) -> np.ndarray:
    """Any audio file -> int16 mono at SAMPLE_RATE (ffmpeg averages the channels).

    Raises subprocess.CalledProcessError, with ffmpeg's stderr, on a file ffmpeg can't read.
    """
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1",
                          "-ar", str(SAMPLE_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "-"],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    return np.frombuffer(out, dtype="<i2")


def write_wav(path: Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    tmp.replace(path)


def read_wav(path: Path) -> np.ndarray:
    """int16 samples of a mono 16-bit WAV (the corpus format)."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
