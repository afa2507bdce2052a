"""The store service: background writes, the notice when the store is down or the queue full, writes kept
over a shutdown, and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import pathlib
import time

from laughter.v1 import results_pb2, summary_pb2
from laughter_server.store.database import ResultStore, engine_url
from laughter_server.store.service import ResultsService, owner_of

from tests.postgres import free_port
from tests.store.test_store import KNOWN, make

WAIT_S = 30.0


async def landed(service: ResultsService, result_id: str, owner: str = "tenant:a") -> bool:
    """Wait until the result is readable (False if it never becomes so)."""
    end = time.monotonic() + WAIT_S
    while time.monotonic() < end:
        if await asyncio.to_thread(service.store.get, owner, result_id) is not None:
            return True
        await asyncio.sleep(0.02)
    return False


def stored(result_id: str) -> results_pb2.StoredResult:
    return make(result_id).stored


class TestOwners:
    """Tenant and client owners never collide."""

    def test_prefixes(self) -> None:
        """A client named like a tenant is another owner."""
        assert owner_of("a", "x") == "tenant:a"
        assert owner_of("", "a") == "client:a"
        assert owner_of("a", "") != owner_of("", "a")


class TestWrites:
    """Accepted results land; nothing accepted is lost."""

    async def test_submit_lands(self, store: ResultStore, tmp_path: pathlib.Path) -> None:
        """A submitted result is written in the background, with no notice."""
        service = ResultsService(store, data_dir=tmp_path, max_queued=10, retention_days=0)
        await service.start()
        assert service.submit("tenant:a", None, stored("w1")) is None
        assert await landed(service, "w1")
        await service.close(5)

    async def test_queue_full(self, store: ResultStore, tmp_path: pathlib.Path) -> None:
        """Beyond the queue's bound the reply gets a notice that the result was not stored."""
        service = ResultsService(store, data_dir=tmp_path, max_queued=1, retention_days=0)
        assert service.submit("tenant:a", None, stored("q1")) is None  # writer not started: stays queued
        notice = service.submit("tenant:a", None, stored("q2"))
        assert notice is not None
        assert notice.code == summary_pb2.NOTICE_CODE_RESULT_NOT_STORED
        await service.start()
        assert await landed(service, "q1")
        await service.close(5)

    async def test_down_store_keeps_writes_over_a_shutdown(self, tmp_path: pathlib.Path) -> None:
        """With the database unreachable, replies get the notice and a shutdown keeps the writes in files,
        which a later start with a reachable store writes."""
        down = ResultStore(
            engine_url(f"postgresql://laughter@127.0.0.1:{free_port()}/none", ""), connect_timeout_s=1
        )
        service = ResultsService(down, data_dir=tmp_path, max_queued=10, retention_days=0)
        await service.start()
        assert await service.cached("tenant:a", "k") is None  # the failed lookup marks the store down
        notice = service.submit("tenant:a", None, stored("d1"))
        assert notice is not None
        assert notice.code == summary_pb2.NOTICE_CODE_RESULT_NOT_STORED
        await service.close(0.5)
        assert [p.name for p in (tmp_path / "pending").iterdir()] == ["d1.pending"]
        up = ResultStore(engine_url("", str(tmp_path)))
        again = ResultsService(up, data_dir=tmp_path, max_queued=10, retention_days=0)
        await again.start()
        assert await landed(again, "d1")
        await again.close(5)
        assert not list((tmp_path / "pending").iterdir())


class TestRetention:
    """Results older than the retention period are deleted."""

    async def test_expire(self, store: ResultStore, tmp_path: pathlib.Path) -> None:
        """Old results go; a result stored now stays."""
        store.insert(KNOWN)  # stored in 2026-01-01
        fresh = make("now")
        fresh.stored.create_time.GetCurrentTime()
        store.insert([fresh])
        service = ResultsService(store, data_dir=tmp_path, max_queued=10, retention_days=30)
        assert await service.expire_now() == len(KNOWN)
        assert store.get("tenant:a", "now") is not None
        assert store.get("tenant:a", "r1") is None
