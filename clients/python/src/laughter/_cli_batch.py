"""``laughter analyze FILES...``: one file prints its tables; several run as a batch with a progress bar,
JSON lines written as files finish, and a final table."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TextIO, TypedDict

from laughter._batch import FileResult, error_to_dict
from laughter._client import LaughterClient
from laughter._config import AnalysisOptions, ClientOptions
from laughter._exceptions import LaughterError, TransportError
from laughter._render import Table, print_tables, result_tables

EXIT_OK = 0
EXIT_REJECTED = 3
EXIT_UNAVAILABLE = 4
CSV_COLUMNS = (
    "file",
    "ok",
    "events",
    "dominant_type",
    "confidence",
    "media_s",
    "elapsed_s",
    "attempts",
    "error_code",
    "error_reason",
    "error_message",
)


def analysis_options(args: argparse.Namespace) -> AnalysisOptions:
    """The analysis options of the ``analyze`` flags."""
    return AnalysisOptions(
        analysis_frame_rate_hertz=args.fps,
        disable_video=args.no_video,
        disable_audio=args.no_audio,
        laughter_threshold=args.threshold,
        include_face_samples=args.face_samples,
    )


class AnalyzeArguments(TypedDict):
    options: AnalysisOptions
    client_id: str
    fresh: bool


def analyze_arguments(args: argparse.Namespace) -> AnalyzeArguments:
    """The keyword arguments of ``analyze_files`` from the command line."""
    return AnalyzeArguments(options=analysis_options(args), client_id=args.client_id, fresh=args.fresh)


def output_mode(args: argparse.Namespace) -> str:
    """``table``, ``json``, ``jsonl`` or ``csv``; argparse makes the flags exclusive."""
    return "json" if args.json else "jsonl" if args.jsonl else "csv" if args.csv else "table"


def batch_exit_code(items: Sequence[FileResult]) -> int:
    """0 when every file was analysed, 4 when the server was unavailable or too slow for any file, else 3."""
    errors = [item.error for item in items if item.error is not None]
    if not errors:
        return EXIT_OK
    if any(isinstance(error, TransportError) for error in errors):
        return EXIT_UNAVAILABLE
    return EXIT_REJECTED


def _error_text(error: LaughterError) -> str:
    record = error_to_dict(error)
    tags = " ".join(value for value in (record.get("code", ""), record.get("reason", "")) if value)
    return f"{error.message} [{tags}]" if tags else error.message


def batch_table(items: Sequence[FileResult]) -> Table:
    """One row per file: events, dominant type, confidence and seconds, or the error."""
    rows = []
    for item in items:
        name = os.path.basename(item.path) or item.path
        if item.result is None:
            error_text = _error_text(item.error) if item.error is not None else ""
            rows.append((name, "-", "-", "-", f"{item.elapsed_s:.2f}", error_text))
            continue
        summary = item.result.summary
        rows.append(
            (
                name,
                str(len(item.result.events)),
                summary.dominant_laughter_type.value,
                f"{summary.overall_confidence:.2f}",
                f"{item.elapsed_s:.2f}",
                "",
            )
        )
    failed = sum(1 for item in items if not item.is_ok)
    title = f"Batch: {len(items) - failed} of {len(items)} files analysed" + (
        f", {failed} failed" if failed else ""
    )
    headers = ("file", "events", "dominant type", "confidence", "seconds", "error")
    return Table(title, headers, tuple(rows), empty_text="No files.")


def csv_row(item: FileResult) -> dict[str, Any]:
    """The CSV columns of one file."""
    row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS, "")
    row.update(file=item.path, ok=item.is_ok, elapsed_s=f"{item.elapsed_s:.3f}", attempts=item.attempts)
    if item.result is not None:
        summary = item.result.summary
        row.update(
            events=len(item.result.events),
            dominant_type=summary.dominant_laughter_type.value,
            confidence=f"{summary.overall_confidence:.3f}",
            media_s=f"{summary.media.duration_s:.3f}",
        )
    if item.error is not None:
        record = error_to_dict(item.error)
        row.update(
            error_code=record.get("code", ""),
            error_reason=record.get("reason", ""),
            error_message=item.error.message,
        )
    return row


class Progress(Protocol):
    """Reports files as they finish."""

    def advance(self, item: FileResult) -> None:
        """One more file finished."""


class PlainProgress:
    """A counter on stderr: rewritten in place on a terminal, one line per file otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._done = 0
        self._stream = stream
        self._is_tty = stream.isatty()

    def advance(self, item: FileResult) -> None:
        """Print the counter and the file that finished."""
        self._done += 1
        state = "ok" if item.is_ok else "failed"
        line = f"[{self._done}/{self._total}] {state} {item.path} ({item.elapsed_s:.1f} s)"
        if self._is_tty:
            end = "\n" if self._done == self._total else ""
            self._stream.write("\r\033[K" + line + end)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


