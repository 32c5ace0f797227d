"""The agreement metrics the distilled model is judged by."""

import numpy as np

from mast_tagger.metrics import agreement_metrics, average_precision, cluster_bootstrap_ci, teacher_labels


def test_average_precision_of_perfect_and_reversed_rankings():
    positives = np.array([0, 1, 0, 1, 1], bool)
    assert average_precision(np.array([0.1, 0.9, 0.2, 0.8, 0.7]), positives) == 1.0
    # Reversed: hits at ranks 3, 4, 5 -> (1/3 + 2/4 + 3/5) / 3.
    assert np.isclose(average_precision(np.array([0.9, 0.1, 0.8, 0.2, 0.3]), positives), (1 / 3 + 2 / 4 + 3 / 5) / 3)


def test_teacher_labels_always_include_the_top_class():
    teacher = np.array([[0.2, 0.4, 0.1], [0.9, 0.6, 0.1]])
    assert teacher_labels(teacher).tolist() == [[False, True, False], [True, True, False]]


def test_a_student_equal_to_its_teacher_agrees_fully_and_a_shuffled_one_does_not():
    rng = np.random.default_rng(0)
    teacher = rng.random((200, 6)) ** 3
    same = agreement_metrics(teacher, teacher)
    # Not quite 1: a row's top class counts as positive even below 0.5, where other rows outrank it.
    assert same["top1_agreement"] == 1.0 and same["map"] > 0.95
    shuffled = agreement_metrics(teacher[rng.permutation(200)], teacher)
    assert shuffled["top1_agreement"] < 0.5 and shuffled["map"] < 0.6
    assert set(same["per_class_ap"]) == set(range(6))


def test_the_delayed_teacher_reference_lines_up_with_the_cached_labels():
    from mast_tagger.metrics import delayed_teacher_scores
    from mast_tagger.teacher import Teacher

    teacher = Teacher()
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 4) / 16000
    clip = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    labels = teacher.scores(clip)  # what `teacher.py label` caches
    assert np.array_equal(delayed_teacher_scores(teacher, clip, len(labels), delay=0), labels)
    delayed = delayed_teacher_scores(teacher, clip, len(labels))
    assert delayed.shape == labels.shape and not np.array_equal(delayed, labels)
    # 10 ms late, patch i still hears what it heard, the same top class (but the last patch, which
    # holds the clip's end and its zero padding: the delay moves that end)
    assert (delayed.argmax(axis=1) == labels.argmax(axis=1))[:-1].all()


def test_the_bootstrap_interval_draws_whole_recordings():
    # 40 recordings of 50 windows each: half wholly agreed with, half not at all.
    values = np.repeat([1.0, 0.0] * 20, 50)
    recordings = np.repeat(np.arange(40), 50)
    low, high = cluster_bootstrap_ci(values, recordings)
    assert low < 0.5 < high
    # Recordings are the unit: about ±1.96·0.5/√40 = ±0.15, where 2,000 independent windows
    # would give ±0.02.
    assert 0.2 < high - low < 0.4
    assert cluster_bootstrap_ci(values, np.arange(len(values)))[1] - cluster_bootstrap_ci(values, np.arange(len(values)))[0] < 0.06
    assert cluster_bootstrap_ci(values, recordings) == [low, high], "the same seed, the same interval"
    assert cluster_bootstrap_ci(np.full(100, 0.75), np.arange(100) // 10) == [0.75, 0.75]


def test_agreement_has_an_interval_when_the_windows_recordings_are_known():
    rng = np.random.default_rng(3)
    teacher = rng.random((200, 6))
    student = teacher.copy()
    student[:100] = student[:100, ::-1]  # the first five recordings' windows mostly disagree
    recordings = np.arange(200) // 20
    metrics = agreement_metrics(student, teacher, recordings)
    low, high = metrics["top1_agreement_ci95"]
    assert low <= metrics["top1_agreement"] <= high and high - low > 0.2
    assert "top1_agreement_ci95" not in agreement_metrics(student, teacher)
