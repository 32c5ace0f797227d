"""Reading Qt's binary resource files (.rcc, what `rcc -binary` writes; GCompris packs its
activities' images and sounds in them), to get at the audio inside.

The format (versions 1 to 3), all numbers big-endian:
  header   "qres", version (4 bytes), tree offset, data offset, names offset (4 bytes each);
           version 3 adds the overall flags (4 bytes: 0x01 some member is zlib-compressed,
           0x04 some member is zstd-compressed).
  tree     fixed-size nodes, 14 bytes (version 1) or 22 (2 and up: + 8-byte modification time);
           node 0 is the root directory. Each node: name offset (4), flags (2; 0x01 zlib,
           0x02 directory, 0x04 zstd), then for a directory the child count (4) and the index of
           its first child (4, children are contiguous), for a file the territory (2), language (2)
           and data offset (4).
  names    at names offset + name offset: length in UTF-16 units (2), hash (4), UTF-16BE text.
  data     at data offset + a file's data offset: length (4) then that many bytes; a zlib member's
           bytes start with its uncompressed size (4) followed by a zlib stream, a zstd member's
           bytes are one zstd frame.

Everything read from the file is checked against its size; a malformed file raises
RccError naming the file.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"qres"
HEADER_SIZE = 20  # magic + version + three offsets; version 3 adds 4 bytes of flags
FLAG_ZLIB = 0x01
FLAG_DIRECTORY = 0x02
FLAG_ZSTD = 0x04
AUDIO_SUFFIXES = (".wav", ".ogg", ".mp3", ".flac", ".oga", ".opus")
# No member is allowed to claim to unpack to more than this (a zip-bomb guard; GCompris's largest
# file is a few MB).
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64


class RccError(ValueError):
    """A file that is not a well-formed Qt resource file."""


@dataclass(frozen=True)
class RccMember:
    path: str          # "dir/sub/name.ogg", no leading slash
    flags: int
    data_offset: int   # absolute offset of the member's length field


class RccFile:
    """One .rcc file's table of contents; read(member) gives a member's bytes."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.blob = self.path.read_bytes()
        self._parse_header()
        self.members = self._walk()

    def _fail(self, why: str) -> RccError:
        return RccError(f"{self.path}: not a valid Qt resource file: {why}")

    def _u(self, fmt: str, offset: int, what: str) -> int:
        size = struct.calcsize(fmt)
        if offset < 0 or offset + size > len(self.blob):
            raise self._fail(f"{what} at byte {offset} lies past the end ({len(self.blob)} bytes)")
        return struct.unpack_from(fmt, self.blob, offset)[0]

    def _parse_header(self) -> None:
        if len(self.blob) < HEADER_SIZE or self.blob[:4] != MAGIC:
            raise self._fail("no 'qres' header")
        self.version = self._u(">I", 4, "version")
        if self.version not in (1, 2, 3):
            raise self._fail(f"unknown format version {self.version}")
        self.tree = self._u(">I", 8, "tree offset")
        self.data = self._u(">I", 12, "data offset")
        self.names = self._u(">I", 16, "names offset")
        self.overall_flags = self._u(">I", 20, "overall flags") if self.version >= 3 else 0
        for name, offset in (("tree", self.tree), ("data", self.data), ("names", self.names)):
            if offset >= len(self.blob):
                raise self._fail(f"{name} offset {offset} lies past the end ({len(self.blob)} bytes)")
        self.node_size = 14 if self.version == 1 else 22
        # No node lies past the end of the file: that bounds the node count and the child indices.
        self.max_nodes = (len(self.blob) - self.tree) // self.node_size
        if self.max_nodes < 1:
            raise self._fail("no room for the root node")

    def _node(self, index: int) -> int:
        if not 0 <= index < self.max_nodes:
            raise self._fail(f"tree node {index} lies past the end")
        return self.tree + index * self.node_size

    def _name(self, node: int) -> str:
        offset = self.names + self._u(">I", node, "name offset")
        length = self._u(">H", offset, "name length")
        start = offset + 6
        end = start + 2 * length
        if end > len(self.blob):
            raise self._fail(f"name at byte {offset} runs past the end")
        name = self.blob[start:end].decode("utf-16-be", errors="replace")
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
            raise self._fail(f"unsafe member name {name!r}")
        return name

    def _walk(self) -> list[RccMember]:
        members: list[RccMember] = []
        seen: set[int] = set()
        stack = [(0, "", 0)]  # (node index, parent path, depth)
        while stack:
            index, parent, depth = stack.pop()
            if index in seen:
                raise self._fail(f"tree node {index} is reached twice (a loop)")
            seen.add(index)
            node = self._node(index)
            flags = self._u(">H", node + 4, "flags")
            path = "" if index == 0 else (parent + "/" if parent else "") + self._name(node)
            if flags & FLAG_DIRECTORY:
                if depth >= MAX_DEPTH:
                    raise self._fail(f"directories nested deeper than {MAX_DEPTH}")
                count = self._u(">I", node + 6, "child count")
                first = self._u(">I", node + 10, "first child")
                if first + count > self.max_nodes:
                    raise self._fail(f"{path or '/'}: children {first}..{first + count} lie past the end")
                stack.extend((child, path, depth + 1) for child in reversed(range(first, first + count)))
            elif index == 0:
                raise self._fail("the root node is not a directory")
            else:
                offset = self.data + self._u(">I", node + 10, "data offset")
                members.append(RccMember(path, flags, offset))
        return members

    def read(self, member: RccMember) -> bytes:
        size = self._u(">I", member.data_offset, f"{member.path}: data length")
        start = member.data_offset + 4
        if start + size > len(self.blob):
            raise self._fail(f"{member.path}: {size} bytes of data at byte {start} run past the end")
        raw = self.blob[start:start + size]
        if member.flags & FLAG_ZSTD:
            try:
                import zstandard  # only needed for zstd members; GCompris's files have none
            except ImportError:
                raise self._fail(f"{member.path} is zstd-compressed and the zstandard module is missing")
            try:
                return zstandard.ZstdDecompressor().decompress(raw, max_output_size=MAX_MEMBER_BYTES)
            except zstandard.ZstdError as e:
                raise self._fail(f"{member.path}: zstd data does not decompress: {e}")
        if member.flags & FLAG_ZLIB:
            if size < 4:
                raise self._fail(f"{member.path}: compressed data shorter than its size field")
            expected = struct.unpack_from(">I", raw, 0)[0]
            if expected > MAX_MEMBER_BYTES:
                raise self._fail(f"{member.path}: claims {expected} bytes uncompressed")
            d = zlib.decompressobj()
            try:
                out = d.decompress(raw[4:], expected + 1)
            except zlib.error as e:
                raise self._fail(f"{member.path}: zlib data does not decompress: {e}")
            if len(out) != expected or not d.eof:
                raise self._fail(f"{member.path}: zlib data gives {len(out)}{'+' if not d.eof else ''} bytes, "
                                 f"not the {expected} it claims")
            return out
        return raw


def audio_members(rcc: Path | str) -> list[str]:
    """Paths of the audio members (by suffix) of a .rcc file."""
    return [m.path for m in RccFile(rcc).members if m.path.lower().endswith(AUDIO_SUFFIXES)]


def extract_audio(rcc: Path | str, dest: Path | str) -> list[Path]:
    """Write the audio members of a .rcc file under dest (dest/<member path>); returns the files.
    Everything is read and checked before anything is written."""
    f = RccFile(rcc)
    dest = Path(dest)
    found = [(m, f.read(m)) for m in f.members if m.path.lower().endswith(AUDIO_SUFFIXES)]
    written = []
    for member, data in found:
        out = dest / member.path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        written.append(out)
    return written
