"""Build the distillation audio corpus from Debian packages and synthetic generators.

Usage:
    python training/build_corpus.py [--data DIR] [--quick] [--only NAME,...]

What it makes (nothing here is committed: /data/ is git-ignored):

    DIR/debs/                 .deb files fetched with `apt-get download` (bookworm, main only)
    DIR/extracted/PACKAGE/    each package unpacked with `dpkg -x`
    DIR/corpus/SOURCE/*.wav   16 kHz mono 16-bit PCM clips, 0.5 s to 30 s each
    DIR/corpus/SOURCE/entries.jsonl   written last: marks SOURCE as done
    DIR/corpus/manifest.jsonl one JSON object per clip (see below)
    (--quick writes DIR/corpus-quick/ instead, so a smoke test never poisons the real corpus)

Sources. A source is one Debian package that ships real recordings (telephone prompts,
music on hold, game sound effects and music, desktop sound themes, drum samples) or one
generator: `espeak-ng` (synthetic speech: many sentences, languages, voices, speeds and
pitches), `fluidsynth` (every General MIDI program and drum kit, played from seeded random
MIDI through the two soundfonts that the debs fluid-soundfont-gm and timgm6mb-soundfont
ship), `signals` (tones, sweeps, DTMF, beeps, clicks and coloured noise from numpy) and
`mixtures` (pairs of clips of different categories mixed at seeded random SNRs). Every
source is in SOURCES below; add one there.

Per file: decoded and resampled by ffmpeg; nearly silent pieces, pieces shorter than
0.5 s, and audio identical to a clip already taken (same PCM after resampling) are
skipped; files longer than 30 s are cut into equal pieces of at most 30 s. A source may be
capped (`max_seconds`) so that a few long albums don't drown the variety; which files are
kept under a cap is fixed by a hash of their paths.

Manifest fields: path (relative to the corpus directory), source, package (Debian package
or `generator:NAME`), license_note (the License: fields of the package's copyright file),
seconds, group (the unit for held-out splits: the source; a file's pieces never straddle
splits), split ("train" or "test"), category (speech, music, drums, sfx, notification,
signal, mixture: for mixing and for looking at results, not a label), origin (the file in
the package, or the generator's parameters) and pcm_sha1.

Held-out split: about 15% of the base sources (at least 2) are "test", chosen by a hash of
their names, one per category first so the test side covers speech, music and effects, and
never the last train source of a category.
Mixtures are made within a split, never across, and get the group `mixtures-<split>`.
Adding or removing a source can move the split (the manifest records it); a source with
pinned_split="train" takes no part in the draw, which is how sources join after a model exists.

Idempotent and resumable: debs already downloaded, packages already extracted and sources
whose entries.jsonl exists are not redone; the manifest is rewritten from the entries each
run. To rebuild one source, delete DIR/corpus/SOURCE/. Deleting a base source's directory
does not rebuild mixtures made from it: delete DIR/corpus/mixtures/ too.

Needs: apt-get, dpkg-deb, ffmpeg, fluidsynth and espeak-ng on PATH
(apt-get install ffmpeg fluidsynth espeak-ng), and mido (training/requirements.txt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import wave
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

SAMPLE_RATE = 16000
MIN_SECONDS = 0.5
MAX_PIECE_SECONDS = 30.0
# A piece whose RMS is below this carries nothing a tagger should learn from.
SILENCE_DBFS = -60.0
TEST_FRACTION = 0.15
MIN_TEST_SOURCES = 2
AUDIO_SUFFIXES = {".wav", ".ogg", ".oga", ".flac", ".mp3", ".opus", ".au", ".gsm", ".wv", ".aif", ".aiff", ".spx"}
# Game data packed as zip archives (Quake 3 style .pk3): their audio members are unpacked too.
ARCHIVE_SUFFIXES = {".pk3"}
REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class Source:
    """One corpus source: a Debian package (`package`) or a generator (`generate`)."""

    name: str
    category: str                      # default category of its files
    package: str | None = None
    generate: Callable[["Context", "Source"], Iterator["Clip"]] | None = None
    max_seconds: float | None = None   # cap on kept audio, None for all of it
    quick: bool = False                # part of the --quick subset
    # "train" keeps a source out of the split draw: sources added after a model was trained go
    # to training, so the held-out set (and every metric measured on it) stays comparable.
    pinned_split: str | None = None


@dataclass
class Clip:
    """A decoded recording before splitting: int16 samples at SAMPLE_RATE."""

    samples: np.ndarray
    origin: str
    category: str
    extra: dict = field(default_factory=dict)  # fields that override or add to its entries


@dataclass
class Context:
    data: Path
    corpus: Path
    quick: bool
    # pcm_sha1 of every clip taken so far, across sources, for deduplication
    seen: set[str] = field(default_factory=set)

    @property
    def debs(self) -> Path:
        return self.data / "debs"

    @property
    def extracted(self) -> Path:
        return self.data / "extracted"


# Path rules that override a package's default category (games mix music, voices and effects).
PATH_CATEGORIES = [
    (re.compile(r"(^|/)(music|Music|musics)(/|$)"), "music"),
    (re.compile(r"(^|/)(voices|speech)(/|$)"), "speech"),
]


def file_category(relpath: str, default: str) -> str:
    for pattern, category in PATH_CATEGORIES:
        if pattern.search(relpath):
            return category
    return default


# ----------------------------------------------------------------------------- pure helpers

def piece_bounds(n_samples: int, max_samples: int) -> list[tuple[int, int]]:
    """Cut n samples into the fewest equal pieces of at most max_samples each."""
    if n_samples <= 0:
        return []
    pieces = math.ceil(n_samples / max_samples)
    edges = [round(i * n_samples / pieces) for i in range(pieces + 1)]
    return list(zip(edges[:-1], edges[1:]))


def split_clip(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[np.ndarray]:
    """Pieces of at most MAX_PIECE_SECONDS; none shorter than MIN_SECONDS or nearly silent."""
    pieces = []
    for start, end in piece_bounds(len(samples), int(MAX_PIECE_SECONDS * sample_rate)):
        piece = samples[start:end]
        if len(piece) >= MIN_SECONDS * sample_rate and not is_silent(piece):
            pieces.append(piece)
    return pieces


def is_silent(samples: np.ndarray) -> bool:
    x = samples.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(x * x))) if len(x) else 0.0
    return rms == 0.0 or 20 * math.log10(rms) < SILENCE_DBFS


def pcm_sha1(samples: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(samples, dtype="<i2").tobytes()).hexdigest()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    tmp.replace(path)


def read_wav(path: Path) -> np.ndarray:
    """int16 samples of a mono 16-bit WAV (the corpus format)."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def safe_name(relpath: str) -> str:
    """A flat file name for a path inside a package: 'usr/share/a/b c.ogg' -> 'a__b_c'."""
    relpath = re.sub(r"^usr/share/(games/)?", "", relpath)  # on nearly every path: noise in names
    stem = relpath.rsplit(".", 1)[0] if "." in Path(relpath).name else relpath
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem.replace("/", "__")).strip("_")


