"""Turns results into titled tables of text, and prints them as plain text or, when installed, with rich."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TextIO

from laughter._types import (
    AnalysisResult,
    AnalysisSummary,
    ConfidenceInterval,
    EvidenceSource,
    LaughterEvent,
    ModelInfo,
)

SOURCE_LABELS = {
    EvidenceSource.AUDIO: "audio",
    EvidenceSource.FACE: "face",
    EvidenceSource.AUDIO_AND_FACE: "audio+face",
    EvidenceSource.UNSPECIFIED: "-",
}
BAR_WIDTH = 20
PIPED_WIDTH = 160


@dataclasses.dataclass(frozen=True)
class Table:
    """A titled table of text cells; ``headers`` empty means a key-value list without a header row."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty_text: str = ""
    """What to print instead of the rows when there are none."""


def _seconds(value: float) -> str:
    return f"{value:.2f}"


def _interval(ci: ConfidenceInterval | None, scale: float = 1.0, digits: int = 2) -> str:
    if ci is None:
        return ""
    level = round(ci.level * 100)
    return f" ({level}% CI {ci.lower * scale:.{digits}f} to {ci.upper * scale:.{digits}f}, {ci.method})"


def event_table(events: Sequence[LaughterEvent]) -> Table:
    """One row per laughter event."""
    rows = tuple(
        (
            str(index),
            _seconds(event.start_s),
            _seconds(event.end_s),
            _seconds(event.peak_s),
            event.laughter_type.value,
            f"{event.confidence:.2f}",
            "-" if event.face_id is None else str(event.face_id),
            SOURCE_LABELS[event.evidence.source],
        )
        for index, event in enumerate(events, start=1)
    )
    headers = ("#", "start s", "end s", "peak s", "type", "confidence", "face", "source")
    return Table("Laughter events", headers, rows, empty_text="No laughter found.")


def summary_table(summary: AnalysisSummary, source: str = "") -> Table:
    """The headline figures, as key-value rows."""
    durations, media = summary.durations, summary.media
    emotion = "none (no faces found)"
    if summary.dominant_emotion is not None:
        share = summary.emotion_breakdown.get(summary.dominant_emotion.value, 0.0)
        emotion = f"{summary.dominant_emotion.value} ({share:.2f})"
    rows: list[tuple[str, str]] = [("file", source)] if source else []
    rows += [
        ("laughter detected", "yes" if summary.laughter_detected else "no"),
        ("dominant type", summary.dominant_laughter_type.value),
        ("overall confidence", f"{summary.overall_confidence:.2f}"),
        ("dominant emotion", emotion),
        ("events", str(durations.event_count)),
        ("laughter time", f"{durations.total_laughter_duration_s:.2f} s of {media.duration_s:.2f} s"),
        (
            "laughter share",
            f"{durations.laughter_fraction * 100:.1f}%{_interval(durations.laughter_fraction_ci, 100.0, 1)}",
        ),
        (
            "laughs per minute",
            f"{durations.laughs_per_minute:.2f}{_interval(durations.laughs_per_minute_ci)}",
        ),
        (
            "mean / longest event",
            f"{durations.mean_event_duration_s:.2f} s / {durations.longest_event_duration_s:.2f} s",
        ),
        (
            "trend",
            f"{summary.trend.direction.value} (slope {summary.trend.slope_per_minute:+.3f} per minute,"
            f" {len(summary.trend.bins)} bins)",
        ),
        ("faces", f"{media.faces_detected} (in {media.frames_with_faces} of {media.frames_analyzed} frames)"),
        ("media", _media_text(summary)),
        ("processing time", _processing_text(summary)),
    ]
    return Table("Summary", (), tuple(rows))


def _media_text(summary: AnalysisSummary) -> str:
    media = summary.media
    parts = [f"{media.duration_s:.2f} s"] + ([media.container] if media.container else [])
    if media.has_video:
        parts.append(
            f"video {media.video_codec} {media.video_width}x{media.video_height}"
            f" at {media.video_frame_rate_hertz:.1f} fps,"
            f" analysed at {media.analysis_frame_rate_hertz:.1f} fps"
        )
    if media.has_audio:
        parts.append(
            f"audio {media.audio_codec} {media.audio_sample_rate_hertz} Hz x{media.audio_channel_count}"
        )
    return ", ".join(parts)


def _processing_text(summary: AnalysisSummary) -> str:
    text = f"{summary.processing_duration_s:.2f} s"
    if summary.media.duration_s > 0:
        text += f" ({summary.processing_duration_s / summary.media.duration_s:.2f}x real time)"
    return text


def _bar(share: float) -> str:
    return "#" * round(max(0.0, min(1.0, share)) * BAR_WIDTH)


