"""Reference log-mel filterbanks for the Swift `Features` target.

Writes Tests/FeaturesTests/Fixtures/fbank_NAME.safetensors, each holding
  waveform  F32 [N]                 the input, mono, in [-1, 1]
  fbank     F32 [frames, mel_bins]  torchaudio.compliance.kaldi.fbank of it
and `__metadata__["fbank"]`: the options as JSON, with the keys of Swift's `FbankOptions`
(the same object a model file carries), so both sides read one description of the front end.

Each fixture must be well-conditioned in float32. FFT rounding error is relative to a frame's
largest bins, and preemphasis leaves the lowest bands of white noise ~30 dB down, so with a pure
tone, or a loud chirp over faint white noise, the weakest bands hold mostly rounding noise and
float32 torchaudio is itself ~2e-3 (up to 5e-3) away from float64; such a fixture could not tell
a correct implementation from a wrong one at 1e-3. The noise here is therefore low-passed
(like speech), and `make` refuses a fixture whose float32 and float64 references differ by
more than CONDITIONING_TOLERANCE.

training/make_fbank_fixtures.py writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file

from .frontend import torchaudio_fbank
from .model_file import AST_FBANK as AST_OPTIONS

CONDITIONING_TOLERANCE = 2e-4


def chirp(n: int, rate: int, f0: float, f1: float) -> np.ndarray:
    """A linear sweep from f0 to f1 Hz over n samples."""
    t = np.arange(n) / rate
    duration = n / rate
    return np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * duration) * t * t))


def tone(n: int, rate: int, hz: float) -> np.ndarray:
    return np.sin(2 * np.pi * hz * np.arange(n) / rate)


def lowpassed_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-variance Gaussian noise through a one-pole low-pass (pole 0.97), whose tilt roughly
    undoes preemphasis, so no band sits near the float32 rounding floor."""
    white = rng.standard_normal(n)
    out = np.empty(n)
    state = 0.0
    for i, x in enumerate(white):
        state = 0.97 * state + x
        out[i] = state
    return out / out.std()


def signals() -> dict[str, tuple[np.ndarray, dict]]:
    """name → (waveform, options). Deterministic: one seeded generator, fixed order."""
    rng = np.random.default_rng(20240611)
    ramp = np.sin(np.pi * np.arange(5555) / 5555)
    return {
        # 1.3 s sweep over most of the band: every mel filter sees signal in some frame.
        "chirp_noise": (0.2 * chirp(20800, 16000, 100, 7000) + 0.1 * lowpassed_noise(rng, 20800), AST_OPTIONS),
        # A 1 kHz tone (FFT bin 32) over a noise floor.
        "tone_1khz": (0.5 * tone(4800, 16000, 1000) + 0.05 * lowpassed_noise(rng, 4800), AST_OPTIONS),
        # Faint white noise: about half the energies fall below FLT_EPSILON and are floored.
        "near_silent": (3e-5 * rng.standard_normal(4800), AST_OPTIONS),
        # Length 5555 = 400 + 32·160 + 35: a tail shorter than a shift is left over. A DC offset
        # of 0.1 exercises remove_dc_offset.
        "odd_length": (0.1 + 0.2 * ramp * lowpassed_noise(rng, 5555), AST_OPTIONS),
        # Hamming window, FFT not rounded (200 points), no DC removal, 8 kHz, 40 bins, band edges.
        "hamming_8k": (0.4 * tone(4000, 8000, 440) + 0.1 * lowpassed_noise(rng, 4000), {
            "sample_rate": 8000, "num_mel_bins": 40, "frame_length_ms": 25.0, "frame_shift_ms": 10.0,
            "low_freq": 64.0, "high_freq": -200.0, "preemphasis": 0.9, "window_type": "hamming",
            "remove_dc_offset": False, "round_to_power_of_two": False,
        }),
        # Povey window with Kaldi's 23 bins, a shift (30 ms) longer than the frame (20 ms).
        "povey_gaps": (0.3 * chirp(8000, 16000, 3000, 300) + 0.05 * lowpassed_noise(rng, 8000), {
            "sample_rate": 16000, "num_mel_bins": 23, "frame_length_ms": 20.0, "frame_shift_ms": 30.0,
            "low_freq": 40.0, "high_freq": 7000.0, "preemphasis": 0.97, "window_type": "povey",
            "remove_dc_offset": True, "round_to_power_of_two": True,
        }),
    }


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, (signal, options) in signals().items():
        waveform = signal.astype(np.float32)
        assert np.abs(waveform).max() <= 1.0, name
        fbank = torchaudio_fbank(waveform, options)
        conditioning = np.abs(fbank - torchaudio_fbank(waveform, options, torch.float64)).max()
        if conditioning > CONDITIONING_TOLERANCE:
            raise SystemExit(f"{name}: float32 and float64 references differ by {conditioning:.2e}; "
                             "the signal is too ill-conditioned to test against")
        path = out / f"fbank_{name}.safetensors"
        save_file({"waveform": waveform, "fbank": np.ascontiguousarray(fbank)}, str(path),
                  metadata={"fbank": json.dumps(options)})
        print(f"{path}: waveform [{len(waveform)}], fbank {list(fbank.shape)}, "
              f"float32 vs float64 {conditioning:.1e}")
