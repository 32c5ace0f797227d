"""train.py's pieces: --init (fine-tuning from a model file), --balance (sampling rare classes more
often), --hold-out-files and --loss logit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mast_tagger.tones_model import CONFIG
from mast_tagger.model import build_model
from mast_tagger.model_file import placeholder_classes, save_model
from mast_tagger.training import balanced_sampler, copy_matching_weights, datasets, logit_matching_loss


def test_matching_tensors_are_copied_and_a_head_for_other_classes_starts_fresh(tmp_path):
    torch.manual_seed(0)
    trained = build_model(CONFIG).init_weights()
    path = tmp_path / "trained.safetensors"
    save_model(trained, CONFIG, path, placeholder_classes(CONFIG.num_classes))

    other_classes = dataclasses.replace(CONFIG, num_classes=CONFIG.num_classes + 2)
    torch.manual_seed(1)
    student = build_model(other_classes).init_weights()
    head_before = {k: v.clone() for k, v in student.state_dict().items() if k.startswith("head.")}

    fresh = copy_matching_weights(student, path)

    assert fresh == sorted(head_before)
    for name, value in student.state_dict().items():
        expected = head_before[name] if name in head_before else trained.state_dict()[name]
        assert torch.equal(value, expected), name


def test_a_file_of_another_architecture_is_refused(tmp_path):
    path = tmp_path / "trained.safetensors"
    save_model(build_model(CONFIG), CONFIG, path, placeholder_classes(CONFIG.num_classes))
    unrelated = torch.nn.Linear(2, 2)
    unrelated.cfg = CONFIG
    with pytest.raises(SystemExit, match="no tensor matches"):
        copy_matching_weights(unrelated, path)


def test_a_missing_or_foreign_init_file_is_named(tmp_path):
    model = build_model(CONFIG)
    with pytest.raises(SystemExit, match="--init .*absent.safetensors: no such model file"):
        copy_matching_weights(model, tmp_path / "absent.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.torch import save_file
    save_file({"w": torch.zeros(2)}, str(foreign), metadata={"format": "other"})
    with pytest.raises(SystemExit, match="foreign.safetensors: format is 'other'"):
        copy_matching_weights(model, foreign)


def test_balanced_sampling_draws_a_rare_class_more_often():
    class Windows:  # 900 windows of class 0, 100 of class 1, 4 of class 2
        def class_of_items(self):
            return np.array([0] * 900 + [1] * 100 + [2] * 4)

    drawn = np.array(list(balanced_sampler(Windows(), 20000, torch.Generator().manual_seed(0))))
    classes = Windows().class_of_items()[drawn]
    shares = np.bincount(classes, minlength=3) / len(classes)
    # weights 1/√count: class shares ∝ √count = 30 : 10 : 2 (uniform would give 900 : 100 : 4)
    assert np.allclose(shares, np.array([30, 10, 2]) / 42, atol=0.02)


def test_a_balance_share_mixes_balanced_and_uniform_draws():
    class Windows:  # 900 windows of class 0, 100 of class 1
        def class_of_items(self):
            return np.array([0] * 900 + [1] * 100)

    drawn = np.array(list(balanced_sampler(Windows(), 20000, torch.Generator().manual_seed(0), share=0.5)))
    shares = np.bincount(Windows().class_of_items()[drawn], minlength=2) / len(drawn)
    # half balanced (30 : 10) and half uniform (900 : 100): class 1 gets (0.25 + 0.1) / 2
    assert np.allclose(shares, [1 - 0.175, 0.175], atol=0.015)


def test_a_source_weight_draws_that_source_more_often():
    class Windows:  # 500 windows of one class from each of two sources
        def class_of_items(self):
            return np.zeros(1000, dtype=np.int64)

        def sources(self):
            return ["games"] * 500 + ["signals"] * 500

    drawn = np.array(list(balanced_sampler(Windows(), 20000, torch.Generator().manual_seed(0), source_weights={"signals": 3.0})))
    assert abs(np.mean(drawn >= 500) - 0.75) < 0.015  # 3 : 1


def test_holding_out_files_needs_teacher_data(tmp_path):
    with pytest.raises(SystemExit, match="--hold-out-files needs teacher data"):
        datasets(f"folders:{tmp_path}", 100, hold_out_files=0.1)


def test_logit_matching_charges_rare_class_gaps_that_bce_barely_sees():
    teacher = torch.tensor([[0.05, 0.5, 1e-6]])
    exact = torch.logit(teacher).clone()
    exact[0, 2] = -30.0  # below the floor where the teacher is below it: no charge
    assert logit_matching_loss(exact, teacher).item() < 1e-10

    timid = torch.logit(torch.tensor([[0.001, 0.5, 1e-6]])).requires_grad_()  # 0.001 where the teacher says 0.05
    logit_matching_loss(timid, teacher).backward()
    bce = torch.logit(torch.tensor([[0.001, 0.5, 1e-6]])).requires_grad_()
    torch.nn.functional.binary_cross_entropy_with_logits(bce, teacher).backward()
    assert timid.grad[0, 0] < 0 and bce.grad[0, 0] < 0  # both push it up
    assert abs(timid.grad[0, 0]) > 20 * abs(bce.grad[0, 0])

    buried = torch.full((1, 3), -15.0, requires_grad=True)  # far below the floor where the teacher is not
    logit_matching_loss(buried, teacher).backward()
    assert buried.grad[0, 0] < 0 and buried.grad[0, 1] < 0 and buried.grad[0, 2] == 0