def hash_rank(name: str) -> str:
    """A stable pseudo-random order key, the same on every machine and run."""
    return hashlib.sha1(name.encode()).hexdigest()


def assign_splits(categories: dict[str, str], fraction: float = TEST_FRACTION,
                  minimum: int = MIN_TEST_SOURCES) -> dict[str, str]:
    """{source: category} -> {source: "train"|"test"}.

    round(fraction * n) sources, at least `minimum`, go to test: first one per category,
    categories and sources taken in hash order, then more in hash order. A category's last
    train source never goes, so training sees every category (the only drum-sample package,
    the only signal generator).
    """
    names = sorted(categories, key=hash_rank)
    target = max(minimum, round(fraction * len(names)))
    test: list[str] = []

    def can_go(name: str) -> bool:
        same = [n for n in names if categories[n] == categories[name] and n not in test]
        return len(test) < target and name not in test and len(same) >= 2

    for name in names:
        if can_go(name) and categories[name] not in {categories[t] for t in test}:
            test.append(name)
    for name in names:
        if can_go(name):
            test.append(name)
    return {name: "test" if name in test else "train" for name in categories}


def source_splits(sources: list[Source]) -> dict[str, str]:
    """{source: split}: pinned sources as pinned, the others drawn by assign_splits."""
    drawn = assign_splits({s.name: s.category for s in sources if s.pinned_split is None})
    return drawn | {s.name: s.pinned_split for s in sources if s.pinned_split is not None}


