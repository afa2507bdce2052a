"""``laughter-train`` and ``laughter-eval``: build and check the models shipped with the service.

laughter-train audio --data DIR|CSV [--data DIR|CSV ...] [--manifest CSV] --out DIR [--version V] [--seed N]
                     [--quick] [--augment laughs|mix|none] [--hard-negatives LABELS] [--hard-negative-weight W]
                     [--estimator NAME]
laughter-train faces --data DIR|CSV [--data DIR|CSV ...] [--out DIR] [--version V] [--model-repository DIR]
                     [--fps F] [--features scores|embedding]
laughter-eval audio --data DIR [--manifest CSV] --model PATH [--threshold T] [--report out.json]
                    [--segments CSV] [--onset-tolerance S] [--pr-curve out.png | --no-pr-curve]
laughter-eval report --data DIR|CSV [--manifest CSV] [--model PATH] --out DIR [--cross-validate] [--tune]
                     [--section NAME=JSON ...] [--no-pr-curve]
laughter-train stack / laughter-eval stack: see ``laughter_train.stack_cli``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from laughter_server.errors import LaughterError

ESTIMATOR_NAMES = ("logistic_regression", "random_forest", "hist_gradient_boosting", "guarded_boosting")
"""The candidates ``--estimator`` may name (``train.ESTIMATOR_NAMES``, kept here so --help stays light)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``laughter-train``."""
    parser = argparse.ArgumentParser(prog="laughter-train", description="Train a laughter model.")
    commands = parser.add_subparsers(dest="modality", required=True)
    audio = commands.add_parser("audio", help="train the audio laughter detector (MFCC + scikit-learn)")
    audio.add_argument(
        "--data",
        type=Path,
        required=True,
        action="append",
        help="folder with one subfolder per label, or a manifest CSV; repeat to train on several sets",
    )
    audio.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="CSV with file,label,source_package columns (paths relative to it)",
    )
    audio.add_argument("--out", type=Path, required=True, help="output folder for .skops + .json")
    audio.add_argument("--version", default="1.4.0", help="model version (default 1.4.0)")
    audio.add_argument("--name", default="laughter-audio", help="model name (default laughter-audio)")
    audio.add_argument("--seed", type=int, default=20240601, help="random seed (default 20240601)")
    audio.add_argument("--quick", action="store_true", help="small models and few folds, for smoke tests")
    audio.add_argument(
        "--augment",
        choices=("laughs", "mix", "none"),
        default="laughs",
        help="laughs: speed and telephone-band copies of the laughs (default); mix: also laughs mixed into "
        "the other clips at 0-20 dB SNR and copies of the negatives; none: the original clips only",
    )
    audio.add_argument("--no-augment", action="store_true", help="same as --augment none")
    audio.add_argument(
        "--hard-negatives",
        type=_label_list,
        default=None,
        metavar="LABELS",
        help="comma-separated negative labels that guarded_boosting's second member weighs more "
        "(default speech,scream)",
    )
    audio.add_argument(
        "--hard-negative-weight",
        type=_positive_float,
        default=None,
        metavar="W",
        help="weight of a hard-negative clip in guarded_boosting's second member (default 8; see "
        "docs/audio-model.md)",
    )
    audio.add_argument(
        "--estimator",
        choices=ESTIMATOR_NAMES,
        default=None,
        help="ship this candidate (with its best clip aggregate) whatever the table says; default: the "
        "row with the best cross-validated ROC AUC",
    )
    faces = commands.add_parser(
        "faces", help="train a face head over the expression model's embedding (a new face_emotion version)"
    )
    faces.add_argument(
        "--data",
        type=Path,
        required=True,
        action="append",
        help="folder with one subfolder per label, or a manifest CSV (file,label[,source_package,start_s,"
        "end_s,group]); repeat to train on several sets",
    )
    faces.add_argument(
        "--out", type=Path, default=None, help="output folder (default: the server's face models folder)"
    )
    faces.add_argument("--version", default="2.1.0", help="face emotion version to write (default 2.1.0)")
    faces.add_argument(
        "--model-repository", type=Path, default=None, help="Triton model repository holding the face models"
    )
    faces.add_argument("--fps", type=_positive_float, default=2.0, help="video frames per second (default 2)")
    faces.add_argument(
        "--features",
        choices=("scores", "embedding"),
        default="scores",
        help="what the head reads: the expression model's 7 scores (log; default) or its 256-value embedding",
    )
    from laughter_train import stack_cli

    stack_cli.add_arguments(
        commands.add_parser("stack", help="train the stacked audio model (cues + conversational ResNet)"),
        training=True,
    )
    args = parser.parse_args(argv)
    if args.modality == "faces":
        return _train_faces(args)
    if args.modality == "stack":
        return stack_cli.run(args, training=True, argv=list(sys.argv[1:] if argv is None else argv))

    from laughter_train.augment import MIX_AUGMENT, AugmentSettings
    from laughter_train.dataset import load_labeled_clips
    from laughter_train.train import (
        HARD_NEGATIVE_LABELS,
        HARD_NEGATIVE_WEIGHT,
        TrainConfig,
        train_audio_model,
    )

    try:
        clips = load_labeled_clips(args.data, args.manifest)
        config = TrainConfig(
            name=args.name,
            version=args.version,
            seed=args.seed,
            is_quick=args.quick,
            is_augmented=not args.no_augment and args.augment != "none",
            augment=MIX_AUGMENT if args.augment == "mix" else AugmentSettings(),
            hard_negative_labels=HARD_NEGATIVE_LABELS if args.hard_negatives is None else args.hard_negatives,
            hard_negative_weight=(
                HARD_NEGATIVE_WEIGHT if args.hard_negative_weight is None else args.hard_negative_weight
            ),
            estimator=args.estimator,
        )
        result = train_audio_model(clips, args.out, config)
    except LaughterError as error:
        sys.stderr.write("laughter-train: " + error.message + "\n")
        return 2
    _write_table(result.metadata)
    sys.stdout.write("saved " + str(result.model_path) + "\n")
    return 0


def _train_faces(args: argparse.Namespace) -> int:
    from laughter_server.config import DEFAULT_FACE_MODELS_DIR, DEFAULT_MODEL_REPOSITORY

    from laughter_train.faces import train_face_head

    try:
        path, figures = train_face_head(
            args.data,
            args.out or DEFAULT_FACE_MODELS_DIR,
            args.version,
            args.model_repository or DEFAULT_MODEL_REPOSITORY,
            args.fps,
            args.features,
        )
    except LaughterError as error:
        sys.stderr.write("laughter-train: " + error.message + "\n")
        return 2
    sys.stdout.write(json.dumps(figures, indent=1) + "\n")
    sys.stdout.write("saved " + str(path) + "\n")
    return 0


def _label_list(text: str) -> tuple[str, ...]:
    """``speech,scream`` -> ``("speech", "scream")``; refuses ``laughter`` (it is the positive class)."""
    labels = tuple(part.strip() for part in text.split(",") if part.strip())
    if "laughter" in labels:
        raise argparse.ArgumentTypeError("laughter is the positive class, it cannot be a hard negative")
    return labels


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: " + repr(text)) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number above 0, got " + text)
    return value


def eval_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``laughter-eval``."""
    parser = argparse.ArgumentParser(prog="laughter-eval", description="Evaluate a laughter model.")
    commands = parser.add_subparsers(dest="modality", required=True)
    audio = commands.add_parser(
        "audio",
        help="evaluate an audio laughter model on labelled clips",
        description=(
            "Clip-level precision/recall/F1/ROC AUC, a precision-recall curve, and segment-level F1 "
            "(detected onsets within --onset-tolerance of true ones) on --segments annotations or, "
            "without them, on scenes built from the clips with laughter at known onsets."
        ),
    )
    audio.add_argument(
        "--data", type=Path, required=True, help="folder with one subfolder per label, or a manifest CSV"
    )
    audio.add_argument("--manifest", type=Path, default=None, help="CSV with file,label,source_package")
    audio.add_argument("--model", type=Path, required=True, help="path of the .skops artifact")
    audio.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="clip score threshold (default 0.5); segments use the server's default event rules",
    )
    audio.add_argument("--report", type=Path, default=None, help="write the full report as JSON here")
    audio.add_argument(
        "--segments",
        type=Path,
        default=None,
        help=(
            "CSV file,start_s,end_s of laughter in audio files (file relative to the CSV or --data; "
            "empty start_s/end_s: a file without laughter); only the files it names are used for the "
            "segment figures. Default: scenes built from the clips"
        ),
    )
    audio.add_argument(
        "--onset-tolerance",
        type=_seconds,
        default=None,
        help="a detected segment is a hit when its onset is within this many seconds (default 0.3)",
    )
    png = audio.add_mutually_exclusive_group()
    png.add_argument(
        "--pr-curve",
        type=Path,
        default=None,
        help="write the clip-level precision-recall curve as PNG here (default with --report: <report>-pr.png)",
    )
    png.add_argument("--no-pr-curve", action="store_true", help="write no precision-recall PNG")
    from laughter_train.report_cli import add_report_parser, run_report

    add_report_parser(commands)
    from laughter_train import stack_cli

    stack_cli.add_arguments(
        commands.add_parser("stack", help="cues model, ResNet and their stack by grouped cross-validation"),
        training=False,
    )
    args = parser.parse_args(argv)
    if args.modality == "report":
        return run_report(args)
    if args.modality == "stack":
        return stack_cli.run(args, training=False, argv=list(sys.argv[1:] if argv is None else argv))

    from laughter_server.audio.detector import AudioLaughterDetector

    from laughter_train.dataset import load_labeled_clips
    from laughter_train.evaluate import (
        DEFAULT_ONSET_TOLERANCE_S,
        SceneSettings,
        build_scenes,
        describe_scenes,
        evaluate_detector,
        evaluate_segments,
        load_segment_annotations,
    )
    from laughter_train.plots import require_matplotlib, write_pr_curve_png

    tolerance_s = DEFAULT_ONSET_TOLERANCE_S if args.onset_tolerance is None else args.onset_tolerance
    png_path: Path | None = args.pr_curve
    if png_path is None and args.report is not None and not args.no_pr_curve:
        png_path = args.report.with_name(args.report.stem + "-pr.png")
    for output in (args.report, png_path):
        if output is not None and not output.parent.is_dir():
            sys.stderr.write("laughter-eval: output folder not found: " + str(output.parent) + "\n")
            return 2
    try:
        if png_path is not None:
            require_matplotlib()
        data_dir = args.data.parent if args.data.is_file() else args.data
        annotated = None if args.segments is None else load_segment_annotations(args.segments, data_dir)
        clips = load_labeled_clips(args.data, args.manifest)
        detector = AudioLaughterDetector.load(args.model)
        report = evaluate_detector(detector, clips, args.threshold)
        construction = None
        if annotated is None:
            settings = SceneSettings()
            files = build_scenes(clips, settings)
            construction = describe_scenes(settings, files, clips)
        else:
            files = annotated
        report["segments"] = {
            "source": "scenes" if annotated is None else str(args.segments),
            **evaluate_segments(detector, files, tolerance_s),
        }
        report["scene_construction"] = construction
        report["pr_curve_png"] = None if png_path is None else str(png_path)
        if png_path is not None:
            write_pr_curve_png(report, png_path)
    except LaughterError as error:
        sys.stderr.write("laughter-eval: " + error.message + "\n")
        return 2
    _write_eval(report)
    if args.report is not None:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'" + text + "' is not a number of seconds") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError("must be a number of seconds >= 0")
    return value


