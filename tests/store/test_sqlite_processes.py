"""One SQLite results file written by several server processes at once (``laughter-server --workers N``):
WAL and the busy timeout make writers wait for each other; no write is lost, a result written by two
processes (a retried write) is stored once, and deletions by owner run between the writes."""

from __future__ import annotations

import multiprocessing
import pathlib

import sqlalchemy as sa
from laughter_server.store import schema
from laughter_server.store.database import ResultStore, engine_url

from tests.store.test_store import make

PROCESSES = 4
BATCHES = 25
BATCH = 4
SHARED = 8
EVENTS = ((1, 1.0, 0.8), (2, 0.5, 0.6))


def write(url: str, index: int) -> None:
    """What one worker's store writer does: migrate (already at head), then insert batches; the shared
    results are written by every process, and the deleting owner's results are deleted as they land."""
    store = ResultStore(url)
    store.migrate()
    try:
        for batch in range(BATCHES):
            records = [
                make(f"p{index}-{batch}-{i}", owner=f"tenant:{index}", events=EVENTS, stages={"decode": 0.1})
                for i in range(BATCH)
            ]
            store.insert(records)
            if batch % 5 == 0:
                store.insert(
                    [make(f"shared-{k}", owner="tenant:shared", events=EVENTS) for k in range(SHARED)]
                )
            if index == 0:
                store.delete("tenant:0", [], everything=True)
    finally:
        store.close()


def test_processes_write_one_sqlite_file(tmp_path: pathlib.Path) -> None:
    """Every write of every process lands exactly once; the deleter's own results are gone."""
    url = engine_url("", str(tmp_path))
    first = ResultStore(url)
    first.migrate()
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=write, args=(url, i)) for i in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * PROCESSES  # no "database is locked", no lost write
    with first.engine.connect() as connection:
        owners = dict(
            connection.execute(
                sa.select(schema.results.c.owner, sa.func.count()).group_by(schema.results.c.owner)
            ).all()
        )
        events = connection.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar_one()
        payloads = connection.execute(sa.select(sa.func.count()).select_from(schema.payloads)).scalar_one()
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    first.close()
    expected = {f"tenant:{i}": BATCHES * BATCH for i in range(1, PROCESSES)} | {"tenant:shared": SHARED}
    assert owners == expected
    total = sum(expected.values())
    assert payloads == total
    assert events == total * len(EVENTS)  # a replaced result keeps exactly its own events
    assert mode == "wal"
