"""Training a MAST tagger (training/train.py is its command line; its docstring tells what a run
does): augmentation, the losses, the datasets a --data spec names, sampling, --init, prediction,
and the training loop itself."""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, WeightedRandomSampler
from tqdm import tqdm

from .distill_data import HELD_OUT_FILES, DistillationWindows, named_positives, read_clips
from .labelled_data import LabelledWindows, parse_spec
from .metrics import agreement_metrics
from .model import build_model
from .model_file import AUDIOSET_NORMALIZATION, load_model, preset, save_model
from . import yardstick
from .named_sounds import PARENTS, TABLE, read_parents, read_rows


def spec_augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Two frequency masks (≤ 16 bins) and two time masks (≤ 10 % of frames) per example, in place."""
    b, frames, bins = x.shape
    for i in range(b):
        for _ in range(2):
            w = int(torch.randint(0, 17, (1,), generator=g))
            f0 = int(torch.randint(0, bins - w + 1, (1,), generator=g))
            x[i, :, f0:f0 + w] = 0
            w = int(torch.randint(0, frames // 10 + 1, (1,), generator=g))
            t0 = int(torch.randint(0, frames - w + 1, (1,), generator=g))
            x[i, t0:t0 + w, :] = 0
    return x


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixes every example with another of the batch (weight ~ Beta(alpha, alpha))."""
    lam = torch.distributions.Beta(alpha, alpha).sample((x.shape[0],))
    lam = torch.maximum(lam, 1 - lam)  # the first example stays dominant
    perm = torch.randperm(x.shape[0], generator=g)
    x = lam[:, None, None] * x + (1 - lam[:, None, None]) * x[perm]
    y = lam[:, None] * y + (1 - lam[:, None]) * y[perm]
    return x, y


LOGIT_FLOOR = -10.0  # log-odds of p ≈ 4.5e-5: below it, how the teacher ranks windows is noise


def logit_matching_loss(student_logits: torch.Tensor, target_probabilities: torch.Tensor,
                        floor: float = LOGIT_FLOOR) -> torch.Tensor:
    """Mean squared error between the student's and the teacher's log-odds, [batch, classes].

    BCE on probabilities barely charges a student that says 0.001 where the teacher says 0.05: the
    gap in probability is tiny, so rare classes' rankings, which are what average precision
    measures, get almost no gradient. In log-odds that gap is as large as one near 0.5. Where the
    teacher is below `floor` the student only has to stay below it too.
    """
    teacher = torch.logit(target_probabilities.clamp(1e-7, 1 - 1e-7))
    matched = (student_logits - teacher).square()
    kept_low = torch.relu(student_logits - floor).square()
    return torch.where(teacher > floor, matched, kept_low).mean()