def write_manifest(entries: Iterable[dict], path: Path) -> int:
    """Write entries sorted by path as JSON lines, atomically; returns how many."""
    rows = sorted(entries, key=lambda e: e["path"])
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return len(rows)


def read_jsonl(path: Path) -> list[dict]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def mix_at_snr(foreground: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """foreground + background scaled to snr_db below it, background looped or cut to fit;
    the sum is scaled down only if it would clip. int16 in, int16 out."""
    fg = foreground.astype(np.float64)
    bg = np.resize(background.astype(np.float64), len(fg))  # np.resize repeats to fill
    p_fg, p_bg = np.mean(fg * fg), np.mean(bg * bg)
    if p_bg > 0:
        bg *= math.sqrt(p_fg / (p_bg * 10 ** (snr_db / 10)))
    mix = fg + bg
    peak = np.abs(mix).max()
    if peak > 32000:
        mix *= 32000 / peak
    return np.round(mix).astype(np.int16)


# ----------------------------------------------------------------------------- decoding

def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def decode(path: Path) -> np.ndarray:
    """Any audio file -> int16 mono at SAMPLE_RATE (ffmpeg averages the channels)."""
    out = run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1",
               "-ar", str(SAMPLE_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "-"]).stdout
    return np.frombuffer(out, dtype="<i2")


# ----------------------------------------------------------------------------- Debian packages

