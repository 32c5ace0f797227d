"""Train a MAST tagger: by distillation from the YAMNet teacher, or from labelled audio.

  python training/train.py --data teacher:data/corpus,data/teacher --arch mast-t --out runs/mast-t
  python training/train.py --data folders:DIR --arch mast-t --out runs/mine
  torchrun --nproc_per_node=8 training/train.py --data audioset:SEG.csv,AUDIO,LABELS.csv --arch mast-b ...
  python training/train.py --data folders:DIR --init models/mast-tagger.safetensors --out runs/tuned

--init starts from a model file's weights instead of random ones (fine-tuning, on new data or on
your own classes): every tensor whose name and shape match is copied; the rest (a head for other
classes) starts fresh, and the run prints which.

Loss: binary cross-entropy on the targets (the teacher's probabilities, or multi-hot labels), or
with --loss logit squared error between student and teacher log-odds (logit_matching_loss).
Sampling: uniform over windows, or with --balance weighted by 1/√(windows sharing the window's top
class), so that rare classes are seen more often (AudioSet-style balancing; mAP averages classes);
--balance-share S draws only that share so and the rest uniformly, keeping the corpus's own mix in;
--source-weight SOURCE=W makes a source's windows W times as likely (e.g. signals, which a
fine-tune toward named sounds otherwise forgets).
Targets: the teacher's probabilities (cached by teacher.py label, or label --average for logits
averaged over small delays and gains); with --named-targets a training clip whose file name says
what it holds (training/data/named_sounds.tsv, recorded in the manifest as named_classes) also has
those classes and their AudioSet parents at 1 in every window.
Augmentation: SpecAugment (two frequency and two time masks) and mixup of features and targets.
Runs on CPU or GPU, and unchanged under torchrun (DistributedDataParallel; only rank 0 writes).
Checkpoints go to OUT/checkpoint.pt every --checkpoint-minutes and at every epoch end; a run
started again with the same --out resumes from there (model, optimiser, schedule, epoch, step).
At the end OUT/model.safetensors is the engine's model file (F16 with --f16).

With teacher data the corpus manifest's split holds sources out: training never sees a window of
a test source, and each epoch ends with an evaluation on them (evaluate.py's metrics).
--hold-out-files F also keeps that fraction of the training sources' recordings out (split
"test-files", evaluated after each epoch too, as files_*), to tell how well the student follows
the teacher on unheard files of familiar packages apart from how well it carries over to unheard
packages. The model file records F, so evaluate.py can find those files again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mast_tagger.training import run


def source_weight(text: str) -> tuple[str, float]:
    source, _, weight = text.partition("=")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if not source or not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: SOURCE=W with a weight in (0, 1000]")
    return source, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="teacher:CORPUS,CACHE | folders:DIR | audioset:SEG,AUDIO,LABELS")
    parser.add_argument("--arch", default="mast-t")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--init", type=Path, help="start from this model file's weights (see above)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--balance", action="store_true", help="sample rare classes more often (see above)")
    parser.add_argument("--balance-share", type=float, default=1.0, metavar="S",
                        help="with --balance: the share of windows drawn balanced; the rest are drawn uniformly")
    parser.add_argument("--source-weight", type=source_weight, action="append", default=[], metavar="SOURCE=W",
                        help="with --balance: windows of this corpus source are W times as likely (repeatable)")
    parser.add_argument("--samples-per-epoch", type=int, default=0, metavar="N",
                        help="with --balance: windows drawn per epoch (default: as many as there are)")
    parser.add_argument("--named-eval", action="store_true",
                        help="after each epoch also measure the named-sounds yardstick (student's top-1/top-5 hit rates)")
    parser.add_argument("--named-targets", action="store_true",
                        help="a training clip whose name says what it is has those classes (and their parents) "
                             "as positives whatever the teacher says (training/data/named_sounds.tsv)")
    parser.add_argument("--loss", choices=["bce", "logit"], default="bce", help="see above")
    parser.add_argument("--mixup", type=float, default=0.4, help="Beta parameter; 0 disables mixup")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--checkpoint-minutes", type=float, default=10)
    parser.add_argument("--max-hours", type=float, default=0, help="stop (after a checkpoint) once this much time has passed")
    parser.add_argument("--f16", action="store_true", help="export F16 weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hold-out-files", type=float, default=0.0, metavar="F",
                        help="also keep this fraction of the training sources' files out (see above)")
    args = parser.parse_args()
    if not 0 <= args.hold_out_files < 1:
        parser.error(f"--hold-out-files {args.hold_out_files}: a fraction in [0, 1)")
    if args.named_eval and not args.data.startswith("teacher:"):
        parser.error("--named-eval needs teacher data: the yardstick's packages are unpacked beside the corpus")
    if args.samples_per_epoch and not args.balance:
        parser.error("--samples-per-epoch draws windows with --balance")
    if args.source_weight and not args.balance:
        parser.error("--source-weight weighs the draws of --balance")
    if not 0 <= args.balance_share <= 1 or (args.balance_share != 1 and not args.balance):
        parser.error(f"--balance-share {args.balance_share}: a share in [0, 1], with --balance")
    if args.samples_per_epoch < 0:
        parser.error(f"--samples-per-epoch {args.samples_per_epoch}: a count of windows, at least 1")

    run(args)


if __name__ == "__main__":
    main()
