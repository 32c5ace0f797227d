"""Convert an official AST checkpoint (YuanGongND/ast) into the engine's model file.

AST's released AudioSet checkpoints (e.g. audioset_10_10_0.4593.pth) are DataParallel state
dicts of `ASTModel`: `module.v.*` is a timm DeiT (patch_embed.proj, cls_token, dist_token,
pos_embed, blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm) and
`module.mlp_head.{0,1}` the LayerNorm and Linear of the classifier. timm's own ImageNet heads
(`v.head`, `v.head_dist`) are in the file but unused by AST's forward; they are dropped.

The reference AST in mast_tagger/model.py uses the same names minus `module.v.`, with
`mlp_head.0/1` as `head_norm`/`head`, so this is a rename plus metadata. With --frames other
than the checkpoint's, the time axis of the position embedding is interpolated (bilinear), as
AST itself does when its input length changes.

training/convert_ast.py is the command line.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from .model import ArchConfig, build_model, conv_out
from .model_file import AST_FBANK, AUDIOSET_NORMALIZATION, placeholder_classes, save_model

UNUSED_PREFIXES = ("head.", "head_dist.")  # timm's ImageNet classifiers, after `module.v.` is stripped


def engine_state_dict(checkpoint: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official AST keys → the engine's keys; raises on anything unexpected."""
    state = {}
    for key, value in checkpoint.items():
        name = key.removeprefix("module.")
        if name.startswith("v."):
            name = name.removeprefix("v.")
            if name.startswith(UNUSED_PREFIXES):
                continue
        elif name.startswith("mlp_head.0."):
            name = "head_norm." + name.removeprefix("mlp_head.0.")
        elif name.startswith("mlp_head.1."):
            name = "head." + name.removeprefix("mlp_head.1.")
        else:
            raise ValueError(f"unexpected key '{key}': not part of AST's ViT or mlp_head")
        state[name] = value.float()
    return state


def architecture(state: dict[str, torch.Tensor], frames: int | None, fstride: int, tstride: int, heads: int,
                 mel_bins: int = 128) -> tuple[ArchConfig, int]:
    """The config the weights describe, and the checkpoint's own time-patch count."""
    for key in ("pos_embed", "patch_embed.proj.weight", "head.weight"):
        if key not in state:
            raise ValueError(f"checkpoint has no '{key}' (after renaming): is this an AST checkpoint?")
    dim = state["pos_embed"].shape[-1]
    kernel = tuple(state["patch_embed.proj.weight"].shape[-2:])
    f_patches = conv_out(mel_bins, kernel[0], fstride, 0)
    patches = state["pos_embed"].shape[1] - 2
    if patches % f_patches:
        raise ValueError(f"pos_embed holds {patches} patches, not a multiple of {f_patches} frequency patches "
                         f"(fstride {fstride}): pass the --fstride the model was trained with")
    t_patches = patches // f_patches
    checkpoint_frames = (t_patches - 1) * tstride + kernel[1]
    depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    cfg = ArchConfig(name="ast", family="ast", mel_bins=mel_bins, frames=frames or checkpoint_frames,
                     num_classes=state["head.weight"].shape[0], patch_kernel=kernel,
                     patch_stride=(fstride, tstride), depth=depth, dim=dim, heads=heads)
    return cfg, t_patches


def resize_positions(pos_embed: torch.Tensor, f_patches: int, t_from: int, t_to: int) -> torch.Tensor:
    """Interpolate the patch positions along time; the CLS and distillation positions stay."""
    tokens, grid = pos_embed[:, :2], pos_embed[:, 2:]
    dim = grid.shape[-1]
    grid = grid.reshape(1, f_patches, t_from, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(f_patches, t_to), mode="bilinear", align_corners=False)
    return torch.cat([tokens, grid.permute(0, 2, 3, 1).reshape(1, f_patches * t_to, dim)], dim=1)


def read_labels(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
    return [{"name": r["display_name"], "id": r["mid"]} for r in rows]


def convert(checkpoint: dict[str, torch.Tensor], out: Path, labels: Path | None = None, frames: int | None = None,
            fstride: int = 10, tstride: int = 10, heads: int = 12, dtype: torch.dtype = torch.float32) -> ArchConfig:
    state = engine_state_dict(checkpoint)
    cfg, t_patches = architecture(state, frames, fstride, tstride, heads)
    model = build_model(cfg)
    f_patches, t_target = model.grid
    if t_target != t_patches:
        print(f"interpolating position embedding along time: {t_patches} → {t_target} patches", file=sys.stderr)
        state["pos_embed"] = resize_positions(state["pos_embed"], f_patches, t_patches, t_target)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"checkpoint does not fit AST: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    classes = read_labels(labels) if labels else placeholder_classes(cfg.num_classes)
    if len(classes) != cfg.num_classes:
        raise ValueError(f"{labels}: {len(classes)} labels for a {cfg.num_classes}-class head")
    save_model(model, cfg, out, classes, AST_FBANK, AUDIOSET_NORMALIZATION, dtype=dtype)
    return cfg


def load_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in a checkpoint file (under "state_dict" where the file nests it)."""
    raw = torch.load(path, map_location="cpu", weights_only=True)
    return raw.get("state_dict", raw) if isinstance(raw, dict) else raw
