"""Corpus sources from Debian packages: download the .deb (main only), unpack it, decode
every audio file in it (and in its zip-format game archives and Qt resource files)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np

from ..audio import decode
from .core import Clip, Context, Source, hash_rank, run
from .qt_resources import RccError, extract_audio

AUDIO_SUFFIXES = {".wav", ".ogg", ".oga", ".flac", ".mp3", ".opus", ".au", ".gsm", ".wv", ".aif", ".aiff", ".spx"}
# Game data packed as zip archives (Quake 3 style .pk3, 0 A.D.'s public.zip): their audio members
# are unpacked too.
ARCHIVE_SUFFIXES = {".pk3", ".zip"}
# Qt resource files (GCompris packs each activity's images and sounds in one): their audio members
# are unpacked the same way (corpus/qt_resources.py).
QT_RESOURCE_SUFFIX = ".rcc"


# Path rules that override a package's default category (games mix music, voices and effects).
PATH_CATEGORIES = [
    (re.compile(r"(^|/)(music|Music|musics)(/|$)"), "music"),
    (re.compile(r"(^|/)(voices?|speech)(/|$)"), "speech"),
]


def file_category(relpath: str, default: str) -> str:
    for pattern, category in PATH_CATEGORIES:
        if pattern.search(relpath):
            return category
    return default


class PackageUnavailable(Exception):
    """A package that can't be had or unpacked: the build names it and goes on with the others."""


def deb_file(ctx: Context, package: str) -> Path:
    """The package's .deb in DIR/debs, downloaded if missing; refuses anything outside main."""
    found = sorted(ctx.debs.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    try:
        show = run(["apt-cache", "show", "--no-all-versions", package]).stdout.decode()
    except subprocess.CalledProcessError:
        raise PackageUnavailable(f"{package}: apt-cache knows no such package (run apt-get update first?)")
    filename = re.search(r"^Filename: (\S+)", show, re.M)
    if not filename or not filename.group(1).startswith("pool/main/"):
        raise PackageUnavailable(f"{package}: not in Debian main ({filename and filename.group(1)})")
    ctx.debs.mkdir(parents=True, exist_ok=True)
    try:
        run(["apt-get", "download", "-q", package], cwd=ctx.debs)
    except subprocess.CalledProcessError as e:
        raise PackageUnavailable(f"{package}: apt-get download failed: {e.stderr.decode(errors='replace').strip()[:200]}")
    return deb_file(ctx, package)


def extracted_root(ctx: Context, package: str) -> Path:
    root = ctx.extracted / package
    done = root / ".extracted"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        deb = deb_file(ctx, package)
        try:
            run(["dpkg-deb", "-x", str(deb), str(root)])
            unpack_archives(root)
        except (subprocess.CalledProcessError, zipfile.BadZipFile, RccError) as e:
            detail = e.stderr.decode(errors="replace").strip()[:200] if isinstance(e, subprocess.CalledProcessError) else e
            raise PackageUnavailable(f"{package}: {deb.name} does not unpack: {detail}")
        done.touch()
    return root


def unpack_archives(root: Path) -> None:
    """Unpack audio members of zip-format game archives into ARCHIVE.d/ and of Qt resource files
    into FILE.rcc.d/ beside them."""
    for rcc in sorted(p for p in root.rglob("*") if p.suffix.lower() == QT_RESOURCE_SUFFIX and p.is_file()):
        extract_audio(rcc, rcc.with_name(rcc.name + ".d"))
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
    if source.skip:
        files = [f for f in files if not re.search(source.skip, f)]
    if ctx.quick:
        files = sorted(files, key=hash_rank)[:20]
    order = sorted(files, key=hash_rank)  # hash order: a cap keeps a fair sample
    for relpath, decoded in zip(order, decoded_ahead(root, order)):
        if isinstance(decoded, subprocess.CalledProcessError):
            print(f"  skip {relpath}: {decoded.stderr.decode(errors='replace').strip()[:200]}", file=sys.stderr)
            ctx.unreadable[source.name] = ctx.unreadable.get(source.name, 0) + 1
            continue
        yield Clip(decoded, relpath, file_category(relpath, source.category))


DECODERS = 2      # ffmpeg processes at once: most files are short, so start-up dominates
LOOKAHEAD = 8     # files decoded ahead of the one being written (a capped source stops early)


def decoded_ahead(root: Path, relpaths: list[str]) -> Iterator[np.ndarray | subprocess.CalledProcessError]:
    """Each file's samples (or ffmpeg's error), in order, decoded by DECODERS processes at most
    LOOKAHEAD files ahead of the consumer."""
    def attempt(relpath: str):
        try:
            return decode(root / relpath)
        except subprocess.CalledProcessError as e:
            return e

    with ThreadPoolExecutor(DECODERS) as pool:
        pending = deque(pool.submit(attempt, r) for r in relpaths[:LOOKAHEAD])
        following = iter(relpaths[LOOKAHEAD:])
        while pending:
            result = pending.popleft().result()
            nxt = next(following, None)
            if nxt is not None:
                pending.append(pool.submit(attempt, nxt))
            yield result
