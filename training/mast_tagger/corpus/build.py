"""Building the whole corpus: every source of the table in turn, the split, then the mixtures."""

from __future__ import annotations

from .core import Context, read_jsonl, source_entries, source_splits
from .mixtures import mixture_clips, mixtures_stale
from .packages import package_clips
from .sources import MIXTURE_SOURCE, SOURCES, license_for


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