def deb_file(ctx: Context, package: str) -> Path:
    """The package's .deb in DIR/debs, downloaded if missing; refuses anything outside main."""
    found = sorted(ctx.debs.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    try:
        show = run(["apt-cache", "show", "--no-all-versions", package]).stdout.decode()
    except subprocess.CalledProcessError:
        raise SystemExit(f"{package}: apt-cache knows no such package (run apt-get update first?)")
    filename = re.search(r"^Filename: (\S+)", show, re.M)
    if not filename or not filename.group(1).startswith("pool/main/"):
        raise SystemExit(f"{package}: not in Debian main ({filename and filename.group(1)})")
    ctx.debs.mkdir(parents=True, exist_ok=True)
    run(["apt-get", "download", "-q", package], cwd=ctx.debs)
    return deb_file(ctx, package)


def extracted_root(ctx: Context, package: str) -> Path:
    root = ctx.extracted / package
    done = root / ".extracted"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        run(["dpkg-deb", "-x", str(deb_file(ctx, package)), str(root)])
        unpack_archives(root)
        done.touch()
    return root


def unpack_archives(root: Path) -> None:
    """Unpack audio members of zip-format game archives into ARCHIVE.d/ beside them."""
    for archive in sorted(p for p in root.rglob("*") if p.suffix.lower() in ARCHIVE_SUFFIXES):
        with zipfile.ZipFile(archive) as z:
            for member in z.namelist():
                if Path(member).suffix.lower() in AUDIO_SUFFIXES and ".." not in member:
                    z.extract(member, archive.with_name(archive.name + ".d"))


def license_note(root: Path, package: str) -> str:
    copyright_file = root / "usr/share/doc" / package / "copyright"
    if copyright_file.exists():
        found = re.findall(r"^License: *(\S.*)$", copyright_file.read_text(errors="replace"), re.M)
        if found:
            return ", ".join(dict.fromkeys(x.strip() for x in found))
    return f"see /usr/share/doc/{package}/copyright"


def package_clips(ctx: Context, source: Source) -> Iterator[Clip]:
    root = extracted_root(ctx, source.package)
    files = [p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()]
    if ctx.quick:
        files = sorted(files, key=hash_rank)[:20]
    for relpath in sorted(files, key=hash_rank):  # hash order: a cap keeps a fair sample
        try:
            samples = decode(root / relpath)
        except subprocess.CalledProcessError as e:
            print(f"  skip {relpath}: {e.stderr.decode(errors='replace').strip()[:200]}", file=sys.stderr)
            continue
        yield Clip(samples, relpath, file_category(relpath, source.category))


# ----------------------------------------------------------------------------- generators

def seeded(name: str, index: int) -> np.random.Generator:
    return np.random.default_rng(int(hash_rank(f"{name}:{index}")[:16], 16))


ENGLISH = {
    "subject": ["The old man", "My sister", "The weather service", "A small dog", "The train to Leeds",
                "Our neighbours", "The committee", "Nobody in the office", "The pilot", "This recipe",
                "The children", "A woman on the radio", "The museum", "Everyone at the station"],
    "verb": ["said that", "reported that", "noticed that", "will announce that", "forgot that",
             "is worried that", "explained that", "just learned that", "keeps saying that"],
    "clause": ["the bridge will be closed until Friday", "the meeting starts at half past nine",
               "it might rain again tomorrow afternoon", "the coffee machine is broken",
               "the last bus leaves at eleven fifteen", "the garden needs water",
               "the results are better than expected", "there are seven apples in the basket",
               "the phone has been ringing all morning", "the parcel arrived yesterday",
               "the music was far too loud", "nobody knows where the keys are"],
    "tail": ["", "", " Please call back later.", " Thank you for waiting.", " Is that right?",
             " Really, I mean it.", " Press one to continue.", " We apologise for the delay."],
}
# A few phrases per language; numbers and times spoken in that language add the rest.
PHRASES = {
    "de": ["Der Zug nach Berlin hat zehn Minuten Verspätung.", "Bitte schließen Sie die Tür.",
           "Das Wetter bleibt morgen sonnig und warm.", "Wir sehen uns am Montag im Büro."],
    "fr-fr": ["Le prochain train partira dans cinq minutes.", "Merci de patienter quelques instants.",
              "Il fait très beau aujourd'hui à Paris.", "Votre appel est important pour nous."],
    "es": ["El vuelo a Madrid sale a las ocho.", "Por favor, deje su mensaje después de la señal.",
           "Mañana vamos a la playa con los niños.", "La tienda está cerrada los domingos."],
    "it": ["Il treno per Roma è in ritardo.", "Grazie per aver chiamato.",
           "Domani andiamo al mercato insieme.", "La cena è pronta sul tavolo."],
    "pt": ["O autocarro chega daqui a pouco.", "Obrigado pela sua paciência.",
           "Hoje está um dia muito bonito.", "A reunião começa às dez horas."],
    "nl": ["De trein naar Amsterdam vertrekt van spoor vijf.", "Dank u wel voor het wachten.",
           "Morgen gaat het regenen.", "De winkel is vandaag gesloten."],
    "pl": ["Pociąg do Krakowa jest opóźniony.", "Dziękujemy za cierpliwość.",
           "Jutro będzie padać deszcz.", "Spotkanie zaczyna się o dziesiątej."],
    "ru": ["Поезд в Москву отправляется через пять минут.", "Спасибо за ваше терпение.",
           "Завтра будет солнечно и тепло.", "Магазин закрыт по воскресеньям."],
    "sv": ["Tåget till Stockholm är försenat.", "Tack för att du väntar.",
           "I morgon blir det regn.", "Mötet börjar klockan tio."],
    "fi": ["Juna Helsinkiin lähtee viiden minuutin kuluttua.", "Kiitos odottamisesta.",
           "Huomenna sataa lunta.", "Kauppa on suljettu sunnuntaisin."],
    "cs": ["Vlak do Prahy má zpoždění.", "Děkujeme za trpělivost.",
           "Zítra bude pršet.", "Schůzka začíná v deset hodin."],
    "tr": ["İstanbul treni beş dakika sonra kalkacak.", "Beklediğiniz için teşekkürler.",
           "Yarın hava güneşli olacak.", "Toplantı saat onda başlıyor."],
}
ENGLISH_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "croak", "whisper",
            "klatt", "klatt3", "Alex", "anika", "Andy", "benjamin", "grandma", "iven", "linda", "Michael"]


