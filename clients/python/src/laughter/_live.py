"""Live sessions over the asyncio client: :class:`LiveSession` sends media and reads updates on one
StreamingAnalyze call; :func:`feed_session` sends media sources to it, and :func:`run_session` yields its
updates while it is fed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from types import TracebackType
from typing import Any, cast

import grpc
import grpc.aio

from laughter._aiter import iterate_async
from laughter._exceptions import LaughterError, SessionClosedError, map_rpc_error
from laughter._session_convert import chunk_request, update_from_proto
from laughter._session_types import AudioChunk, Frame, MediaChunk, SessionStarted, SessionUpdate
from laughter.v1 import laughter_service_pb2

__all__ = ["LiveSession", "feed_session", "run_session"]


def _is_cancelling() -> bool:
    """True when the current task was asked to cancel (always False before Python 3.11)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if callable(cancelling) else False


class LiveSession:
    """One open live session (a StreamingAnalyze call): send frames and audio, half-close with
    :meth:`close`, and read the updates with ``async for update in session.updates()``.

    >>> session = await client.open_session(laughter.SessionOptions())   # doctest: +SKIP
    >>> await session.send_frame(jpeg_bytes, offset_s=0.0)
    >>> await session.close()
    >>> async for update in session.updates(): ...

    Sending and reading may run in different tasks. Leaving ``async with session:`` cancels a session that
    has not finished. Calls fail with the SDK's exceptions, never with a ``grpc.RpcError``.
    """

    def __init__(self, call: grpc.aio.StreamStreamCall[Any, Any]) -> None:
        self._call = call
        self._write_lock = asyncio.Lock()
        self._is_closed = False
        self._session_id = ""
        self._failure: BaseException | None = None

    async def __aenter__(self) -> LiveSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cancel()

    @property
    def session_id(self) -> str:
        """The session's id, known once the :class:`~laughter.SessionStarted` update was read ("" before)."""
        return self._session_id

    @property
    def is_closed(self) -> bool:
        """True once :meth:`close` was called: no more media can be sent."""
        return self._is_closed

    @property
    def is_done(self) -> bool:
        """True once the call has ended (summary received, failed, or cancelled)."""
        return self._call.done()

    async def send(self, chunk: MediaChunk) -> None:
        """Send one :class:`~laughter.Frame` or :class:`~laughter.AudioChunk`. Waits while the transport
        (or, with ``BacklogPolicy.BLOCK``, the server) is not ready for more."""
        await self._write(chunk_request(chunk))

    async def send_frame(self, data: bytes, offset_s: float) -> None:
        """Send one encoded video frame captured at ``offset_s`` seconds."""
        await self.send(Frame(data, offset_s))

    async def send_audio(self, data: bytes, offset_s: float) -> None:
        """Send a run of interleaved audio samples whose first sample was captured at ``offset_s``."""
        await self.send(AudioChunk(data, offset_s))

    async def close(self) -> None:
        """Half-close: no more media. The server finishes the analysis and sends the summary as the last
        update. Calling it again does nothing."""
        async with self._write_lock:
            self._is_closed = True
            await self._call.done_writing()

    def cancel(self) -> None:
        """Abort the session without a summary; does nothing once the call has ended."""
        if not self._call.done():
            self._call.cancel()

    def abort(self, failure: BaseException) -> None:
        """Cancel the session because its media source failed; :meth:`updates` raises ``failure``."""
        self._failure = failure
        self.cancel()

    async def _write(self, request: laughter_service_pb2.StreamingAnalyzeRequest) -> None:
        if self._is_closed:
            raise SessionClosedError("cannot send media to a live session after close()")
        async with self._write_lock:
            try:
                await self._call.write(request)
            except asyncio.InvalidStateError:
                raise await self._ended_error() from None
            except grpc.RpcError as exc:
                raise map_rpc_error(exc) from None

    async def _ended_error(self) -> LaughterError:
        """Why media can no longer be sent: the call's error, or that the session is over."""
        if self._call.done() and not self._call.cancelled():
            code = await self._call.code()
            if code is not grpc.StatusCode.OK:
                error = grpc.aio.AioRpcError(
                    code,
                    await self._call.initial_metadata(),
                    await self._call.trailing_metadata(),
                    await self._call.details(),
                )
                return map_rpc_error(error)
        return SessionClosedError("the live session has ended; no more media can be sent")

    async def updates(self) -> AsyncGenerator[SessionUpdate, None]:
        """The session's updates until the summary (the last one); iterate it once. A failed call raises
        the SDK's exception for its status; updates of kinds this SDK does not know are skipped."""
        while True:
            try:
                response = await self._call.read()
            except grpc.RpcError as exc:
                raise map_rpc_error(exc) from None
            except asyncio.CancelledError:
                if self._failure is not None and not _is_cancelling():
                    raise self._failure from None
                raise
            if response is grpc.aio.EOF:
                return
            message = cast(laughter_service_pb2.StreamingAnalyzeResponse, response)
            update = update_from_proto(message.update)
            if update is None:
                continue
            if isinstance(update, SessionStarted):
                self._session_id = update.session_id
            yield update


async def _send_all(
    session: LiveSession,
    source: Iterable[MediaChunk] | AsyncIterable[MediaChunk],
    stop: asyncio.Event | None,
) -> None:
    async with contextlib.aclosing(iterate_async(source)) as chunks:
        async for chunk in chunks:
            if stop is not None and stop.is_set():
                return
            await session.send(chunk)


def _task_error(task: asyncio.Task[None]) -> BaseException | None:
    return None if task.cancelled() else task.exception()


async def feed_session(
    session: LiveSession,
    *sources: Iterable[MediaChunk] | AsyncIterable[MediaChunk],
    stop: asyncio.Event | None = None,
) -> None:
    """Send the chunks of every source (concurrently, one task each) until they are exhausted or ``stop``
    is set, then half-close. A failing source aborts the session (:meth:`LiveSession.updates` re-raises
    its exception); a call that has ended stops the sending quietly (the updates report why)."""
    if not sources:
        await session.close()
        return
    tasks = [asyncio.create_task(_send_all(session, source, stop)) for source in sources]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
    failures = [error for error in (_task_error(task) for task in done) if error is not None]
    if not failures:
        await session.close()
        return
    failure = failures[0]
    if isinstance(failure, LaughterError) and (session.is_done or isinstance(failure, SessionClosedError)):
        return
    session.abort(failure)


async def run_session(
    session: LiveSession, source: Iterable[MediaChunk] | AsyncIterable[MediaChunk]
) -> AsyncGenerator[SessionUpdate, None]:
    """The updates of ``session`` while a task sends ``source`` to it. When the iteration stops early
    (``break``, cancellation, an error), the sending stops and the call is cancelled."""
    pump = asyncio.create_task(feed_session(session, source), name="laughter-session-feed")
    try:
        async for update in session.updates():
            yield update
    finally:
        pump.cancel()
        session.cancel()
        await asyncio.wait({pump})
