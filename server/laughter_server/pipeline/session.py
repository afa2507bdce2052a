"""A live analysis session: frames and audio pushed as they are captured, event updates out as they happen.

The same stages as whole-file analysis run incrementally: frames are sampled at the analysis rate, decoded
and sent through the (cross-stream batched) face stage; audio is resampled to 16 kHz and scored window by
window; ``LiveFuser`` turns both into STARTED / ONGOING / ENDED event updates. Memory is bounded whatever the
client does:

* frames wait in a queue of at most ``max_backlog_frames``; when a new frame finds it full, the OLDEST
  waiting frame is dropped (reason BACKLOG), so the newest media is always analysed and latency stays bounded;
* audio is never dropped: when more than ``max_audio_backlog_s`` of audio waits, ``push_audio`` waits too,
  which holds back the client through gRPC flow control;
* a chunk larger than ``max_chunk_bytes``, a frame that does not decode, audio with a broken byte count and
  timestamps that go backwards are dropped with a warning update, and the session goes on.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import AsyncIterator, Coroutine

import numpy as np
import numpy.typing as npt
import structlog

from laughter_server.audio.scores import WindowScores
from laughter_server.errors import LaughterError
from laughter_server.fusion.live import EventUpdate, LiveFuser
from laughter_server.fusion.summary import summarise
from laughter_server.fusion.types import AnalysisSummary, FaceObservation, LaughterEvent, Notice
from laughter_server.inference.models import FaceModels, ModelDescription
from laughter_server.media.live_input import AudioInput, ChunkError, VideoInput
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.faces import FaceStage, StageClock
from laughter_server.pipeline.options import AnalysisOptions

log = structlog.get_logger(__name__)

AUDIO_STEP_S = 0.5
"""Audio is scored once this much new audio has arrived."""
MAX_AUDIO_GAP_S = 10.0
MAX_QUEUED_UPDATES = 512


@dataclasses.dataclass(frozen=True)
class SessionSpec:
    """What the client configured."""

    session_id: str
    client_id: str
    video: VideoInput | None
    audio: AudioInput | None
    options: AnalysisOptions
    progress_interval_s: float = 1.0
    backlog_policy: str = "drop_oldest"  # or "block": wait for room instead of dropping


@dataclasses.dataclass(frozen=True)
class SessionLimits:
    """Bounds on one session."""

    max_backlog_frames: int = 8
    max_audio_backlog_s: float = 30.0
    max_chunk_bytes: int = 8 * 1024 * 1024
    idle_timeout_s: float = 30.0
    max_duration_s: float = 4 * 3600.0


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
    drops: dict[str, tuple[int, int]]
    audio_samples_received: int
    backlog_s: float
    events_ended: int


@dataclasses.dataclass(frozen=True)
class WarningUpdate:
    """A chunk was not used, or the session is ending for a stated reason; the session goes on (or closes)."""

    reason: str
    field: str
    message: str


@dataclasses.dataclass(frozen=True)
class FaceSampleUpdate:
    """One face in one analysed frame (only when the options ask for face samples)."""

    observation: FaceObservation


@dataclasses.dataclass(frozen=True)
class SummaryUpdate:
    """The last update of a session."""

    summary: AnalysisSummary
    events: tuple[LaughterEvent, ...]
    duration_s: float
    frames_analyzed: int
    frames_with_faces: int
    faces_detected: int
    stage_seconds: dict[str, float]
    processing_s: float
    models: tuple[ModelDescription, ...]


Update = StartedUpdate | EventUpdate | ProgressUpdate | WarningUpdate | FaceSampleUpdate | SummaryUpdate


class AudioAccumulator:
    """16 kHz audio placed by capture offset; hands out the windows not yet scored, on the detector's hop grid.

    Each clip it hands out carries up to ``CONTEXT_HOPS`` hops of already-scored audio before the new windows
    and ``RIGHT_CONTEXT_S`` after them, so the frame-level features of the new windows see the same
    neighbourhood as in whole-file analysis and both give the same probabilities.
    """

    CONTEXT_HOPS = 4
    RIGHT_CONTEXT_S = 0.1  # covers the STFT frame and delta reach beyond a window's end
    BLOCK_WINDOWS = 2

    def __init__(self, window_s: float, hop_s: float) -> None:
        self.window = round(window_s * AUDIO_SAMPLE_RATE_HERTZ)
        self.hop = round(hop_s * AUDIO_SAMPLE_RATE_HERTZ)
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # absolute sample index of _buffer[0]
        self.total = 0  # absolute index one past the last sample
        self.next_window = 0

    def place(self, samples: npt.NDArray[np.float32], start_sample: int | None) -> None:
        """Append samples; a start beyond the current end inserts silence (a capture gap)."""
        if start_sample is not None and start_sample > self.total:
            gap = min(start_sample - self.total, int(MAX_AUDIO_GAP_S * AUDIO_SAMPLE_RATE_HERTZ))
            samples = np.concatenate([np.zeros(gap, np.float32), samples])
        self._buffer = np.concatenate([self._buffer, samples])
        self.total += len(samples)

    @property
    def pending_s(self) -> float:
        """Audio received but not yet scored."""
        return max(0, self.total - (self.next_window * self.hop + self.window)) / AUDIO_SAMPLE_RATE_HERTZ

    def take(self, final: bool = False) -> tuple[AudioClip, float, float] | None:
        """``(clip with context, first new centre s, last new centre s)``, or None when no window is complete.

        At the end of the stream (``final``) the last window may run past the audio, zero-padded, exactly as
        whole-file analysis pads its last window.
        """
        right = round(self.RIGHT_CONTEXT_S * AUDIO_SAMPLE_RATE_HERTZ)
        # always BLOCK_WINDOWS windows per clip, so the clips (and the scores) do not depend on timing
        last = self.next_window + self.BLOCK_WINDOWS - 1
        if final:
            if self.total <= self.next_window * self.hop:
                return None
            last = min(last, max(self.next_window, -(-(self.total - self.window) // self.hop)))
        elif last * self.hop + self.window + right > self.total:
            return None
        stop = min(last * self.hop + self.window + right, self.total)
        start = max(0, self.next_window - self.CONTEXT_HOPS) * self.hop
        clip = self._buffer[start - self._buffer_start : stop - self._buffer_start]
        half_s = self.window / 2 / AUDIO_SAMPLE_RATE_HERTZ
        first_s = self.next_window * self.hop / AUDIO_SAMPLE_RATE_HERTZ + half_s
        last_s = last * self.hop / AUDIO_SAMPLE_RATE_HERTZ + half_s
        self.next_window = last + 1
        keep_from = max(0, self.next_window - self.CONTEXT_HOPS) * self.hop
        self._buffer = self._buffer[keep_from - self._buffer_start :]
        self._buffer_start = keep_from
        return AudioClip(samples=clip.copy(), start_s=start / AUDIO_SAMPLE_RATE_HERTZ), first_s, last_s


class LiveSession:
    """One live session. ``push_frame`` / ``push_audio`` feed it, ``end_input`` closes the input, and
    ``updates()`` yields everything the client should see, ending with a SummaryUpdate."""

    def __init__(
        self, spec: SessionSpec, face_models: FaceModels, audio: AudioStage, limits: SessionLimits
    ) -> None:
        self.spec = spec
        self.limits = limits
        self.audio_stage = audio.snapshot()  # one model for the whole session, across reloads
        self.face_models = face_models
        self.opened_at = time.monotonic()
        self.last_chunk_at = self.opened_at
        period_s = 1.0 / spec.options.frame_rate_hertz
        self.period_s = period_s
        self.use_video = spec.video is not None and spec.options.use_video
        self.use_audio = spec.audio is not None and spec.options.use_audio
        self.fuser = LiveFuser(
            spec.options.rules, period_s, has_audio=self.use_audio, has_video=self.use_video
        )
        self.faces = FaceStage(face_models, max_faces=spec.options.max_faces)
        self.clock = StageClock()
        detector = audio.detector
        self.accumulator = AudioAccumulator(detector.settings.window_s, detector.settings.hop_s)
        self._frames: collections.deque[tuple[float, bytes]] = collections.deque()
        self._frame_ready = asyncio.Event()
        self._frame_taken = asyncio.Event()
        self._audio_ready = asyncio.Event()
        self._audio_drained = asyncio.Event()
        self._audio_drained.set()
        self._updates: asyncio.Queue[Update] = asyncio.Queue()
        self._input_closed = asyncio.Event()
        self._closed = False
        self._next_sample_s = 0.0
        self._last_frame_s = -1.0
        self._expected_audio_s: float | None = None
        self.frames_received = 0
        self.audio_samples_received = 0
        self.drops: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        self.face_samples_skipped = 0
        self.notices: list[Notice] = []
        self._tasks: list[asyncio.Task[None]] = []
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
            (*self.face_models.describe(), self.audio_stage.describe()),
        )

    def start(self) -> None:
        """Start the workers and announce the session."""
        self._emit(self.started_update())
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
            self._emit(warning)
        self._input_closed.set()
        self._frame_ready.set()
        self._audio_ready.set()

    async def cancel(self) -> None:
        """Stop everything at once (client cancelled or disconnected); nothing more is emitted."""
        self._closed = True
        tasks = [*self._tasks, getattr(self, "_finisher", None)]
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
        self._frames.clear()

    async def updates(self) -> AsyncIterator[Update]:
        """Everything the client should see, in order; ends after the SummaryUpdate."""
        while True:
            update = await self._updates.get()
            yield update
            if isinstance(update, SummaryUpdate):
                return

    # input ----------------------------------------------------------------------------------------------
    def _drop(self, reason: str, *, frames: int = 0, audio_chunks: int = 0) -> None:
        counts = self.drops[reason]
        counts[0] += frames
        counts[1] += audio_chunks

    def warn(self, reason: str, field: str, message: str) -> None:
        """Tell the client about a chunk that was not used (the session goes on)."""
        self._emit(WarningUpdate(reason, field, message))

    def _check_chunk(self, data: bytes, field: str) -> bool:
        self.last_chunk_at = time.monotonic()
        if self._closed:
            self.warn("SESSION_CLOSED", field, "chunk arrived after the session's input was closed; ignored")
            return False
        if len(data) > self.limits.max_chunk_bytes:
            self.warn(
                "CHUNK_INVALID",
                field,
                f"chunk of {len(data)} bytes is above the limit of {self.limits.max_chunk_bytes}; split it",
            )
            return False
        return True

    async def push_frame(self, data: bytes, offset_s: float) -> None:
        """Queue a frame captured at ``offset_s``, sampled down to the analysis rate. With a full backlog the
        oldest waiting frame is dropped, or (policy ``block``) this waits for room."""
        if not self._check_chunk(data, "chunk.frame.data"):
            self._drop("TOO_LARGE" if not self._closed else "SESSION_CLOSED", frames=1)
            return
        if self.spec.video is None:
            self.warn(
                "CHUNK_INVALID", "chunk.frame", "the session has no video format configured; frame ignored"
            )
            return
        self.frames_received += 1
        if offset_s <= self._last_frame_s:
            self._drop("NOT_MONOTONIC", frames=1)
            self.warn(
                "TIMESTAMP_NOT_MONOTONIC",
                "chunk.frame.capture_offset",
                f"frame at {offset_s:.3f} s is not after the previous one ({self._last_frame_s:.3f} s); dropped",
            )
            return
        self._last_frame_s = offset_s
        if not self.use_video or offset_s + 1e-6 < self._next_sample_s:
            if not self.fuser.video_pending and self.faces.frames_analyzed:
                self.fuser.note_video_until(offset_s)  # nothing waits or runs: video is known up to here
            return  # above the analysis rate: not analysed by design, not a drop
        self._next_sample_s = max(self._next_sample_s + self.period_s, offset_s + self.period_s * 0.5)
        if self.spec.backlog_policy == "block":
            while len(self._frames) >= self.limits.max_backlog_frames and not self._closed:
                self._frame_taken.clear()
                await self._frame_taken.wait()
        elif len(self._frames) >= self.limits.max_backlog_frames:
            self._frames.popleft()
            self._drop("BACKLOG", frames=1)
        self._frames.append((offset_s, data))
        self.fuser.video_pending = True
        self._frame_ready.set()

    async def push_audio(self, data: bytes, offset_s: float) -> None:
        """Add an audio chunk captured at ``offset_s``; waits while too much audio is still unprocessed."""
        if not self._check_chunk(data, "chunk.audio.data"):
            self._drop("TOO_LARGE" if not self._closed else "SESSION_CLOSED", audio_chunks=1)
            return
        fmt = self.spec.audio
        if fmt is None:
            self.warn(
                "CHUNK_INVALID", "chunk.audio", "the session has no audio format configured; chunk ignored"
            )
            return
        if self._expected_audio_s is not None and offset_s < self._expected_audio_s - 0.05:
            self._drop("NOT_MONOTONIC", audio_chunks=1)
            self.warn(
                "TIMESTAMP_NOT_MONOTONIC",
                "chunk.audio.capture_offset",
                f"audio chunk at {offset_s:.3f} s starts before the end of the previous one "
                f"({self._expected_audio_s:.3f} s); dropped",
            )
            return
        try:
            samples = fmt.decode(data)
        except ChunkError as error:
            self._drop("UNDECODABLE", audio_chunks=1)
            self.warn(error.reason, error.field, error.message)
            return
        expected = self._expected_audio_s
        start = offset_s if expected is None or offset_s > expected + 0.1 else None
        self._expected_audio_s = (
            offset_s if start is not None or expected is None else expected
        ) + fmt.duration_s(data)
        self.audio_samples_received += len(data) // fmt.bytes_per_frame
        if not self.use_audio:
            return
        self.accumulator.place(samples, None if start is None else round(start * AUDIO_SAMPLE_RATE_HERTZ))
        self.fuser.audio_pending = self.accumulator.pending_s >= AUDIO_STEP_S
        self._audio_ready.set()
        if self.accumulator.pending_s > self.limits.max_audio_backlog_s:
            self._audio_drained.clear()
            await self._audio_drained.wait()

    # workers --------------------------------------------------------------------------------------------
    def _emit(self, update: Update) -> None:
        if isinstance(update, FaceSampleUpdate) and self._updates.qsize() > MAX_QUEUED_UPDATES:
            self.face_samples_skipped += 1
            return
        self._updates.put_nowait(update)

    def _emit_events(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            self._emit(update)

    async def _video_worker(self) -> None:
        video = self.spec.video
        while True:
            if not self._frames:
                self.fuser.video_pending = False
                self._emit_events(self.fuser.advance())
                if self._input_closed.is_set():
                    return
                self._frame_ready.clear()
                await self._frame_ready.wait()
                continue
            batch = [self._frames.popleft() for _ in range(min(len(self._frames), 8))]
            self._frame_taken.set()
            assert video is not None
            decoded = await asyncio.to_thread(_decode_frames, video, batch)
            good: list[tuple[float, npt.NDArray[np.uint8]]] = []
            for (offset_s, _), result in zip(batch, decoded, strict=True):
                if isinstance(result, ChunkError):
                    self._drop("UNDECODABLE", frames=1)
                    self.warn(result.reason, result.field, f"frame at {offset_s:.3f} s: {result.message}")
                else:
                    good.append((offset_s, result))
            for group in _same_size_runs(good):
                times = [t for t, _ in group]
                try:
                    observations = await self.faces.process(
                        times, np.stack([img for _, img in group]), self.clock
                    )
                except LaughterError as error:
                    self._drop("MODEL_UNAVAILABLE", frames=len(group))
                    self.warn(
                        error.reason, "chunk.frame", f"{len(group)} frame(s) not analysed: {error.message}"
                    )
                    continue
                self.fuser.add_frames(times, observations)
                if not self._frames:
                    self.fuser.note_video_until(self._last_frame_s)
                if self.spec.options.include_face_samples:
                    for obs in observations:
                        self._emit(FaceSampleUpdate(obs))
                self._emit_events(self.fuser.advance())

    async def _audio_worker(self) -> None:
        while True:
            final = self._input_closed.is_set()
            if not final and self.accumulator.pending_s < AUDIO_STEP_S:
                self.fuser.audio_pending = False
                self._audio_drained.set()
                self._audio_ready.clear()
                await self._audio_ready.wait()
                continue
            if final and self.spec.audio is not None:
                tail = self.spec.audio.flush()
                if tail.size:
                    self.accumulator.place(tail, None)
            taken = self.accumulator.take(final=final)
            while taken is not None:
                clip, first_s, last_s = taken
                started = time.perf_counter()
                scores = await asyncio.to_thread(self.audio_stage.detector.predict_windows, clip)
                self.clock.add("audio", time.perf_counter() - started)
                self.fuser.add_audio(_windows_between(scores, first_s, last_s))
                self._emit_events(self.fuser.advance())
                taken = self.accumulator.take(final=final)
            self._audio_drained.set()
            if final:
                return

    async def _guard(self, name: str, work: Coroutine[object, object, None]) -> None:
        """Run a worker; an unexpected failure is logged, told to the client, and ends that modality only."""
        try:
            await work
        except LaughterError as error:
            self.warn(error.reason, "", f"{name} analysis stopped: {error.message}")
        except Exception:  # a bug must not hang the session: the summary still comes
            log.exception("session.worker_failed", worker=name, session_id=self.spec.session_id)
            self.warn("INTERNAL", "", f"{name} analysis stopped on an internal error; see the server log")

    async def _ticker(self) -> None:
        while not self._input_closed.is_set():
            await asyncio.sleep(self.spec.progress_interval_s)
            self._emit(self.progress())

    async def _finish_when_drained(self) -> None:
        try:
            await self._finish()
        except Exception:  # the client must still get an end: an error summary is better than a hang
            log.exception("session.finish_failed", session_id=self.spec.session_id)
            self._emit(
                WarningUpdate(
                    "INTERNAL", "", "the session's summary could not be computed; see the server log"
                )
            )
            self._final = self._final or self._summary(0.0, notices_only=True)
            self._emit(self._final)
            self.finished_at = time.monotonic()
            self._finished.set()

    async def _finish(self) -> None:
        await self._input_closed.wait()
        await asyncio.gather(*self._tasks[:2])
        self._tasks[2].cancel()
        self._emit(self.progress())
        end_s = max(
            self._last_frame_s + self.period_s if self._last_frame_s >= 0 else 0.0,
            self.accumulator.total / AUDIO_SAMPLE_RATE_HERTZ,
        )
        self._emit_events(self.fuser.finish(end_s))
        self._final = self._summary(end_s)
        self._emit(self._final)
        self.finished_at = time.monotonic()
        self._finished.set()

    # reports --------------------------------------------------------------------------------------------
    def progress(self) -> ProgressUpdate:
        """Counters and how far the analysis got."""
        dropped = sum(frames for frames, _ in self.drops.values())
        backlog_s = max(len(self._frames) * self.period_s, self.accumulator.pending_s)
        return ProgressUpdate(
            processed_s=self.fuser.watermark_s(),
            frames_received=self.frames_received,
            frames_analyzed=self.faces.frames_analyzed,
            frames_dropped=dropped,
            drops={reason: (c[0], c[1]) for reason, c in self.drops.items()},
            audio_samples_received=self.audio_samples_received,
            backlog_s=backlog_s,
            events_ended=len(self.fuser.events),
        )

    def _summary(self, end_s: float, *, notices_only: bool = False) -> SummaryUpdate:
        notices: list[Notice] = []
        if self.spec.video is None:
            notices.append(Notice.NO_VIDEO_STREAM)
        elif not self.spec.options.use_video:
            notices.append(Notice.VIDEO_DISABLED)
        elif self.faces.frames_analyzed and not self.fuser.observations:
            notices.append(Notice.NO_FACES_FOUND)
        if self.spec.audio is None:
            notices.append(Notice.NO_AUDIO_STREAM)
        elif not self.spec.options.use_audio:
            notices.append(Notice.AUDIO_DISABLED)
        if any(frames for frames, _ in self.drops.values()):
            notices.append(Notice.MEDIA_DROPPED)
        if notices_only:
            summary = summarise([], [], None, end_s, notices)
        else:
            summary = summarise(
                self.fuser.events, self.fuser.observations, self.fuser.timeline(), end_s, notices
            )
        return SummaryUpdate(
            summary=summary,
            events=tuple(self.fuser.events),
            duration_s=end_s,
            frames_analyzed=self.faces.frames_analyzed,
            frames_with_faces=self.faces.frames_with_faces,
            faces_detected=self.faces.faces_detected,
            stage_seconds=dict(self.clock.seconds),
            processing_s=time.monotonic() - self.opened_at,
            models=(*self.face_models.describe(), self.audio_stage.describe()),
        )

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


def _windows_between(scores: WindowScores, first_s: float, last_s: float) -> WindowScores:
    """The windows centred in ``[first_s, last_s]`` (the new ones; the rest were context)."""
    start = int(np.searchsorted(scores.centers_s, first_s - 1e-6, side="left"))
    stop = int(np.searchsorted(scores.centers_s, last_s + 1e-6, side="right"))
    return scores.slice(start, stop)
