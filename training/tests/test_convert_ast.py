"""convert_ast.py maps AST's official checkpoint layout onto the engine's model file."""

import csv

import pytest
import torch

from mast_tagger.ast_conversion import convert
from mast_tagger.model import ArchConfig, build_model
from mast_tagger.model_file import load_model

TINY = ArchConfig(name="ast", family="ast", mel_bins=128, frames=200, num_classes=5,
                  patch_kernel=(16, 16), patch_stride=(10, 10), depth=2, dim=32, heads=4)


def official_checkpoint(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as AST's DataParallel ASTModel saves it, with timm's unused heads."""
    out = {}
    for key, value in model.state_dict().items():
        if key.startswith("head_norm."):
            out["module.mlp_head.0." + key.removeprefix("head_norm.")] = value
        elif key.startswith("head."):
            out["module.mlp_head.1." + key.removeprefix("head.")] = value
        else:
            out["module.v." + key] = value
    out["module.v.head.weight"] = torch.randn(1000, TINY.dim)
    out["module.v.head_dist.bias"] = torch.randn(1000)
    return out


@pytest.fixture
def reference():
    torch.manual_seed(0)
    model = build_model(TINY).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    return model


def test_converted_model_computes_what_the_checkpoint_does(reference, tmp_path):
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "mid", "display_name"])
        for i in reversed(range(5)):  # out of order on purpose: the index column decides
            writer.writerow([i, f"/m/{i}", f"Label {i}"])
    out = tmp_path / "ast.safetensors"
    convert(official_checkpoint(reference), out, labels=labels, frames=200, heads=TINY.heads)
    converted, meta = load_model(out)
    assert meta["classes"][3] == {"name": "Label 3", "id": "/m/3"}
    assert meta["architecture"]["depth"] == 2 and meta["architecture"]["frames"] == 200
    features = torch.randn(1, 200, 128)
    with torch.no_grad():
        torch.testing.assert_close(converted(features), reference(features))


def test_frames_are_inferred_and_positions_resized(reference, tmp_path):
    out = tmp_path / "ast.safetensors"
    cfg = convert(official_checkpoint(reference), out)
    assert cfg.frames == (19 - 1) * 10 + 16  # 19 time patches in the checkpoint
    longer = convert(official_checkpoint(reference), tmp_path / "long.safetensors", frames=400)
    model, _ = load_model(tmp_path / "long.safetensors")
    assert longer.frames == 400 and model.pos_embed.shape == (1, 12 * 39 + 2, 32)


def test_foreign_keys_are_rejected(reference, tmp_path):
    checkpoint = official_checkpoint(reference)
    checkpoint["module.extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="module.extra.weight"):
        convert(checkpoint, tmp_path / "x.safetensors")


def test_missing_block_weights_are_named(reference, tmp_path):
    checkpoint = official_checkpoint(reference)
    del checkpoint["module.v.blocks.1.mlp.fc2.bias"]
    with pytest.raises(ValueError, match="blocks.1.mlp.fc2.bias"):
        convert(checkpoint, tmp_path / "x.safetensors")
