"""Open live sessions: capacity, lookup for the browser path, idle and duration limits, and the drain on
shutdown (open sessions finish with their summaries within the drain timeout)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable

import structlog

from laughter_server.errors import (
    CapacityExceededError,
    SessionExistsError,
    SessionNotFoundError,
    ShuttingDownError,
)
from laughter_server.inference.models import FaceModels
from laughter_server.observability.metrics import Metrics
from laughter_server.observability.recording import record_result
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.session import LiveSession, SessionLimits, SessionSpec, WarningUpdate
from laughter_server.pipeline.vocabulary import ErrorReason

log = structlog.get_logger(__name__)

WATCHDOG_PERIOD_S = 0.5
ORPHAN_GRACE_S = 60.0
"""A finished session nobody watches is kept this long for EndSession / WatchSession to collect."""


class SessionRegistry:
    """Creates, finds and retires live sessions."""

    def __init__(
        self,
        face_models: FaceModels,
        audio: AudioStage,
        limits: SessionLimits,
        *,
        max_sessions: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.face_models = face_models
        self.audio = audio
        self.limits = limits
        self.max_sessions = max_sessions
        self.metrics = metrics
        self._sessions: dict[str, LiveSession] = {}
        self._detached: dict[LiveSession, asyncio.Task[None]] = {}  # finishing after their client left
        self._draining = False
        self._watchdog: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    def open(
        self,
        spec: SessionSpec,
        audio: AudioStage | None = None,
        on_summary: Callable[[LiveSession], None] | None = None,
    ) -> LiveSession:
        """Start a session (a server-chosen id when the spec has none), with ``audio``'s model when given;
        ``on_summary`` is told of its end, whoever reads its updates."""
        if self._draining:
            raise ShuttingDownError(
                "the server is shutting down and takes no new sessions; retry on another replica"
            )
        if len(self._sessions) >= self.max_sessions:
            raise CapacityExceededError(
                f"the server already runs {self.max_sessions} live sessions, its limit; retry later",
                retry_after_s=5.0,
            )
        session_id = spec.session_id or uuid.uuid4().hex
        if session_id in self._sessions:
            raise SessionExistsError(f"a session with id {session_id!r} is already open; choose another id")
        if session_id != spec.session_id:
            spec = dataclasses.replace(spec, session_id=session_id)
        session = LiveSession(spec, self.face_models, audio or self.audio, self.limits, on_summary)
        self._sessions[session_id] = session
        session.start()
        if self.metrics is not None:
            self.metrics.active_sessions.set(len(self._sessions))
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch(), name="session-watchdog")
        log.info("session.opened", session_id=session_id, client_id=spec.client_id)
        return session

    def get(self, session_id: str) -> LiveSession:
        """The open session with this id."""
        try:
            return self._sessions[session_id]
        except KeyError:
            raise SessionNotFoundError(
                f"no open session {session_id!r}: it never existed, ended, or timed out; create a new one"
            ) from None

    def detach(self, session: LiveSession) -> None:
        """The client went away before the summary: the session gives up its id and its slot, analyses the
        media it received, reports its summary (``on_summary``), and is retired then. With ``max_sessions``
        detached sessions already finishing, it is cut off instead (``cancel``: it reports a summary without
        findings and the events ended so far), so that clients that leave cannot pile up work."""
        if self._sessions.get(session.spec.session_id) is not session:
            return
        del self._sessions[session.spec.session_id]
        if self.metrics is not None:
            self.metrics.active_sessions.set(len(self._sessions))
        session.end_input()
        if len(self._detached) >= self.max_sessions:  # background work stays bounded: report what it has
            log.warning(
                "session.detached_cut_off", session_id=session.spec.session_id, finishing=len(self._detached)
            )
            work = self._finish_detached(session, cut_off=True)
        else:
            work = self._finish_detached(session, cut_off=False)
        self._detached[session] = asyncio.create_task(work, name="session-detached")

    async def _finish_detached(self, session: LiveSession, *, cut_off: bool) -> None:
        try:
            if cut_off:
                await session.cancel()
            else:
                await session.wait_finished()
        finally:
            self._detached.pop(session, None)
            self._closed(session, cancelled=cut_off)

    async def retire(self, session: LiveSession, *, cancel: bool) -> None:
        """Forget the session; ``cancel`` stops its work at once (the drain ran out of time)."""
        if self._sessions.get(session.spec.session_id) is not session:
            return  # already retired
        del self._sessions[session.spec.session_id]
        if cancel:
            await session.cancel()
        self._closed(session, cancelled=cancel)

    def _closed(self, session: LiveSession, *, cancelled: bool) -> None:
        """Count what the retired session did and log its end."""
        if self.metrics is not None:
            self.metrics.active_sessions.set(len(self._sessions))
            for reason, (frames, _) in session.drops.items():
                if frames:
                    self.metrics.frames_dropped.labels(reason=reason.name).inc(frames)
            if session.result is not None:
                record_result(self.metrics, session.result)
            self.metrics.face_samples_skipped.inc(session.face_samples_skipped)
        progress = session.progress()
        log.info(
            "session.closed",
            session_id=session.spec.session_id,
            cancelled=cancelled,
            frames=progress.frames_received,
            analysed=progress.frames_analyzed,
            dropped=progress.frames_dropped,
            events=progress.events_ended,
            face_samples_skipped=session.face_samples_skipped,
            duration_s=round(time.monotonic() - session.opened_at, 2),
        )

    async def _watch(self) -> None:
        while self._sessions:
            now = time.monotonic()
            for session in list(self._sessions.values()):
                if session.finished_at is not None and not session.watched:
                    if now - session.finished_at > ORPHAN_GRACE_S:
                        await self.retire(session, cancel=False)  # summary never collected (browser gone)
                    continue
                if session.is_closed:
                    continue
                if now - session.last_chunk_at > self.limits.idle_timeout_s:
                    session.end_input(
                        WarningUpdate(
                            ErrorReason.DEADLINE_EXCEEDED,
                            "",
                            f"no media for {self.limits.idle_timeout_s:g} s: the session was closed (idle timeout)",
                        )
                    )
                elif now - session.opened_at > self.limits.max_duration_s:
                    session.end_input(
                        WarningUpdate(
                            ErrorReason.DEADLINE_EXCEEDED,
                            "",
                            f"the session reached its maximum duration of {self.limits.max_duration_s:g} s",
                        )
                    )
            await asyncio.sleep(WATCHDOG_PERIOD_S)

    async def drain(self, timeout_s: float) -> None:
        """Refuse new sessions, close every open one's input, wait for their summaries, then cancel."""
        self._draining = True
        sessions = list(self._sessions.values())
        detached = list(self._detached)
        for session in sessions:
            session.end_input(
                WarningUpdate(
                    ErrorReason.SHUTTING_DOWN,
                    "",
                    "the server is shutting down: the session ends with its summary",
                )
            )
        if sessions or detached:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(
                        *(s.wait_finished() for s in (*sessions, *detached)), return_exceptions=True
                    ),
                    timeout_s,
                )
        # give the RPC handlers a moment to send the summaries they now hold
        for _ in range(int(timeout_s * 10)):
            if not self._sessions:
                break
            await asyncio.sleep(0.1)
        for session in list(self._sessions.values()):
            await self.retire(session, cancel=True)
        for session, task in list(self._detached.items()):
            await session.cancel()  # reports its summary without findings
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._watchdog is not None:
            self._watchdog.cancel()
