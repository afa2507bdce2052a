"""``laughter-train stack`` and ``laughter-eval stack``: the stacked audio model, trained and measured by
grouped cross-validation.

laughter-train stack --data DIR|CSV [--data ...] --base CUES.skops --resnet MODEL.onnx --out DIR
                     [--version V] [--scores-cache NPZ] [--cascade-recall R] [--report out.json]
laughter-eval stack  --data DIR|CSV [--data ...] --resnet MODEL.onnx [--scores-cache NPZ]
                     [--cascade-recall R] [--report out.json]

Both print, out of fold, clip-level ROC AUC and precision / recall / F1 of the cues model alone, the ResNet
alone and the stack, against every negative class, and the share of windows the cascade sends on.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from laughter_server.errors import LaughterError

DEFAULT_RESNET = Path("model_repository/laughter_resnet/1/model.onnx")


def add_arguments(parser: argparse.ArgumentParser, *, training: bool) -> None:
    """The options of both subcommands (and the training-only ones when ``training``)."""
    parser.add_argument(
        "--data", type=Path, required=True, action="append", help="label folders or manifest CSV"
    )
    parser.add_argument("--resnet", type=Path, default=DEFAULT_RESNET, help="the ResNet ONNX file")
    parser.add_argument("--seed", type=int, default=20240601, help="the cues model's seed and folds")
    parser.add_argument("--scores-cache", type=Path, default=None, help="npz to keep the window scores in")
    parser.add_argument(
        "--cascade-recall", type=float, default=None, help="laughter windows kept (default 0.98)"
    )
    parser.add_argument("--report", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="small cues models, for smoke tests")
    if training:
        parser.add_argument("--base", type=Path, required=True, help="the cues model the stack runs on")
        parser.add_argument("--out", type=Path, required=True, help="output folder for .skops + .json")
        parser.add_argument("--version", default="1.5.0", help="model version (default 1.5.0)")
        parser.add_argument("--name", default="laughter-audio", help="model name (default laughter-audio)")


def run(args: argparse.Namespace, *, training: bool, argv: list[str]) -> int:
    """Compute (or load) the window scores, cross-validate the stack, print it; save it when ``training``."""
    from laughter_train.dataset import load_labeled_clips
    from laughter_train.stack import CASCADE_RECALL, evaluate_stack, save_stack
    from laughter_train.stack_scores import (
        compute_stack_scores,
        load_scores,
        rescore_resnet,
        save_scores,
        sha256_file,
    )
    from laughter_train.train import TrainConfig

    try:
        clips = load_labeled_clips(args.data)
    except LaughterError as error:
        sys.stderr.write("laughter-" + ("train" if training else "eval") + ": " + error.message + "\n")
        return 2
    if not args.resnet.is_file():
        sys.stderr.write("the ResNet ONNX file is missing: " + str(args.resnet) + "\n")
        return 2
    config = TrainConfig(seed=args.seed, is_quick=args.quick)
    scores = load_scores(args.scores_cache, clips) if args.scores_cache else None
    if scores is None:
        scores = compute_stack_scores(clips, config, args.resnet)
        if args.scores_cache:
            save_scores(scores, args.scores_cache, clips)
    elif scores.resnet_sha256 != sha256_file(args.resnet):  # another ResNet file: keep the cues scores
        scores = rescore_resnet(scores, clips, config, args.resnet)
        save_scores(scores, args.scores_cache, clips)
    labels = [c.label for c in clips]
    report = evaluate_stack(scores, labels, args.cascade_recall or CASCADE_RECALL)
    _print(report.cascade_threshold, report.reach, report.models)
    figures: dict[str, Any] = {
        "cascade_threshold": report.cascade_threshold,
        "cascade_reach": report.reach,
        "models": report.models,
    }
    if training:
        path, metadata = save_stack(
            clips,
            scores,
            report,
            args.base,
            args.resnet,
            args.out,
            args.name,
            args.version,
            "laughter-train " + shlex.join(argv),
        )
        figures["operating_threshold"] = metadata["operating_threshold"]
        sys.stdout.write("saved " + str(path) + "\n")
    if args.report:
        args.report.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def _print(threshold: float, reach: dict[str, float], models: dict[str, dict[str, Any]]) -> None:
    out = sys.stdout
    out.write(f"cascade threshold {threshold:g} (cues probability); windows reaching the ResNet: ")
    out.write(", ".join(f"{k} {v:.1%}" for k, v in reach.items()) + "\n")
    out.write("model   aggregate      thr   ROC AUC  P/R/F1 (all negatives)   speech+scream AUC / F1\n")
    for name, m in models.items():
        a, s = m["all_negatives"], m["speech_scream"]
        out.write(
            f"{name:7} {m['aggregate']:13} {m['clip_threshold']:.2f}  {a['roc_auc']:.3f}    "
            f"{a['precision']:.3f}/{a['recall']:.3f}/{a['f1']:.3f}        {s['roc_auc']:.3f} / {s['f1']:.3f}\n"
        )
    out.write(
        "per negative class: ROC AUC (cues / resnet / stack), FP rate at each model's threshold, "
        "P/R/F1 of the stack against the class alone\n"
    )
    for label in models["stack"]["roc_auc_by_class"]:
        aucs = " / ".join(f"{models[n]['roc_auc_by_class'][label]:.3f}" for n in models)
        fps = " / ".join(f"{models[n]['false_positive_rates'][label]['rate']:.3f}" for n in models)
        b = models["stack"]["by_class"][label]
        count = models["stack"]["false_positive_rates"][label]["clips"]
        out.write(
            f"  {label:13} n={count:3}  AUC {aucs}   FP {fps}   P/R/F1 {b['precision']:.3f}/{b['recall']:.3f}/{b['f1']:.3f}\n"
        )
