"""The engine's model file: safetensors whose `__metadata__` makes it a complete model.

Metadata (all values are strings, JSON where structured):
  format         "mast-tagger/1"
  architecture   ArchConfig.to_dict()
  fbank          Kaldi fbank options (keys of Swift's FbankOptions)
  normalization  {"mean": m, "std": s}: features become (x - m) / (2 s), as in AST
  classes        [{"name": display name, "id": AudioSet id}, ...], one per logit
Tensors are the reference model's state dict, F32 or F16.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .model import ArchConfig, build_model

FORMAT = "mast-tagger/1"

# AST's front end (YuanGongND/ast src/dataloader.py) with AudioSet statistics.
AST_FBANK = {
    "sample_rate": 16000, "num_mel_bins": 128, "frame_length_ms": 25.0, "frame_shift_ms": 10.0,
    "low_freq": 20.0, "high_freq": 0.0, "preemphasis": 0.97, "window_type": "hanning",
    "remove_dc_offset": True, "round_to_power_of_two": True,
}
AUDIOSET_NORMALIZATION = {"mean": -4.2677393, "std": 4.5689974}

ARCHITECTURES = json.loads((Path(__file__).parent / "architectures.json").read_text())


def preset(name: str, **overrides) -> ArchConfig:
    if name not in ARCHITECTURES:
        raise SystemExit(f"unknown architecture '{name}'; known: {', '.join(sorted(ARCHITECTURES))}")
    return ArchConfig.from_dict({**ARCHITECTURES[name], **overrides})


def placeholder_classes(n: int) -> list[dict]:
    return [{"name": f"class {i}", "id": f"/x/{i}"} for i in range(n)]


def save_model(model: torch.nn.Module, cfg: ArchConfig, path: str | Path, classes: list[dict],
               fbank: dict = AST_FBANK, normalization: dict = AUDIOSET_NORMALIZATION,
               dtype: torch.dtype = torch.float32, held_out_files: float = 0.0) -> None:
    """held_out_files: train.py --hold-out-files, recorded (when > 0) so that evaluation can tell
    the training sources' files the model never saw; the engine ignores it."""
    if len(classes) != cfg.num_classes:
        raise ValueError(f"{len(classes)} class names for {cfg.num_classes} logits")
    tensors = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "architecture": json.dumps(cfg.to_dict()),
        "fbank": json.dumps(fbank),
        "normalization": json.dumps(normalization),
        "classes": json.dumps(classes),
    }
    if held_out_files > 0:
        metadata["held_out_files"] = json.dumps(held_out_files)
    save_file(tensors, str(path), metadata=metadata)


def load_model(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """The reference model with the file's weights (as F32), and the parsed metadata."""
    with safe_open(str(path), framework="pt") as f:
        raw = f.metadata()
        state = {k: f.get_tensor(k).float() for k in f.keys()}
    meta = {k: (json.loads(v) if k != "format" else v) for k, v in raw.items()}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    model = build_model(ArchConfig.from_dict(meta["architecture"]))
    model.load_state_dict(state, strict=True)
    return model.eval(), meta


def interpolate_models(first: str | Path, second: str | Path, weight: float, out: str | Path,
                       dtype: torch.dtype = torch.float16) -> None:
    """Writes (1 - weight)·first + weight·second, tensor by tensor (a "model soup" of two
    fine-tunes from one ancestor, which share a basin). The two must have the same architecture,
    classes and front end; the result keeps the first's metadata."""
    if not 0 <= weight <= 1:
        raise ValueError(f"weight {weight} is not within 0…1")
    a, meta_a = load_model(first)
    b, meta_b = load_model(second)
    for key in ("architecture", "classes", "fbank", "normalization"):
        if meta_a[key] != meta_b[key]:
            raise ValueError(f"{first} and {second} differ in {key}")
    state_b = b.state_dict()
    a.load_state_dict({k: (1 - weight) * v + weight * state_b[k] for k, v in a.state_dict().items()})
    save_model(a, ArchConfig.from_dict(meta_a["architecture"]), out, meta_a["classes"], meta_a["fbank"],
               meta_a["normalization"], dtype=dtype)