def _write_eval(report: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(
        report["model"] + "  clips=" + str(report["clips"]) + "  threshold=" + str(report["threshold"]) + "\n"
    )
    for key in ("precision", "recall", "f1", "roc_auc", "realtime_factor"):
        out.write("  " + key.ljust(18) + str(report[key]) + "\n")
    out.write("  " + "average_precision".ljust(18) + str(report["pr_curve"]["average_precision"]) + "\n")
    target = report["against_speech_and_screams"]
    out.write(
        "  laughter against speech and screams only ("
        + str(target["clips"])
        + " clips): "
        + _metrics_line(target)
        + "\n"
    )
    out.write("  false-positive rate and ROC AUC by negative class:\n")
    for label, row in report["false_positive_rate_by_class"].items():
        out.write(
            "    "
            + label.ljust(14)
            + str(row["false_positives"])
            + "/"
            + str(row["clips"])
            + "  ("
            + str(row["rate"])
            + ")  auc "
            + str(report["roc_auc_by_class"].get(label))
            + "\n"
        )
    segments = report["segments"]
    construction = report["scene_construction"]
    if construction is None:
        source = "annotations " + segments["source"] + ", " + str(segments["files"]) + " files"
    else:
        source = (
            str(construction["laughter_scenes"])
            + " scenes with laughter + "
            + str(construction["negative_scenes"])
            + " without, built from the clips (seed "
            + str(construction["seed"])
            + ")"
        )
    out.write(
        "segment level, onset tolerance "
        + f"{segments['onset_tolerance_s']:g}"
        + " s ("
        + source
        + ", "
        + str(segments["audio_seconds"])
        + " s of audio):\n"
    )
    for key in ("precision", "recall", "f1", "true_positives", "false_positives", "misses"):
        out.write("  " + key.ljust(18) + str(segments[key]) + "\n")
    lag = segments["overlapping_detection_onset_error_s"]
    if lag["median"] is not None:
        out.write(
            "  onset error of detections overlapping a laugh: median "
            + f"{lag['median']:+.2f}"
            + " s ("
            + str(lag["true_segments_overlapped"])
            + " of "
            + str(segments["true_segments"])
            + " laughs overlapped)\n"
        )
    out.write(
        "  f1 by onset tolerance: "
        + ", ".join(
            f"{row['onset_tolerance_s']:g} s {row['f1']}" for row in segments["f1_by_onset_tolerance"]
        )
        + "\n"
    )
    if report["pr_curve_png"] is not None:
        out.write("precision-recall curve: " + report["pr_curve_png"] + "\n")


def _write_table(metadata: dict[str, object]) -> None:
    cv = metadata["cross_validation"]
    assert isinstance(cv, dict)
    out = sys.stdout
    out.write(
        "grouped CV ("
        + str(cv["folds"])
        + " folds), clip level, at threshold "
        + str(cv["clip_threshold"])
        + " and at each row's best-F1 threshold:\n"
    )
    columns = ("precision", "recall", "f1", "roc_auc", "best_threshold", "best_f1")
    out.write(
        "  " + "estimator".ljust(24) + "aggregate".ljust(15) + "".join(c.ljust(16) for c in columns) + "\n"
    )
    for row in cv["table"]:
        out.write(
            "  "
            + str(row["estimator"]).ljust(24)
            + str(row["aggregate"]).ljust(15)
            + "".join(str(row[c]).ljust(16) for c in columns)
            + "\n"
        )
    out.write(
        "chosen, laughter against speech and screams only: "
        + _metrics_line(cv["chosen_against_speech_and_screams"])
        + "\n"
    )
    out.write(
        "chosen: "
        + str(metadata["chosen_estimator"])
        + " / "
        + str(metadata["clip_aggregate"])
        + ", clip threshold "
        + str(metadata["clip_threshold"])
        + ", window (event) threshold "
        + str(metadata["operating_threshold"])
        + " (each mapped to 0.5; chosen by "
        + str(metadata["chosen_by"])
        + ")\n"
    )
    out.write(
        "chosen, by negative class at the clip threshold (false positives/clips, ROC AUC laughter vs class):\n"
    )
    for label, row in cv["chosen_false_positive_rate_by_class"].items():
        out.write(
            "  "
            + label.ljust(14)
            + (str(row["false_positives"]) + "/" + str(row["clips"])).ljust(8)
            + "auc "
            + str(cv["chosen_roc_auc_by_class"].get(label))
            + "\n"
        )


def _metrics_line(metrics: dict[str, Any]) -> str:
    return ", ".join(
        key.replace("roc_auc", "ROC AUC") + " " + str(metrics[key])
        for key in ("precision", "recall", "f1", "roc_auc")
    )


if __name__ == "__main__":
    raise SystemExit(main())
