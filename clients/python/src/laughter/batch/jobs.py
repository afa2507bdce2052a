"""The state of batch jobs, kept in Redis next to the Celery queue: one hash of per-file records per job,
keyed by the file's content sha256, written with scripts that make every outcome idempotent.

Keys (``JOB`` is the job id):

* ``laughter:batch:JOB:meta``: ``created_s``, ``options`` (JSON), ``queue``.
* ``laughter:batch:JOB:files``: sha256 -> the file's record (JSON, :class:`FileRecord`).
* ``laughter:batch:JOB:results``: sha256 -> the analysis (``AnalysisResult.to_dict()`` as JSON), set once.

A record is ``pending`` until a worker writes ``done`` (with the server's ``result_id``) or ``failed`` (the
dead-letter state, with the server's code, reason and message). The first ``done`` wins: a second delivery
of the same file (a worker killed before its acknowledgement, a visibility timeout that ran out) finds the
record done and changes nothing, so a job never holds two results for one file.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

__all__ = ["FileRecord", "JobNotFoundError", "JobProgress", "JobStore", "new_job_id"]

PENDING = "pending"
DONE = "done"
FAILED = "failed"
STATES = (PENDING, DONE, FAILED)
WORKER_RETRIES = 40
"""Retries of one command by a worker while Redis restarts: about a minute, backoff capped at 2 s."""
COMMAND_LINE_RETRIES = 2
"""Retries of one command by ``laughter batch``: a broker that does not answer is reported at once."""

# KEYS: files, results. ARGV: sha256, record JSON, result JSON ('' for a failure).
# Returns 1 when written, 0 when the file was already done (a repeated delivery), -1 when it is not in the job.
_RECORD_OUTCOME = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
local record = cjson.decode(current)
if record['state'] == 'done' then return 0 end
local outcome = cjson.decode(ARGV[2])
if outcome['state'] == 'failed' and record['state'] == 'failed' then return 0 end
outcome['deliveries'] = record['deliveries']
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(outcome))
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) end
return 1
"""

# KEYS: files. ARGV: sha256, field, JSON value, 'count' to add one to deliveries.
# Changes a pending record only; returns its state.
_NOTE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return '' end
local record = cjson.decode(current)
if record['state'] ~= 'pending' then return record['state'] end
record[ARGV[2]] = cjson.decode(ARGV[3])
if ARGV[4] == 'count' then record['deliveries'] = (record['deliveries'] or 0) + 1 end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 'pending'
"""


class JobNotFoundError(LookupError):
    """No job with this id in the broker's Redis."""


def new_job_id() -> str:
    """A fresh job id: 12 hex digits."""
    return uuid.uuid4().hex[:12]


@dataclasses.dataclass(frozen=True)
class FileRecord:
    """What a job knows of one file."""

    sha256: str
    path: str
    size_bytes: int
    state: str = PENDING
    """``pending``, ``done`` or ``failed`` (dead-letter)."""
    result_id: str = ""
    """The server's id of the stored result (``laughter results show ID`` on that server)."""
    server: str = ""
    """Address of the server that analysed the file."""
    media_s: float = 0.0
    """Media duration analysed, in seconds."""
    attempts: int = 0
    """Calls made for the file, retries included."""
    deliveries: int = 0
    """Times a worker started the file (above 1 after a redelivery)."""
    error: dict[str, Any] | None = None
    """For ``failed``: ``code``, ``reason`` and ``message`` of the last error; for a pending file being
    retried: the error that caused the retry."""
    worker: str = ""
    """The worker that started the file last."""
    finished_s: float = 0.0
    """Unix time of the outcome."""

    @classmethod
    def from_json(cls, text: str | bytes) -> FileRecord:
        data = json.loads(text)
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class JobProgress:
    """Counts of a job's files and an estimate of the time left."""

    job_id: str
    done: int
    failed: int
    pending: int
    in_progress: int
    created_s: float
    media_s: float
    eta_s: float | None
    """Seconds until the pending files are finished at the rate so far; ``None`` before the first outcome."""

    @property
    def total(self) -> int:
        return self.done + self.failed + self.pending

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "total": self.total, "finished": self.finished}