def english_sentence(rng: np.random.Generator) -> str:
    pick = lambda key: ENGLISH[key][rng.integers(len(ENGLISH[key]))]  # noqa: E731
    return f"{pick('subject')} {pick('verb')} {pick('clause')}.{pick('tail')}"


def speech_text(rng: np.random.Generator, language: str) -> str:
    sentences = []
    for _ in range(rng.integers(1, 4)):
        if language.startswith("en"):
            sentences.append(english_sentence(rng))
        elif rng.random() < 0.7:
            sentences.append(PHRASES[language][rng.integers(len(PHRASES[language]))])
        else:
            sentences.append(f"{rng.integers(1, 10000)}, {rng.integers(1, 24)}:{rng.integers(0, 60):02d}.")
    return " ".join(sentences)


def espeak_clips(ctx: Context, source: Source) -> Iterator[Clip]:
    languages = ENGLISH_VOICES + list(PHRASES)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(12 if ctx.quick else 700):
            rng = seeded(source.name, i)
            # Half the clips in English: its grammar gives far more distinct sentences.
            language = ENGLISH_VOICES[rng.integers(len(ENGLISH_VOICES))] if rng.random() < 0.5 \
                else languages[rng.integers(len(languages))]
            variant = VARIANTS[rng.integers(len(VARIANTS))]
            speed, pitch = int(rng.integers(110, 230)), int(rng.integers(15, 90))
            text = speech_text(rng, language)
            out = Path(tmp) / "speech.wav"
            run(["espeak-ng", "-v", f"{language}+{variant}", "-s", str(speed), "-p", str(pitch),
                 "-w", str(out), text])
            origin = f"voice={language}+{variant} speed={speed} pitch={pitch} text={text}"
            yield Clip(decode(out), origin, source.category)


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


