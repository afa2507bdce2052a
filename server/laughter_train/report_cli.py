"""The ``laughter-eval report`` subcommand: arguments, and the run that writes the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from laughter_server.errors import LaughterError

DEFAULT_CACHE = Path("build") / "events-cv" / "fold-models"


def add_report_parser(commands: Any) -> None:
    """Add ``report`` to ``laughter-eval``'s subcommands."""
    report = commands.add_parser(
        "report",
        help="every accuracy figure of an audio model on a labelled set: report.json + report.md",
        description=(
            "Clip-level figures with the precision-recall plot, event-level figures through the service's "
            "own engine on scenes built from the set (segment F1 at 0.3 s and 0.5 s onset tolerance, false "
            "events per hour of laughter-free audio, laughter over speech at 0/5/10 dB SNR) and level "
            "robustness (the recording 10/20/30 dB quieter). Files from reserved sources are refused."
        ),
    )
    report.add_argument("--data", type=Path, required=True, help="label-folder tree or manifest CSV")
    report.add_argument("--manifest", type=Path, default=None, help="CSV with file,label,source_package")
    report.add_argument(
        "--model", type=Path, default=None, help="the .skops artifact (default: the shipped audio model)"
    )
    report.add_argument(
        "--out", type=Path, required=True, help="folder for report.json, report.md, pr-curve.png"
    )
    report.add_argument("--threshold", type=float, default=0.5, help="clip score threshold (default 0.5)")
    report.add_argument("--folds", type=int, default=5, help="folds by source for the scenes (default 5)")
    report.add_argument(
        "--cross-validate",
        action="store_true",
        help="also fit the model's recipe per fold and report event figures out of fold (about 1-2 min)",
    )
    report.add_argument(
        "--tune",
        action="store_true",
        help="also tune the event layer by grouped CV on the scenes (implies --cross-validate; minutes)",
    )
    report.add_argument(
        "--quick", action="store_true", help="small fold models and few settings (smoke tests)"
    )
    report.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help="folder where fold models are kept between runs (default build/events-cv/fold-models)",
    )
    report.add_argument(
        "--section",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="add the JSON file's content as section NAME (e.g. faces=build/faces.json); repeatable",
    )
    report.add_argument("--no-pr-curve", action="store_true", help="write no precision-recall PNG")


def run_report(args: argparse.Namespace) -> int:
    """Build and write the report; exit code 2 with a message for bad data or arguments."""
    from laughter_server.audio.detector import AudioLaughterDetector, default_model_path

    from laughter_train.dataset import load_labeled_clips
    from laughter_train.plots import require_matplotlib
    from laughter_train.report import ReportOptions, build_report, write_report

    try:
        sections = _sections(args.section)
        if not args.no_pr_curve:
            require_matplotlib()
        if args.folds < 2:
            raise _ArgumentError("--folds must be at least 2")
        clips = load_labeled_clips(args.data, args.manifest)
        detector = AudioLaughterDetector.load(args.model or default_model_path())
        options = ReportOptions(
            threshold=args.threshold,
            folds=args.folds,
            cross_validate=args.cross_validate,
            tune=args.tune,
            is_quick=args.quick,
            cache_dir=args.cache,
        )
        report = build_report(clips, detector, options)
        report.update(sections)
        written = write_report(report, args.out, pr_curve=not args.no_pr_curve)
    except LaughterError as error:
        sys.stderr.write("laughter-eval: " + error.message + "\n")
        return 2
    events = report["events"]["all"]
    sys.stdout.write(
        report["model"]
        + ": clip ROC AUC "
        + str(report["clip_level"]["roc_auc"])
        + ", event F1 at 0.3 s "
        + str(events["at_0.3s"]["f1"])
        + ", at 0.5 s "
        + str(events["at_0.5s"]["f1"])
        + ", false events per hour "
        + str(events["false_events_per_hour"])
        + "\n"
    )
    for path in written:
        sys.stdout.write("wrote " + str(path) + "\n")
    return 0


class _ArgumentError(LaughterError):
    reason = "INVALID_ARGUMENT"


def _sections(items: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        name, _, path = item.partition("=")
        if not name or not path:
            raise _ArgumentError("--section takes NAME=JSON, got '" + item + "'")
        file = Path(path)
        if not file.is_file():
            raise _ArgumentError("--section " + name + ": file not found: " + path)
        try:
            found[name] = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise _ArgumentError("--section " + name + ": not JSON: " + path) from None
    return found
