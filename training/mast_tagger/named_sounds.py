"""Named sounds: real recordings whose file or folder name says what they hold, mapped by hand to
AudioSet classes (training/data/named_sounds.tsv), and the ontology parents of those classes
(training/data/audioset_parents.tsv).

The table serves twice:
- as ground truth that no teacher decided: the yardstick recordings (every mapped file of the
  YARDSTICK_PACKAGES, which the corpus never trains on, and a hashed quarter of the mapped files
  of every other package, which the corpus leaves out) measure how often a model's top-1 / top-5
  classes name the sound;
- as targets: a training recording that the table names is a positive for its classes and their
  parents whatever the teacher says.

Table rows: `package<TAB>glob<TAB>class;class...`; the glob is fnmatch's (`*` also matches `/`)
over the path inside the unpacked package; the first row whose glob matches a file names it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
TABLE = DATA / "named_sounds.tsv"
PARENTS = DATA / "audioset_parents.tsv"

# Never trained on: every mapped recording of these packages is on the yardstick.
YARDSTICK_PACKAGES = frozenset({"qabcs-data", "scratch", "minetest-mod-homedecor", "libreoffice-common"})
# Of the other packages' mapped recordings, this fraction (by a hash of package and path) too.
YARDSTICK_FRACTION = 0.25
AUDIO_SUFFIXES = (".wav", ".ogg", ".oga", ".flac", ".mp3", ".opus", ".au", ".aif", ".aiff")


class TableError(ValueError):
    """A line of a table that cannot be used: names the file and line."""


@dataclass(frozen=True)
class Row:
    line: int
    package: str
    glob: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class NamedRecording:
    package: str
    path: str              # inside the unpacked package
    classes: tuple[str, ...]
    line: int              # the table row that named it


def read_rows(path: Path, class_names: list[str]) -> list[Row]:
    """The table's rows; an unknown class or a malformed line raises TableError naming it."""
    known = set(class_names)
    rows = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            raise TableError(f"{path}:{number}: expected package<TAB>glob<TAB>classes, got {text!r}")
        package, glob, names = (f.strip() for f in fields)
        classes = tuple(c.strip() for c in names.split(";") if c.strip())
        unknown = [c for c in classes if c not in known]
        if unknown:
            raise TableError(f"{path}:{number}: unknown AudioSet class {unknown[0]!r}")
        rows.append(Row(number, package, glob, classes))
    return rows


def read_parents(path: Path, class_names: list[str]) -> dict[str, tuple[str, ...]]:
    """{class: its parents, nearest first}; unknown names raise TableError naming the line."""
    known = set(class_names)
    parents = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        name, _, rest = text.partition("\t")
        chain = tuple(c.strip() for c in rest.split(";") if c.strip())
        unknown = [c for c in (name.strip(), *chain) if c not in known]
        if unknown:
            raise TableError(f"{path}:{number}: unknown AudioSet class {unknown[0]!r}")
        parents[name.strip()] = chain
    return parents


def audio_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def name_package(rows: list[Row], package: str, files: list[str]) -> dict[str, NamedRecording]:
    """{path: NamedRecording} for the package's files that a row names (the first row that matches)."""
    own = [r for r in rows if r.package == package]
    named = {}
    for path in files:
        for row in own:
            if fnmatch.fnmatchcase(path, row.glob):
                named[path] = NamedRecording(package, path, row.classes, row.line)
                break
    return named


def unmatched_rows(rows: list[Row], package: str, files: list[str]) -> list[Row]:
    """The package's rows whose glob matches none of its files (a stale or mistyped line)."""
    return [r for r in rows if r.package == package and not any(fnmatch.fnmatchcase(f, r.glob) for f in files)]


def on_yardstick(package: str, path: str) -> bool:
    """Whether a named recording is kept for measuring (never trained on)."""
    if package in YARDSTICK_PACKAGES:
        return True
    rank = int(hashlib.sha1(f"{package}/{path}".encode()).hexdigest()[:8], 16) / 2**32
    return rank < YARDSTICK_FRACTION


def description(path: str) -> str:
    """What a recording's name says, as words: 'audio/actor/fauna/cattle/Cow_Moo2.ogg' ->
    'actor fauna cattle cow moo 2' (the last three folders and the file's stem, camel case and
    digits split, common packaging folders dropped)."""
    parts = [p for p in Path(path).with_suffix("").parts if p.lower() not in _PACKAGING_FOLDERS]
    words = []
    for part in parts[-4:]:
        part = re.sub(r"([a-z])([A-Z])", r"\1 \2", part)
        part = re.sub(r"([A-Za-z])(\d)", r"\1 \2", part)
        words += [w.lower() for w in re.split(r"[^A-Za-z0-9]+", part) if w]
    return " ".join(words)


_PACKAGING_FOLDERS = {"usr", "share", "games", "sounds", "sound", "audio", "data", "media", "sfx", "snd",
                      "public.zip.d", "mods", "public"}


def expand(classes: tuple[str, ...], parents: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The classes and all their parents, without repeats, in order."""
    out = list(classes)
    for c in classes:
        out += parents.get(c, ())
    return tuple(dict.fromkeys(out))
