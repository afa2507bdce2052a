"""A live session: frames and audio pushed as they are captured, event updates out as they happen.

The session is the network side of the analysis engine: it checks each chunk, samples frames down to the
analysis rate, keeps a bounded backlog, decodes chunks off the event loop and feeds the engine, whose
updates it queues for the client. Memory is bounded whatever the client does:

* frames wait in a queue of at most ``max_backlog_frames``; when a new frame finds it full, the OLDEST
  waiting frame is dropped (reason BACKLOG), or with ``BacklogPolicy.BLOCK`` the reader waits for room;
* audio is never dropped: when more than ``max_audio_backlog_s`` of audio waits, ``push_audio`` waits too,
  which holds back the client through gRPC flow control;
* capture offsets are trusted only within bounds: a chunk before 0, not finite, or more than
  ``max_timestamp_jump_s`` beyond the newest media received is refused with a warning, so the work a
  session does is bounded by the media it received, never by the times it claims;
* updates waiting for a slow reader are coalesced (one progress, one ongoing update per event) and face
  samples beyond ``max_queued_updates`` waiting are skipped and counted;
* a chunk larger than ``max_chunk_bytes``, an empty one, a frame that does not decode, audio with a broken
  byte count and timestamps that go backwards are dropped with a warning update, and the session goes on.

Whoever reads the updates, the session's end is reported once to ``on_summary`` (the results store), when
the summary is computed, or at a cancellation with a summary without findings and the events ended so far.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import math
import time
from collections.abc import AsyncIterator, Callable, Coroutine

import numpy as np
import numpy.typing as npt
import structlog

from laughter_server.errors import LaughterError
from laughter_server.fusion.fuser import EventUpdate
from laughter_server.fusion.types import EventPhase, FaceObservation, LaughterEvent, Notice
from laughter_server.inference.models import FaceModels, ModelDescription
from laughter_server.media.live_input import AudioInput, ChunkError, VideoInput
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, MediaInfo
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.engine import Engine, Output, Tracks
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.result import AnalysisResult
from laughter_server.pipeline.vocabulary import BacklogPolicy, DropReason, ErrorReason

log = structlog.get_logger(__name__)

MAX_LAG_S = 2.0
"""A track that is idle (nothing queued) and lags this far behind the other is not waited for."""
FRAME_BATCH = 8
MAX_STORED_EVENTS = 10_000
"""A session without ``keep_events`` keeps at most this many ended events for the store (its summary counts
them all)."""


@dataclasses.dataclass(frozen=True)
class SessionSpec:
    """What the client configured."""

    session_id: str
    client_id: str
    video: VideoInput | None
    audio: AudioInput | None
    options: AnalysisOptions
    progress_interval_s: float = 1.0
    backlog_policy: BacklogPolicy = BacklogPolicy.DROP_OLDEST
    keep_events: bool = False  # the browser path returns every event from EndSession


@dataclasses.dataclass(frozen=True)
class SessionLimits:
    """Bounds on one session."""

    max_backlog_frames: int = 8
    max_audio_backlog_s: float = 30.0
    max_chunk_bytes: int = 8 * 1024 * 1024
    idle_timeout_s: float = 30.0
    max_duration_s: float = 4 * 3600.0
    max_timestamp_jump_s: float = 10.0
    max_queued_updates: int = 512


@dataclasses.dataclass(frozen=True)
class StartedUpdate:
    """The session is open."""

    session_id: str
    options: AnalysisOptions
    idle_timeout_s: float
    models: tuple[ModelDescription, ...]


@dataclasses.dataclass(frozen=True)
class ProgressUpdate:
    """How far the analysis got, and what was dropped (``drops``: reason → (frames, audio chunks))."""

    processed_s: float
    frames_received: int
    frames_analyzed: int
    frames_dropped: int
    drops: dict[DropReason, tuple[int, int]]
    audio_samples_received: int
    backlog_s: float
    events_ended: int


@dataclasses.dataclass(frozen=True)
class WarningUpdate:
    """A chunk was not used, or the session is ending for a stated reason; the session goes on (or closes)."""

    reason: ErrorReason
    field: str
    message: str


@dataclasses.dataclass(frozen=True)
class FaceSampleUpdate:
    """One face in one analysed frame (only when the options ask for face samples)."""

    observation: FaceObservation


@dataclasses.dataclass(frozen=True)
class SummaryUpdate:
    """The last update of a session."""

    result: AnalysisResult


Update = StartedUpdate | EventUpdate | ProgressUpdate | WarningUpdate | FaceSampleUpdate | SummaryUpdate


class _Outbox:
    """Updates waiting for the client; a slow reader gets coalesced progress and ongoing updates."""

    def __init__(self, max_queued: int) -> None:
        self.max_queued = max_queued
        self._items: collections.deque[Update] = collections.deque()
        self._ready = asyncio.Event()
        self.skipped_face_samples = 0

    def put(self, update: Update) -> None:
        last = self._items[-1] if self._items else None
        if isinstance(update, ProgressUpdate) and isinstance(last, ProgressUpdate):
            self._items[-1] = update
            return
        if (
            isinstance(update, EventUpdate)
            and update.phase is EventPhase.ONGOING
            and isinstance(last, EventUpdate)
            and last.phase is EventPhase.ONGOING
            and last.event.event_id == update.event.event_id
        ):
            self._items[-1] = update
            return
        if isinstance(update, FaceSampleUpdate) and len(self._items) > self.max_queued:
            self.skipped_face_samples += 1
            return
        self._items.append(update)
        self._ready.set()

    async def get(self) -> Update:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)


class LiveSession:
    """One live session. ``push_frame`` / ``push_audio`` feed it, ``end_input`` closes the input, and
    ``updates()`` yields everything the client should see, ending with a SummaryUpdate."""

    def __init__(
        self,
        spec: SessionSpec,
        face_models: FaceModels,
        audio: AudioStage,
        limits: SessionLimits,
        on_summary: Callable[[LiveSession], None] | None = None,
    ) -> None:
        self.spec = spec
        self.on_summary = on_summary
        self._ended: list[LaughterEvent] = []  # without keep_events: the ended events, for the store
        self.limits = limits
        self.opened_at = time.monotonic()
        self.last_chunk_at = self.opened_at
        self.period_s = 1.0 / spec.options.frame_rate_hertz
        self.engine = Engine(
            spec.options,
            Tracks(video=spec.video is not None, audio=spec.audio is not None),
            face_models,
            audio.snapshot(),  # one model for the whole session, across reloads
            emit=self._on_output,
            interim=True,
            keep_events=spec.keep_events,
        )
        self._outbox = _Outbox(limits.max_queued_updates)
        self._frames: collections.deque[tuple[float, bytes]] = collections.deque()
        self._frames_in_flight = 0
        self._frame_ready = asyncio.Event()
        self._frame_taken = asyncio.Event()
        self._audio: collections.deque[tuple[npt.NDArray[np.float32], float | None]] = collections.deque()
        self._audio_queued_s = 0.0
        self._audio_in_flight = False
        self._audio_ready = asyncio.Event()
        self._audio_drained = asyncio.Event()
        self._audio_drained.set()
        self._input_closed = asyncio.Event()
        self._closed = False
        self._video_stopped = self._audio_stopped = False  # the modality's worker ended on an error
        self._next_sample_s = 0.0
        self._last_frame_s = -math.inf
        self._expected_audio_s: float | None = None
        self._newest_s = 0.0  # newest media time received on any track
        self._frame_size: tuple[int, int] | None = None
        self.frames_received = 0
        self.audio_samples_received = 0
        self.drops: dict[DropReason, list[int]] = collections.defaultdict(lambda: [0, 0])
        self._tasks: list[asyncio.Task[None]] = []
        self._finisher: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()
        self._final: SummaryUpdate | None = None
        self.finished_at: float | None = None
        self.watched = False

    # lifecycle ------------------------------------------------------------------------------------------
    def started_update(self) -> StartedUpdate:
        """The session's opening update (effective options, limits, models)."""
        return StartedUpdate(
            self.spec.session_id,
            self.spec.options,
            self.limits.idle_timeout_s,
            (
                *self.engine.face_models.describe(self.engine.faces.emotion_version),
                self.engine.audio.describe(),
            ),
        )

    def start(self) -> None:
        """Start the workers and announce the session."""
        self._outbox.put(self.started_update())
        self._tasks = [
            asyncio.create_task(self._guard("video", self._video_worker())),
            asyncio.create_task(self._guard("audio", self._audio_worker())),
            asyncio.create_task(self._ticker()),
        ]
        self._finisher = asyncio.create_task(self._finish_when_drained(), name="session-finish")

    @property
    def is_closed(self) -> bool:
        """True once the input is closed (half-close, EndSession, timeout or shutdown)."""
        return self._closed

    def end_input(self, warning: WarningUpdate | None = None) -> None:
        """No more chunks: finish the queued work, then emit the summary."""
        if self._closed:
            return
        self._closed = True
        if warning is not None:
            self._outbox.put(warning)
        self._input_closed.set()
        self._frame_ready.set()
        self._frame_taken.set()
        self._audio_ready.set()
        self._audio_drained.set()

    async def cancel(self) -> None:
        """Stop everything at once (the server's drain ran out of time); nothing more is emitted. A session
        cut off before its summary reports one without findings, with the events ended so far."""
        self._closed = True
        tasks = [*self._tasks, self._finisher]
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
        self._frames.clear()
        self._audio.clear()
        if self._final is None:
            self._final = SummaryUpdate(self.engine.empty_result(self.media_info(), [Notice.MEDIA_DROPPED]))
            self._report()

    def _report(self) -> None:
        """Tell ``on_summary`` that the session ended (once); its failure never stops the session's end."""
        if self.on_summary is None:
            return
        hook, self.on_summary = self.on_summary, None
        try:
            hook(self)
        except Exception:
            log.exception("session.summary_hook_failed", session_id=self.spec.session_id)

    def stored_events(self) -> tuple[LaughterEvent, ...]:
        """The events to store with the summary: all of them with ``keep_events``, else the first
        ``MAX_STORED_EVENTS`` ended."""
        if self._final is not None and self._final.result.events:
            return self._final.result.events
        return tuple(self._ended)

    async def updates(self) -> AsyncIterator[Update]:
        """Everything the client should see, in order; ends after the SummaryUpdate."""
        while True:
            update = await self._outbox.get()
            yield update
            if isinstance(update, SummaryUpdate):
                return

    # input ----------------------------------------------------------------------------------------------
    def _drop(self, reason: DropReason, *, frames: int = 0, audio_chunks: int = 0) -> None:
        counts = self.drops[reason]
        counts[0] += frames
        counts[1] += audio_chunks

    def warn(self, reason: ErrorReason, field: str, message: str) -> None:
        """Tell the client about a chunk that was not used (the session goes on)."""
        self._outbox.put(WarningUpdate(reason, field, message))

    def _refused(self, data: bytes, offset_s: float, field: str) -> DropReason | None:
        """The checks every chunk passes (open session, not empty, size, a capture offset within bounds);
        returns why the chunk is dropped, after warning the client, or None when it may be used."""
        self.last_chunk_at = time.monotonic()
        if self._closed:
            self.warn(
                ErrorReason.SESSION_CLOSED,
                field,
                "chunk arrived after the session's input was closed; ignored",
            )
            return DropReason.UNDECODABLE
        if not data:
            self.warn(ErrorReason.CHUNK_INVALID, field + ".data", "the chunk carries no data; dropped")
            return DropReason.UNDECODABLE
        if len(data) > self.limits.max_chunk_bytes:
            self.warn(
                ErrorReason.CHUNK_INVALID,
                field + ".data",
                f"chunk of {len(data)} bytes is above the limit of {self.limits.max_chunk_bytes}; split it",
            )
            return DropReason.TOO_LARGE
        if not math.isfinite(offset_s) or offset_s < 0:
            self.warn(
                ErrorReason.TIMESTAMP_NOT_MONOTONIC,
                field + ".capture_offset",
                "capture_offset must be a time from the start of the session's media, >= 0; chunk dropped",
            )
            return DropReason.NOT_MONOTONIC
        limit_s = min(self._newest_s + self.limits.max_timestamp_jump_s, self.limits.max_duration_s)
        if offset_s > limit_s:
            self.warn(
                ErrorReason.TIMESTAMP_NOT_MONOTONIC,
                field + ".capture_offset",
                f"capture_offset {offset_s:.3f} s is more than {self.limits.max_timestamp_jump_s:g} s beyond "
                f"the newest media received ({self._newest_s:.3f} s), or past the session's maximum of "
                f"{self.limits.max_duration_s:g} s; chunk dropped",
            )
            return DropReason.NOT_MONOTONIC
        return None

    async def push_frame(self, data: bytes, offset_s: float) -> None:
        """Queue a frame captured at ``offset_s``, sampled down to the analysis rate. With a full backlog the
        oldest waiting frame is dropped, or (``BacklogPolicy.BLOCK``) this waits for room."""
        if self.spec.video is None:
            self.warn(
                ErrorReason.CHUNK_INVALID,
                "chunk.frame",
                "the session has no video format configured; frame ignored",
            )
            return
        if (refused := self._refused(data, offset_s, "chunk.frame")) is not None:
            if not self._closed:
                self._drop(refused, frames=1)
            return
        if self._video_stopped:
            self._drop(DropReason.MODEL_UNAVAILABLE, frames=1)
            return
        self.frames_received += 1
        if offset_s <= self._last_frame_s:
            self._drop(DropReason.NOT_MONOTONIC, frames=1)
            self.warn(
                ErrorReason.TIMESTAMP_NOT_MONOTONIC,
                "chunk.frame.capture_offset",
                f"frame at {offset_s:.3f} s is not after the previous one ({self._last_frame_s:.3f} s); dropped",
            )
            return
        self._last_frame_s = offset_s
        self._newest_s = max(self._newest_s, offset_s)
        if not self.engine.use_video or offset_s + 1e-6 < self._next_sample_s:
            self._video_known()  # above the analysis rate: not analysed by design, not a drop
            return
        self._next_sample_s = max(self._next_sample_s + self.period_s, offset_s + self.period_s * 0.5)
        if self.spec.backlog_policy is BacklogPolicy.BLOCK:
            while len(self._frames) >= self.limits.max_backlog_frames and not self._closed:
                self._frame_taken.clear()
                await self._frame_taken.wait()
        elif len(self._frames) >= self.limits.max_backlog_frames:
            self._frames.popleft()
            self._drop(DropReason.BACKLOG, frames=1)
        self._frames.append((offset_s, data))
        self._frame_ready.set()

    async def push_audio(self, data: bytes, offset_s: float) -> None:
        """Add an audio chunk captured at ``offset_s``; waits while too much audio is still unprocessed."""
        fmt = self.spec.audio
        if fmt is None:
            self.warn(
                ErrorReason.CHUNK_INVALID,
                "chunk.audio",
                "the session has no audio format configured; chunk ignored",
            )
            return
        if (refused := self._refused(data, offset_s, "chunk.audio")) is not None:
            if not self._closed:
                self._drop(refused, audio_chunks=1)
            return
        if self._expected_audio_s is not None and offset_s < self._expected_audio_s - 0.05:
            self._drop(DropReason.NOT_MONOTONIC, audio_chunks=1)
            self.warn(
                ErrorReason.TIMESTAMP_NOT_MONOTONIC,
                "chunk.audio.capture_offset",
                f"audio chunk at {offset_s:.3f} s starts before the end of the previous one "
                f"({self._expected_audio_s:.3f} s); dropped",
            )
            return
        try:
            samples = fmt.decode(data)
        except ChunkError as error:
            self._drop(DropReason.UNDECODABLE, audio_chunks=1)
            self.warn(ErrorReason(error.reason), error.field, error.message)
            return
        expected = self._expected_audio_s
        start = offset_s if expected is None or offset_s > expected + 0.1 else None
        self._expected_audio_s = (offset_s if start is not None else expected or 0.0) + fmt.duration_s(data)
        self._newest_s = max(self._newest_s, self._expected_audio_s)
        self.audio_samples_received += len(data) // fmt.bytes_per_frame
        if not self.engine.use_audio or self._audio_stopped:
            return
        self._audio.append((samples, start))
        self._audio_queued_s += len(samples) / AUDIO_SAMPLE_RATE_HERTZ
        self._audio_ready.set()
        if self._audio_queued_s + self.engine.audio_pending_s > self.limits.max_audio_backlog_s:
            self._audio_drained.clear()
            await self._audio_drained.wait()

    # workers --------------------------------------------------------------------------------------------
    def _on_output(self, item: Output) -> None:
        if isinstance(item, FaceObservation):
            self._outbox.put(FaceSampleUpdate(item))
            return
        if (
            not self.spec.keep_events
            and item.phase is EventPhase.ENDED
            and len(self._ended) < MAX_STORED_EVENTS
        ):
            self._ended.append(item.event)
        self._outbox.put(item)

    def _video_known(self) -> None:
        """Nothing waits or runs on the video side: every frame received so far is accounted for."""
        if not self._frames and not self._frames_in_flight and self._last_frame_s > -math.inf:
            self.engine.note_video_until(self._last_frame_s)
        self._release_idle()

    def _release_idle(self) -> None:
        """A track that has nothing queued and lags ``MAX_LAG_S`` behind the other is not waited for."""
        fuser = self.engine.fuser
        marks = [m for m in (fuser.audio_until_s, fuser.video_until_s) if math.isfinite(m)]
        if not marks:
            return
        lead = max(marks)
        video_idle = not self._frames and not self._frames_in_flight
        audio_idle = not self._audio and not self._audio_in_flight
        if video_idle and fuser.video_until_s < lead - MAX_LAG_S:
            self.engine.note_video_until(lead - MAX_LAG_S)
        if audio_idle and fuser.audio_until_s < lead - MAX_LAG_S:
            self.engine.note_audio_until(lead - MAX_LAG_S)

    async def _video_worker(self) -> None:
        video = self.spec.video
        while True:
            if not self._frames:
                self._video_known()
                if self._input_closed.is_set():
                    self.engine.end_video()
                    return
                self._frame_ready.clear()
                await self._frame_ready.wait()
                continue
            batch = [self._frames.popleft() for _ in range(min(len(self._frames), FRAME_BATCH))]
            self._frames_in_flight = len(batch)
            self._frame_taken.set()
            try:
                assert video is not None
                decoded = await asyncio.to_thread(_decode_frames, video, batch)
                good: list[tuple[float, npt.NDArray[np.uint8]]] = []
                for (offset_s, _), result in zip(batch, decoded, strict=True):
                    if isinstance(result, ChunkError):
                        self._drop(DropReason.UNDECODABLE, frames=1)
                        self.warn(
                            ErrorReason(result.reason),
                            result.field,
                            f"frame at {offset_s:.3f} s: {result.message}",
                        )
                    else:
                        good.append((offset_s, result))
                for group in _same_size_runs(good):
                    times = [t for t, _ in group]
                    try:
                        await self.engine.push_frames(times, np.stack([img for _, img in group]))
                    except LaughterError as error:
                        self._drop(DropReason.MODEL_UNAVAILABLE, frames=len(group))
                        self.warn(
                            ErrorReason(error.reason),
                            "chunk.frame",
                            f"{len(group)} frame(s) not analysed: {error.message}",
                        )
                    if self._frame_size is None:
                        self._frame_size = group[0][1].shape[1], group[0][1].shape[0]
            finally:
                self._frames_in_flight = 0

    async def _audio_worker(self) -> None:
        while True:
            if not self._audio:
                self._audio_drained.set()
                self._release_idle()
                if self._input_closed.is_set():
                    if self.spec.audio is not None and self.engine.use_audio:
                        tail = self.spec.audio.flush()
                        if tail.size:
                            await self.engine.push_audio(tail)
                    await self.engine.end_audio()
                    return
                self._audio_ready.clear()
                await self._audio_ready.wait()
                continue
            samples, start = self._audio.popleft()
            self._audio_queued_s -= len(samples) / AUDIO_SAMPLE_RATE_HERTZ
            self._audio_in_flight = True
            try:
                await self.engine.push_audio(samples, start)
            finally:
                self._audio_in_flight = False
            if self._audio_queued_s + self.engine.audio_pending_s <= self.limits.max_audio_backlog_s:
                self._audio_drained.set()

    async def _guard(self, name: str, work: Coroutine[object, object, None]) -> None:
        """Run a worker; an unexpected failure is logged, told to the client, and ends that modality only."""
        try:
            await work
        except LaughterError as error:
            self.warn(ErrorReason(error.reason), "", f"{name} analysis stopped: {error.message}")
        except Exception:  # a bug must not hang the session: the summary still comes
            log.exception("session.worker_failed", worker=name, session_id=self.spec.session_id)
            self.warn(
                ErrorReason.INTERNAL, "", f"{name} analysis stopped on an internal error; see the server log"
            )
        finally:
            if name == "video":
                self._video_stopped = True
                self._frames.clear()
                self._frame_taken.set()
                self.engine.end_video()
            else:
                self._audio_stopped = True
                self._audio.clear()
                self._audio_drained.set()

    async def _ticker(self) -> None:
        while not self._input_closed.is_set():
            await asyncio.sleep(self.spec.progress_interval_s)
            self._release_idle()
            self._outbox.put(self.progress())

    async def _finish_when_drained(self) -> None:
        await self._input_closed.wait()
        await asyncio.gather(*self._tasks[:2])
        self._tasks[2].cancel()
        self._outbox.put(self.progress())
        extra = [Notice.MEDIA_DROPPED] if any(f for f, _ in self.drops.values()) else []
        try:
            self._final = SummaryUpdate(await self.engine.finish(self.media_info(), extra))
        except Exception:  # the client must still get an end: a summary without findings beats a hang
            log.exception("session.finish_failed", session_id=self.spec.session_id)
            self.warn(
                ErrorReason.INTERNAL, "", "the session's summary could not be computed; see the server log"
            )
            self._final = SummaryUpdate(self.engine.empty_result(self.media_info(), extra))
        self._report()  # before the summary goes out, so that it can carry what the report added
        self._outbox.put(self._final)
        self.finished_at = time.monotonic()
        self._finished.set()

    # reports --------------------------------------------------------------------------------------------
    def media_info(self) -> MediaInfo:
        """What the session's media is, as far as the server can tell."""
        video, audio = self.spec.video, self.spec.audio
        width, height = (
            (video.width, video.height) if video is not None and video.width else self._frame_size or (0, 0)
        )
        return MediaInfo(
            container="live",
            duration_s=0.0,
            video_codec=None if video is None else video.encoding,
            audio_codec=None if audio is None else audio.encoding,
            width=width or None,
            height=height or None,
            source_sample_rate_hertz=None if audio is None else audio.sample_rate_hertz,
            audio_channels=None if audio is None else audio.channel_count,
        )

    def progress(self) -> ProgressUpdate:
        """Counters and how far the analysis got."""
        dropped = sum(frames for frames, _ in self.drops.values())
        processed = self.engine.processed_s
        return ProgressUpdate(
            processed_s=processed,
            frames_received=self.frames_received,
            frames_analyzed=self.engine.faces.frames_analyzed,
            frames_dropped=dropped,
            drops={reason: (c[0], c[1]) for reason, c in self.drops.items()},
            audio_samples_received=self.audio_samples_received,
            backlog_s=max(0.0, self._newest_s - processed),
            events_ended=self.engine.fuser.events_ended,
        )

    @property
    def face_samples_skipped(self) -> int:
        """Face samples not sent because too many updates waited for the client."""
        return self._outbox.skipped_face_samples

    @property
    def result(self) -> AnalysisResult | None:
        """The session's result once its summary was computed."""
        return None if self._final is None else self._final.result

    async def wait_finished(self) -> None:
        """Wait until the summary has been emitted."""
        await self._finished.wait()

    async def final_summary(self) -> SummaryUpdate:
        """The summary, once the input is closed and the queued media analysed."""
        await self._finished.wait()
        assert self._final is not None
        return self._final


def _decode_frames(
    video: VideoInput, batch: list[tuple[float, bytes]]
) -> list[npt.NDArray[np.uint8] | ChunkError]:
    results: list[npt.NDArray[np.uint8] | ChunkError] = []
    for _, data in batch:
        try:
            results.append(video.decode(data))
        except ChunkError as error:
            results.append(error)
    return results


def _same_size_runs(
    frames: list[tuple[float, npt.NDArray[np.uint8]]],
) -> list[list[tuple[float, npt.NDArray[np.uint8]]]]:
    runs: list[list[tuple[float, npt.NDArray[np.uint8]]]] = []
    for item in frames:
        if runs and runs[-1][-1][1].shape == item[1].shape:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
