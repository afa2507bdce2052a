"""``laughter-train`` and ``laughter-eval``: build and check the models shipped with the service.

laughter-train audio --data DIR [--manifest CSV] --out DIR [--version V] [--seed N] [--quick] [--no-augment]
laughter-eval audio --data DIR [--manifest CSV] --model PATH [--report out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from laughter_server.errors import LaughterError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``laughter-train``."""
    parser = argparse.ArgumentParser(prog="laughter-train", description="Train a laughter model.")
    commands = parser.add_subparsers(dest="modality", required=True)
    audio = commands.add_parser("audio", help="train the audio laughter detector (MFCC + scikit-learn)")
    audio.add_argument(
        "--data", type=Path, required=True, help="folder with one subfolder per label, or a manifest CSV"
    )
    audio.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="CSV with file,label,source_package columns (paths relative to it)",
    )
    audio.add_argument("--out", type=Path, required=True, help="output folder for .skops + .json")
    audio.add_argument("--version", default="1.1.0", help="model version (default 1.1.0)")
    audio.add_argument("--name", default="laughter-audio", help="model name (default laughter-audio)")
    audio.add_argument("--seed", type=int, default=20240601, help="random seed (default 20240601)")
    audio.add_argument("--quick", action="store_true", help="small models and few folds, for smoke tests")
    audio.add_argument(
        "--no-augment", action="store_true", help="train on the original clips only (no augmented copies)"
    )
    args = parser.parse_args(argv)

    from laughter_server.audio.dataset import load_labeled_clips
    from laughter_server.audio.train import TrainConfig, train_audio_model

    try:
        clips = load_labeled_clips(args.data, args.manifest)
        config = TrainConfig(
            name=args.name,
            version=args.version,
            seed=args.seed,
            is_quick=args.quick,
            is_augmented=not args.no_augment,
        )
        result = train_audio_model(clips, args.out, config)
    except LaughterError as error:
        sys.stderr.write("laughter-train: " + error.message + "\n")
        return 2
    _write_table(result.metadata)
    sys.stdout.write("saved " + str(result.model_path) + "\n")
    return 0


def eval_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``laughter-eval``."""
    parser = argparse.ArgumentParser(prog="laughter-eval", description="Evaluate a laughter model.")
    commands = parser.add_subparsers(dest="modality", required=True)
    audio = commands.add_parser("audio", help="evaluate an audio laughter model on labelled clips")
    audio.add_argument(
        "--data", type=Path, required=True, help="folder with one subfolder per label, or a manifest CSV"
    )
    audio.add_argument("--manifest", type=Path, default=None, help="CSV with file,label,source_package")
    audio.add_argument("--model", type=Path, required=True, help="path of the .skops artifact")
    audio.add_argument("--threshold", type=float, default=0.5, help="clip score threshold (default 0.5)")
    audio.add_argument("--report", type=Path, default=None, help="write the full report as JSON here")
    args = parser.parse_args(argv)

    from laughter_server.audio.dataset import load_labeled_clips
    from laughter_server.audio.detector import AudioLaughterDetector
    from laughter_server.audio.evaluate import evaluate_detector

    try:
        detector = AudioLaughterDetector.load(args.model)
        report = evaluate_detector(detector, load_labeled_clips(args.data, args.manifest), args.threshold)
    except LaughterError as error:
        sys.stderr.write("laughter-eval: " + error.message + "\n")
        return 2
    out = sys.stdout
    out.write(
        report["model"] + "  clips=" + str(report["clips"]) + "  threshold=" + str(args.threshold) + "\n"
    )
    for key in ("precision", "recall", "f1", "roc_auc", "realtime_factor"):
        out.write("  " + key.ljust(16) + str(report[key]) + "\n")
    out.write("  false-positive rate by negative class:\n")
    for label, row in report["false_positive_rate_by_class"].items():
        out.write(
            "    "
            + label.ljust(14)
            + str(row["false_positives"])
            + "/"
            + str(row["clips"])
            + "  ("
            + str(row["rate"])
            + ")\n"
        )
    if args.report is not None:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def _write_table(metadata: dict[str, object]) -> None:
    cv = metadata["cross_validation"]
    assert isinstance(cv, dict)
    out = sys.stdout
    out.write(
        "grouped CV ("
        + str(cv["folds"])
        + " folds), clip level, threshold "
        + str(cv["clip_threshold"])
        + ":\n"
    )
    out.write("  " + "estimator".ljust(24) + "aggregate".ljust(11) + "precision  recall  f1      roc_auc\n")
    for row in cv["table"]:
        out.write(
            "  "
            + str(row["estimator"]).ljust(24)
            + str(row["aggregate"]).ljust(11)
            + str(row["precision"]).ljust(11)
            + str(row["recall"]).ljust(8)
            + str(row["f1"]).ljust(8)
            + str(row["roc_auc"])
            + "\n"
        )
    out.write("chosen: " + str(metadata["chosen_estimator"]) + " / " + str(metadata["clip_aggregate"]) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
