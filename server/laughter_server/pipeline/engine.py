"""The analysis engine: timestamped frames and audio in, typed updates out, whatever feeds it.

Whole-file analysis feeds it from the decoder as fast as it accepts; a live session feeds it what the
network delivers. Either way the same stages run in the same order on the same data:

* frames (decoded RGB, one size per call) → ``FaceStage`` (batched detection, crops, emotions, tracking);
* 16 kHz audio → ``AudioAccumulator`` fixed blocks → the audio model (one classifier call per batch of
  blocks, off the event loop);
* both → ``EventFuser`` (event updates as the grid becomes final) and ``SummaryBuilder`` (running
  aggregates).

``finish`` computes the duration, the notices and the summary once, for every kind of caller, and returns
the one ``AnalysisResult`` type. State is bounded: the fuser keeps only what an open event still needs,
the summary is made of running sums.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from laughter_server.audio.features import FrameCache
from laughter_server.audio.scores import SILENCE_DBFS
from laughter_server.fusion.fuser import EventFuser, EventUpdate
from laughter_server.fusion.summary import SummaryBuilder
from laughter_server.fusion.types import AnalysisSummary, EventPhase, FaceObservation, LaughterEvent, Notice
from laughter_server.inference.models import FaceModels
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip, MediaInfo
from laughter_server.pipeline.audio_blocks import AudioAccumulator, windows_between
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.faces import FaceStage, StageClock
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.result import AnalysisResult
from laughter_server.vision.detection import FaceBox

MAX_BLOCKS_PER_CALL = 40
"""Audio blocks (0.5 s of new audio each) scored per call of the audio model: 20 s of audio at most, so
one call stays short and the event loop is never held by one analysis."""

TIME_DECIMALS = 6
"""Frame times are kept to the microsecond."""

Output = EventUpdate | FaceObservation
"""What an engine emits while it runs: event updates, and face samples when the options ask for them."""


@dataclasses.dataclass(frozen=True)
class Tracks:
    """Which tracks the media (or the session) carries."""

    video: bool
    audio: bool


class Engine:
    """One analysis, fed incrementally. Not thread-safe: call it from one event loop."""

    def __init__(
        self,
        options: AnalysisOptions,
        tracks: Tracks,
        face_models: FaceModels,
        audio: AudioStage,
        *,
        emit: Callable[[Output], None],
        interim: bool,
        keep_events: bool,
        clock: StageClock | None = None,
        started_at: float | None = None,
    ) -> None:
        self.options = options
        self.tracks = tracks
        self.use_video = tracks.video and options.use_video
        self.use_audio = tracks.audio and options.use_audio
        self.audio = audio
        self.face_models = face_models
        self.clock = clock or StageClock()
        self._emit = emit
        self.period_s = 1.0 / options.frame_rate_hertz
        self.faces = FaceStage(
            face_models,
            detection_threshold=options.detection_threshold,
            max_faces=options.max_faces,
            detect_every=options.detect_every,
        )
        self.fuser = EventFuser(
            options.rules, self.period_s, has_audio=self.use_audio, has_video=self.use_video, interim=interim
        )
        self.summary = SummaryBuilder()
        settings = audio.detector.settings
        self.accumulator = AudioAccumulator(settings.window_s, settings.hop_s)
        self._frames = FrameCache()  # spectra of the frames the next audio block shares with the last one
        self.events: list[LaughterEvent] | None = [] if keep_events else None
        self._video_end_s = 0.0
        self._heard = False  # a window above the silence level was scored
        self._second_unavailable = False  # a stacked model's second model could not serve some audio
        self._audio_closed = False
        self.started = time.perf_counter() if started_at is None else started_at  # perf_counter()

    # input ---------------------------------------------------------------------------------------------
    async def push_frames(self, times_s: Sequence[float], images: npt.NDArray[np.uint8]) -> None:
        """Analyse frames of one size, in time order after those already pushed. Raises LaughterError
        (ModelUnavailableError) when the face models cannot serve; the frames are then not analysed."""
        if not self.use_video or len(times_s) == 0:
            return
        await self.push_located(times_s, images, await self.locate_frames(images))

    async def locate_frames(self, images: npt.NDArray[np.uint8]) -> list[list[FaceBox]]:
        """First half of ``push_frames``: the faces' boxes. Call in time order, each after the previous
        returned; it may run while ``push_located`` handles the frames before."""
        return await self.faces.locate(images, self.clock) if self.use_video else [[] for _ in images]

    async def push_located(
        self, times_s: Sequence[float], images: npt.NDArray[np.uint8], boxes: list[list[FaceBox]]
    ) -> None:
        """Second half of ``push_frames``: emotions, tracks and fusion of frames ``locate_frames`` saw."""
        if not self.use_video or len(times_s) == 0:
            return
        # to the microsecond: the same frame has the same time whether it came from a container's
        # timestamps or through a Duration (nanoseconds), so ties between frames break the same way
        times_s = [round(float(t), TIME_DECIMALS) for t in times_s]
        observations = await self.faces.describe(times_s, images, boxes, self.clock)
        started = time.perf_counter()
        self.fuser.add_frames(times_s, observations)
        by_time = {t: list(group) for t, group in itertools.groupby(observations, key=lambda o: o.time_s)}
        for t in times_s:
            self.summary.add_frame(float(t), by_time.get(float(t), []))
        self._video_end_s = max(self._video_end_s, float(times_s[-1]) + self.period_s)
        if self.options.include_face_samples:
            for obs in observations:
                self._emit(obs)
        self._advance(started)

    def note_video_until(self, time_s: float) -> None:
        """Every frame up to ``time_s`` has been analysed, dropped or skipped by sampling."""
        if self.use_video:
            self.fuser.note_video_until(time_s)
            self._video_end_s = max(self._video_end_s, time_s)
            self._advance(time.perf_counter())

    def note_audio_until(self, time_s: float) -> None:
        """No audio up to ``time_s`` is still to come (an idle microphone in a live session)."""
        if self.use_audio:
            self.fuser.note_audio_until(time_s)
            self._advance(time.perf_counter())

    async def push_audio(self, samples: npt.NDArray[np.float32], start_s: float | None = None) -> None:
        """Add 16 kHz mono samples; ``start_s`` (when given and beyond the audio so far) leaves a silent gap
        before them. Complete blocks are scored at once."""
        if not self.use_audio or self._audio_closed:
            return
        start = None if start_s is None else round(start_s * AUDIO_SAMPLE_RATE_HERTZ)
        self.accumulator.place(samples, start)
        await self._score_blocks(final=False)

    def end_video(self) -> None:
        """The video track is over."""
        if self.use_video:
            self.fuser.end_video()
            self._advance(time.perf_counter())

    async def end_audio(self) -> None:
        """The audio track is over: score the last, partial block."""
        if self._audio_closed:
            return
        self._audio_closed = True
        if self.use_audio:
            await self._score_blocks(final=True)
            self.fuser.end_audio()
            self._advance(time.perf_counter())

    @property
    def audio_pending_s(self) -> float:
        """Audio received but not yet scored."""
        return self.accumulator.pending_s

    @property
    def processed_s(self) -> float:
        """Media time up to which the analysis is final."""
        return self.fuser.scored_until_s

    @property
    def media_end_s(self) -> float:
        """End of the media pushed so far: the duration the analysis covers."""
        return max(
            self._video_end_s, self.accumulator.total / AUDIO_SAMPLE_RATE_HERTZ if self.use_audio else 0.0
        )

    # output --------------------------------------------------------------------------------------------
    def _advance(self, started: float) -> None:
        self._deliver(self.fuser.advance())
        self.clock.add("fusion", time.perf_counter() - started)

    def _deliver(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            if update.phase is EventPhase.ENDED:
                self.summary.add_event(update.event)
                if self.events is not None:
                    self.events.append(update.event)
            self._emit(update)

    async def _score_blocks(self, *, final: bool) -> None:
        while True:
            blocks: list[tuple[AudioClip, float, float]] = []
            while len(blocks) < MAX_BLOCKS_PER_CALL and (taken := self.accumulator.take(final=final)):
                blocks.append(taken)
            if not blocks:
                return
            started = time.perf_counter()
            scoring = await self.audio.score(blocks, self._frames)
            self.clock.add("audio", time.perf_counter() - started - scoring.second_s)
            if scoring.second_s:
                self.clock.add("audio_second_model", scoring.second_s)
            self._second_unavailable = self._second_unavailable or scoring.second_unavailable
            started = time.perf_counter()
            for (_, first_s, last_s), block in zip(blocks, scoring.scores, strict=True):
                fresh = windows_between(block, first_s, last_s)
                self._heard = self._heard or bool(np.any(fresh.level_dbfs >= SILENCE_DBFS))
                self.fuser.add_audio(fresh)
            self._advance(started)

    async def finish(self, media: MediaInfo, extra_notices: Sequence[Notice] = ()) -> AnalysisResult:
        """End of input: analyse what is left, close the open event, and build the result."""
        await self.end_audio()
        started = time.perf_counter()
        duration_s = self.media_end_s
        self._deliver(self.fuser.finish(duration_s))
        notices = self._notices(extra_notices)
        summary = self.summary.summary(duration_s, self.fuser.peak_fused, notices)
        self.clock.add("fusion", time.perf_counter() - started)
        return self._result(media, summary, duration_s, tuple(self.events or ()), self.fuser.splits)

    def empty_result(self, media: MediaInfo, extra_notices: Sequence[Notice] = ()) -> AnalysisResult:
        """A result without findings, for when ``finish`` itself failed: the caller still gets an end."""
        return self._result(media, SummaryBuilder().summary(0.0, 0.0, list(extra_notices)), 0.0, (), 0)

    def _result(
        self,
        media: MediaInfo,
        summary: AnalysisSummary,
        duration_s: float,
        events: tuple[LaughterEvent, ...],
        events_split: int,
    ) -> AnalysisResult:
        return AnalysisResult(
            events=events,
            summary=summary,
            face_samples=(),
            media=media,
            duration_s=duration_s,
            frames_analyzed=self.faces.frames_analyzed,
            frames_with_faces=self.faces.frames_with_faces,
            faces_detected=len(summary.faces),
            face_detections=self.faces.face_detections,
            frame_rate_hertz=self.options.frame_rate_hertz,
            stage_seconds=dict(self.clock.seconds),
            processing_s=time.perf_counter() - self.started,
            models=(*self.face_models.describe(self.faces.emotion_version), self.audio.describe()),
            events_split=events_split,
        )

    def _notices(self, extra: Sequence[Notice]) -> list[Notice]:
        """What the summary reports as missing or odd: one computation for every kind of analysis."""
        notices: list[Notice] = []
        if not self.tracks.video:
            notices.append(Notice.NO_VIDEO_STREAM)
        elif not self.options.use_video:
            notices.append(Notice.VIDEO_DISABLED)
        if not self.tracks.audio:
            notices.append(Notice.NO_AUDIO_STREAM)
        elif not self.options.use_audio:
            notices.append(Notice.AUDIO_DISABLED)
        notices.extend(n for n in extra if n is Notice.MEDIA_TRUNCATED)
        if self.use_audio and not self._heard:
            notices.append(Notice.SILENT_AUDIO)
        if self.use_audio and self._second_unavailable:
            notices.append(Notice.SECOND_AUDIO_MODEL_UNAVAILABLE)
        faces_seen = self.summary.observation_count > 0
        if self.use_video and not faces_seen:
            notices.append(Notice.NO_FACES_FOUND)
        if not (self.use_audio and self._heard) and not faces_seen:
            notices.append(Notice.NO_MODALITY)
        notices.extend(n for n in extra if n is not Notice.MEDIA_TRUNCATED)
        if self.fuser.splits:
            notices.append(Notice.EVENT_SPLIT)
        return notices
