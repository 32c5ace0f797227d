"""The `scenes` source: what a real microphone hears. An event clip (an effect, a notification, a
drum hit, a piece of music) at a random time over an ambience clip at a random SNR, then, each by
chance, a room's reverb and one cheap device's filter, at a random overall level. Made from
training clips only, for training only (the test split keeps the plain mixtures)."""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
from scipy import signal

from ..audio import SAMPLE_RATE, read_wav
from .core import Clip, Context, Source, seeded

SCENES = 1200
QUICK_SCENES = 8
SCENE_SECONDS = (6.0, 10.0)
SNR_RANGE_DB = (0.0, 20.0)             # the event is the foreground
PEAK_RANGE_DBFS = (-20.0, 0.0)
EVENT_CATEGORIES = ("sfx", "notification", "drums", "music")
NAMED_SHARE = 0.5                      # events drawn from the clips whose file names say what they hold
REVERB_CHANCE = 0.5
RT60_RANGE_S = (0.2, 1.0)
DRR_RANGE_DB = (-3.0, 12.0)            # direct path over reverberant tail, energy
FILTER_CHANCE = 0.5
FILTERS = ("telephone", "small-speaker", "muffled")
ACTIVE_FLOOR_DB = -40.0                # frames this far below the loudest one are not the event
FRAME = 400                            # 25 ms


# ----------------------------------------------------------------------------- pure parts