def emotion_table(summary: AnalysisSummary) -> Table:
    """Mean share of each emotion over all face samples, in model order."""
    rows = tuple((name, f"{share:.3f}", _bar(share)) for name, share in summary.emotion_breakdown.items())
    return Table("Emotion breakdown", ("emotion", "share", ""), rows, empty_text="No faces found.")


def type_table(summary: AnalysisSummary) -> Table:
    """Events per laughter type."""
    rows = tuple(
        (item.laughter_type.value, str(item.event_count), _seconds(item.total_duration_s))
        for item in summary.type_counts
    )
    return Table("Laughter types", ("type", "events", "total s"), rows)


def trend_table(summary: AnalysisSummary) -> Table:
    """The trend's time bins."""
    rows = tuple(
        (
            f"{item.start_s:.1f} to {item.end_s:.1f}",
            str(item.event_count),
            _seconds(item.laughter_duration_s),
            f"{item.mean_happy:.2f}",
        )
        for item in summary.trend.bins
    )
    return Table("Trend", ("bin s", "events", "laughter s", "mean happy"), rows)


def face_table(summary: AnalysisSummary) -> Table:
    """One row per tracked face."""
    rows = tuple(
        (
            str(face.face_id),
            str(face.frames_seen),
            _seconds(face.first_seen_s),
            _seconds(face.last_seen_s),
            face.dominant_emotion.value if face.dominant_emotion is not None else "-",
            str(face.event_count),
            face.dominant_laughter_type.value,
        )
        for face in summary.faces
    )
    headers = ("face", "frames", "first s", "last s", "emotion", "events", "dominant type")
    return Table("Faces", headers, rows)


def notice_table(summary: AnalysisSummary) -> Table:
    """What the analysis could not do."""
    rows = tuple((notice.code.value, notice.message) for notice in summary.notices)
    return Table("Notices", ("code", "message"), rows)


def model_table(models: Iterable[ModelInfo]) -> Table:
    """One row per model, with version and weights hash."""
    rows = tuple(
        (
            model.name,
            model.version,
            model.role.value,
            model.backend,
            "yes" if model.ready else "no",
            model.sha256[:12] or "-",
        )
        for model in models
    )
    return Table("Models", ("name", "version", "role", "backend", "ready", "sha256"), rows)


def timing_table(summary: AnalysisSummary) -> Table:
    """Server time per pipeline stage."""
    rows = tuple((item.stage, f"{item.duration_s:.3f}") for item in summary.stage_timings)
    return Table("Stage timings", ("stage", "seconds"), rows)


def result_tables(result: AnalysisResult, source: str = "") -> list[Table]:
    """Every table of an analysis, in reading order; empty optional tables are left out."""
    summary = result.summary
    tables = [event_table(result.events), summary_table(summary, source), emotion_table(summary)]
    optional = [type_table, trend_table, face_table, notice_table, timing_table]
    tables += [table for table in (make(summary) for make in optional) if table.rows]
    tables.append(model_table(summary.models))
    if result.request_id:
        tables.append(Table("Request", (), (("request id", result.request_id),)))
    return tables


def format_plain(tables: Iterable[Table]) -> str:
    """The tables as plain text with aligned columns."""
    blocks = []
    for table in tables:
        lines = [table.title, "=" * len(table.title)]
        if not table.rows:
            lines.append(table.empty_text or "(none)")
        else:
            grid = [table.headers, *table.rows] if table.headers else list(table.rows)
            widths = [max(len(row[col]) for row in grid) for col in range(len(grid[0]))]
            for index, row in enumerate(grid):
                lines.append(
                    "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                )
                if table.headers and index == 0:
                    lines.append("  ".join("-" * width for width in widths))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def print_tables(tables: Sequence[Table], stream: TextIO, *, use_rich: bool) -> None:
    """Print the tables with rich when asked and installed, else as plain text."""
    if use_rich:
        try:
            # rich is the optional "cli" extra: imported only when tables are printed with it.
            from rich.console import Console
            from rich.table import Table as RichTable
        except ImportError:
            use_rich = False
    if not use_rich:
        stream.write(format_plain(tables))
        return
    # Piped output has no terminal width: let tables take the width they need instead of rich's 80 columns.
    width = None if stream.isatty() else PIPED_WIDTH
    console = Console(file=stream, highlight=False, markup=False, width=width)
    for table in tables:
        rich_table = RichTable(title=table.title, title_justify="left", show_header=bool(table.headers))
        for header in table.headers or ("", ""):
            rich_table.add_column(header, overflow="fold")
        for row in table.rows:
            rich_table.add_row(*row)
        if not table.rows:
            console.print(table.title + ": " + (table.empty_text or "(none)"))
            continue
        console.print(rich_table)
