"""``laughter batch submit|status|results``: queue a job of files for ``laughter-worker``, follow it, and
write its results. The broker is ``--broker``, else ``LAUGHTER_BROKER_URL``, else a Redis on this host.

Exit codes: 0 ok; 2 usage (no such file, no such job); 3 the job finished with dead-lettered files
(``status --watch``); 4 the broker does not answer.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from typing import Any, TextIO

from laughter._argtypes import fraction, positive_float
from laughter._config import ClientOptions
from laughter._exceptions import MissingDependencyError
from laughter.batch.app import DEFAULT_QUEUE, INSTALL_HINT, TASK_NAME, broker_url, make_app

__all__ = ["add_batch_commands", "progress_line", "run_batch"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FAILED_FILES = 3
EXIT_UNAVAILABLE = 4
BAR_WIDTH = 30
WATCH_INTERVAL_S = 2.0


def add_batch_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``batch`` with its ``submit``, ``status`` and ``results`` actions."""
    batch = commands.add_parser(
        "batch", help="background jobs of many files on laughter-worker (Celery, Redis)"
    )
    actions = batch.add_subparsers(dest="batch_action", required=True, metavar="ACTION")
    broker = argparse.ArgumentParser(add_help=False)
    broker.add_argument(
        "--broker", default=None, metavar="URL", help="Redis URL (default: $LAUGHTER_BROKER_URL)"
    )

    submit = actions.add_parser(
        "submit", parents=[common, broker], help="queue one task per file; prints the job id"
    )
    submit.add_argument("inputs", nargs="*", metavar="DIR|MANIFEST.csv|FILE", help="what to analyse")
    submit.add_argument(
        "--job", default=None, help="add to this job; its pending files are queued again (alone: only that)"
    )
    submit.add_argument("--queue", default=DEFAULT_QUEUE, help=f"Celery queue (default {DEFAULT_QUEUE})")
    submit.add_argument(
        "--fps", type=positive_float, default=None, metavar="F", help="video frames analysed per second"
    )
    submit.add_argument("--no-video", action="store_true", help="analyse the audio only")
    submit.add_argument("--no-audio", action="store_true", help="analyse the faces only")
    submit.add_argument(
        "--threshold", type=fraction, default=None, metavar="T", help="laughter score, [0, 1)"
    )

    status = actions.add_parser(
        "status", parents=[common, broker], help="progress: done, failed, pending, ETA"
    )
    status.add_argument("job_id", metavar="JOB")
    status.add_argument("--watch", action="store_true", help="refresh until no file is pending")

    results = actions.add_parser("results", parents=[common, broker], help="one JSON line per file")
    results.add_argument("job_id", metavar="JOB")
    results.add_argument("--out", default=None, metavar="FILE", help="write the lines here (default: stdout)")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.fps is not None:
        options["analysis_frame_rate_hertz"] = args.fps
    if args.no_video:
        options["disable_video"] = True
    if args.no_audio:
        options["disable_audio"] = True
    if args.threshold is not None:
        options["laughter_threshold"] = args.threshold
    return options


def _submit(args: argparse.Namespace, url: str, out: TextIO, err: TextIO) -> int:
    from laughter.batch.inputs import InputError, collect_files
    from laughter.batch.jobs import PENDING, FileRecord, JobStore, new_job_id
    from laughter.batch.tasks import file_sha256

    if not args.inputs and args.job is None:
        err.write(
            "laughter: error: give files, a folder or a manifest (or --job JOB to queue its pending files)\n"
        )
        return EXIT_USAGE
    try:
        paths = collect_files(args.inputs)
    except (InputError, OSError) as exc:
        err.write(f"laughter: error: {exc}\n")
        return EXIT_USAGE
    store = JobStore(url)
    if args.job is not None and not store.exists(args.job):
        err.write(f"laughter: error: no job {args.job} on the broker\n")
        return EXIT_USAGE
    job_id = args.job or new_job_id()
    options = _options(args) if args.job is None else store.options(job_id)
    store.create(job_id, options, args.queue)
    queued: list[FileRecord] = []
    skipped = 0
    if not paths:  # --job alone: every pending file again (a message lost with a crashed Redis, say)
        queued = [record for record in store.records(job_id) if record.state == PENDING]
    for path in paths:
        record = FileRecord(sha256=file_sha256(str(path)), path=str(path), size_bytes=path.stat().st_size)
        if store.add_file(job_id, record):
            queued.append(record)
            continue
        known = store.record(job_id, record.sha256)
        if args.job is not None and known is not None and known.state == PENDING:
            queued.append(known)
        else:
            skipped += 1
    app = make_app(url)
    with app.producer_or_acquire() as producer:
        for record in queued:
            app.send_task(
                TASK_NAME,
                args=[job_id, record.sha256, record.path, options],
                queue=args.queue,
                producer=producer,
            )
    store.close()
    if args.json:
        out.write(json.dumps({"job_id": job_id, "queued": len(queued), "skipped": skipped}) + "\n")
    else:
        note = f", {skipped} skipped (contents already in the job)" if skipped else ""
        err.write(f"job {job_id}: {len(queued)} files queued{note}\n")
        out.write(f"{job_id}\n")
    return EXIT_OK


