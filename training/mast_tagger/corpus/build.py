"""Building the whole corpus: every source of the table in turn (one that can't be had is named
and skipped), the split, the mixtures, then the names and the yardstick's exclusions (named.py),
then the scenes (scenes.py) from the training clips that are left."""

from __future__ import annotations

from .core import Context, Source, read_jsonl, source_entries, source_splits
from .mixtures import mixture_clips, mixtures_stale
from .named import annotate, exclude_mixed
from .packages import PackageUnavailable, package_clips
from .scenes import carry_named, scene_clips
from .sources import MIXTURE_SOURCE, SCENE_SOURCE, SOURCES, license_for


def build(ctx: Context, only: set[str] | None) -> list[dict]:
    sources = [s for s in SOURCES if (s.quick or not ctx.quick) and (not only or s.name in only)]
    base: list[dict] = []
    # Sources pinned to training first: they are the ones added since a model was trained, so an
    # interrupted build has them first.
    for source in sorted(sources, key=lambda s: s.pinned_split is None):
        make = (lambda s=source: package_clips(ctx, s)) if source.package \
            else (lambda s=source: s.generate(ctx, s))
        try:
            base += source_entries(ctx, source, make, lambda s=source: license_for(ctx, s))
        except PackageUnavailable as e:
            print(f"{source.name}: not built: {e}", flush=True)
            ctx.failed[source.name] = str(e)
    splits = source_splits(sources)
    for entry in base:
        entry["split"] = splits[entry["source"]]
    if only and MIXTURE_SOURCE.name not in only:
        annotate(ctx, base)
        return base
    mixtures = mixed_entries(ctx, MIXTURE_SOURCE, base, lambda: mixture_clips(ctx, MIXTURE_SOURCE, base))
    annotate(ctx, base + mixtures)
    if only and SCENE_SOURCE.name not in only:
        return base + mixtures
    return base + mixtures + scenes(ctx, base)


def scenes(ctx: Context, base: list[dict]) -> list[dict]:
    """The scenes, made after annotate so that they draw on the training clips as it left them:
    named, and with the yardstick's recordings and their copies out."""
    entries = mixed_entries(ctx, SCENE_SOURCE, base, lambda: scene_clips(ctx, SCENE_SOURCE, base))
    carry_named(entries, base)
    exclude_mixed(entries, {e["path"]: e["split"] for e in base})
    return entries


def mixed_entries(ctx: Context, source: Source, base: list[dict], clips) -> list[dict]:
    """A source mixed from base clips (mixtures, scenes): rebuilt when a component has moved
    split or is gone (not in a --built-only run, whose base is partial)."""
    done = ctx.corpus / source.name / "entries.jsonl"
    if done.exists() and not ctx.built_only and mixtures_stale(read_jsonl(done), base):
        print(f"{source.name}: a component moved split or is gone; rebuilding")
        done.unlink()
    return source_entries(ctx, source, clips,
                          lambda: "mixed from the corpus clips named in components; their licenses apply")
