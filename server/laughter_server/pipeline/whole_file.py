"""Whole-file analysis: the decoder feeds the engine as fast as it accepts.

Video is decoded in a worker thread up to two chunks ahead of inference, so decoding overlaps the Triton round
trips; the faces of the next chunk are located (detector, or boxes carried) while those of the chunk before
are scored (emotions, face mesh) and fused; audio is decoded in pieces and scored concurrently. Only the
sampled frames are converted to RGB (``iter_video_frames``). Memory stays bounded by three chunks of frames and
one piece of audio, whatever the file's length.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import structlog

from laughter_server.fusion.types import FaceObservation, Notice
from laughter_server.inference.models import FaceModels
from laughter_server.media.decode import MediaLimits, iter_audio, iter_video_frames, probe_media
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.engine import Engine, Output, Tracks
from laughter_server.pipeline.faces import StageClock
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.result import AnalysisResult

log = structlog.get_logger(__name__)

CHUNK_FRAMES = 16

Chunk = tuple[list[float], npt.NDArray[np.uint8]]


def _take_chunk(frames: Iterator[tuple[float, npt.NDArray[np.uint8]]], clock: StageClock) -> Chunk | None:
    started = time.perf_counter()
    items = list(itertools.islice(frames, CHUNK_FRAMES))
    clock.add("decode", time.perf_counter() - started)
    if not items:
        return None
    return [t for t, _ in items], np.stack([image for _, image in items])


def _next_piece(
    pieces: Iterator[npt.NDArray[np.float32]], clock: StageClock
) -> npt.NDArray[np.float32] | None:
    started = time.perf_counter()
    piece = next(pieces, None)
    clock.add("decode", time.perf_counter() - started)
    return piece


class WholeFileAnalyzer:
    """Analyses one media file held in memory."""

    def __init__(self, face_models: FaceModels, audio: AudioStage, limits: MediaLimits) -> None:
        self.face_models = face_models
        self.audio = audio
        self.limits = limits

    async def analyze(
        self, content: bytes, options: AnalysisOptions, audio: AudioStage | None = None
    ) -> AnalysisResult:
        """Run the whole analysis (with ``audio``'s model when given, as an A/B split assigns); raises
        LaughterError subclasses for bad media or unavailable models."""
        clock = StageClock()
        started = time.perf_counter()
        info = await asyncio.to_thread(probe_media, content, self.limits)
        clock.add("decode", time.perf_counter() - started)
        samples: list[FaceObservation] = []

        def collect(item: Output) -> None:
            if isinstance(item, FaceObservation):
                samples.append(item)

        engine = Engine(
            options,
            Tracks(video=info.video_codec is not None, audio=info.audio_codec is not None),
            self.face_models,
            (
                audio or self.audio
            ).snapshot(),  # scores and the reported version come from one model across a reload
            emit=collect,
            interim=False,
            keep_events=True,
            clock=clock,
            started_at=started,
        )
        feeders = []
        if engine.use_video:
            feeders.append(asyncio.create_task(self._feed_video(engine, content, options, clock)))
        if engine.use_audio:
            feeders.append(asyncio.create_task(self._feed_audio(engine, content, clock)))
        try:
            await asyncio.gather(*feeders)
        finally:
            for task in feeders:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*feeders, return_exceptions=True)
        notices = []
        period_s = 1.0 / options.frame_rate_hertz
        if info.duration_s and engine.media_end_s < info.duration_s - 2 * period_s - 0.5:
            notices.append(Notice.MEDIA_TRUNCATED)
        result = await engine.finish(info, notices)
        log.info(
            "analysis.finished",
            duration_s=round(result.duration_s, 2),
            frames=result.frames_analyzed,
            faces=result.face_detections,
            events=len(result.events),
            processing_s=round(result.processing_s, 3),
        )
        return dataclasses.replace(result, face_samples=tuple(samples))

    @staticmethod
    async def _feed_video(
        engine: Engine, content: bytes, options: AnalysisOptions, clock: StageClock
    ) -> None:
        frames = iter_video_frames(content, options.frame_rate_hertz)
        pending = asyncio.create_task(asyncio.to_thread(_take_chunk, frames, clock))
        try:
            chunk = await pending
            pending = asyncio.create_task(asyncio.to_thread(_take_chunk, frames, clock))
            if chunk is not None:
                boxes = await engine.locate_frames(chunk[1])
            while chunk is not None:
                following = await pending
                # decoding the chunk after next, locating the next chunk's faces (detector, or boxes carried)
                # and scoring this chunk's faces (emotions, face mesh) run at once
                pending = asyncio.create_task(asyncio.to_thread(_take_chunk, frames, clock))
                locating = (
                    asyncio.create_task(engine.locate_frames(following[1])) if following is not None else None
                )
                try:
                    await engine.push_located(*chunk, boxes)
                    if locating is not None:
                        boxes = await locating
                finally:
                    if locating is not None and not locating.done():
                        locating.cancel()
                chunk = following
        finally:
            pending.cancel()
        engine.end_video()

    @staticmethod
    async def _feed_audio(engine: Engine, content: bytes, clock: StageClock) -> None:
        pieces = iter_audio(content)
        while (piece := await asyncio.to_thread(_next_piece, pieces, clock)) is not None:
            await engine.push_audio(piece)
        await engine.end_audio()
