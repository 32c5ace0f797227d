"""How closely a student follows its teacher on held-out sources.

  python training/evaluate.py --model runs/mast-t/model.safetensors --data teacher:data/corpus,data/teacher
      [--json docs/metrics.json]

Metrics, on every window of the test split (sources never seen in training):
  top1_agreement  the student's most likely class is the teacher's; top1_agreement_ci95 is its
                  95 % interval with whole recordings drawn again (a track's windows are not
                  independent evidence)
  map             mean over classes of the average precision of the student's scores, with the
                  teacher's labels as truth: a window's positives are the classes the teacher
                  gives ≥ 0.5, and always its top class; classes with no positive are left out
  map_frequent    the same mean over classes with at least 20 positive windows (rare classes'
                  AP rests on a handful of windows; this shows what the student learned well)
  per_class_ap    that AP for each class, with its positive count

--teacher-reference adds `teacher_delayed_10ms`: the same metrics for the teacher itself, run on
the test audio delayed by 10 ms (one frame hop), against its own labels. A student sees the audio
through another front end and another window (AST's 128-bin fbank over 1.015 s, not YAMNet's
64-bin log-mel over 0.975 s), so this says how much of each metric is within reach at all: the
teacher disagrees with itself this much over a 10 ms shift.

A model trained with --hold-out-files (the file records the fraction) is also measured on those
files of the training sources: `test_files` holds the same metrics (and teacher reference) there.

--named measures the named-sounds yardstick (mast_tagger/yardstick.py): real recordings that
training never hears, whose names say what they hold (training/data/named_sounds.tsv); the
student's and YAMNet's top-1 and top-5 hit rates side by side, overall and per class, written as
`named_sounds` (with every recording's five best classes in the JSON file), and the student's rate
minus YAMNet's with its 95 % interval over named classes drawn again (`student_minus_teacher`).
Without --data, only that:

  python training/evaluate.py --model models/mast-tagger.safetensors --named --json docs/named-sounds.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from mast_tagger import named_sounds, yardstick
from mast_tagger.evaluation import evaluate, summary
from mast_tagger.model_file import load_model
from mast_tagger.teacher import Teacher, read_class_map

REPO = Path(__file__).resolve().parent.parent


def named_sounds_report(model_path: Path, data: Path) -> dict:
    try:
        rows = named_sounds.read_rows(named_sounds.TABLE, read_class_map()[1])
        recordings = yardstick.yardstick_recordings(data, rows)
    except named_sounds.TableError as error:
        raise SystemExit(str(error)) from None
    model, _ = load_model(model_path)
    teacher = Teacher()
    return yardstick.report(yardstick.score(model, teacher, yardstick.load(data, recordings)), teacher.class_names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", help="teacher:CORPUS,CACHE (the agreement metrics on held-out sources)")
    parser.add_argument("--named", action="store_true", help="the named-sounds yardstick (see above)")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data",
                        help="where build_corpus.py unpacks packages (default: data/)")
    parser.add_argument("--json", type=Path, help="write the metrics here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--teacher-reference", action="store_true",
                        help="also measure the teacher against itself on audio delayed by 10 ms")
    args = parser.parse_args()
    if not args.data and not args.named:
        parser.error("nothing to measure: give --data, --named or both")
    metrics = evaluate(args.model, args.data, args.threads, args.teacher_reference) if args.data else {}
    if metrics:
        print(json.dumps(summary(metrics), indent=1))
    if args.named:
        torch.set_num_threads(args.threads)
        metrics["named_sounds"] = named_sounds_report(args.model, args.data_dir)
        print(yardstick.summary(metrics["named_sounds"]))
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=1) + "\n")


if __name__ == "__main__":
    main()