@contextlib.contextmanager
def open_progress(total: int, stream: TextIO, *, use_rich: bool) -> Iterator[Progress]:
    """A rich progress bar when rich is installed and ``stream`` is a terminal, else :class:`PlainProgress`."""
    if use_rich and stream.isatty():
        try:
            # rich is the optional "cli" extra.
            from rich.console import Console
            from rich.progress import Progress as RichProgress
        except ImportError:
            pass
        else:
            with RichProgress(console=Console(file=stream), transient=True) as bar:
                task = bar.add_task("analysing", total=total)

                class _Bar:
                    def advance(self, item: FileResult) -> None:
                        bar.advance(task)

                yield _Bar()
            return
    yield PlainProgress(total, stream)


def _write_record(stream: TextIO | None, item: FileResult) -> None:
    if stream is not None:
        stream.write(json.dumps(item.to_dict()) + "\n")
        stream.flush()


def run_single(
    args: argparse.Namespace, client_options: ClientOptions, out: TextIO, record: TextIO | None
) -> int:
    """One file in a table or JSON document, as before batches existed; errors raise to the caller."""
    with LaughterClient(options=client_options) as client:
        item = next(iter(client.analyze_files(args.files, concurrency=1, **analyze_arguments(args))))
    _write_record(record, item)
    if item.error is not None:
        raise item.error
    assert item.result is not None
    if args.json:
        json.dump(item.result.to_dict(), out, indent=2)
        out.write("\n")
    else:
        print_tables(result_tables(item.result, os.path.basename(item.path)), out, use_rich=not args.plain)
    return EXIT_OK


def run_batch(
    args: argparse.Namespace, client_options: ClientOptions, out: TextIO, err: TextIO, record: TextIO | None
) -> int:
    """Several files, ``--jobs`` at a time: progress on ``err``, JSON lines to ``--out`` (and to stdout
    with ``--jsonl``) as files finish, then the final table, JSON array or CSV."""
    mode = output_mode(args)
    files: list[str] = list(args.files)
    items: list[FileResult] = []
    with (
        LaughterClient(options=client_options) as client,
        open_progress(len(files), err, use_rich=not args.plain) as progress,
    ):
        for item in client.analyze_files(files, concurrency=args.jobs, **analyze_arguments(args)):
            items.append(item)
            progress.advance(item)
            _write_record(record, item)
            if mode == "jsonl":
                _write_record(out, item)
    order = {path: index for index, path in reversed(list(enumerate(files)))}
    items.sort(key=lambda item: order.get(item.path, len(files)))
    if mode == "json":
        json.dump([item.to_dict() for item in items], out, indent=2)
        out.write("\n")
    elif mode == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_row(item) for item in items)
    elif mode == "table":
        print_tables([batch_table(items)], out, use_rich=not args.plain)
    failed = sum(1 for item in items if not item.is_ok)
    if failed:
        err.write(f"laughter: {failed} of {len(items)} files failed\n")
    return batch_exit_code(items)


def run_analyze(
    args: argparse.Namespace, client_options: ClientOptions, out: TextIO, err: TextIO | None = None
) -> int:
    """The ``analyze`` command: :func:`run_single` for one file in table or JSON form, else
    :func:`run_batch`."""
    err = err or sys.stderr
    record: TextIO | None = None
    try:
        if args.out:
            try:
                record = open(args.out, "w", encoding="utf-8")  # noqa: SIM115 - closed below
            except OSError as exc:
                err.write(f"laughter: error: cannot write {args.out}: {exc.strerror}\n")
                return 2
        if len(args.files) == 1 and output_mode(args) in ("table", "json"):
            return run_single(args, client_options, out, record)
        return run_batch(args, client_options, out, err, record)
    finally:
        if record is not None:
            record.close()
