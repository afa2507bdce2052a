"""The results store: every analysis and live session's result, owned by its caller, for reading back, the
content cache and analytics. ``open_results`` builds it from the settings; the servicer calls
``ResultsService``."""

from __future__ import annotations

import pathlib

from laughter_server.config import Settings
from laughter_server.store.database import ResultStore, engine_url
from laughter_server.store.service import ResultsService, cache_key, new_result_id, owner_of

__all__ = ["ResultStore", "ResultsService", "cache_key", "new_result_id", "open_results", "owner_of"]


async def open_results(settings: Settings) -> ResultsService:
    """The store named by ``--database-url`` (SQLite under ``--data-dir`` by default), migrated and
    writing."""
    store = ResultStore(engine_url(settings.database_url, settings.data_dir))
    service = ResultsService(
        store,
        data_dir=pathlib.Path(settings.data_dir),
        max_queued=settings.store_queue_size,
        retention_days=settings.retention_days,
    )
    await service.start()
    return service
