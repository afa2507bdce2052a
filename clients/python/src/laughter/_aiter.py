"""Async iteration over sync or async iterables, keeping blocking ``next()`` calls off the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator
from typing import TypeVar, cast

__all__ = ["iterate_async"]

ItemT = TypeVar("ItemT")
_DONE = object()


def _advance(iterator: Iterator[object]) -> object:
    return next(iterator, _DONE)


async def iterate_async(source: Iterable[ItemT] | AsyncIterable[ItemT]) -> AsyncGenerator[ItemT, None]:
    """The items of ``source``. An async iterable is iterated as it is; a sync one (a decoder, a camera) is
    advanced in a worker thread of its own, so its blocking calls never stall the event loop. When the
    iteration stops early, a sync iterator's ``close()`` runs in that thread after any pending ``next()``."""
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
        return
    iterator: Iterator[object] = iter(source)
    loop = asyncio.get_running_loop()
    worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="laughter-source")
    try:
        while True:
            advanced = await loop.run_in_executor(worker, _advance, iterator)
            if advanced is _DONE:
                return
            yield cast(ItemT, advanced)
    finally:
        close = getattr(iterator, "close", None)
        if callable(close):
            worker.submit(close)
        worker.shutdown(wait=False)
