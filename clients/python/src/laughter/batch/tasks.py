"""What a worker does with one file: check it is the file that was submitted, stream it to a server with
``AnalyzeMediaUpload``, and write the outcome to the job.

Errors are sorted in two kinds. Transient (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED other than
MEDIA_TOO_LARGE): every server is tried once, then the task is retried by Celery after a random delay
below ``min(backoff_max_s, backoff_s * 2 ** retries)`` ("full jitter", and not shorter than the server's
``RetryInfo`` delay); after ``max_retries`` the file is
dead-lettered. Permanent (the server rejected the file, e.g. INVALID_ARGUMENT / MEDIA_UNDECODABLE; the
file is missing or changed since it was submitted): dead-lettered at once. A dead-lettered file is
``failed`` with the server's code, reason and message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from celery.exceptions import Retry

from laughter._batch import error_to_dict
from laughter._client import LaughterClient
from laughter._config import AnalysisOptions, ClientOptions
from laughter._exceptions import (
    ApiError,
    LaughterError,
    MediaTooLargeError,
    ResourceExhaustedError,
    TransportError,
)
from laughter._retry import RetryPolicy
from laughter._types import AnalysisResult
from laughter.batch.app import TASK_NAME
from laughter.batch.jobs import DONE, FAILED, WORKER_RETRIES, FileRecord, JobStore

__all__ = ["WorkerRuntime", "analysis_options", "is_transient", "register_task", "retry_delay_s"]

logger = logging.getLogger("laughter.batch")
HASH_BLOCK_BYTES = 1 << 20
OPTION_NAMES = ("analysis_frame_rate_hertz", "disable_video", "disable_audio", "laughter_threshold")


def analysis_options(options: Mapping[str, Any]) -> AnalysisOptions:
    """The analysis options of a job (the names of :class:`~laughter.AnalysisOptions`)."""
    return AnalysisOptions(**{name: options[name] for name in OPTION_NAMES if name in options})


def is_transient(error: LaughterError) -> bool:
    """True for errors worth another try later: the server down or overloaded, or too slow."""
    if isinstance(error, MediaTooLargeError):
        return False
    return isinstance(error, TransportError | ResourceExhaustedError)


def retry_delay_s(retries: int, backoff_s: float, backoff_max_s: float, at_least_s: float = 0.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(backoff_max_s, backoff_s * 2 ** retries)], and not
    below ``at_least_s`` (the server's ``RetryInfo`` delay) unless that passes ``backoff_max_s``."""
    delay = random.uniform(0.0, min(backoff_max_s, backoff_s * 2.0**retries))
    return min(max(delay, at_least_s), backoff_max_s)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def local_error(reason: str, message: str) -> dict[str, Any]:
    """An error found by the worker itself, in the shape of :func:`laughter._batch.error_to_dict`."""
    return {"type": "WorkerError", "code": "", "reason": reason, "message": message}


@dataclasses.dataclass
class WorkerRuntime:
    """What the task needs in a worker process: servers, client options, the job store, retry settings."""

    servers: Sequence[str]
    client_options: ClientOptions
    broker_url: str
    max_retries: int = 8
    backoff_s: float = 2.0
    backoff_max_s: float = 120.0
    name: str = dataclasses.field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _clients: dict[tuple[int, str], LaughterClient] = dataclasses.field(default_factory=dict)
    _store: tuple[int, JobStore] | None = None
    _turn: itertools.count[int] = dataclasses.field(default_factory=itertools.count)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.servers:
            raise ValueError("give at least one server address")
        # Celery retries with backoff; the SDK's own quick retries would only delay the next server.
        self.client_options = dataclasses.replace(
            self.client_options, upload_threshold_bytes=0, retry=RetryPolicy.disabled()
        )

    def store(self) -> JobStore:
        """The job store of this process (made again after a fork)."""
        with self._lock:
            if self._store is None or self._store[0] != os.getpid():
                self._store = (os.getpid(), JobStore(self.broker_url, retries=WORKER_RETRIES))
            return self._store[1]

    def client(self, address: str) -> LaughterClient:
        """One client (one channel) per server and process, shared by the worker's threads."""
        key = (os.getpid(), address)
        with self._lock:
            if key not in self._clients:
                options = dataclasses.replace(self.client_options, address=address)
                self._clients[key] = LaughterClient(options=options)
            return self._clients[key]

    def server_order(self) -> list[str]:
        """The servers, starting with the next one in turn: files are spread over them, and a file whose
        server is unavailable goes on to the others."""
        start = next(self._turn) % len(self.servers)
        return [*self.servers[start:], *self.servers[:start]]

    def analyze(self, path: str, options: AnalysisOptions) -> tuple[AnalysisResult, str, int]:
        """(result, server address, calls made); raises the last transient error when every server gave
        one, or the first permanent error."""
        last: LaughterError | None = None
        for calls, address in enumerate(self.server_order(), start=1):
            try:
                return self.client(address).analyze_file(path, options=options), address, calls
            except LaughterError as exc:
                if not is_transient(exc):
                    raise
                last = exc
        assert last is not None
        raise last


