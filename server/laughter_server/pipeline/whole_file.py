"""Whole-file analysis: decode → sample → faces (batched Triton calls) ∥ audio → fuse → classify → summarise.

Video is decoded in a worker thread one chunk ahead of inference, so decoding overlaps the Triton round
trips, and the audio stage runs concurrently in its own thread. Memory stays bounded by one chunk of frames.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import structlog

from laughter_server.audio.scores import WindowScores
from laughter_server.fusion.events import fuse_events
from laughter_server.fusion.summary import summarise
from laughter_server.fusion.types import AnalysisSummary, FaceObservation, LaughterEvent, Notice
from laughter_server.inference.models import FaceModels, ModelDescription
from laughter_server.media.decode import MediaLimits, decode_audio, iter_video_frames, probe_media
from laughter_server.media.types import AudioClip, MediaInfo
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.faces import FaceStage, StageClock
from laughter_server.pipeline.options import AnalysisOptions

log = structlog.get_logger(__name__)

CHUNK_FRAMES = 16


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
    """Everything a whole-file analysis returns."""

    events: tuple[LaughterEvent, ...]
    summary: AnalysisSummary
    face_samples: tuple[FaceObservation, ...]
    media: MediaInfo
    duration_s: float  # media time analysed: rates and trends are over this
    frames_analyzed: int
    frames_with_faces: int
    faces_detected: int  # distinct face tracks
    face_detections: int  # faces summed over frames
    frame_rate_hertz: float
    stage_seconds: dict[str, float]
    processing_s: float
    models: tuple[ModelDescription, ...]


Chunk = tuple[list[float], npt.NDArray[np.uint8]]


def _take_chunk(frames: Iterator[tuple[float, npt.NDArray[np.uint8]]], clock: StageClock) -> Chunk | None:
    started = time.perf_counter()
    items = list(itertools.islice(frames, CHUNK_FRAMES))
    clock.add("decode", time.perf_counter() - started)
    if not items:
        return None
    return [t for t, _ in items], np.stack([image for _, image in items])


class WholeFileAnalyzer:
    """Analyses one media file held in memory."""

    def __init__(self, face_models: FaceModels, audio: AudioStage, limits: MediaLimits) -> None:
        self.face_models = face_models
        self.audio = audio
        self.limits = limits

    async def analyze(self, content: bytes, options: AnalysisOptions) -> AnalysisResult:
        """Run the whole pipeline; raises LaughterError subclasses for bad media or unavailable models."""
        started = time.perf_counter()
        clock = StageClock()
        info = await asyncio.to_thread(probe_media, content, self.limits)
        clock.add("decode", time.perf_counter() - started)
        notices: list[Notice] = []
        want_video = options.use_video and info.video_codec is not None
        want_audio = options.use_audio and info.audio_codec is not None
        if info.video_codec is None:
            notices.append(Notice.NO_VIDEO_STREAM)
        elif not options.use_video:
            notices.append(Notice.VIDEO_DISABLED)
        if info.audio_codec is None:
            notices.append(Notice.NO_AUDIO_STREAM)
        elif not options.use_audio:
            notices.append(Notice.AUDIO_DISABLED)

        audio = self.audio.snapshot()  # scores and the reported version come from one model across a reload
        audio_task = asyncio.create_task(self._audio(audio, content, clock)) if want_audio else None
        faces = FaceStage(
            self.face_models, detection_threshold=options.detection_threshold, max_faces=options.max_faces
        )
        observations: list[FaceObservation] = []
        last_frame_s = 0.0
        try:
            if want_video:
                frames = iter_video_frames(content, options.frame_rate_hertz)
                pending = asyncio.create_task(asyncio.to_thread(_take_chunk, frames, clock))
                while (chunk := await pending) is not None:
                    pending = asyncio.create_task(asyncio.to_thread(_take_chunk, frames, clock))
                    times, images = chunk
                    last_frame_s = times[-1]
                    observations.extend(await faces.process(times, images, clock))
            clip, audio_track = (None, None) if audio_task is None else await audio_task
        finally:
            if audio_task is not None and not audio_task.done():
                audio_task.cancel()

        period_s = 1.0 / options.frame_rate_hertz
        decoded_s = max(
            last_frame_s + period_s if observations or want_video else 0.0,
            clip.duration_s if clip is not None else 0.0,
        )
        duration_s = info.duration_s or decoded_s  # the container's duration when it declares one
        if info.duration_s and decoded_s < info.duration_s - 2 * period_s - 0.5:
            notices.append(Notice.MEDIA_TRUNCATED)
            duration_s = decoded_s  # rates and trends over what could be analysed
        if clip is not None and audio_track is None:
            notices.append(Notice.SILENT_AUDIO)
        if want_video and not observations:
            notices.append(Notice.NO_FACES_FOUND)
        if audio_track is None and not observations:
            notices.append(Notice.NO_MODALITY)

        fuse_started = time.perf_counter()
        frame_times = np.arange(0.0, duration_s, period_s) if want_video else np.zeros(0)
        events, timeline = fuse_events(
            audio_track, observations, frame_times, duration_s, period_s, options.rules
        )
        summary = summarise(events, observations, timeline, duration_s, notices)
        clock.add("fusion", time.perf_counter() - fuse_started)
        processing_s = time.perf_counter() - started
        log.info(
            "analysis.finished",
            duration_s=round(duration_s, 2),
            frames=faces.frames_analyzed,
            faces=faces.faces_detected,
            events=len(events),
            processing_s=round(processing_s, 3),
        )
        return AnalysisResult(
            events=tuple(events),
            summary=summary,
            face_samples=tuple(observations) if options.include_face_samples else (),
            media=info,
            duration_s=duration_s,
            frames_analyzed=faces.frames_analyzed,
            frames_with_faces=faces.frames_with_faces,
            faces_detected=len({o.face_id for o in observations}),
            face_detections=faces.faces_detected,
            frame_rate_hertz=options.frame_rate_hertz,
            stage_seconds=dict(clock.seconds),
            processing_s=processing_s,
            models=(*self.face_models.describe(), audio.describe()),
        )

    @staticmethod
    async def _audio(
        audio: AudioStage, content: bytes, clock: StageClock
    ) -> tuple[AudioClip | None, WindowScores | None]:
        started = time.perf_counter()
        clip = await asyncio.to_thread(decode_audio, content)
        clock.add("decode", time.perf_counter() - started)
        if clip is None:
            return None, None
        started = time.perf_counter()
        track = await asyncio.to_thread(audio.track, clip)
        clock.add("audio", time.perf_counter() - started)
        return clip, track
