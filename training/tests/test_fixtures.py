"""The committed parity fixtures still describe what the reference computes.

The Swift tests compare the engine with these files; this re-runs the PyTorch reference on the
committed inputs, so a change to either implementation shows up as a failure on one side.
"""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mast_tagger.fixtures import features, run_taps
from mast_tagger.model_file import load_model

FIXTURES = Path(__file__).resolve().parents[2] / "Tests/MASTTests/Fixtures"


def relative_difference(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-30)).item()


@pytest.mark.parametrize("name", ["tiny-mast", "tiny-ast"])
def test_reference_reproduces_committed_activations(name):
    io = load_file(str(FIXTURES / f"{name}-io.safetensors"))
    model, _ = load_model(FIXTURES / f"{name}.safetensors")
    taps = run_taps(model, io["features"])
    expected_names = {k for k in io if k not in ("waveform", "features", "logits_f16")}
    assert set(taps) == expected_names
    for key, value in taps.items():
        assert value.shape == io[key].shape, key
        assert relative_difference(value, io[key]) <= 1e-4, key


def test_features_are_the_kaldi_fbank_of_the_waveform():
    io = load_file(str(FIXTURES / "tiny-mast-io.safetensors"))
    assert relative_difference(features(io["waveform"]), io["features"]) <= 1e-4


def test_f16_file_reproduces_its_logits():
    io = load_file(str(FIXTURES / "tiny-mast-io.safetensors"))
    model, _ = load_model(FIXTURES / "tiny-mast-f16.safetensors")
    assert relative_difference(run_taps(model, io["features"])["logits"], io["logits_f16"]) <= 1e-4


def test_a_changed_weight_is_detected():
    """The comparison is sensitive: nudging one relative-position table by 1% breaks a stage tap."""
    io = load_file(str(FIXTURES / "tiny-mast-io.safetensors"))
    model, _ = load_model(FIXTURES / "tiny-mast.safetensors")
    with torch.no_grad():
        model.blocks[1].attn.rel_pos_t.mul_(1.01)
    taps = run_taps(model, io["features"])
    assert max(relative_difference(taps[k], io[k]) for k in taps) > 1e-4
