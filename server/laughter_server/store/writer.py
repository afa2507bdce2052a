"""Background writes: a bounded queue, batched inserts retried while the store is down, and on shutdown
whatever could not be written is kept in files under the data directory and written at the next start."""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib

import structlog
from laughter.v1 import results_pb2

from laughter_server.store.database import ResultStore
from laughter_server.store.records import Record

log = structlog.get_logger(__name__)

BATCH = 64
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 2.0


class StoreWriter:
    """Writes accepted records in the background; ``healthy`` is False from a failed write to the next
    success."""

    def __init__(self, store: ResultStore, *, max_queued: int, spill_dir: pathlib.Path) -> None:
        self.store = store
        self.spill_dir = spill_dir
        self.queue: asyncio.Queue[Record] = asyncio.Queue(max_queued)
        self.healthy = True
        self.written = 0
        self._batch: list[Record] = []
        self._spilled: dict[str, pathlib.Path] = {}
        self._task: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()  # set whenever nothing waits to be written

    def start(self) -> None:
        """Load the records kept at the last shutdown, then write in the background."""
        for path in sorted(self.spill_dir.glob("*.pending")):
            try:
                header, payload = path.read_bytes().split(b"\n", 1)
                meta = json.loads(header)
                stored = results_pb2.StoredResult.FromString(payload)
            except (ValueError, OSError):
                log.warning("store.spill_unreadable", path=str(path))
                continue
            self._batch.append(Record(meta["owner"], meta["cache_key"], stored))
            self._spilled[stored.result_id] = path
        if self._batch:
            log.info("store.spill_loaded", records=len(self._batch))
        self._task = asyncio.create_task(self._run(), name="store-writer")

    def offer(self, record: Record) -> bool:
        """Queue ``record``; False when the queue is full (the record is not accepted)."""
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            return False
        self._drained.clear()
        return True

    @property
    def backlog(self) -> int:
        return self.queue.qsize() + len(self._batch)

    async def _run(self) -> None:
        delay = RETRY_FIRST_S
        while True:
            if not self._batch:
                self._batch.append(await self.queue.get())
            while len(self._batch) < BATCH and not self.queue.empty():
                self._batch.append(self.queue.get_nowait())
            try:
                await asyncio.to_thread(self.store.insert, self._batch)
            except Exception as exc:  # the store is down or refused: keep the batch, retry with backoff
                if self.healthy:
                    log.warning("store.write_failed", error_type=type(exc).__name__, queued=self.backlog)
                self.healthy = False
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                continue
            if not self.healthy:
                log.info("store.write_recovered", written=len(self._batch))
            self.healthy = True
            delay = RETRY_FIRST_S
            self.written += len(self._batch)
            for record in self._batch:
                if (path := self._spilled.pop(record.result_id, None)) is not None:
                    path.unlink(missing_ok=True)
            self._batch = []
            if self.queue.empty():
                self._drained.set()

    async def close(self, timeout_s: float) -> None:
        """Write what is queued within ``timeout_s``; keep the rest in files for the next start."""
        if self._task is None:
            return
        if self.backlog:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        left = [*self._batch]
        while not self.queue.empty():
            left.append(self.queue.get_nowait())
        for record in left:
            if record.result_id in self._spilled:
                continue
            self.spill_dir.mkdir(parents=True, exist_ok=True)
            header = json.dumps({"owner": record.owner, "cache_key": record.cache_key}).encode()
            path = self.spill_dir / f"{record.result_id}.pending"
            path.write_bytes(header + b"\n" + record.stored.SerializeToString())
        if left:
            log.warning("store.spilled", records=len(left), folder=str(self.spill_dir))