def reverb_ir(rng: np.random.Generator, rt60: float, drr_db: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A room's impulse response: a unit direct path, then noise decaying exponentially so its
    energy falls 60 dB in rt60 seconds, drr_db below the direct path in total energy."""
    n = int(1.2 * rt60 * sample_rate)
    t = np.arange(1, n) / sample_rate
    tail = rng.standard_normal(n - 1) * np.exp(-math.log(1000.0) * t / rt60)  # amplitude -60 dB at rt60
    tail *= math.sqrt(10 ** (-drr_db / 10) / np.sum(tail * tail))
    return np.concatenate([[1.0], tail])


def device_filter(x: np.ndarray, kind: str, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, dict]:
    """x through a cheap device: "telephone" (300-3400 Hz band-pass), "small-speaker" (high-pass
    near 500 Hz and mild soft clipping) or "muffled" (low-pass at 800-2000 Hz, as through a wall).
    Returns the filtered float signal and the parameters drawn."""
    if kind == "telephone":
        sos = signal.butter(6, [300, 3400], "bandpass", fs=sample_rate, output="sos")
        return signal.sosfilt(sos, x), {}
    if kind == "small-speaker":
        cutoff = float(rng.uniform(400, 700))
        drive = float(rng.uniform(1.5, 4.0))
        y = signal.sosfilt(signal.butter(4, cutoff, "highpass", fs=sample_rate, output="sos"), x)
        peak = max(np.abs(y).max(), 1e-12)
        return np.tanh(drive * y / peak) * peak / math.tanh(drive), \
            {"filter_hz": round(cutoff), "drive": round(drive, 2)}
    if kind == "muffled":
        cutoff = float(rng.uniform(800, 2000))
        return signal.sosfilt(signal.butter(4, cutoff, "lowpass", fs=sample_rate, output="sos"), x), \
            {"filter_hz": round(cutoff)}
    raise ValueError(f"unknown device filter {kind!r}")


def active_mask(x: np.ndarray, floor_db: float = ACTIVE_FLOOR_DB) -> np.ndarray:
    """Per sample: whether its 25 ms frame is within floor_db of x's loudest frame."""
    frames = math.ceil(len(x) / FRAME)
    padded = np.zeros(frames * FRAME)
    padded[: len(x)] = x
    energy = np.mean(padded.reshape(frames, FRAME) ** 2, axis=1)
    keep = energy > energy.max() * 10 ** (floor_db / 10) if energy.max() > 0 else np.zeros(frames, bool)
    return np.repeat(keep, FRAME)[: len(x)]


def mix_event(event: np.ndarray, ambience: np.ndarray, at: int, snr_db: float) -> np.ndarray:
    """The event, at its level, placed `at` samples into the ambience (cut to fit), with the
    ambience scaled so that over the event's active frames their powers differ by snr_db."""
    event = event[: len(ambience) - at].astype(np.float64)
    ambience = ambience.astype(np.float64)
    active = active_mask(event)
    p_event = np.mean(event[active] ** 2) if active.any() else 0.0
    p_amb = np.mean(ambience[at: at + len(event)][active] ** 2) if active.any() else 0.0
    if p_event > 0 and p_amb > 0:
        ambience = ambience * math.sqrt(p_event / (p_amb * 10 ** (snr_db / 10)))
    ambience[at: at + len(event)] += event
    return ambience


def to_peak(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """x scaled so its peak is peak_dbfs (<= 0) of int16 full scale, as int16: never clips."""
    peak = np.abs(x).max()
    if peak == 0:
        return np.zeros(len(x), np.int16)
    return np.round(x * (32767 * 10 ** (min(peak_dbfs, 0.0) / 20) / peak)).astype(np.int16)


def render_scene(rng: np.random.Generator, event: np.ndarray, ambience: np.ndarray, seconds: float,
                 snr_db: float, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, dict]:
    """One scene from an event and an ambience clip (int16, the ambience at least `seconds`
    long); every other choice comes from rng. Returns the int16 scene and what was done."""
    n = min(int(seconds * sample_rate), len(ambience))
    start = int(rng.integers(0, len(ambience) - n + 1))
    event = event[:n]
    at = int(rng.integers(0, n - len(event) + 1))  # the event's time shift
    x = mix_event(event, ambience[start: start + n], at, snr_db)
    applied: dict = {"event_at_s": round(at / sample_rate, 3), "event_seconds": round(len(event) / sample_rate, 3),
                     "ambience_at_s": round(start / sample_rate, 3)}
    if rng.random() < REVERB_CHANCE:
        rt60, drr = float(rng.uniform(*RT60_RANGE_S)), float(rng.uniform(*DRR_RANGE_DB))
        x = signal.fftconvolve(x, reverb_ir(rng, rt60, drr, sample_rate))[:n]
        applied |= {"room_rt60": round(rt60, 3), "room_drr_db": round(drr, 2)}
    if rng.random() < FILTER_CHANCE:
        kind = FILTERS[int(rng.integers(len(FILTERS)))]
        x, params = device_filter(x, kind, rng, sample_rate)
        applied |= {"filter": kind} | params
    peak = float(rng.uniform(*PEAK_RANGE_DBFS))
    applied["peak_dbfs"] = round(peak, 2)
    return to_peak(x, peak), applied


# ----------------------------------------------------------------------------- the source

def scene_pools(base: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(events, named events, ambiences): base training clips, sorted by path so the draw does
    not depend on the order sources were built in."""
    train = sorted((e for e in base if e["split"] == "train" and "components" not in e), key=lambda e: e["path"])
    events = [e for e in train if e["category"] in EVENT_CATEGORIES]
    ambiences = [e for e in train if e["seconds"] >= SCENE_SECONDS[0]]
    return events, [e for e in events if e.get("named_classes")], ambiences


def scene_clips(ctx: Context, source: Source, base: list[dict]) -> Iterator[Clip]:
    events, named, ambiences = scene_pools(base)
    if not events or not ambiences:
        return
    for i in range(QUICK_SCENES if ctx.quick else SCENES):
        rng = seeded(f"{source.name}:train", i)
        pool = named if named and rng.random() < NAMED_SHARE else events
        event = pool[int(rng.integers(len(pool)))]
        ambience = ambiences[int(rng.integers(len(ambiences)))]
        if ambience["path"] == event["path"] and len(ambiences) == 1:
            continue
        while ambience["path"] == event["path"]:
            ambience = ambiences[int(rng.integers(len(ambiences)))]
        seconds = min(float(rng.uniform(*SCENE_SECONDS)), ambience["seconds"])
        snr = float(rng.uniform(*SNR_RANGE_DB))
        samples, applied = render_scene(rng, read_wav(ctx.corpus / event["path"]),
                                        read_wav(ctx.corpus / ambience["path"]), seconds, snr)
        extra = {"split": "train", "group": f"{source.name}-train",
                 "components": [event["path"], ambience["path"]], "snr_db": round(snr, 2)} | applied
        if event.get("named_classes"):
            extra["named_classes"] = list(event["named_classes"])
        yield Clip(samples, f"{event['path']} over {ambience['path']} @ {snr:.1f} dB", source.category, extra)


def carry_named(scenes: list[dict], base: list[dict]) -> None:
    """Each scene carries its event's (first component's) named_classes as they are now, so an
    edit of the names table reaches the scenes without rebuilding them."""
    named = {e["path"]: e["named_classes"] for e in base if e.get("named_classes")}
    for scene in scenes:
        if scene["components"][0] in named:
            scene["named_classes"] = list(named[scene["components"][0]])
        else:
            scene.pop("named_classes", None)
