"""Near-duplicate detection: copies found through resampling, trimming and embedding; others not."""

import numpy as np
from scipy.signal import resample_poly

from mast_tagger.fingerprint import FingerprintIndex, bit_error, words

RATE = 16000


def chirpy_sound(seed: int, seconds: float = 1.5) -> np.ndarray:
    """A made-up call, different for each seed: 80 overlapping tone bursts (300-3000 Hz, 30-150 ms) at random
    times and levels."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * RATE))
    for _ in range(80):
        n = int(rng.uniform(0.03, 0.15) * RATE)
        at = int(rng.integers(0, len(x) - n))
        t = np.arange(n) / RATE
        x[at:at + n] += rng.uniform(0.2, 1) * np.sin(2 * np.pi * rng.uniform(300, 3000) * t) * np.hanning(n)
    return (x / np.abs(x).max() * 12000).astype(np.int16)


def test_a_resampled_trimmed_copy_is_found_and_other_sounds_are_not():
    originals = [chirpy_sound(s) for s in range(20)]
    index = FingerprintIndex([words(x) for x in originals])
    copy = resample_poly(originals[7][2000:].astype(np.float64), 22050, RATE)   # trimmed, to 22.05 kHz ...
    copy = resample_poly(copy, RATE, 22050) * 0.5                                # ... and back, quieter
    found = index.copies_of(words(copy))
    assert [r for r, _ in found] == [7] and found[0][1] < 0.2
    assert index.copies_of(words(chirpy_sound(99))) == []


def test_a_sound_inside_a_longer_noisy_recording_is_found():
    sound = chirpy_sound(3)
    scene = (np.random.default_rng(5).standard_normal(10 * RATE) * 60).astype(np.int16)
    scene[40000:40000 + len(sound)] += sound
    index = FingerprintIndex([words(scene), words(chirpy_sound(4))])
    assert [r for r, _ in index.copies_of(words(sound))] == [0]


def test_bit_error_of_identical_and_inverted_words():
    w = words(chirpy_sound(1))
    heard = int((w != 0).sum())
    assert 0 < heard and bit_error(w, w, 0) == (0.0, heard)
    assert bit_error(w, np.where(w != 0, ~w, 0), 0)[0] == 1.0
    assert bit_error(w, w, len(w)) == (1.0, 0)


def test_silence_is_no_evidence_of_a_copy():
    """Two different sounds padded with the same long digital silence are not copies."""
    pad = np.zeros(5 * RATE, dtype=np.int16)
    a, b = (np.concatenate([pad, chirpy_sound(s), pad]) for s in (11, 12))
    assert (words(a) == 0).sum() > 800
    assert FingerprintIndex([words(a)]).copies_of(words(b)) == []
