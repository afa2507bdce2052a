"""The results store over SQLAlchemy Core: SQLite (a file, the default) or PostgreSQL (psycopg 3). Migrations
(Alembic) are applied when it opens. Every method is blocking: the async callers run them in a thread."""

from __future__ import annotations

import base64
import pathlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from laughter.v1 import results_pb2

from laughter_server.errors import InvalidOptionError
from laughter_server.store import schema
from laughter_server.store.records import Record, payload_row, rows

MIGRATIONS = pathlib.Path(__file__).resolve().parent / "migrations"
ANALYZE_MIN_ROWS = 1000
"""The planner's statistics are refreshed (ANALYZE) whenever the results grew by this many rows or by as many
as they held at the last refresh, whichever is more: amortised, a constant cost per stored row."""
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def engine_url(database_url: str, data_dir: str) -> str:
    """The SQLAlchemy URL: ``postgresql://`` goes through psycopg 3; empty means SQLite under ``data_dir``."""
    if not database_url:
        path = pathlib.Path(data_dir) / "results.sqlite3"
        return f"sqlite:///{path}"
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


class ResultStore:
    """Stored results, their owners, the cache lookup and the deletions."""

    def __init__(self, url: str, *, connect_timeout_s: float = 3.0) -> None:
        self.url = url
        connect_args: dict[str, Any] = {}
        if url.startswith("postgresql"):
            connect_args["connect_timeout"] = max(1, round(connect_timeout_s))
        elif url.startswith("sqlite:///"):
            pathlib.Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        self.dialect = self.engine.dialect.name
        self._analyzed_rows = 0  # rows at the last ANALYZE
        self._unanalyzed_rows = 0  # rows inserted since

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (the newest by default)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        if revision == "head":
            self.analyze()

    def analyze(self) -> None:
        """Refresh the query planner's statistics. Without them SQLite walks the owner index for an owner
        holding most rows (one table lookup per row) instead of scanning, several times slower."""
        with self.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
            rows = connection.execute(sa.select(sa.func.count()).select_from(schema.results)).scalar_one()
        self._analyzed_rows, self._unanalyzed_rows = int(rows), 0

    def close(self) -> None:
        self.engine.dispose()

    # writes ------------------------------------------------------------------------------------------
    def insert(self, records: Sequence[Record]) -> None:
        """Store ``records`` in one transaction; a result already stored (a retried write) is replaced."""
        result_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        stage_rows: list[dict[str, Any]] = []
        for record in records:
            result_row, events, stages = rows(record)
            result_rows.append(result_row)
            event_rows.extend(events)
            stage_rows.extend(stages)
        payload_rows = [payload_row(record) for record in records]
        try:
            self._insert(result_rows, payload_rows, event_rows, stage_rows, replace=False)
        except sa.exc.IntegrityError:  # some were written before (a write retried after a cut-off)
            self._insert(result_rows, payload_rows, event_rows, stage_rows, replace=True)
        self._unanalyzed_rows += len(result_rows)
        if self._unanalyzed_rows >= max(ANALYZE_MIN_ROWS, self._analyzed_rows):
            self.analyze()

    def _insert(
        self,
        result_rows: list[dict[str, Any]],
        payload_rows: list[dict[str, Any]],
        event_rows: list[dict[str, Any]],
        stage_rows: list[dict[str, Any]],
        *,
        replace: bool,
    ) -> None:
        with self.engine.begin() as connection:
            if replace:
                self._delete_ids(connection, [r["result_id"] for r in result_rows])
            connection.execute(schema.results.insert(), result_rows)
            connection.execute(schema.payloads.insert(), payload_rows)
            if event_rows:
                connection.execute(schema.events.insert(), event_rows)
            if stage_rows:
                connection.execute(schema.stages.insert(), stage_rows)

    @staticmethod
    def _delete_ids(connection: sa.Connection, ids: Iterable[str]) -> int:
        ids = list(ids)
        deleted = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for table in (schema.events, schema.stages, schema.payloads):
                connection.execute(table.delete().where(table.c.result_id.in_(chunk)))
            deleted += connection.execute(
                schema.results.delete().where(schema.results.c.result_id.in_(chunk))
            ).rowcount
        return deleted

    def delete(self, owner: str, ids: Sequence[str], everything: bool = False) -> int:
        """Delete the owner's results among ``ids`` (or all of them); others' ids are ignored."""
        query = sa.select(schema.results.c.result_id).where(schema.results.c.owner == owner)
        if not everything:
            query = query.where(schema.results.c.result_id.in_(list(ids)))
        with self.engine.begin() as connection:
            owned = [row[0] for row in connection.execute(query)]
            return self._delete_ids(connection, owned)

    def expire(self, before_ms: int) -> int:
        """Delete every result stored before ``before_ms`` (retention)."""
        query = sa.select(schema.results.c.result_id).where(schema.results.c.created_ms < before_ms)
        with self.engine.begin() as connection:
            return self._delete_ids(connection, [row[0] for row in connection.execute(query)])

    # reads -------------------------------------------------------------------------------------------
    def get(self, owner: str, result_id: str) -> results_pb2.StoredResult | None:
        """The owner's result with this id; None for an unknown id and for another owner's alike."""
        query = (
            sa.select(schema.payloads.c.payload)
            .join(schema.results, schema.results.c.result_id == schema.payloads.c.result_id)
            .where(schema.results.c.result_id == result_id, schema.results.c.owner == owner)
        )
        with self.engine.connect() as connection:
            payload = connection.execute(query).scalar_one_or_none()
        return None if payload is None else results_pb2.StoredResult.FromString(payload)

    def cached(self, owner: str, cache_key: str) -> results_pb2.StoredResult | None:
        """The owner's newest result with this cache key."""
        query = (
            sa.select(schema.payloads.c.payload)
            .join(schema.results, schema.results.c.result_id == schema.payloads.c.result_id)
            .where(schema.results.c.owner == owner, schema.results.c.cache_key == cache_key)
            .order_by(schema.results.c.created_ms.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            payload = connection.execute(query).scalar_one_or_none()
        return None if payload is None else results_pb2.StoredResult.FromString(payload)

    def list(
        self, owner: str, where: Sequence[sa.ColumnElement[bool]], page_size: int, page_token: str
    ) -> tuple[list[results_pb2.StoredResult], str]:
        """A page of the owner's results (newest first) and the next page's token."""
        size = DEFAULT_PAGE_SIZE if page_size == 0 else page_size
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidOptionError("page_size", f"page_size must be in [1, {MAX_PAGE_SIZE}] (0 means 50)")
        r = schema.results.c
        query = (
            sa.select(schema.payloads.c.payload, r.created_ms, r.result_id)
            .join(schema.results, r.result_id == schema.payloads.c.result_id)
            .where(r.owner == owner, *where)
        )
        if page_token:
            created_ms, last_id = _read_token(page_token)
            query = query.where(
                sa.or_(r.created_ms < created_ms, sa.and_(r.created_ms == created_ms, r.result_id < last_id))
            )
        query = query.order_by(r.created_ms.desc(), r.result_id.desc()).limit(size + 1)
        with self.engine.connect() as connection:
            found = connection.execute(query).all()
        page = []
        for payload, _, _ in found[:size]:
            stored = results_pb2.StoredResult.FromString(payload)
            del stored.result.events[:]
            page.append(stored)
        token = _make_token(found[size - 1][1], found[size - 1][2]) if len(found) > size else ""
        return page, token


def _make_token(created_ms: int, result_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_ms}:{result_id}".encode()).decode()


def _read_token(token: str) -> tuple[int, str]:
    try:
        created, result_id = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        return int(created), result_id
    except (ValueError, UnicodeError):
        raise InvalidOptionError(
            "page_token", "page_token is not one this server returned; pass next_page_token unchanged"
        ) from None
