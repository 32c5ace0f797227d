"""The scenes source's pure parts (mast_tagger.corpus.scenes) on tiny generated audio: the room's
impulse response, the device filters, the event over the ambience at an SNR, the level, and the
generator over a made-up corpus. No downloads, no external tools."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mast_tagger.audio import write_wav
from mast_tagger.corpus import scenes as S
from mast_tagger.corpus.core import Context, Source, seeded
from mast_tagger.corpus.mixtures import mixtures_stale
from mast_tagger.corpus.named import EXCLUDED, exclude_mixed

RATE = 16000


def tone(seconds: float, freq: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * freq * t)


def db(x: float) -> float:
    return 10 * math.log10(x)


@pytest.mark.parametrize("rt60", [0.2, 0.5, 1.0])
def test_reverb_ir_has_a_direct_path_and_decays_60_db_at_rt60(rt60):
    ir = S.reverb_ir(np.random.default_rng(0), rt60, drr_db=3.0)
    assert ir[0] == 1.0 and np.abs(ir[1:]).max() < 1.0
    tail = ir[1:] ** 2
    assert abs(db(1.0 / tail.sum()) - 3.0) < 1e-6          # direct over reverberant energy
    window = int(0.02 * RATE)
    at_rt60 = int(rt60 * RATE)
    early = tail[:window].mean()
    late = tail[at_rt60: at_rt60 + window].mean()          # the same window rt60 later
    assert 57 < db(early / late) < 63


def gain_db(kind: str, freq: float) -> float:
    x = tone(1.0, freq)
    y, _ = S.device_filter(x, kind, np.random.default_rng(1))
    half = len(x) // 2                                       # past the filter's settling
    return db(np.mean(y[half:] ** 2) / np.mean(x[half:] ** 2))


def test_telephone_band_pass_keeps_1_khz_and_removes_100_hz_and_6_khz():
    assert abs(gain_db("telephone", 1000)) < 1.0
    assert gain_db("telephone", 100) < -20
    assert gain_db("telephone", 6000) < -20


def test_muffled_low_pass_keeps_lows_and_removes_highs():
    assert abs(gain_db("muffled", 200)) < 1.0
    assert gain_db("muffled", 6000) < -25


def test_small_speaker_removes_lows_and_soft_clips():
    assert gain_db("small-speaker", 100) < -20
    x = tone(1.0, 2000, level=0.5)
    y, params = S.device_filter(x, "small-speaker", np.random.default_rng(1))
    assert 400 <= params["filter_hz"] <= 700 and params["drive"] >= 1.5
    # soft clipping flattens the sine: its crest factor falls below a sine's sqrt(2)
    steady = y[len(y) // 2:]
    assert np.abs(steady).max() / math.sqrt(np.mean(steady ** 2)) < 1.35


def test_unknown_filter_is_an_error():
    with pytest.raises(ValueError):
        S.device_filter(tone(0.1, 440), "walkie-talkie", np.random.default_rng(0))


@pytest.mark.parametrize("snr_db", [0.0, 7.5, 20.0])
def test_event_over_ambience_reaches_the_snr_over_the_events_active_part(snr_db):
    rng = np.random.default_rng(3)
    ambience = rng.standard_normal(8 * RATE) * 3000
    burst = tone(0.5, 1000, level=0.2) * 32767
    event = np.concatenate([np.zeros(RATE), burst, np.zeros(RATE)])   # padded with silence
    at = 2 * RATE
    mix = S.mix_event(event.astype(np.int16), ambience.astype(np.int16), at, snr_db)
    assert len(mix) == len(ambience)
    placed = np.zeros(len(mix))
    placed[at: at + len(event)] = event.astype(np.int16)
    rest = mix - placed                                      # the scaled ambience
    span = slice(at + RATE, at + RATE + len(burst))          # where the event sounds
    measured = db(np.mean(placed[span] ** 2) / np.mean(rest[span] ** 2))
    assert abs(measured - snr_db) < 0.5


def test_an_event_longer_than_the_room_left_is_cut():
    mix = S.mix_event((tone(3, 500) * 10000).astype(np.int16), np.ones(2 * RATE, np.int16), RATE, 10.0)
    assert len(mix) == 2 * RATE


def test_to_peak_sets_the_level_and_never_clips():
    x = np.random.default_rng(0).standard_normal(RATE) * 1e6
    for peak_dbfs in (-20.0, -6.0, 0.0, 3.0):
        y = S.to_peak(x, peak_dbfs)
        assert y.dtype == np.int16
        assert abs(20 * math.log10(np.abs(y.astype(float)).max() / 32767) - min(peak_dbfs, 0.0)) < 0.01
    assert not S.to_peak(np.zeros(10), -3.0).any()


def scene(seed: int):
    rng = np.random.default_rng(7)
    event = (tone(1.5, 800) * 20000).astype(np.int16)
    ambience = (rng.standard_normal(12 * RATE) * 20000).clip(-32768, 32767).astype(np.int16)
    return S.render_scene(seeded("scenes-test", seed), event, ambience, 8.0, 5.0)


def test_scenes_are_the_same_bytes_for_the_same_seed_and_never_clip():
    kinds = set()
    for seed in range(30):
        samples, applied = scene(seed)
        again, applied_again = scene(seed)
        assert samples.tobytes() == again.tobytes() and applied == applied_again
        assert len(samples) == 8 * RATE and samples.dtype == np.int16
        peak = np.abs(samples.astype(float)).max()
        assert peak <= 32767 and abs(20 * math.log10(peak / 32767) - applied["peak_dbfs"]) < 0.01
        assert -20 <= applied["peak_dbfs"] <= 0
        assert 0 <= applied["event_at_s"] <= 8.0 - 1.5 + 1e-3
        if "room_rt60" in applied:
            assert 0.2 <= applied["room_rt60"] <= 1.0
        kinds.add(applied.get("filter"))
    assert kinds == {None, *S.FILTERS}                       # 30 draws see every filter and none
    assert scene(0)[0].tobytes() != scene(1)[0].tobytes()


def corpus_entry(ctx, path, samples, split, category, **extra):
    write_wav(ctx.corpus / path, samples)
    return {"path": path, "source": path.split("/")[0], "split": split, "category": category,
            "seconds": round(len(samples) / RATE, 3), **extra}


def made_up_corpus(ctx):
    rng = np.random.default_rng(5)

    def noise(seconds):
        return (rng.standard_normal(int(seconds * RATE)) * 3000).astype(np.int16)

    def beep(freq):
        return (tone(1.0, freq) * 30000).astype(np.int16)

    return [
        corpus_entry(ctx, "game/moo.wav", beep(300), "train", "sfx", named_classes=["Moo"]),
        corpus_entry(ctx, "game/bang.wav", beep(900), "train", "sfx"),
        corpus_entry(ctx, "bells/ding.wav", beep(2000), "train", "notification"),
        corpus_entry(ctx, "game/held.wav", beep(400), "yardstick", "sfx", named_classes=["Bark"]),
        corpus_entry(ctx, "testpkg/bell.wav", beep(1500), "test", "notification", named_classes=["Bell"]),
        corpus_entry(ctx, "prompts/hello.wav", noise(1.0), "train", "speech"),
        corpus_entry(ctx, "amb/wind.wav", noise(12), "train", "sfx"),
        corpus_entry(ctx, "amb/rain.wav", noise(9), "train", "sfx"),
        corpus_entry(ctx, "amb/street.wav", noise(12), "test", "sfx"),
        corpus_entry(ctx, "amb/copy.wav", noise(12), "excluded", "sfx"),
        {"path": "mixtures/00000.wav", "source": "mixtures", "split": "train", "category": "mixture",
         "seconds": 10.0, "components": ["game/bang.wav", "amb/wind.wav"]},
    ]


def test_scenes_draw_train_clips_only_and_carry_the_events_named_classes(tmp_path):
    ctx = Context(tmp_path, tmp_path / "corpus", quick=False)
    base = made_up_corpus(ctx)
    source = Source("scenes", "scene")
    S.SCENES, count = 40, S.SCENES
    try:
        clips = list(S.scene_clips(ctx, source, base))
        again = list(S.scene_clips(ctx, source, base))
    finally:
        S.SCENES = count
    assert len(clips) == 40
    train = {e["path"] for e in base if e["split"] == "train" and "components" not in e}
    named_events = 0
    for clip, twin in zip(clips, again):
        assert clip.samples.tobytes() == twin.samples.tobytes() and clip.extra == twin.extra
        event, ambience = clip.extra["components"]
        assert event in train and ambience in train and event != ambience
        assert event != "prompts/hello.wav"                  # speech is no event
        assert ambience in ("amb/wind.wav", "amb/rain.wav")  # long enough
        assert clip.extra["split"] == "train" and clip.extra["group"] == "scenes-train"
        assert 0 <= clip.extra["snr_db"] <= 20
        assert 6.0 <= len(clip.samples) / RATE <= 10.0
        if event == "game/moo.wav":
            assert clip.extra["named_classes"] == ["Moo"]
            named_events += 1
        else:
            assert "named_classes" not in clip.extra
    assert 10 <= named_events <= 30                          # about half prefer the named clip
    entries = [{"path": f"scenes/{i}.wav", "split": "train", **c.extra} for i, c in enumerate(clips)]
    assert not mixtures_stale(entries, base)


def test_speech_is_never_an_event():
    events, named, ambiences = S.scene_pools([
        {"path": "a.wav", "split": "train", "category": "speech", "seconds": 8.0},
        {"path": "b.wav", "split": "train", "category": "music", "seconds": 3.0, "named_classes": ["Piano"]},
        {"path": "c.wav", "split": "train", "category": "mixture", "seconds": 10.0, "components": ["a.wav", "b.wav"]},
    ])
    assert [e["path"] for e in events] == ["b.wav"] and [e["path"] for e in named] == ["b.wav"]
    assert [e["path"] for e in ambiences] == ["a.wav"]


def test_scenes_are_stale_and_excluded_when_a_component_leaves_train():
    base = [{"path": "e.wav", "split": "train"}, {"path": "a.wav", "split": "train"}]
    scenes = [{"path": "scenes/00000.wav", "split": "train", "components": ["e.wav", "a.wav"]}]
    assert not mixtures_stale(scenes, base)
    assert mixtures_stale(scenes, [base[0], {"path": "a.wav", "split": "yardstick"}])
    assert mixtures_stale(scenes, base[:1])
    exclude_mixed(scenes, {"e.wav": "train", "a.wav": "excluded"})
    assert scenes[0]["split"] == EXCLUDED


def test_scenes_follow_their_events_names_as_they_are_now():
    scenes = [{"components": ["e.wav", "a.wav"], "named_classes": ["Moo"]},
              {"components": ["f.wav", "a.wav"]}]
    S.carry_named(scenes, [{"path": "e.wav"}, {"path": "f.wav", "named_classes": ["Bark"]}])
    assert "named_classes" not in scenes[0] and scenes[1]["named_classes"] == ["Bark"]


def test_build_makes_the_scenes_once_and_again_when_a_component_leaves_train(tmp_path):
    from mast_tagger.corpus.build import scenes

    ctx = Context(tmp_path, tmp_path / "corpus", quick=True)
    base = made_up_corpus(ctx)
    first = scenes(ctx, base)
    assert len(first) == S.QUICK_SCENES
    assert {e["source"] for e in first} == {"scenes"} and {e["split"] for e in first} == {"train"}
    assert all(e["category"] == "scene" and (ctx.corpus / e["path"]).exists() for e in first)
    stamp = (ctx.corpus / "scenes" / "entries.jsonl").stat().st_mtime_ns
    assert scenes(Context(tmp_path, tmp_path / "corpus", quick=True), base) == first
    assert (ctx.corpus / "scenes" / "entries.jsonl").stat().st_mtime_ns == stamp     # cached
    used = first[0]["components"][1]
    moved = [dict(e, split="excluded") if e["path"] == used else e for e in base]
    rebuilt = scenes(Context(tmp_path, tmp_path / "corpus", quick=True), moved)
    assert rebuilt and all(used not in e["components"] for e in rebuilt)