def _clock(seconds: float | None) -> str:
    return "--:--:--" if seconds is None else str(datetime.timedelta(seconds=round(seconds)))


def progress_line(progress: Any) -> str:
    """``[######......] 12/30 done 11 failed 1 pending 18 (4 running) ETA 0:00:42`` for a JobProgress."""
    total = max(progress.total, 1)
    filled = round(BAR_WIDTH * (progress.done + progress.failed) / total)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {progress.done + progress.failed}/{progress.total} done {progress.done} "
        f"failed {progress.failed} pending {progress.pending} ({progress.in_progress} running) "
        f"ETA {_clock(progress.eta_s)}"
    )


def _status(args: argparse.Namespace, url: str, out: TextIO) -> int:
    from laughter.batch.jobs import COMMAND_LINE_RETRIES, FAILED, WORKER_RETRIES, JobStore

    store = JobStore(url, retries=WORKER_RETRIES if args.watch else COMMAND_LINE_RETRIES)
    progress = store.progress(args.job_id)
    interactive = out.isatty() and not args.json
    while args.watch and not progress.finished:
        if args.json:
            out.write(json.dumps(progress.to_dict()) + "\n")
        else:
            out.write(("\r" if interactive else "") + progress_line(progress) + ("" if interactive else "\n"))
        out.flush()
        time.sleep(WATCH_INTERVAL_S)
        progress = store.progress(args.job_id)
    failed = [record for record in store.records(args.job_id) if record.state == FAILED]
    if args.json:
        out.write(json.dumps(progress.to_dict()) + "\n")
    else:
        out.write(("\r" if interactive else "") + progress_line(progress) + "\n")
        for record in failed:
            error = record.error or {}
            tags = " ".join(str(error.get(key)) for key in ("code", "reason") if error.get(key))
            out.write(f"  dead-letter {record.path}: {error.get('message', '')} [{tags}]\n")
    store.close()
    return EXIT_FAILED_FILES if args.watch and failed else EXIT_OK


def _results(args: argparse.Namespace, url: str, out: TextIO, err: TextIO) -> int:
    from laughter.batch.jobs import JobStore

    store = JobStore(url)
    target = open(args.out, "w", encoding="utf-8") if args.out else out  # noqa: SIM115
    counts: dict[str, int] = {}
    try:
        for record, result in store.results(args.job_id):
            line: dict[str, Any] = {
                "path": record.path,
                "sha256": record.sha256,
                "state": record.state,
                "result_id": record.result_id,
                "server": record.server,
                "media_s": record.media_s,
                "attempts": record.attempts,
                "deliveries": record.deliveries,
            }
            if result is not None:
                line["result"] = result
            if record.error is not None:
                line["error"] = record.error
            target.write(json.dumps(line) + "\n")
            counts[record.state] = counts.get(record.state, 0) + 1
    finally:
        if target is not out:
            target.close()
        store.close()
    if args.out:
        summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
        err.write(f"wrote {sum(counts.values())} lines to {args.out} ({summary})\n")
    return EXIT_OK


def run_batch(
    args: argparse.Namespace, client_options: ClientOptions, out: TextIO, err: TextIO | None = None
) -> int:
    """Run ``laughter batch ACTION``; ``client_options`` is unused (workers choose the servers)."""
    del client_options
    err = err or sys.stderr
    url = broker_url(args.broker)
    try:
        import redis
    except ImportError:
        raise MissingDependencyError(INSTALL_HINT) from None
    from laughter.batch.jobs import JobNotFoundError

    try:
        if args.batch_action == "submit":
            return _submit(args, url, out, err)
        if args.batch_action == "status":
            return _status(args, url, out)
        return _results(args, url, out, err)
    except JobNotFoundError:
        err.write(f"laughter: error: no job {args.job_id} on the broker at {url}\n")
        return EXIT_USAGE
    except (redis.ConnectionError, redis.TimeoutError):
        err.write(f"laughter: error: no answer from the broker at {url}\n")
        return EXIT_UNAVAILABLE
    except OSError as exc:
        err.write(f"laughter: error: {exc.filename or ''}: {exc.strerror or 'cannot be read'}\n")
        return EXIT_USAGE