class JobStore:
    """Job records in Redis (the broker's instance: run it with ``appendonly yes``)."""

    def __init__(self, url: str, *, retries: int = COMMAND_LINE_RETRIES) -> None:
        self.client = redis.Redis.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
            socket_connect_timeout=5.0,
            socket_timeout=30.0,
        )
        self._record_outcome = self.client.register_script(_RECORD_OUTCOME)
        self._note = self.client.register_script(_NOTE)

    def close(self) -> None:
        self.client.close()

    @staticmethod
    def _key(job_id: str, part: str) -> str:
        return f"laughter:batch:{job_id}:{part}"

    def create(self, job_id: str, options: Mapping[str, Any], queue: str) -> None:
        """Record the job (kept when it exists: resubmitting adds files to it)."""
        meta = self._key(job_id, "meta")
        self.client.hsetnx(meta, "created_s", repr(time.time()))
        self.client.hset(meta, mapping={"options": json.dumps(dict(options)), "queue": queue})

    def exists(self, job_id: str) -> bool:
        return bool(self.client.exists(self._key(job_id, "meta")))

    def options(self, job_id: str) -> dict[str, Any]:
        raw = self.client.hget(self._key(job_id, "meta"), "options")
        if raw is None:
            raise JobNotFoundError(job_id)
        options: dict[str, Any] = json.loads(raw)
        return options

    def add_file(self, job_id: str, record: FileRecord) -> bool:
        """Add a pending file; False when the job already has these contents (pending, done or failed)."""
        return bool(self.client.hsetnx(self._key(job_id, "files"), record.sha256, record.to_json()))

    def record(self, job_id: str, sha256: str) -> FileRecord | None:
        raw = self.client.hget(self._key(job_id, "files"), sha256)
        return None if raw is None else FileRecord.from_json(raw)

    def note_start(self, job_id: str, sha256: str, worker: str) -> str:
        """A worker starts the file: count the delivery; returns the record's state ('' when unknown)."""
        state = self._note(
            keys=[self._key(job_id, "files")], args=[sha256, "worker", json.dumps(worker), "count"]
        )
        return state.decode() if isinstance(state, bytes) else str(state)

    def note_retry(self, job_id: str, sha256: str, error: Mapping[str, Any], attempts: int) -> None:
        """A transient error: the file stays pending, with the error and the attempts so far."""
        files = self._key(job_id, "files")
        self._note(keys=[files], args=[sha256, "error", json.dumps(dict(error)), ""])
        self._note(keys=[files], args=[sha256, "attempts", json.dumps(attempts), ""])

    def record_outcome(self, job_id: str, record: FileRecord, result: Mapping[str, Any] | None) -> int:
        """Write ``done`` (with ``result``) or ``failed``: 1 written, 0 already done, -1 no such file."""
        result_json = "" if result is None else json.dumps(result, separators=(",", ":"))
        written = self._record_outcome(
            keys=[self._key(job_id, "files"), self._key(job_id, "results")],
            args=[record.sha256, record.to_json(), result_json],
        )
        return int(written)

    def records(self, job_id: str) -> list[FileRecord]:
        if not self.exists(job_id):
            raise JobNotFoundError(job_id)
        raw = self.client.hgetall(self._key(job_id, "files"))
        return sorted((FileRecord.from_json(value) for value in raw.values()), key=lambda r: r.path)

    def results(self, job_id: str) -> Iterator[tuple[FileRecord, dict[str, Any] | None]]:
        """Every file of the job with its analysis (``None`` unless done), in path order."""
        results_key = self._key(job_id, "results")
        for record in self.records(job_id):
            raw = self.client.hget(results_key, record.sha256) if record.state == DONE else None
            yield record, None if raw is None else json.loads(raw)

    def progress(self, job_id: str) -> JobProgress:
        records = self.records(job_id)
        created_raw = self.client.hget(self._key(job_id, "meta"), "created_s")
        created_s = float(created_raw) if created_raw is not None else time.time()
        counts = {state: sum(1 for r in records if r.state == state) for state in STATES}
        in_progress = sum(1 for r in records if r.state == PENDING and r.deliveries > 0)
        finished = [r.finished_s for r in records if r.state != PENDING]
        eta_s = None
        if finished and counts[PENDING]:
            elapsed = max(max(finished) - created_s, 1e-3)
            eta_s = counts[PENDING] * elapsed / len(finished)
        elif not counts[PENDING]:
            eta_s = 0.0
        return JobProgress(
            job_id=job_id,
            done=counts[DONE],
            failed=counts[FAILED],
            pending=counts[PENDING],
            in_progress=in_progress,
            created_s=created_s,
            media_s=sum(r.media_s for r in records if r.state == DONE),
            eta_s=eta_s,
        )