def prior_logits(data, samples: int = 2000) -> torch.Tensor:
    """log-odds of each class's mean target over a spread of training windows.

    Starting the head's bias there matters with 521 sparse soft targets: from a zero bias the
    cheapest way down the loss is to learn these base rates, and a distilled mast-t settled there
    with input-independent outputs (measured: prediction spread 3e-5 after an epoch; 2e-3 and a
    top-1 agreement of 0.76 after 200 steps with this start).
    """
    step = max(len(data) // samples, 1)
    mean = torch.stack([data[i][1] for i in range(0, len(data), step)]).mean(0).clamp(1e-6, 1 - 1e-6)
    return torch.log(mean / (1 - mean))


def teacher_paths(spec: str) -> tuple[Path, Path] | None:
    """(corpus, teacher cache) of a `teacher:CORPUS,CACHE` spec; None for other kinds of data."""
    kind, _, rest = spec.partition(":")
    if kind != "teacher":
        return None
    paths = rest.split(",")
    if len(paths) != 2:
        raise SystemExit(f"--data {spec}: teacher data is teacher:CORPUS,CACHE")
    return Path(paths[0]), Path(paths[1])


def datasets(spec: str, frames: int, hold_out_files: float = 0.0, named_targets: bool = False):
    """(train, {held-out split: windows}, class list); teacher data has "test", and "test-files"
    with hold_out_files > 0; labelled data has none."""
    mean, std = AUDIOSET_NORMALIZATION["mean"], AUDIOSET_NORMALIZATION["std"]
    if paths := teacher_paths(spec):
        corpus, cache = paths
        clips = read_clips(corpus, cache, hold_out_files)
        meta = json.loads((cache / "meta.json").read_text())
        classes = [{"name": n, "id": m} for n, m in zip(meta["class_names"], meta["mids"])]
        features = corpus.parent / "features"
        names = [c["name"] for c in classes]
        parents = read_parents(PARENTS, names) if named_targets else {}

        def make(split: str) -> DistillationWindows:
            chosen = [c for c in clips if c.split == split]
            # Named positives go into training targets only: held-out splits stay the teacher's.
            positives = named_positives(chosen, names, parents) if named_targets and split == "train" else None
            return DistillationWindows(corpus, cache, features, chosen, frames, mean, std, positives,
                                       silence=names.index("Silence") if "Silence" in names else None)
        held_out = ["test"] + ([HELD_OUT_FILES] if hold_out_files > 0 else [])
        return make("train"), {split: make(split) for split in held_out}, classes
    if hold_out_files > 0:
        raise SystemExit(f"--hold-out-files needs teacher data (teacher:CORPUS,CACHE), not {spec}")
    classes, files = parse_spec(spec)
    return LabelledWindows(files, len(classes), frames, mean, std), {}, classes


def balanced_sampler(data, samples: int, generator: torch.Generator, share: float = 1.0,
                     source_weights: dict[str, float] | None = None) -> WeightedRandomSampler:
    """Draws `samples` windows with replacement: a `share` of them each with weight
    1/√(windows of its top class), the rest uniformly; then a window of a source in
    `source_weights` is that many times as likely (a small source whose sounds a fine-tune must
    not forget, such as the synthetic `signals`).

    The square root keeps the common classes (speech, music) well represented while a class with
    100× fewer windows is drawn 10× more often per window. A share below 1 keeps part of every
    epoch at the corpus's own class mix, so a fine-tune that favours rare classes does not also
    lower the common ones' probabilities. Under torchrun every rank draws its own `samples` from
    its own generator, which is i.i.d. sampling all the same.
    """
    classes = data.class_of_items()
    counts = np.bincount(classes)
    balanced = 1.0 / np.sqrt(counts[classes])
    weights = share * balanced / balanced.sum() + (1 - share) / len(classes)
    if source_weights:
        weights = weights * np.array([source_weights.get(source, 1.0) for source in data.sources()])
    return WeightedRandomSampler(torch.from_numpy(weights), samples, replacement=True, generator=generator)


def copy_matching_weights(model: torch.nn.Module, path: Path) -> list[str]:
    """Copies the tensors of the model file at `path` whose names and shapes match; returns the
    names of the model's tensors left as they were."""
    if not path.is_file():
        raise SystemExit(f"--init {path}: no such model file")
    try:
        source, _ = load_model(path)
    except ValueError as error:  # not a mast-tagger model file
        raise SystemExit(f"--init {error}") from None
    own = model.state_dict()
    matching = {k: v for k, v in source.state_dict().items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise SystemExit(f"{path}: no tensor matches the {model.cfg.name} architecture; nothing to start from")
    model.load_state_dict(matching, strict=False)
    return sorted(set(own) - set(matching))


@torch.no_grad()
def predict(model: torch.nn.Module, data, batch: int) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    outputs, targets = [], []
    for x, y in DataLoader(data, batch_size=batch):
        outputs.append(torch.sigmoid(model(x)).numpy())
        targets.append(y.numpy())
    model.train()
    return np.concatenate(outputs), np.concatenate(targets)


def run(args: argparse.Namespace) -> None:
    """A whole run, from train.py's parsed arguments: datasets, model (--init), optimiser and
    schedule, resuming from OUT/checkpoint.pt, the epochs with their held-out evaluations, and
    OUT/model.safetensors and OUT/history.json at the end. Unchanged under torchrun."""
    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed + rank)
    random.seed(args.seed + rank)
    g = torch.Generator().manual_seed(args.seed + rank)

    base = preset(args.arch)
    train, held_out, classes = datasets(args.data, base.frames, args.hold_out_files, args.named_targets)
    cfg = preset(args.arch, num_classes=len(classes))
    model = build_model(cfg).init_weights()
    with torch.no_grad():  # start the head at the targets' base rates (see prior_logits)
        model.head.bias.copy_(prior_logits(train))
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = args.out / "checkpoint.pt"
    if args.init and not checkpoint_path.exists():  # a resumed run has its own weights
        fresh = copy_matching_weights(model, args.init)
        if rank == 0:
            print(f"started from {args.init}" + (f"; fresh: {', '.join(fresh)}" if fresh else ""), flush=True)
    model = model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    world = dist.get_world_size() if distributed else 1
    if args.balance:
        sampler = balanced_sampler(train, (args.samples_per_epoch or len(train)) // world, g, args.balance_share,
                                   dict(args.source_weight))
    else:
        sampler = DistributedSampler(train, seed=args.seed) if distributed else None
    loader = DataLoader(train, batch_size=args.batch, shuffle=sampler is None, sampler=sampler,
                        num_workers=args.workers, drop_last=True, generator=g if sampler is None else None)
    steps_per_epoch = len(loader)
    total_steps = args.epochs * steps_per_epoch
    warmup = min(1000, total_steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1, (s + 1) / max(warmup, 1))
                                                 * 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    loss_fn = logit_matching_loss if args.loss == "logit" else torch.nn.BCEWithLogitsLoss()

    epoch, step, history = 0, 0, []
    if checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        epoch, step, history = state["epoch"], state["step"], state["history"]
        g.set_state(state["generator"])
        if rank == 0:
            print(f"resumed from {checkpoint_path}: epoch {epoch}, step {step}", flush=True)
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model

    def save_checkpoint(next_epoch: int, next_step: int) -> None:
        if rank != 0:
            return
        state = {"model": model.state_dict(), "optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(),
                 "epoch": next_epoch, "step": next_step, "history": history, "generator": g.get_state(),
                 "arch": cfg.to_dict(), "args": vars(args) | {"out": str(args.out)}}
        torch.save(state, args.out / "checkpoint.tmp")
        (args.out / "checkpoint.tmp").replace(checkpoint_path)

    if rank == 0:
        print(f"{cfg.name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, {len(classes)} classes, "
              f"{len(train)} training windows" + "".join(f", {len(d)} {split} windows" for split, d in held_out.items()),
              flush=True)
    named = None
    if args.named_eval and rank == 0:  # the yardstick's recordings, decoded once for every epoch
        data_dir = teacher_paths(args.data)[0].parent
        rows = read_rows(TABLE, [c["name"] for c in classes])
        named = yardstick.load(data_dir, yardstick.yardstick_recordings(data_dir, rows))
    started = last_save = time.time()
    out_of_time = False
    while epoch < args.epochs and not out_of_time:
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        skip = step - epoch * steps_per_epoch  # batches of this epoch done before a resume
        # The bar counts the skipped batches as they pass (they are drawn again, so that the
        # sampler's order is the same), so it starts at 0, not at `skip`.
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", disable=rank != 0,
                   total=steps_per_epoch, smoothing=0.05)
        for b, (x, y) in enumerate(bar):
            if b < skip:
                continue
            x = spec_augment(x, g)
            if args.mixup > 0:
                x, y = mixup(x, y, args.mixup, g)
            loss = loss_fn(net(x.to(device)), y.to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{schedule.get_last_lr()[0]:.2e}")
            if time.time() - last_save > args.checkpoint_minutes * 60:
                save_checkpoint(epoch, step)
                last_save = time.time()
            if args.max_hours and time.time() - started > args.max_hours * 3600:
                out_of_time = True
                break
        if out_of_time:
            save_checkpoint(epoch, step)
            break
        epoch += 1
        if rank == 0 and any(len(d) for d in held_out.values()):
            entry = {"epoch": epoch, "step": step}
            for split, data in held_out.items():
                metrics = agreement_metrics(*predict(model, data, args.batch))
                prefix = "files_" if split == HELD_OUT_FILES else ""
                entry |= {prefix + k: v for k, v in metrics.items() if k != "per_class_ap"}
            if named is not None:
                model.eval()
                entry |= yardstick.student_hit_rates(model, named, [c["name"] for c in classes])
                model.train()
            history.append(entry)
            print(json.dumps(history[-1]), flush=True)
        save_checkpoint(epoch, step)
        last_save = time.time()

    if rank == 0:  # also after --max-hours: the model as far as it got (history says how far)
        save_model(model.cpu().eval(), cfg, args.out / "model.safetensors", classes,
                   dtype=torch.float16 if args.f16 else torch.float32,
                   held_out_files=args.hold_out_files)
        (args.out / "history.json").write_text(json.dumps({"complete": epoch >= args.epochs, "epochs": epoch,
                                                           "steps": step, "evaluations": history}, indent=1) + "\n")
        print(f"wrote {args.out / 'model.safetensors'} after {epoch} of {args.epochs} epochs", flush=True)
    if distributed:
        dist.destroy_process_group()
