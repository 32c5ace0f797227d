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
ship), `signals` (tones, sweeps, DTMF, beeps, clicks and coloured noise from numpy),
`mixtures` (pairs of clips of different categories mixed at seeded random SNRs) and `scenes`
(what a real microphone hears, mast_tagger/corpus/scenes.py: an event clip, i.e. an effect,
notification, drum or music clip, named by its file name about half the time, at a random time
over an ambience clip, i.e. any base clip of at least 6 s, at 0-20 dB SNR over the event's
active part, 6-10 s long; then, each by chance, a synthetic room reverb (exponentially decaying
noise after a direct path, RT60 0.2-1 s) and one device filter (telephone 300-3400 Hz band-pass,
small speaker: high-pass near 500 Hz and soft clipping, or muffled: low-pass at 800-2000 Hz);
at a random peak level of -20 to 0 dBFS; 1200 of them, about 2.7 h, seeded per index). Every
source is in SOURCES in mast_tagger/corpus/sources.py; add one there.

Per file: decoded and resampled by ffmpeg; nearly silent pieces, pieces shorter than
0.5 s, and audio identical to a clip already taken (same PCM after resampling) are
skipped; files longer than 30 s are cut into equal pieces of at most 30 s. A source may be
capped (`max_seconds`) so that a few long albums don't drown the variety; which files are
kept under a cap is fixed by a hash of their paths.

Manifest fields: path (relative to the corpus directory), source, package (Debian package
or `generator:NAME`), license_note (the License: fields of the package's copyright file),
seconds, group (the unit for held-out splits: the source; a file's pieces never straddle
splits), split ("train" or "test"), category (speech, music, drums, sfx, notification,
signal, mixture, scene: for mixing and for looking at results, not a label), origin (the
file in the package, or the generator's parameters) and pcm_sha1. Mixtures and scenes also
have components (the clips mixed; a scene's event first, then its ambience) and snr_db; a
scene has event_at_s, event_seconds, ambience_at_s, peak_dbfs, and what was applied of
room_rt60 and room_drr_db, filter (with filter_hz, drive), and its event's named_classes.

Held-out split: about 15% of the base sources (at least 2) are "test", chosen by a hash of
their names, one per category first so the test side covers speech, music and effects, and
never the last train source of a category.
Mixtures are made within a split, never across, and get the group `mixtures-<split>`.
Scenes are made from training clips only (after the names and the yardstick's exclusions, so
never from a yardstick recording or a copy of one), get the group `scenes-train` and the
split "train"; the test split keeps the plain mixtures.
Adding or removing a source can move the split (the manifest records it); a source with
pinned_split="train" takes no part in the draw, which is how sources join after a model exists.

Idempotent and resumable: debs already downloaded, packages already extracted and sources
whose entries.jsonl exists are not redone; the manifest is rewritten from the entries each
run. To rebuild one source, delete DIR/corpus/SOURCE/. Mixtures and scenes are rebuilt when
one of their components moves split or is gone; rebuilding a base source under the same paths
does not rebuild them: delete DIR/corpus/mixtures/ and DIR/corpus/scenes/ too.

Needs: apt-get, dpkg-deb, ffmpeg, fluidsynth and espeak-ng on PATH
(apt-get install ffmpeg fluidsynth espeak-ng), and mido (training/requirements.txt).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mast_tagger.corpus.build import build
from mast_tagger.corpus.core import Context, check_tools, summary, write_manifest

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO / "data", help="data directory (default: data/)")
    parser.add_argument("--quick", action="store_true", help="a small subset in DATA/corpus-quick (smoke test)")
    parser.add_argument("--only", help="comma-separated source names to build (manifest then holds just them)")
    parser.add_argument("--built-only", action="store_true",
                        help="build nothing: write the manifest of the sources built so far (splits as in the full "
                             "corpus), to label and train on them while a build goes on")
    args = parser.parse_args(argv)
    check_tools()
    ctx = Context(args.data, args.data / ("corpus-quick" if args.quick else "corpus"), args.quick,
                  built_only=args.built_only)
    ctx.corpus.mkdir(parents=True, exist_ok=True)
    entries = build(ctx, set(args.only.split(",")) if args.only else None)
    count = write_manifest(entries, ctx.corpus / "manifest.jsonl")
    print(f"\n{count} clips in {ctx.corpus / 'manifest.jsonl'}\n")
    print(summary(entries))
    if ctx.unbuilt:
        print(f"not built yet, left out: {', '.join(ctx.unbuilt)}")
    for name, count in sorted(ctx.unreadable.items()):
        print(f"{name}: {count} recordings ffmpeg could not read were skipped")
    if ctx.failed:
        print(f"\n{len(ctx.failed)} sources could not be built (the others were):", file=sys.stderr)
        for name, why in sorted(ctx.failed.items()):
            print(f"  {why}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
