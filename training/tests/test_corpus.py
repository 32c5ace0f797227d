"""build_corpus's pure parts on tiny generated audio: no downloads, no external tools."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest

import mast_tagger.corpus as C

RATE = C.SAMPLE_RATE


def tone(seconds: float, level: float = 0.3, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.round(level * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.mark.parametrize("n, max_n, expected", [
    (0, 10, []), (5, 10, [(0, 5)]), (10, 10, [(0, 10)]), (11, 10, [(0, 6), (6, 11)]), (30, 10, [(0, 10), (10, 20), (20, 30)]),
])
def test_piece_bounds(n, max_n, expected):
    assert C.piece_bounds(n, max_n) == expected


def test_long_file_splits_into_equal_pieces_of_at_most_30_s():
    pieces = C.split_clip(tone(61))
    assert len(pieces) == 3 and max(len(p) for p in pieces) - min(len(p) for p in pieces) <= 1
    assert sum(len(p) for p in pieces) == 61 * RATE


def test_short_and_silent_clips_are_dropped():
    assert C.split_clip(tone(0.49)) == []
    assert len(C.split_clip(tone(0.5))) == 1
    assert C.split_clip(np.zeros(RATE * 2, dtype=np.int16)) == []
    assert C.split_clip(tone(2, level=1e-4)) == []      # -83 dBFS RMS


def test_wav_round_trip(tmp_path):
    x = tone(1.25)
    C.write_wav(tmp_path / "a" / "x.wav", x)
    np.testing.assert_array_equal(C.read_wav(tmp_path / "a" / "x.wav"), x)


def test_safe_name():
    assert C.safe_name("usr/share/games/foo/Sound FX/bang!.ogg") == "foo__Sound_FX__bang"
    assert C.safe_name("usr/share/sounds/x.y/a.wav") == "sounds__x.y__a"


def test_file_category_follows_music_and_voice_folders():
    assert C.file_category("usr/share/games/x/music/a.ogg", "sfx") == "music"
    assert C.file_category("Data/Sounds/voices/Default/a.ogg", "sfx") == "speech"
    assert C.file_category("usr/share/games/x/sounds/musical.ogg", "sfx") == "sfx"


def test_mix_at_snr_reaches_the_snr_and_keeps_the_foreground_length():
    fg, bg = tone(2, 0.1, 440), tone(0.7, 0.2, 3000)
    mix = C.mix_at_snr(fg, bg, 6.0)
    assert len(mix) == len(fg) and mix.dtype == np.int16
    residual = mix.astype(float) - fg
    snr = 10 * math.log10(np.mean(fg.astype(float) ** 2) / np.mean(residual ** 2))
    assert abs(snr - 6.0) < 0.1


def test_mix_never_clips():
    mix = C.mix_at_snr(tone(1, 0.99), tone(1, 0.99, 1000), -5.0)
    assert np.abs(mix.astype(int)).max() <= 32000


def test_manifest_is_sorted_json_lines(tmp_path):
    entries = [{"path": "b/1.wav", "seconds": 1.0}, {"path": "a/2.wav", "seconds": 2.5}]
    path = tmp_path / "manifest.jsonl"
    assert C.write_manifest(entries, path) == 2
    assert [json.loads(line)["path"] for line in path.read_text().splitlines()] == ["a/2.wav", "b/1.wav"]
    assert C.read_jsonl(path)[1] == entries[0]


def test_splits_are_deterministic_per_source_and_cover_categories():
    categories = {f"speech-{i}": "speech" for i in range(8)} | {f"music-{i}": "music" for i in range(6)} \
        | {f"sfx-{i}": "sfx" for i in range(6)}
    splits = C.assign_splits(categories)
    assert splits == C.assign_splits(dict(reversed(list(categories.items()))))
    test = [s for s, split in splits.items() if split == "test"]
    assert len(test) == round(0.15 * 20)
    assert {categories[s] for s in test} == {"speech", "music", "sfx"}


@pytest.mark.parametrize("n, tests", [(1, 0), (2, 1), (3, 2), (5, 2), (40, 6)])
def test_split_has_at_least_two_test_sources_but_keeps_one_train(n, tests):
    splits = C.assign_splits({f"s{i}": "x" for i in range(n)})
    assert list(splits.values()).count("test") == tests


def test_pinned_sources_join_training_without_moving_the_held_out_set():
    drawn = [C.Source(f"s{i}", ["speech", "music", "sfx"][i % 3]) for i in range(20)]
    before = C.source_splits(drawn)
    pinned = [C.Source(f"new{i}", "sfx", pinned_split="train") for i in range(10)]
    after = C.source_splits(drawn + pinned)
    assert {n: after[n] for n in before} == before
    assert all(after[s.name] == "train" for s in pinned)
    unpinned = C.source_splits(drawn + [C.Source(s.name, s.category) for s in pinned])
    assert unpinned != after  # without the pin, ten more sources would move the draw


def test_a_categorys_only_source_stays_in_train():
    categories = {f"speech-{i}": "speech" for i in range(12)} | {"drums": "drums", "signals": "signal"}
    splits = C.assign_splits(categories)
    assert splits["drums"] == splits["signals"] == "train"
    assert list(splits.values()).count("test") == 2


def test_mixtures_are_stale_when_a_component_changes_split_or_vanishes():
    base = [{"path": "a.wav", "split": "train"}, {"path": "b.wav", "split": "train"}]
    mixture = {"split": "train", "components": ["a.wav", "b.wav"]}
    assert not C.mixtures_stale([mixture], base)
    assert C.mixtures_stale([mixture], [base[0], {"path": "b.wav", "split": "test"}])
    assert C.mixtures_stale([mixture], base[:1])


def test_build_source_groups_pieces_and_drops_duplicates(tmp_path):
    """A generator's clips become wavs plus entries.jsonl; pieces of one file share its group."""
    ctx = C.Context(tmp_path, tmp_path / "corpus", quick=False)
    source = C.Source("gen", "signal")
    clips = [C.Clip(tone(65), "long", "signal"), C.Clip(tone(1), "short", "signal"),
             C.Clip(tone(1), "duplicate of short", "signal"), C.Clip(tone(0.2), "too short", "signal")]
    entries = C.build_source(ctx, source, clips, "test note")
    assert [e["path"] for e in entries] == ["gen/00000_p00.wav", "gen/00000_p01.wav", "gen/00000_p02.wav",
                                            "gen/00001.wav"]
    assert {e["group"] for e in entries} == {"gen"} and {e["package"] for e in entries} == {"generator:gen"}
    assert all(e["seconds"] <= C.MAX_PIECE_SECONDS for e in entries)
    assert C.read_jsonl(ctx.corpus / "gen" / "entries.jsonl") == entries
    for e in entries:
        assert abs(len(C.read_wav(ctx.corpus / e["path"])) - e["seconds"] * RATE) <= RATE * 0.0005  # ms precision


