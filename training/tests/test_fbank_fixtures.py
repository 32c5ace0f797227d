"""The committed fbank fixtures still are what torchaudio computes.

The Swift `Features` tests compare against Tests/FeaturesTests/Fixtures/fbank_*.safetensors;
this re-runs torchaudio on each committed waveform so a torchaudio upgrade or a hand edit of a
fixture can't silently change what "correct" means.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open


from mast_tagger.fbank_fixtures import AST_OPTIONS, CONDITIONING_TOLERANCE, signals, torchaudio_fbank

FIXTURES = Path(__file__).resolve().parents[2] / "Tests/FeaturesTests/Fixtures"
NAMES = sorted(signals())


def load(name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    with safe_open(str(FIXTURES / f"fbank_{name}.safetensors"), framework="numpy") as f:
        return f.get_tensor("waveform"), f.get_tensor("fbank"), json.loads(f.metadata()["fbank"])


def test_every_signal_has_a_fixture():
    assert sorted(p.name for p in FIXTURES.glob("fbank_*.safetensors")) == [f"fbank_{n}.safetensors" for n in NAMES]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_matches_torchaudio(name):
    waveform, fbank, options = load(name)
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    assert fbank.dtype == np.float32 and fbank.shape[1] == options["num_mel_bins"]
    assert np.abs(torchaudio_fbank(waveform, options) - fbank).max() <= 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_well_conditioned(name):
    """float32 rounding in the reference itself stays far below the Swift tests' 1e-3."""
    waveform, fbank, options = load(name)
    assert np.abs(torchaudio_fbank(waveform, options, torch.float64) - fbank).max() <= CONDITIONING_TOLERANCE


def test_ast_front_end_is_the_default():
    """The AST fixtures use the options Swift's `FbankOptions()` defaults to."""
    assert load("chirp_noise")[2] == AST_OPTIONS
