"""Batch analysis of many files: the per-file outcome, and the bounded windows of in-flight calls that the
sync client (threads) and the async client (tasks) run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

from laughter._exceptions import ApiError, LaughterError
from laughter._retry import count_attempts, stop_counting
from laughter._types import AnalysisResult

__all__ = ["FileResult", "error_to_dict"]

PathLike = str | os.PathLike[str]
_END = object()


@dataclasses.dataclass(frozen=True)
class FileResult:
    """The outcome of one file of a batch: a result, or the error that stopped it (never both).

    ``elapsed_s`` is the wall time from the first attempt to the outcome, retries and their waits included;
    ``attempts`` counts the calls made (0 when a local check failed before any call).
    """

    path: str
    """The path as given, as a string."""
    result: AnalysisResult | None
    """The analysis, or ``None`` when the file failed."""
    error: LaughterError | None
    """Why the file failed: a :class:`~laughter.MediaFileError` (local), or an :class:`~laughter.ApiError`
    with the server's code, reason and message; ``None`` on success."""
    elapsed_s: float
    """Wall time spent on the file, in seconds."""
    attempts: int = 1
    """Calls made for the file, retries included."""

    @property
    def is_ok(self) -> bool:
        """True when the file was analysed."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record: ``path``, ``ok``, ``elapsed_s``, ``attempts``, then ``result`` (the
        result's ``to_dict()``) or ``error`` (see :func:`error_to_dict`)."""
        record: dict[str, Any] = {
            "path": self.path,
            "ok": self.is_ok,
            "elapsed_s": round(self.elapsed_s, 3),
            "attempts": self.attempts,
        }
        if self.result is not None:
            record["result"] = self.result.to_dict()
        if self.error is not None:
            record["error"] = error_to_dict(self.error)
        return record


def error_to_dict(error: LaughterError) -> dict[str, Any]:
    """A JSON-ready description of an SDK error: ``type``, ``message`` and, for server errors, ``code``,
    ``reason``, ``metadata``, ``field_violations`` and ``retry_after_s``."""
    record: dict[str, Any] = {"type": type(error).__name__, "message": error.message}
    if isinstance(error, ApiError):
        record.update(
            code=error.code,
            reason=error.reason,
            metadata=dict(error.metadata),
            field_violations=[
                {"field": item.field, "description": item.description} for item in error.field_violations
            ],
            retry_after_s=error.retry_after_s,
        )
    return record


_Outcome = tuple[float, FileResult]
"""(monotonic time the file finished, its result): completion order within one wake-up."""


def analyze_one(analyze: Callable[[PathLike], AnalysisResult], path: PathLike) -> _Outcome:
    """Analyse one file with the sync client's ``analyze`` and turn any SDK error into the outcome."""
    counter, token = count_attempts()
    started = time.monotonic()
    try:
        result: AnalysisResult | None = analyze(path)
        error: LaughterError | None = None
    except LaughterError as exc:
        result, error = None, exc
    finally:
        stop_counting(token)
    finished = time.monotonic()
    return finished, FileResult(os.fspath(path), result, error, finished - started, counter[0])


async def analyze_one_async(
    analyze: Callable[[PathLike], Awaitable[AnalysisResult]], path: PathLike
) -> _Outcome:
    """Analyse one file with the async client's ``analyze`` (run in a task of its own, so the attempts
    counted are this file's) and turn any SDK error into the outcome."""
    counter, token = count_attempts()
    started = time.monotonic()
    try:
        result: AnalysisResult | None = await analyze(path)
        error: LaughterError | None = None
    except LaughterError as exc:
        result, error = None, exc
    finally:
        stop_counting(token)
    finished = time.monotonic()
    return finished, FileResult(os.fspath(path), result, error, finished - started, counter[0])


def check_concurrency(concurrency: int) -> None:
    """Refuse a window of fewer than one call."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")


def iterate_threaded(
    analyze: Callable[[PathLike], AnalysisResult], paths: Iterable[PathLike], concurrency: int
) -> Iterator[FileResult]:
    """Run ``analyze`` over ``paths`` in ``concurrency`` threads, taking paths lazily so no more than
    ``concurrency`` calls are in flight, and yield each file's result as it finishes. Closing the iterator
    early cancels the files not started; calls in flight finish in the background."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="laughter-batch")
    pending: set[concurrent.futures.Future[_Outcome]] = set()
    remaining = iter(paths)
    try:
        while True:
            while len(pending) < concurrency:
                path = next(remaining, _END)
                if path is _END:
                    break
                pending.add(pool.submit(analyze_one, analyze, path))  # type: ignore[arg-type]
            if not pending:
                return
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for _, file_result in sorted((future.result() for future in done), key=lambda item: item[0]):
                yield file_result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


async def iterate_tasks(
    analyze: Callable[[PathLike], Awaitable[AnalysisResult]], paths: Iterable[PathLike], concurrency: int
) -> AsyncIterator[FileResult]:
    """The asyncio form of :func:`iterate_threaded`: one task per file, at most ``concurrency`` at a time.
    Closing the iterator early cancels the tasks in flight."""
    pending: set[asyncio.Task[_Outcome]] = set()
    remaining = iter(paths)
    try:
        while True:
            while len(pending) < concurrency:
                path = next(remaining, _END)
                if path is _END:
                    break
                pending.add(asyncio.create_task(analyze_one_async(analyze, path)))  # type: ignore[arg-type]
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for _, file_result in sorted((task.result() for task in done), key=lambda item: item[0]):
                yield file_result
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
