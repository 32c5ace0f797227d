"""A tiny MAST trained in a minute on synthetic sounds, for the pipeline's end-to-end tests.

It knows four classes: a 1 kHz tone, a 3 kHz tone, white noise, and silence. The tests play a
recording with these sounds at known times through the whole pipeline (fbank, windows, model,
decoder) and check the events' labels and times. It stands in for a real model where a test
must not depend on one; it is not a useful tagger.

training/make_test_model.py trains and writes it.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .fixtures import features as normalised_features
from .model import ArchConfig, StageConfig, build_model
from .model_file import save_model

CLASSES = [
    {"name": "Tone 1 kHz", "id": "/test/tone1k"},
    {"name": "Tone 3 kHz", "id": "/test/tone3k"},
    {"name": "Noise", "id": "/test/noise"},
    {"name": "Silence", "id": "/test/silence"},
]
FRAMES = 100  # 1 s windows, as mast-t
CONFIG = ArchConfig(
    name="test-tones", family="mast", mel_bins=128, frames=FRAMES, num_classes=len(CLASSES),
    patch_kernel=(7, 7), patch_stride=(4, 4), patch_padding=(3, 3),
    stages=[StageConfig(1, 16, 1, (1, 1)), StageConfig(1, 32, 2, (2, 2)), StageConfig(1, 48, 2, (2, 2))],
    kv_stride=(4, 4), pool_kernel=(3, 3))
SAMPLES = 400 + (FRAMES - 1) * 160


def clip(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One window of audio holding a random subset of the sounds, each over a random part of it,
    and its multi-label target (a class counts when it fills at least a third of the window)."""
    t = torch.arange(SAMPLES) / 16000
    audio = torch.zeros(SAMPLES)
    target = torch.zeros(len(CLASSES))
    for c, make in enumerate([lambda: torch.sin(2 * math.pi * 1000 * t), lambda: torch.sin(2 * math.pi * 3000 * t),
                              lambda: torch.randn(SAMPLES, generator=g)]):
        if torch.rand(1, generator=g) < 0.4:
            start = int(torch.randint(0, SAMPLES // 2, (1,), generator=g))
            length = int(torch.randint(SAMPLES // 4, SAMPLES - start + 1, (1,), generator=g))
            level = 0.05 + 0.4 * float(torch.rand(1, generator=g))
            audio[start:start + length] += level * make()[start:start + length]
            target[c] = float(length >= SAMPLES // 3)
    if target[:3].sum() == 0:
        target[3] = 1
    audio += 1e-4 * torch.randn(SAMPLES, generator=g)  # a quiet floor, as a real microphone has
    return audio, target


def make(out: Path, steps: int = 800) -> None:
    """Trains the model from seed 0 for `steps` batches of 16 clips, printing the loss, and writes it to `out`."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = build_model(CONFIG)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for step in range(steps):
        batch = [clip(g) for _ in range(16)]
        x = torch.stack([normalised_features(a) for a, _ in batch])
        y = torch.stack([t for _, t in batch])
        loss = loss_fn(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model.eval(), CONFIG, out, CLASSES)
    print(f"wrote {out}")
