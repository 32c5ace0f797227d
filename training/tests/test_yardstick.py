"""The named-sounds yardstick's arithmetic and its errors (the scoring itself runs in evaluate.py)."""

from __future__ import annotations

import numpy as np
import pytest

from mast_tagger import named_sounds as N
from mast_tagger import yardstick as Y

NAMES = ["Speech", "Dog", "Bark", "Moo", "Music", "Rain"]


def scored(package, path, classes, student, teacher):
    return Y.Scored(N.NamedRecording(package, path, tuple(classes), 1), np.array(student), np.array(teacher))


def test_hits_are_any_named_class_among_the_k_best():
    scores = np.array([0.9, 0.1, 0.5, 0.2, 0.8, 0.0])
    assert Y.hits(scores, [2], 1) is False and Y.hits(scores, [2], 3) is True
    assert Y.hits(scores, [3, 0], 1) is True


def test_report_counts_student_and_teacher_side_by_side_per_class():
    s = [scored("p", "dog1.wav", ["Bark", "Dog"], [0.1, 0.2, 0.9, 0, 0, 0], [0.9, 0.1, 0.2, 0, 0, 0]),
         scored("p", "dog2.wav", ["Bark", "Dog"], [0.9, 0.1, 0.3, 0, 0, 0], [0.1, 0.8, 0, 0, 0, 0]),
         scored("p", "rain.wav", ["Rain"], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [0.1, 0, 0, 0, 0, 0.9])]
    r = Y.report(s, NAMES)
    assert r["overall"] == {"files": 3, "classes": 2, "student_top1": round(1 / 3, 4), "student_top5": round(2 / 3, 4),
                            "teacher_top1": round(2 / 3, 4), "teacher_top5": 1.0}
    assert r["per_class"]["Bark"]["student_top1"] == 0.5 and r["per_class"]["Bark"]["teacher_top1"] == 0.5
    assert r["per_class"]["Rain"]["student_top5"] == 0.0 and r["per_file"][2]["teacher_best5"][0] == "Rain"
    # Paired per recording: at top-1 the student alone gets dog1, YAMNet alone dog2 and rain; at
    # top-5 YAMNet alone gets rain.
    top1, top5 = r["student_minus_teacher"]["top1"], r["student_minus_teacher"]["top5"]
    assert (top1["only_student"], top1["only_teacher"], top1["difference"]) == (1, 2, round(-1 / 3, 4))
    assert (top5["only_student"], top5["only_teacher"], top5["difference"]) == (0, 1, round(-1 / 3, 4))
    assert top1["ci95"][0] <= top1["difference"] <= top1["ci95"][1]


def test_a_glob_that_matches_no_file_names_its_line(tmp_path):
    root = tmp_path / "extracted" / "pkg"
    root.mkdir(parents=True)
    (root / ".extracted").touch()
    (root / "dog.ogg").write_bytes(b"")
    rows = [N.Row(3, "pkg", "dog*.ogg", ("Dog",)), N.Row(7, "pkg", "cat*.ogg", ("Speech",))]
    with pytest.raises(N.TableError, match=r":7: 'cat\*.ogg' matches no audio file of pkg"):
        Y.yardstick_recordings(tmp_path, rows)


def test_student_hit_rates_take_each_recordings_best_window():
    import torch

    class Loudness(torch.nn.Module):
        """Scores class 1 (Dog) by how loud a window is, class 0 (Speech) constant: only the
        loudest window of a recording puts Dog first."""
        cfg = type("cfg", (), {"frames": 100})

        def forward(self, x):
            loud = x.mean(dim=(1, 2))
            return torch.stack([torch.zeros_like(loud), 20 * (loud - x.mean()) - 0.5] + [torch.full_like(loud, -9)] * 4, 1)

    quiet_then_loud = np.concatenate([np.zeros(48000), np.random.default_rng(0).standard_normal(16000)]).astype(np.float32)
    rec = N.NamedRecording("p", "dog.wav", ("Dog",), 1)
    rates = Y.student_hit_rates(Loudness(), [(rec, quiet_then_loud)], NAMES)
    assert rates == {"named_top1": 1.0, "named_top5": 1.0}
