"""read_clips's file-level hold-out (--hold-out-files): which recordings of the training sources
it keeps from training, and what happens to the mixtures made from them."""

from __future__ import annotations

import json

import pytest

from mast_tagger.distill_data import EXCLUDED, HELD_OUT_FILES, file_is_held_out, read_clips
from mast_tagger.tones_model import CONFIG
from mast_tagger.model import build_model
from mast_tagger.model_file import load_model, placeholder_classes, save_model


def write_corpus(tmp_path, rows: list[dict]):
    corpus, cache = tmp_path / "corpus", tmp_path / "teacher"
    corpus.mkdir()
    cache.mkdir()
    (corpus / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (cache / "index.jsonl").write_text("".join(json.dumps({"path": r["path"], "key": f"k{i}", "patches": 2}) + "\n"
                                               for i, r in enumerate(rows)))
    return corpus, cache


def recordings(source: str, split: str, count: int, pieces: int = 2) -> list[dict]:
    return [{"path": f"{source}/r{n}_p{p}.wav", "source": source, "split": split, "origin": f"sounds/r{n}.ogg"}
            for n in range(count) for p in range(pieces)]


def test_held_out_recordings_keep_their_pieces_together_and_spare_the_test_sources(tmp_path):
    rows = recordings("game", "train", 200) + recordings("phone", "test", 20)
    corpus, cache = write_corpus(tmp_path, rows)

    split = {c.path: c.split for c in read_clips(corpus, cache, hold_out_files=0.25)}

    by_recording: dict[str, set[str]] = {}
    for row in rows:
        by_recording.setdefault(f"{row['source']}/{row['origin']}", set()).add(split[row["path"]])
    assert all(len(splits) == 1 for splits in by_recording.values())  # pieces never straddle
    game = [s.pop() for r, s in by_recording.items() if r.startswith("game/")]
    assert 0.15 < game.count(HELD_OUT_FILES) / len(game) < 0.35
    assert set(game) == {"train", HELD_OUT_FILES}
    assert {split[r["path"]] for r in rows if r["source"] == "phone"} == {"test"}
    assert {c.split for c in read_clips(corpus, cache)} == {"train", "test"}  # no hold-out by default


def test_a_training_mixture_of_a_held_out_recording_is_excluded(tmp_path):
    base = recordings("game", "train", 40, pieces=1)
    held = next(r for r in base if file_is_held_out("game", r["origin"], 0.3))
    kept = next(r for r in base if not file_is_held_out("game", r["origin"], 0.3))
    mixtures = [{"path": "mixtures/0.wav", "source": "mixtures", "split": "train", "origin": "a + b",
                 "components": [kept["path"], held["path"]]},
                {"path": "mixtures/1.wav", "source": "mixtures", "split": "train", "origin": "a + c",
                 "components": [kept["path"]]}]
    corpus, cache = write_corpus(tmp_path, base + mixtures)

    split = {c.path: c.split for c in read_clips(corpus, cache, hold_out_files=0.3)}

    assert split[held["path"]] == HELD_OUT_FILES
    assert split["mixtures/0.wav"] == EXCLUDED
    assert split["mixtures/1.wav"] == "train"


def test_the_model_file_records_the_held_out_fraction(tmp_path):
    model = build_model(CONFIG)
    save_model(model, CONFIG, tmp_path / "a.safetensors", placeholder_classes(CONFIG.num_classes), held_out_files=0.15)
    save_model(model, CONFIG, tmp_path / "b.safetensors", placeholder_classes(CONFIG.num_classes))
    assert load_model(tmp_path / "a.safetensors")[1]["held_out_files"] == 0.15
    assert "held_out_files" not in load_model(tmp_path / "b.safetensors")[1]


def test_named_training_clips_get_their_classes_and_parents_as_positives(tmp_path):
    import numpy as np

    from mast_tagger.distill_data import DistillationWindows, named_positives
    from mast_tagger.audio import write_wav

    rows = [{"path": "game/cow.wav", "source": "game", "split": "train", "origin": "sounds/cow.ogg",
             "named_classes": ["Moo"]},
            {"path": "game/wind.wav", "source": "game", "split": "train", "origin": "sounds/wind.ogg"}]
    corpus, cache = write_corpus(tmp_path, rows)
    names = ["Speech", "Moo", "Cattle, bovinae", "Animal"]
    teacher = np.array([[0.9, 0.02, 0.01, 0.1], [0.8, 0.0, 0.0, 0.3]], dtype=np.float32)
    for i, row in enumerate(rows):
        np.save(cache / f"k{i}.npy", teacher)
        write_wav(corpus / row["path"], (np.random.default_rng(i).standard_normal(16000) * 3000).astype(np.int16))
    clips = read_clips(corpus, cache)
    assert [c.named for c in clips] == [("Moo",), ()]
    positives = named_positives(clips, names, {"Moo": ("Cattle, bovinae", "Animal")})
    data = DistillationWindows(corpus, cache, tmp_path / "features", clips, 100, -4.27, 4.57, positives)

    _, cow = data[0]
    assert cow.tolist() == pytest.approx([0.9, 1.0, 1.0, 1.0])   # the teacher's Speech stays
    _, wind = data[2]
    assert wind.tolist() == pytest.approx(teacher[0].tolist())   # an unnamed clip: the teacher's alone
    assert data.class_of_items().tolist() == [1, 1, 0, 0]        # balanced by the named class


def test_a_scenes_named_positives_cover_only_the_windows_of_its_event(tmp_path):
    import numpy as np

    from mast_tagger.distill_data import DistillationWindows, named_positives
    from mast_tagger.audio import write_wav

    rows = [{"path": "scenes/0.wav", "source": "scenes", "split": "train", "origin": "", "components": [],
             "named_classes": ["Moo"], "event_at_s": 2.0, "event_seconds": 1.0}]
    corpus, cache = write_corpus(tmp_path, rows)
    np.save(cache / "k0.npy", np.zeros((12, 2), dtype=np.float32))
    (cache / "index.jsonl").write_text(json.dumps({"path": "scenes/0.wav", "key": "k0", "patches": 12}) + "\n")
    write_wav(corpus / "scenes/0.wav", (np.random.default_rng(0).standard_normal(6 * 16000) * 3000).astype(np.int16))
    clips = read_clips(corpus, cache)
    data = DistillationWindows(corpus, cache, tmp_path / "features", clips, 100, -4.27, 4.57,
                               named_positives(clips, ["Speech", "Moo"], {}))
    named = [bool(data[i][1][1] == 1.0) for i in range(12)]
    # window i spans [0.48 i, 0.48 i + 1.0) s: windows 3..6 overlap the event's [2, 3) s
    assert named == [i in (3, 4, 5, 6) for i in range(12)]


def test_windows_the_teacher_hears_as_silence_are_not_named(tmp_path):
    import numpy as np

    from mast_tagger.audio import write_wav
    from mast_tagger.distill_data import DistillationWindows, named_positives

    rows = [{"path": "fluidsynth/0.wav", "source": "fluidsynth", "split": "train", "origin": "program=0",
             "named_classes": ["Piano"]}]
    corpus, cache = write_corpus(tmp_path, rows)
    names = ["Silence", "Piano", "Music"]
    # A tune, then its silent tail: the teacher hears Silence in the last two windows.
    teacher = np.array([[0.0, 0.8, 0.9], [0.1, 0.7, 0.8], [0.9, 0.0, 0.1], [0.97, 0.0, 0.0]], dtype=np.float32)
    np.save(cache / "k0.npy", teacher)
    (cache / "index.jsonl").write_text(json.dumps({"path": "fluidsynth/0.wav", "key": "k0", "patches": 4}) + "\n")
    write_wav(corpus / "fluidsynth/0.wav", (np.random.default_rng(0).standard_normal(3 * 16000) * 3000).astype(np.int16))
    clips = read_clips(corpus, cache)
    positives = named_positives(clips, names, {"Piano": ("Music",)})
    data = DistillationWindows(corpus, cache, tmp_path / "features", clips, 100, -4.27, 4.57, positives, silence=0)
    targets = [data[i][1].tolist() for i in range(4)]
    assert targets[0] == pytest.approx([0.0, 1.0, 1.0]) and targets[1] == pytest.approx([0.1, 1.0, 1.0])
    assert targets[2] == pytest.approx(teacher[2].tolist()) and targets[3] == pytest.approx(teacher[3].tolist())
    assert data.class_of_items().tolist() == [1, 1, 0, 0]
