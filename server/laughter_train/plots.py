"""Figures of ``laughter-eval``: the clip-level precision-recall curve as a PNG.

matplotlib is an optional dependency (the ``train`` extra); it is imported only when a figure is drawn.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from laughter_server.errors import LaughterError

INSTALL_HINT = "pip install 'laughter-server[train]'"


class PlottingUnavailableError(LaughterError):
    """A figure was asked for but matplotlib is not installed."""

    reason = "PLOTTING_UNAVAILABLE"


def require_matplotlib() -> None:
    """Raise ``PlottingUnavailableError`` unless matplotlib can be imported."""
    if importlib.util.find_spec("matplotlib") is None:
        raise PlottingUnavailableError(
            "the precision-recall PNG needs matplotlib, which is not installed: "
            + INSTALL_HINT
            + " (or pass --no-pr-curve)"
        )


def write_pr_curve_png(report: dict[str, Any], path: Path) -> None:
    """Draw ``report["pr_curve"]`` with the operating point at ``report["threshold"]`` into ``path``."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curve = report["pr_curve"]
    figure = Figure(figsize=(6.4, 5.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.step(
        curve["recall"],
        curve["precision"],
        where="post",
        color="tab:blue",
        label=f"clip scores (AP = {curve['average_precision']:.3f})",
    )
    axes.axhline(
        curve["positive_share"],
        color="grey",
        linestyle=":",
        label=f"chance (laughter share {curve['positive_share']:.2f})",
    )
    axes.plot(
        [report["recall"]],
        [report["precision"]],
        marker="o",
        markersize=8,
        color="tab:red",
        linestyle="none",
        label=(
            f"threshold {report['threshold']:g}: precision {report['precision']:.2f}, "
            f"recall {report['recall']:.2f}"
        ),
    )
    axes.set_xlim(0.0, 1.02)
    axes.set_ylim(0.0, 1.05)
    axes.set_xlabel("recall (laughter clips found)")
    axes.set_ylabel("precision (detections that are laughter)")
    axes.set_title(
        f"{report['model']}: clip-level precision-recall\n({report['clips']} clips, clip score {report['clip_aggregate']})",
        fontsize=11,
    )
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(path, format="png")