def signal_clip(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """One synthetic test signal as float in [-1, 1]."""
    t = np.arange(n) / SAMPLE_RATE
    if kind == "sine":
        x = np.sin(2 * np.pi * rng.uniform(100, 5000) * t)
    elif kind == "sweep":
        f0, f1 = rng.uniform(50, 500), rng.uniform(1000, 7500)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1])))
    elif kind == "beeps":
        gate = (t % rng.uniform(0.3, 1.5)) < rng.uniform(0.05, 0.25)
        x = np.sign(np.sin(2 * np.pi * rng.uniform(400, 3000) * t)) * gate * 0.5
    elif kind == "dtmf":
        rows, cols = [697, 770, 852, 941], [1209, 1336, 1477]
        tone = (t % 0.2) < 0.1
        key = (t // 0.2).astype(int)
        fr = np.array(rows)[seeded_digits(rng, key, 4)]
        fc = np.array(cols)[seeded_digits(rng, key, 3)]
        x = 0.5 * (np.sin(2 * np.pi * fr * t) + np.sin(2 * np.pi * fc * t)) * tone
    elif kind == "clicks":
        x = np.zeros(n)
        period = int(rng.uniform(0.1, 1.0) * SAMPLE_RATE)
        x[::period] = 1.0
        x = np.convolve(x, np.exp(-np.arange(200) / 20.0) * rng.standard_normal(200), mode="same")
    else:  # white, pink or brown noise: white noise with a 1/f^alpha power slope
        alpha = {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind]
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
        spectrum[1:] /= f[1:] ** (alpha / 2)
        spectrum[0] = 0
        x = np.fft.irfft(spectrum, n)
    return x / max(np.abs(x).max(), 1e-9)


def seeded_digits(rng: np.random.Generator, key: np.ndarray, count: int) -> np.ndarray:
    table = rng.integers(0, count, size=int(key.max()) + 1)
    return table[key]


SIGNAL_KINDS = ["sine", "sweep", "beeps", "dtmf", "clicks", "white", "pink", "brown"]


def signal_clips(ctx: Context, source: Source) -> Iterator[Clip]:
    for i in range(16 if ctx.quick else 240):
        rng = seeded(source.name, i)
        kind = SIGNAL_KINDS[i % len(SIGNAL_KINDS)]
        seconds = float(rng.uniform(2, 10))
        level = 10 ** (rng.uniform(-30, -3) / 20)
        x = signal_clip(rng, kind, int(seconds * SAMPLE_RATE)) * level
        yield Clip(np.round(x * 32767).astype(np.int16), f"{kind} seconds={seconds:.1f} level={level:.3f}",
                   source.category)


MIXTURES = 300
MIX_SECONDS = 10.0
SNR_RANGE_DB = (-5.0, 20.0)


def mixture_clips(ctx: Context, source: Source, base: list[dict]) -> Iterator[Clip]:
    """Pairs from different categories within one split, never across splits."""
    count = 20 if ctx.quick else MIXTURES
    for split in ("train", "test"):
        pool = [e for e in base if e["split"] == split]
        if len({e["category"] for e in pool}) < 2:
            continue
        share = TEST_FRACTION if split == "test" else 1 - TEST_FRACTION
        for i in range(round(count * share)):
            rng = seeded(f"{source.name}:{split}", i)
            a = pool[rng.integers(len(pool))]
            b = pool[rng.integers(len(pool))]
            while b["category"] == a["category"]:
                b = pool[rng.integers(len(pool))]
            fg = read_wav(ctx.corpus / a["path"])[: int(MIX_SECONDS * SAMPLE_RATE)]
            bg = read_wav(ctx.corpus / b["path"])
            snr = float(rng.uniform(*SNR_RANGE_DB))
            yield Clip(mix_at_snr(fg, bg, snr), f"{a['path']} + {b['path']} @ {snr:.1f} dB", source.category,
                       {"split": split, "group": f"mixtures-{split}",
                        "components": [a["path"], b["path"]], "snr_db": round(snr, 2)})


def mixtures_stale(mixtures: list[dict], base: list[dict]) -> bool:
    """True when a mixture's components are no longer all in the mixture's split."""
    split_of = {e["path"]: e["split"] for e in base}
    return any(split_of.get(path) != m["split"] for m in mixtures for path in m["components"])


# ----------------------------------------------------------------------------- the table

SOURCES = [
    # speech: telephone prompts in five languages and two community prompt sets
    Source("asterisk-core-sounds-en-wav", "speech", package="asterisk-core-sounds-en-wav"),
    Source("asterisk-core-sounds-es-wav", "speech", package="asterisk-core-sounds-es-wav"),
    Source("asterisk-core-sounds-fr-wav", "speech", package="asterisk-core-sounds-fr-wav"),
    Source("asterisk-core-sounds-it-wav", "speech", package="asterisk-core-sounds-it-wav"),
    Source("asterisk-core-sounds-ru-wav", "speech", package="asterisk-core-sounds-ru-wav"),
    Source("asterisk-prompt-es-co", "speech", package="asterisk-prompt-es-co", quick=True),
    Source("asterisk-prompt-fr-armelle", "speech", package="asterisk-prompt-fr-armelle"),
    Source("ktuberling-data", "speech", package="ktuberling-data"),     # spoken words, 26 languages
    Source("gcin-voice", "speech", package="gcin-voice", max_seconds=1800),  # Mandarin syllables
    # music
    Source("asterisk-moh-opsound-wav", "music", package="asterisk-moh-opsound-wav"),
    Source("asc-music", "music", package="asc-music"),
    Source("drascula-music", "music", package="drascula-music", max_seconds=3600),
    Source("wesnoth-1.16-music", "music", package="wesnoth-1.16-music", max_seconds=3600),
    Source("frozen-bubble-data", "sfx", package="frozen-bubble-data"),
    # game sound effects (their music and voice folders get those categories)
    Source("bzflag-data", "sfx", package="bzflag-data"),
    Source("chromium-bsu-data", "sfx", package="chromium-bsu-data"),
    Source("colobot-common-sounds", "sfx", package="colobot-common-sounds"),
    Source("extremetuxracer-data", "sfx", package="extremetuxracer-data"),
    Source("hedgewars-data", "sfx", package="hedgewars-data"),
    Source("heroes-sound-effects", "sfx", package="heroes-sound-effects", quick=True),
    Source("minetest-data", "sfx", package="minetest-data"),
    Source("openarena-data", "sfx", package="openarena-data"),
    Source("pingus-data", "sfx", package="pingus-data"),
    Source("supertux-data", "sfx", package="supertux-data"),
    Source("teeworlds-data", "sfx", package="teeworlds-data"),
    Source("tuxtype-data", "sfx", package="tuxtype-data"),
    # added for the second model (animals, farm and craft work, weapons, magic, city noise)
    Source("widelands-data", "sfx", package="widelands-data", max_seconds=3600, pinned_split="train"),
    Source("megaglest-data", "sfx", package="megaglest-data", max_seconds=3600, pinned_split="train"),
    Source("wesnoth-1.16-data", "sfx", package="wesnoth-1.16-data", pinned_split="train"),
    Source("lincity-ng-data", "sfx", package="lincity-ng-data", pinned_split="train"),
    Source("tuxpaint-data", "sfx", package="tuxpaint-data", pinned_split="train"),
    # drum and instrument samples
    Source("hydrogen-drumkits", "drums", package="hydrogen-drumkits"),
    Source("hydrogen-drumkits-effects", "music", package="hydrogen-drumkits-effects"),
    # desktop sound themes: bells, chimes, ringtones
    Source("sound-theme-freedesktop", "notification", package="sound-theme-freedesktop", quick=True),
    Source("gnome-audio", "notification", package="gnome-audio"),
    Source("oxygen-sounds", "notification", package="oxygen-sounds"),
    Source("deepin-sound-theme", "notification", package="deepin-sound-theme"),
    Source("lomiri-sounds", "notification", package="lomiri-sounds"),
    Source("eiskaltdcpp-sounds", "notification", package="eiskaltdcpp-sounds"),
    # generators
    Source("espeak-ng", "speech", generate=espeak_clips, quick=True),
    Source("fluidsynth", "music", generate=fluidsynth_clips, quick=True),
    Source("signals", "signal", generate=signal_clips, quick=True),
]
MIXTURE_SOURCE = Source("mixtures", "mixture", quick=True)


def license_for(ctx: Context, source: Source) -> str:
    if source.package:
        return license_note(extracted_root(ctx, source.package), source.package)
    return {"espeak-ng": "generated with espeak-ng (GPL-3+); the output is not covered",
            "fluidsynth": "rendered with fluidsynth from FluidR3 GM (MIT) and TimGM6mb (GPL-2) soundfonts",
            "signals": "generated (numpy)"}[source.name]


# ----------------------------------------------------------------------------- building

def build_source(ctx: Context, source: Source, clips: Iterable[Clip], note: str) -> list[dict]:
    """Split, deduplicate and write one source's clips; entries.jsonl last (the done marker)."""
    out_dir = ctx.corpus / source.name
    shutil.rmtree(out_dir, ignore_errors=True)  # a half-built source is rebuilt from scratch
    out_dir.mkdir(parents=True)
    package = source.package or f"generator:{source.name}"
    entries, kept_seconds = [], 0.0
    for index, clip in enumerate(clips):
        if source.max_seconds and kept_seconds >= source.max_seconds:
            break
        pieces = split_clip(clip.samples)
        base = safe_name(clip.origin) if source.package else f"{index:05d}"
        for p, piece in enumerate(pieces):
            digest = pcm_sha1(piece)
            if digest in ctx.seen:
                continue
            ctx.seen.add(digest)
            name = base if len(pieces) == 1 else f"{base}_p{p:02d}"
            path = out_dir / f"{name}.wav"
            if path.exists():  # two package paths that differ only in characters safe_name drops
                path = out_dir / f"{name}-{digest[:8]}.wav"
            write_wav(path, piece)
            seconds = len(piece) / SAMPLE_RATE
            kept_seconds += seconds
            entry = {"path": path.relative_to(ctx.corpus).as_posix(), "source": source.name,
                     "package": package, "license_note": note, "seconds": round(seconds, 3),
                     "group": source.name, "category": clip.category, "origin": clip.origin,
                     "pcm_sha1": digest}
            entries.append(entry | clip.extra)
    tmp = out_dir / "entries.tmp"
    with tmp.open("w") as f:
        for entry in entries:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    tmp.replace(out_dir / "entries.jsonl")
    return entries


def source_entries(ctx: Context, source: Source, clips: Callable[[], Iterable[Clip]],
                   note: Callable[[], str]) -> list[dict]:
    done = ctx.corpus / source.name / "entries.jsonl"
    if done.exists():
        entries = read_jsonl(done)
        print(f"{source.name}: done already ({len(entries)} files)")
    else:
        print(f"{source.name}: building", flush=True)
        entries = build_source(ctx, source, clips(), note())
    ctx.seen.update(e["pcm_sha1"] for e in entries)
    return entries


def build(ctx: Context, only: set[str] | None) -> list[dict]:
    sources = [s for s in SOURCES if (s.quick or not ctx.quick) and (not only or s.name in only)]
    base: list[dict] = []
    for source in sources:
        make = (lambda s=source: package_clips(ctx, s)) if source.package \
            else (lambda s=source: s.generate(ctx, s))
        base += source_entries(ctx, source, make, lambda s=source: license_for(ctx, s))
    splits = source_splits(sources)
    for entry in base:
        entry["split"] = splits[entry["source"]]
    if only and MIXTURE_SOURCE.name not in only:
        return base
    done = ctx.corpus / MIXTURE_SOURCE.name / "entries.jsonl"
    if done.exists() and mixtures_stale(read_jsonl(done), base):
        print("mixtures: a component moved to the other split or is gone; rebuilding")
        done.unlink()
    mixtures = source_entries(
        ctx, MIXTURE_SOURCE, lambda: mixture_clips(ctx, MIXTURE_SOURCE, base),
        lambda: "mixed from the corpus clips named in components; their licenses apply")
    return base + mixtures


def summary(entries: list[dict]) -> str:
    rows: dict[str, list] = {}
    for e in entries:
        row = rows.setdefault(e["source"], [0, 0.0, e["split"] if e["source"] != "mixtures" else "both"])
        row[0] += 1
        row[1] += e["seconds"]
    width = max(len(s) for s in rows) if rows else 6
    lines = [f"{'source':<{width}}  {'files':>6}  {'hours':>6}  split"]
    for name, (files, seconds, split) in sorted(rows.items()):
        lines.append(f"{name:<{width}}  {files:>6}  {seconds / 3600:>6.2f}  {split}")
    total = sum(e["seconds"] for e in entries)
    test = sum(e["seconds"] for e in entries if e["split"] == "test")
    lines.append(f"{'total':<{width}}  {len(entries):>6}  {total / 3600:>6.2f}  "
                 f"({len(rows)} sources, test {test / 3600:.2f} h)")
    return "\n".join(lines)


def check_tools() -> None:
    missing = [t for t in ("apt-get", "dpkg-deb", "ffmpeg", "fluidsynth", "espeak-ng") if not shutil.which(t)]
    if missing:
        raise SystemExit(f"missing {' '.join(missing)}: apt-get install ffmpeg fluidsynth espeak-ng")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO / "data", help="data directory (default: data/)")
    parser.add_argument("--quick", action="store_true", help="a small subset in DATA/corpus-quick (smoke test)")
    parser.add_argument("--only", help="comma-separated source names to build (manifest then holds just them)")
    args = parser.parse_args(argv)
    check_tools()
    ctx = Context(args.data, args.data / ("corpus-quick" if args.quick else "corpus"), args.quick)
    ctx.corpus.mkdir(parents=True, exist_ok=True)
    entries = build(ctx, set(args.only.split(",")) if args.only else None)
    count = write_manifest(entries, ctx.corpus / "manifest.jsonl")
    print(f"\n{count} clips in {ctx.corpus / 'manifest.jsonl'}\n")
    print(summary(entries))


if __name__ == "__main__":
    main()
