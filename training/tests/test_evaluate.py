"""The agreement metrics the distilled model is judged by."""

import numpy as np

from evaluate import agreement_metrics, average_precision, teacher_labels


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
