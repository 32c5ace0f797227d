"""The Qt resource (.rcc) reader on files written byte by byte here."""

import struct
import zlib

import pytest

from mast_tagger.corpus import packages
from mast_tagger.corpus.qt_resources import RccError, RccFile, audio_members, extract_audio

PLAIN = b"RIFF....WAVEfmt plain member bytes"
PACKED = b"OggS" + bytes(range(256)) * 8  # compresses well


def rcc_bytes(version: int = 3) -> bytes:
    """root/ a.wav (plain), notes.txt, sounds/ deep/ b.ogg (zlib)."""
    names = b""
    name_at = {}
    for name in ("a.wav", "notes.txt", "sounds", "deep", "b.ogg"):
        name_at[name] = len(names)
        text = name.encode("utf-16-be")
        names += struct.pack(">HI", len(name), 0) + text  # the hash is not checked by readers
    data = b""
    data_at = {}
    for key, payload in (("a.wav", PLAIN), ("notes.txt", b"not audio"),
                         ("b.ogg", struct.pack(">I", len(PACKED)) + zlib.compress(PACKED))):
        data_at[key] = len(data)
        data += struct.pack(">I", len(payload)) + payload
    modified = b"\0" * 8 if version >= 2 else b""

    def directory(name_offset, count, first):
        return struct.pack(">IHII", name_offset, 0x02, count, first) + modified

    def file(name, flags):
        return struct.pack(">IHHHI", name_at[name], flags, 0, 0, data_at[name]) + modified

    tree = b"".join([
        directory(0, 3, 1),                          # 0: root
        file("a.wav", 0),                            # 1
        file("notes.txt", 0),                        # 2
        directory(name_at["sounds"], 1, 4),          # 3: sounds/
        directory(name_at["deep"], 1, 5),            # 4: sounds/deep/
        file("b.ogg", 0x01),                         # 5: zlib
    ])
    header_size = 24 if version >= 3 else 20
    tree_at = header_size
    data_off = tree_at + len(tree)
    names_off = data_off + len(data)
    header = b"qres" + struct.pack(">IIII", version, tree_at, data_off, names_off)
    if version >= 3:
        header += struct.pack(">I", 0x01)
    return header + tree + data + names


@pytest.mark.parametrize("version", [1, 2, 3])
def test_extracts_exact_bytes_and_paths(tmp_path, version):
    rcc = tmp_path / "game.rcc"
    rcc.write_bytes(rcc_bytes(version))
    assert sorted(m.path for m in RccFile(rcc).members) == ["a.wav", "notes.txt", "sounds/deep/b.ogg"]
    assert sorted(audio_members(rcc)) == ["a.wav", "sounds/deep/b.ogg"]
    out = tmp_path / "game.rcc.d"
    written = extract_audio(rcc, out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == ["a.wav", "sounds/deep/b.ogg"]
    assert (out / "a.wav").read_bytes() == PLAIN
    assert (out / "sounds/deep/b.ogg").read_bytes() == PACKED
    assert not (out / "notes.txt").exists()


def test_unpack_archives_unpacks_rcc_beside_it(tmp_path):
    rcc = tmp_path / "usr/share/game/rcc/game.rcc"
    rcc.parent.mkdir(parents=True)
    rcc.write_bytes(rcc_bytes())
    packages.unpack_archives(tmp_path)
    assert (tmp_path / "usr/share/game/rcc/game.rcc.d/sounds/deep/b.ogg").read_bytes() == PACKED


@pytest.mark.parametrize("cut", [3, 10, 30, 60, -40, -3])
def test_truncated_file_is_a_clear_error(tmp_path, cut):
    rcc = tmp_path / "cut.rcc"
    rcc.write_bytes(rcc_bytes()[:cut])
    with pytest.raises(RccError, match="cut.rcc"):
        extract_audio(rcc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_offset_past_the_end_is_a_clear_error(tmp_path):
    blob = bytearray(rcc_bytes())
    tree_at = struct.unpack_from(">I", blob, 8)[0]
    # b.ogg's data offset (node 5, bytes 10..14 of it) points far past the end
    struct.pack_into(">I", blob, tree_at + 5 * 22 + 10, 0x7FFFFFF0)
    rcc = tmp_path / "bad.rcc"
    rcc.write_bytes(bytes(blob))
    with pytest.raises(RccError, match="bad.rcc.*past the end"):
        extract_audio(rcc, tmp_path / "out")


def test_huge_sizes_and_loops_are_clear_errors(tmp_path):
    tree_at = 24
    # a data length of 4 GB
    blob = bytearray(rcc_bytes())
    data_off = struct.unpack_from(">I", blob, 12)[0]
    struct.pack_into(">I", blob, data_off, 0xFFFFFFFF)
    (tmp_path / "long.rcc").write_bytes(bytes(blob))
    with pytest.raises(RccError, match="long.rcc.*past the end"):
        extract_audio(tmp_path / "long.rcc", tmp_path / "out")
    # a directory whose child is the root again
    blob = bytearray(rcc_bytes())
    struct.pack_into(">I", blob, tree_at + 4 * 22 + 10, 0)
    (tmp_path / "loop.rcc").write_bytes(bytes(blob))
    with pytest.raises(RccError, match="loop.rcc.*loop"):
        RccFile(tmp_path / "loop.rcc")
    # not a resource file at all
    (tmp_path / "text.rcc").write_bytes(b"hello, world, this is text")
    with pytest.raises(RccError, match="text.rcc.*qres"):
        RccFile(tmp_path / "text.rcc")
