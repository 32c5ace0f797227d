"""interpolate_models: the weighted mean of two model files, tensor by tensor, and refusals."""

from __future__ import annotations

import pytest
import torch

from mast_tagger.model import build_model
from mast_tagger.model_file import interpolate_models, load_model, placeholder_classes, save_model
from mast_tagger.tones_model import CONFIG


def saved(tmp_path, name: str, seed: int, classes=None) -> tuple:
    torch.manual_seed(seed)
    model = build_model(CONFIG).init_weights()
    path = tmp_path / name
    save_model(model, CONFIG, path, classes or placeholder_classes(CONFIG.num_classes))
    return path, model.state_dict()


def test_the_result_is_the_weighted_mean_of_each_tensor(tmp_path):
    (a, state_a), (b, state_b) = saved(tmp_path, "a.safetensors", 0), saved(tmp_path, "b.safetensors", 1)
    out = tmp_path / "mix.safetensors"
    interpolate_models(a, b, 0.25, out, dtype=torch.float32)
    mixed, meta = load_model(out)
    assert meta["classes"] == placeholder_classes(CONFIG.num_classes)
    for name, value in mixed.state_dict().items():
        torch.testing.assert_close(value, 0.75 * state_a[name] + 0.25 * state_b[name], msg=name)
    assert any(not torch.equal(state_a[n], state_b[n]) for n in state_a)  # the two differ: the test could fail


def test_models_with_other_classes_or_a_weight_outside_0_1_are_refused(tmp_path):
    a, _ = saved(tmp_path, "a.safetensors", 0)
    renamed = [{"name": f"other {i}", "id": f"/y/{i}"} for i in range(CONFIG.num_classes)]
    b, _ = saved(tmp_path, "b.safetensors", 1, classes=renamed)
    with pytest.raises(ValueError, match="differ in classes"):
        interpolate_models(a, b, 0.5, tmp_path / "out.safetensors")
    with pytest.raises(ValueError, match="weight 1.5 is not within"):
        interpolate_models(a, a, 1.5, tmp_path / "out.safetensors")
