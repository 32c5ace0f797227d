"""The `fluidsynth` generator: every General MIDI program and drum kit, played from seeded
random MIDI through the soundfonts that the debs fluid-soundfont-gm and timgm6mb-soundfont ship."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from ..audio import decode
from .core import Clip, Context, Source, run, seeded
from .packages import extracted_root

GM_DRUM_KITS = [0, 8, 16, 24, 25, 32, 40, 48, 56]   # Standard, Room, Power, Electronic, TR-808, Jazz, Brush, Orchestra, SFX
MAJOR, MINOR = [0, 2, 4, 5, 7, 9, 11], [0, 2, 3, 5, 7, 8, 10]


def random_midi(rng: np.random.Generator, program: int | None, seconds: float):
    """A seeded tune for one GM program (or a drum kit pattern when program is None)."""
    import mido

    tempo = int(rng.integers(70, 160))
    ticks = 480
    beat = 60.0 / tempo
    midi = mido.MidiFile(ticks_per_beat=ticks)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo)))
    events: list[tuple[int, mido.Message]] = []  # (absolute tick, message)
    if program is None:
        channel, kit = 9, GM_DRUM_KITS[rng.integers(len(GM_DRUM_KITS))]
        track.append(mido.Message("program_change", channel=channel, program=kit))
        steps = int(seconds / (beat / 4))
        for instrument, density in ((36, 0.3), (38, 0.2), (42, 0.6), (46, 0.08), (49, 0.03),
                                    (int(rng.integers(35, 82)), 0.15), (int(rng.integers(35, 82)), 0.1)):
            for step in np.flatnonzero(rng.random(steps) < density):
                t = int(step * ticks / 4)
                velocity = int(rng.integers(50, 127))
                events += [(t, mido.Message("note_on", channel=channel, note=instrument, velocity=velocity)),
                           (t + ticks // 8, mido.Message("note_off", channel=channel, note=instrument))]
    else:
        channel = 0
        track.append(mido.Message("program_change", channel=channel, program=program))
        root = int(rng.integers(36, 72))
        scale = MAJOR if rng.random() < 0.5 else MINOR
        t = 0
        while t < seconds / beat * ticks:
            length = int(ticks * [0.25, 0.5, 0.5, 1, 1, 2][rng.integers(6)])
            degree = int(rng.integers(0, 10))
            chord = [0] if rng.random() < 0.7 else [0, 2, 4]  # mostly melody, some triads
            for offset in chord:
                d = degree + offset
                note = root + 12 * (d // 7) + scale[d % 7]
                velocity = int(rng.integers(50, 120))
                events += [(t, mido.Message("note_on", channel=channel, note=note, velocity=velocity)),
                           (t + length, mido.Message("note_off", channel=channel, note=note))]
            t += length
    now = 0
    for tick, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
        track.append(message.copy(time=tick - now))
        now = tick
    return midi


def soundfonts(ctx: Context) -> list[tuple[str, Path]]:
    """The GM soundfonts from their debs, so the render doesn't depend on what is installed."""
    fonts = []
    for package in ("fluid-soundfont-gm", "timgm6mb-soundfont"):
        root = extracted_root(ctx, package)
        fonts += [(package, p) for p in sorted(root.rglob("*.sf2")) if p.is_file()]
    return fonts


def fluidsynth_clips(ctx: Context, source: Source) -> Iterator[Clip]:
    fonts = soundfonts(ctx)
    programs: list[int | None] = list(range(128)) + [None] * 16
    with tempfile.TemporaryDirectory() as tmp:
        for font_package, font in fonts:
            for i, program in enumerate(programs[:: 24 if ctx.quick else 1]):
                rng = seeded(f"{source.name}:{font_package}", i)
                seconds = float(rng.uniform(6, 16))
                mid, out = Path(tmp) / "tune.mid", Path(tmp) / "tune.wav"
                random_midi(rng, program, seconds).save(mid)
                # Rendered at 44.1 kHz and resampled: fluidsynth's own interpolation aliases at 16 kHz.
                run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "44100", "-T", "wav", "-F", str(out),
                     str(font), str(mid)])
                name = "drums" if program is None else f"program={program}"
                yield Clip(decode(out), f"{font_package} {name} seconds={seconds:.1f}",
                           "drums" if program is None else source.category)
