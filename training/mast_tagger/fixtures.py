"""Parity fixtures: small random-weight MAST and AST models and their reference activations.

For each model this writes, under Tests/MASTTests/Fixtures/:
  NAME.safetensors       the model file (F32), as the engine loads it
  NAME-f16.safetensors   the same weights stored as F16 (tiny-mast only)
  NAME-io.safetensors    waveform [N], features [frames, mel] (normalised fbank), every tap
                         of the forward pass (patch_embed, stage outputs, embedding, logits)
                         for batch 1, and logits_f16 where an F16 file exists

The input is non-square (128 mel × 200 frames) so that frequency and time can't be confused.
The Swift tests compare each tap; tests/test_fixtures.py re-runs this reference on the
committed inputs so the two implementations can't drift apart.

training/make_fixtures.py writes them.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from safetensors.torch import save_file

from .frontend import torchaudio_fbank
from .model import ArchConfig, StageConfig, build_model
from .model_file import AST_FBANK, AUDIOSET_NORMALIZATION, load_model, placeholder_classes, save_model

FRAMES = 200

TINY = {
    # 32×50 tokens after the patch embedding; stages pool 2-D, 1-D (time only), 2-D, so grids
    # go 32×50 → 16×25 → 16×13 → 8×7: odd sizes, kv grids that differ from q grids, and a
    # dimension change in every stage.
    "tiny-mast": ArchConfig(
        name="tiny-mast", family="mast", mel_bins=128, frames=FRAMES, num_classes=10,
        patch_kernel=(7, 7), patch_stride=(4, 4), patch_padding=(3, 3),
        stages=[StageConfig(1, 16, 1, (1, 1)), StageConfig(2, 32, 2, (2, 2)),
                StageConfig(2, 48, 2, (1, 2)), StageConfig(1, 64, 4, (2, 2))],
        kv_stride=(4, 4), pool_kernel=(3, 3)),
    # 12×19 patches plus CLS and distillation tokens.
    "tiny-ast": ArchConfig(
        name="tiny-ast", family="ast", mel_bins=128, frames=FRAMES, num_classes=10,
        patch_kernel=(16, 16), patch_stride=(10, 10), depth=2, dim=32, heads=4),
}


def waveform(seconds_samples: int, seed: int = 0) -> torch.Tensor:
    """A chirp, two tone bursts and low noise: energy in many mel bands and frames."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(seconds_samples, dtype=torch.float64) / 16000
    chirp = 0.3 * torch.sin(2 * math.pi * (200 * t + 1500 * t * t))
    bursts = 0.2 * torch.sin(2 * math.pi * 1000 * t) * ((t > 0.4) & (t < 0.9))
    bursts += 0.2 * torch.sin(2 * math.pi * 3300 * t) * ((t > 1.2) & (t < 1.6))
    noise = 0.02 * torch.randn(seconds_samples, generator=g, dtype=torch.float64)
    return (chirp + bursts + noise).float()


def features(wave: torch.Tensor) -> torch.Tensor:
    fb = torch.from_numpy(torchaudio_fbank((wave - wave.mean()).numpy(), AST_FBANK))
    return (fb - AUDIOSET_NORMALIZATION["mean"]) / (2 * AUDIOSET_NORMALIZATION["std"])


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Weights far from init, so every term (biases, norms, relative positions) matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            elif p.dim() >= 2 and "rel_pos" not in name and "token" not in name and "pos_embed" not in name:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
            else:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))


def run_taps(model: torch.nn.Module, feats: torch.Tensor) -> dict[str, torch.Tensor]:
    taps: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        model(feats.unsqueeze(0), taps)
    return {k: v[0].contiguous() for k, v in taps.items()}


def write_fixtures(out: Path) -> None:
    """Writes every model of TINY, its F16 twin (MAST only) and its -io file into `out`."""
    out.mkdir(parents=True, exist_ok=True)

    samples = 400 + (FRAMES - 1) * 160
    wave = waveform(samples)
    feats = features(wave)
    assert feats.shape == (FRAMES, 128), feats.shape

    for seed, (name, cfg) in enumerate(TINY.items()):
        model = build_model(cfg).eval()
        randomise(model, seed=seed + 1)
        model_path = out / f"{name}.safetensors"
        save_model(model, cfg, model_path, placeholder_classes(cfg.num_classes), AST_FBANK, AUDIOSET_NORMALIZATION)
        io = {"waveform": wave, "features": feats, **run_taps(model, feats)}
        if cfg.family == "mast":
            f16_path = out / f"{name}-f16.safetensors"
            save_model(model, cfg, f16_path, placeholder_classes(cfg.num_classes), dtype=torch.float16)
            f16_model, _ = load_model(f16_path)
            io["logits_f16"] = run_taps(f16_model, feats)["logits"]
        save_file(io, str(out / f"{name}-io.safetensors"))
        print(f"{name}: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in io.items()))
