"""The distillation audio corpus (training/build_corpus.py is its command line).

core: sources, clips, splits, the manifest, writing one source; packages: Debian package
sources; speech, music, signals: the generators; mixtures: mixed pairs of clips; scenes: events
over ambiences through rooms and devices; sources: the table of sources; build: building them
all. The names below are the pure parts, for tests.
"""

from ..audio import SAMPLE_RATE, read_wav, write_wav
from .core import (MAX_PIECE_SECONDS, MIN_SECONDS, Clip, Context, Source, assign_splits, build_source,
                   piece_bounds, read_jsonl, safe_name, source_splits, split_clip, write_manifest)
from .mixtures import mix_at_snr, mixtures_stale
from .packages import file_category

__all__ = ["SAMPLE_RATE", "read_wav", "write_wav", "MAX_PIECE_SECONDS", "MIN_SECONDS", "Clip", "Context",
           "Source", "assign_splits", "build_source", "piece_bounds", "read_jsonl", "safe_name",
           "source_splits", "split_clip", "write_manifest", "mix_at_snr", "mixtures_stale", "file_category"]