def test_built_only_lists_what_is_built_and_builds_nothing(tmp_path):
    from mast_tagger.corpus.core import source_entries

    ctx = C.Context(tmp_path, tmp_path / "corpus", quick=False, built_only=True)
    built = C.Source("built", "sfx", package="built")
    C.build_source(ctx, built, [C.Clip(tone(2.0), "a.wav", "sfx")], "note")
    asked = []
    assert len(source_entries(ctx, built, lambda: asked.append("built") or [], lambda: "note")) == 1
    assert source_entries(ctx, C.Source("later", "sfx", package="later"), lambda: asked.append("later") or [],
                          lambda: "note") == []
    assert asked == [] and ctx.unbuilt == ["later"] and not (ctx.corpus / "later").exists()


def test_decoded_ahead_keeps_the_order_and_reports_unreadable_files(tmp_path):
    from mast_tagger.corpus.packages import decoded_ahead

    names = []
    for i in range(12):
        C.write_wav(tmp_path / f"{i}.wav", tone(0.6 + 0.05 * i))
        names.append(f"{i}.wav")
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    out = list(decoded_ahead(tmp_path, names[:5] + ["bad.wav"] + names[5:]))
    assert len(out) == 13 and isinstance(out[5], subprocess.CalledProcessError)
    lengths = [len(x) for x in out[:5] + out[6:]]
    assert lengths == [len(tone(0.6 + 0.05 * i)) for i in range(12)]
