"""The store suite runs against SQLite and a real PostgreSQL alike."""

from __future__ import annotations

import itertools
import pathlib
from collections.abc import Iterator

import pytest
from laughter_server.store.database import ResultStore, engine_url

from tests.postgres import PostgresServer

_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[ResultStore]:
    """A freshly migrated, empty store on each backend."""
    if request.param == "sqlite":
        url = engine_url("", str(tmp_path))
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = engine_url(server.create_database(f"store_{next(_databases)}"), "")
    opened = ResultStore(url)
    opened.migrate()
    yield opened
    opened.close()