RUNTIME: WorkerRuntime | None = None
"""Set by ``laughter-worker`` before the worker starts."""


def _runtime() -> WorkerRuntime:
    if RUNTIME is None:
        raise RuntimeError("the batch task runs in laughter-worker, which sets up its servers")
    return RUNTIME


def _dead_letter(
    store: JobStore, job_id: str, base: FileRecord, error: dict[str, Any], attempts: int, worker: str
) -> None:
    record = dataclasses.replace(
        base, state=FAILED, error=error, attempts=attempts, worker=worker, finished_s=time.time()
    )
    store.record_outcome(job_id, record, None)


def analyze_file_task(task: Any, job_id: str, sha256: str, path: str, options: dict[str, Any]) -> str:
    """The Celery task (bound): returns the file's state after this delivery. A fault of the worker itself
    is retried like a transient error, then dead-lettered as ``WORKER_ERROR`` (the details are in the
    worker's log)."""
    runtime = _runtime()
    store = runtime.store()
    try:
        return _analyze_file(task, runtime, store, job_id, sha256, path, options)
    except Retry:
        raise
    except Exception:
        logger.exception("batch file failed in the worker: job %s, file %s", job_id, sha256)
        retries = int(task.request.retries)
        if retries < runtime.max_retries:
            delay = retry_delay_s(retries, runtime.backoff_s, runtime.backoff_max_s)
            raise task.retry(countdown=delay, max_retries=runtime.max_retries) from None
        base = store.record(job_id, sha256) or FileRecord(sha256=sha256, path=path, size_bytes=0)
        message = f"worker {runtime.name} failed on this file after {retries} retries; see its log"
        _dead_letter(store, job_id, base, local_error("WORKER_ERROR", message), base.attempts, runtime.name)
        return FAILED


def _analyze_file(
    task: Any,
    runtime: WorkerRuntime,
    store: JobStore,
    job_id: str,
    sha256: str,
    path: str,
    options: dict[str, Any],
) -> str:
    state = store.note_start(job_id, sha256, runtime.name)
    if state != "pending":  # done or failed by an earlier delivery, or the job was removed
        return state or "unknown"
    retries = int(task.request.retries)
    base = store.record(job_id, sha256) or FileRecord(sha256=sha256, path=path, size_bytes=0)
    attempts_before = base.attempts
    try:
        if file_sha256(path) != sha256:
            error = local_error("FILE_CHANGED", f"{path} changed after it was submitted; submit it again")
            _dead_letter(store, job_id, base, error, attempts_before, runtime.name)
            return FAILED
    except OSError as exc:
        message = f"{path} cannot be read on worker {runtime.name}: {exc.strerror or 'read error'}"
        _dead_letter(
            store, job_id, base, local_error("FILE_UNREADABLE", message), attempts_before, runtime.name
        )
        return FAILED
    try:
        result, address, calls = runtime.analyze(path, analysis_options(options))
    except LaughterError as exc:
        calls = len(runtime.servers) if is_transient(exc) else 1
        attempts = attempts_before + calls
        error = error_to_dict(exc)
        if is_transient(exc) and retries < runtime.max_retries:
            store.note_retry(job_id, sha256, error, attempts)
            server_delay = exc.retry_after_s if isinstance(exc, ApiError) else None
            delay = retry_delay_s(retries, runtime.backoff_s, runtime.backoff_max_s, server_delay or 0.0)
            raise task.retry(countdown=delay, max_retries=runtime.max_retries) from None
        _dead_letter(store, job_id, base, error, attempts, runtime.name)
        return FAILED
    record = dataclasses.replace(
        base,
        state=DONE,
        result_id=result.result_id,
        server=address,
        media_s=result.summary.media.duration_s,
        attempts=attempts_before + calls,
        error=None,
        worker=runtime.name,
        finished_s=time.time(),
    )
    store.record_outcome(job_id, record, result.to_dict())
    return DONE


def register_task(app: Any) -> Any:
    """Register the task on ``app`` (retries are explicit, with the worker's backoff)."""
    return app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)(analyze_file_task)
