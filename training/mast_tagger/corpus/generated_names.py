"""What the generated clips are, by construction: the AudioSet classes of a `signals` kind and of
a General MIDI program rendered by `fluidsynth`, read back from the clip's origin.

A generator knows what it made, so these are ground truth in the same sense as a file name that
says "cow": the corpus gives them as `named_classes`, and `train.py --named-targets` makes them
positives whatever the teacher says. Without them a student fine-tuned towards named real
recordings forgot white noise and synthesizer chords, which only these sources teach.

Kinds and programs whose sound has no fitting class (brown noise, GM "Blown bottle", "Tinkle
bell", the sound-effect programs 120-127 ...) are left unnamed: the teacher alone labels them.
"""

from __future__ import annotations

import re

SIGNAL_CLASSES: dict[str, tuple[str, ...]] = {
    "sine": ("Sine wave",),
    "sweep": ("Chirp tone",),
    "beeps": ("Beep, bleep",),
    "dtmf": ("Telephone dialing, DTMF",),
    "clicks": ("Clicking",),
    "white": ("White noise",),
    "pink": ("Pink noise",),
}

DRUM_KIT_CLASSES = ("Drum kit",)


def _programs(*spans: tuple[range, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    return {program: classes for programs, classes in spans for program in programs}


# General MIDI level 1 program numbers (0-based) to the nearest AudioSet class.
GM_PROGRAM_CLASSES: dict[int, tuple[str, ...]] = _programs(
    (range(0, 4), ("Piano",)),
    (range(4, 6), ("Electric piano",)),
    (range(6, 7), ("Harpsichord",)),
    (range(7, 8), ("Keyboard (musical)",)),            # clavinet
    (range(9, 10), ("Glockenspiel",)),
    (range(11, 12), ("Vibraphone",)),
    (range(12, 14), ("Marimba, xylophone",)),
    (range(14, 15), ("Tubular bells",)),
    (range(15, 16), ("Zither",)),                      # hammered dulcimer
    (range(16, 17), ("Hammond organ",)),               # drawbar organ
    (range(17, 19), ("Electronic organ",)),
    (range(19, 21), ("Organ",)),                       # church and reed organ
    (range(21, 22), ("Accordion",)),
    (range(22, 23), ("Harmonica",)),
    (range(23, 24), ("Accordion",)),                   # tango accordion
    (range(24, 26), ("Acoustic guitar",)),
    (range(26, 31), ("Electric guitar",)),
    (range(31, 32), ("Guitar",)),                      # harmonics
    (range(32, 33), ("Double bass",)),                 # acoustic bass
    (range(33, 38), ("Bass guitar",)),
    (range(38, 40), ("Synthesizer",)),                 # synth bass
    (range(40, 41), ("Violin, fiddle",)),
    (range(41, 42), ("Bowed string instrument",)),     # viola
    (range(42, 43), ("Cello",)),
    (range(43, 44), ("Double bass",)),
    (range(44, 45), ("String section",)),              # tremolo strings
    (range(45, 46), ("Pizzicato",)),
    (range(46, 47), ("Harp",)),
    (range(47, 48), ("Timpani",)),
    (range(48, 50), ("String section",)),
    (range(50, 52), ("Synthesizer",)),                 # synth strings
    (range(52, 53), ("Choir",)),
    (range(54, 55), ("Synthesizer",)),                 # synth voice
    (range(55, 56), ("Orchestra",)),                   # orchestra hit
    (range(56, 57), ("Trumpet",)),
    (range(57, 58), ("Trombone",)),
    (range(58, 59), ("Brass instrument",)),            # tuba
    (range(59, 60), ("Trumpet",)),                     # muted trumpet
    (range(60, 61), ("French horn",)),
    (range(61, 62), ("Brass instrument",)),            # brass section
    (range(62, 64), ("Synthesizer",)),                 # synth brass
    (range(64, 68), ("Saxophone",)),
    (range(68, 71), ("Wind instrument, woodwind instrument",)),  # oboe, English horn, bassoon
    (range(71, 72), ("Clarinet",)),
    (range(72, 76), ("Flute",)),                       # piccolo, flute, recorder, pan flute
    (range(77, 78), ("Flute",)),                       # shakuhachi
    (range(79, 80), ("Flute",)),                       # ocarina
    (range(80, 104), ("Synthesizer",)),                # leads, pads, effects
    (range(104, 105), ("Sitar",)),
    (range(105, 106), ("Banjo",)),
    (range(106, 107), ("Plucked string instrument",)),  # shamisen
    (range(107, 108), ("Zither",)),                    # koto
    (range(109, 110), ("Bagpipes",)),
    (range(110, 111), ("Violin, fiddle",)),
    (range(111, 112), ("Wind instrument, woodwind instrument",)),  # shanai
    (range(114, 115), ("Steelpan",)),
    (range(115, 116), ("Wood block",)),
    (range(116, 118), ("Drum",)),                      # taiko, melodic tom
    (range(118, 119), ("Drum machine",)),              # synth drum
    (range(119, 120), ("Cymbal",)),                    # reverse cymbal
)


def generated_classes(package: str, origin: str) -> tuple[str, ...]:
    """The classes a generated clip holds by construction; () where it is not known.

    origin is what the generator wrote: `white seconds=3.2 level=0.100` for signals,
    `fluid-soundfont-gm program=40 seconds=7.4` or `timgm6mb-soundfont drums seconds=9.0` for
    fluidsynth."""
    if package == "generator:signals":
        return SIGNAL_CLASSES.get(origin.split(" ", 1)[0], ())
    if package == "generator:fluidsynth":
        if re.search(r"\bdrums\b", origin):
            return DRUM_KIT_CLASSES
        program = re.search(r"\bprogram=(\d+)\b", origin)
        return GM_PROGRAM_CLASSES.get(int(program.group(1)), ()) if program else ()
    return ()
