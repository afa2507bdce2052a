"""The analysis engine with a fake face model: the same media gives the same analysis however it is fed,
notices come from one place, and a long session's retained state stays bounded."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.config import DEFAULT_AUDIO_MODEL
from laughter_server.fusion.fuser import EventUpdate
from laughter_server.fusion.types import EventPhase, LaughterEvent, Notice
from laughter_server.media.decode import decode_audio
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, MediaInfo
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.engine import Engine, Output, Tracks
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.result import AnalysisResult

from tests.unit.pipeline.fake_faces import FakeFaceModels, make_frame

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE = REPO_ROOT / "samples" / "sample.mp4"
LAUGHS_S = ((1.2, 3.68), (15.58, 17.98), (21.26, 27.17))  # the sample's laughter (samples/sample.json)
MEDIA = MediaInfo(container="test", duration_s=0.0)
BOTH_TRACKS = Tracks(video=True, audio=True)


@pytest.fixture(name="audio", scope="module")
def fixture_audio() -> AudioStage:
    """The shipped audio model."""
    return AudioStage.load(DEFAULT_AUDIO_MODEL)


@pytest.fixture(name="sample_audio", scope="module")
def fixture_sample_audio() -> npt.NDArray[np.float32]:
    """The bundled sample's soundtrack, 16 kHz mono."""
    clip = decode_audio(SAMPLE.read_bytes())
    assert clip is not None
    return clip.samples


def frames_for(
    duration_s: float, rate_hertz: float, happy_at: Callable[[float], list[float]]
) -> list[tuple[float, npt.NDArray[np.uint8]]]:
    """Synthetic frames at ``rate_hertz`` with the faces ``happy_at(t)`` describes."""
    return [
        (k / rate_hertz, make_frame(happy_at(k / rate_hertz))) for k in range(int(duration_s * rate_hertz))
    ]


def laughing_face(t: float) -> list[float]:
    """One face, happy during the sample's laughs and neutral otherwise."""
    return [0.9 if any(a <= t < b for a, b in LAUGHS_S) else 0.05]


class Run:
    """An engine and what it emitted."""

    def __init__(
        self,
        audio: AudioStage,
        *,
        tracks: Tracks = BOTH_TRACKS,
        interim: bool,
        mouth_ratio: float = 0.3,
        **options: object,
    ) -> None:
        self.outputs: list[Output] = []
        self.models = FakeFaceModels(mouth_ratio=mouth_ratio)
        self.engine = Engine(
            dataclasses.replace(AnalysisOptions(), **options),  # type: ignore[arg-type]
            tracks,
            self.models,
            audio,
            emit=self.outputs.append,
            interim=interim,
            keep_events=True,
        )

    def ended(self) -> list[LaughterEvent]:
        return [o.event for o in self.outputs if isinstance(o, EventUpdate) and o.phase is EventPhase.ENDED]

    async def finish(self) -> AnalysisResult:
        return await self.engine.finish(MEDIA)


async def feed_like_a_file(
    run: Run, frames: list[tuple[float, npt.NDArray[np.uint8]]], samples: npt.NDArray[np.float32]
) -> AnalysisResult:
    """Frames in chunks of 16 and audio in 5 s pieces, concurrently (as whole-file analysis does)."""

    async def video() -> None:
        for i in range(0, len(frames), 16):
            chunk = frames[i : i + 16]
            await run.engine.push_frames([t for t, _ in chunk], np.stack([f for _, f in chunk]))
        run.engine.end_video()

    async def audio() -> None:
        step = 5 * AUDIO_SAMPLE_RATE_HERTZ
        for i in range(0, len(samples), step):
            await run.engine.push_audio(samples[i : i + step])
        await run.engine.end_audio()

    await asyncio.gather(video(), audio())
    return await run.finish()


async def feed_like_a_camera(
    run: Run, frames: list[tuple[float, npt.NDArray[np.uint8]]], samples: npt.NDArray[np.float32]
) -> AnalysisResult:
    """One frame at a time and 0.1 s of audio at a time, interleaved by capture time."""
    step = AUDIO_SAMPLE_RATE_HERTZ // 10
    pieces = [(i / AUDIO_SAMPLE_RATE_HERTZ, samples[i : i + step]) for i in range(0, len(samples), step)]
    items = sorted(
        [(t, "frame", f) for t, f in frames] + [(t, "audio", p) for t, p in pieces], key=lambda x: x[0]
    )
    for t, kind, data in items:
        if kind == "frame":
            await run.engine.push_frames([t], data[None])
        else:
            await run.engine.push_audio(data)
    return await run.finish()


class TestSameAnalysisHoweverFed:
    """Whole-file feeding and live feeding of the same media give the same events and summary."""

    async def test_file_and_camera_agree(
        self, audio: AudioStage, sample_audio: npt.NDArray[np.float32]
    ) -> None:
        """Chunked and concurrent versus frame by frame: identical final events and summary."""
        duration_s = len(sample_audio) / AUDIO_SAMPLE_RATE_HERTZ
        frames = frames_for(duration_s, 5.0, laughing_face)
        file_run, camera_run = Run(audio, interim=False), Run(audio, interim=True)
        from_file = await feed_like_a_file(file_run, frames, sample_audio)
        from_camera = await feed_like_a_camera(camera_run, frames, sample_audio)
        assert from_file.events == from_camera.events
        assert file_run.ended() == camera_run.ended() == list(from_file.events)
        assert from_file.summary == from_camera.summary
        assert from_file.duration_s == from_camera.duration_s
        assert len(from_file.events) == len(LAUGHS_S)
        for event, (start_s, end_s) in zip(from_file.events, LAUGHS_S, strict=True):
            assert event.start_s == pytest.approx(start_s, abs=0.6)
            assert event.end_s == pytest.approx(end_s, abs=0.6)
            assert event.face_id == 0

    async def test_file_and_camera_agree_with_smoothed_audio(
        self, audio: AudioStage, sample_audio: npt.NDArray[np.float32]
    ) -> None:
        """Smoothed audio scores (median of 5 windows) waits for the windows after each one live: chunked and
        frame by frame still give the same events and summary, and the sample's laughs are still found."""
        rules = dataclasses.replace(AnalysisOptions().rules, audio_smooth_windows=5, audio_smoothing="median")
        duration_s = len(sample_audio) / AUDIO_SAMPLE_RATE_HERTZ
        frames = frames_for(duration_s, 5.0, laughing_face)
        file_run = Run(audio, interim=False, rules=rules)
        camera_run = Run(audio, interim=True, rules=rules)
        from_file = await feed_like_a_file(file_run, frames, sample_audio)
        from_camera = await feed_like_a_camera(camera_run, frames, sample_audio)
        assert from_file.events == from_camera.events
        assert from_file.summary == from_camera.summary
        assert len(from_file.events) == len(LAUGHS_S)

    async def test_live_updates_bracket_each_event(
        self, audio: AudioStage, sample_audio: npt.NDArray[np.float32]
    ) -> None:
        """Live feeding announces every event STARTED before it ENDS, with one id per event."""
        frames = frames_for(len(sample_audio) / AUDIO_SAMPLE_RATE_HERTZ, 5.0, laughing_face)
        run = Run(audio, interim=True)
        await feed_like_a_camera(run, frames, sample_audio)
        phases: dict[str, list[EventPhase]] = {}
        for output in run.outputs:
            if isinstance(output, EventUpdate):
                phases.setdefault(output.event.event_id, []).append(output.phase)
        assert len(phases) == len(LAUGHS_S)
        for sequence in phases.values():
            assert sequence[0] is EventPhase.STARTED
            assert sequence[-1] is EventPhase.ENDED
            assert sequence.count(EventPhase.STARTED) == sequence.count(EventPhase.ENDED) == 1


class TestNotices:
    """Notices come from the engine, whatever fed it."""

    @pytest.mark.parametrize("feed", [feed_like_a_file, feed_like_a_camera])
    async def test_silent_audio_lets_faces_decide(
        self, audio: AudioStage, feed: Callable[..., object]
    ) -> None:
        """Digital silence reports SILENT_AUDIO, and a laughing face alone makes the events."""
        frames = frames_for(30.0, 5.0, laughing_face)
        run = Run(audio, interim=feed is feed_like_a_camera)
        result = await feed(run, frames, np.zeros(30 * AUDIO_SAMPLE_RATE_HERTZ, np.float32))  # type: ignore[operator]
        assert isinstance(result, AnalysisResult)
        assert Notice.SILENT_AUDIO in result.summary.notices
        assert Notice.NO_MODALITY not in result.summary.notices
        assert len(result.events) == len(LAUGHS_S)
        assert {e.evidence.source.value for e in result.events} == {"face"}

    async def test_closed_mouth_smile_alone_is_no_laugh(self, audio: AudioStage) -> None:
        """Over silence, the same smiling face with its mouth closed makes no event; its summary keeps the
        smile and the closed mouth."""
        frames = frames_for(30.0, 5.0, laughing_face)
        run = Run(audio, interim=False, mouth_ratio=0.02)
        result = await feed_like_a_file(run, frames, np.zeros(30 * AUDIO_SAMPLE_RATE_HERTZ, np.float32))
        assert run.models.landmark_calls > 0
        assert result.events == ()
        (face,) = result.summary.faces
        assert face.mouth_open == 0.0
        assert face.smiling == pytest.approx(face.emotion_breakdown[3])
        assert face.smiling > 0.1

    @pytest.mark.parametrize("feed", [feed_like_a_file, feed_like_a_camera])
    async def test_no_faces_and_silence(self, audio: AudioStage, feed: Callable[..., object]) -> None:
        """Frames without faces report NO_FACES_FOUND; with silent audio too, NO_MODALITY."""
        run = Run(audio, interim=False)
        result = await feed(
            run, frames_for(10.0, 5.0, lambda t: []), np.zeros(10 * AUDIO_SAMPLE_RATE_HERTZ, np.float32)
        )  # type: ignore[operator]
        assert isinstance(result, AnalysisResult)
        assert result.summary.notices == (Notice.SILENT_AUDIO, Notice.NO_FACES_FOUND, Notice.NO_MODALITY)
        assert result.events == ()
        assert result.frames_analyzed == 50

    async def test_missing_and_disabled_tracks(self, audio: AudioStage) -> None:
        """A missing audio track and switched-off video are both reported, before the other notices."""
        run = Run(audio, tracks=Tracks(video=True, audio=False), interim=False, use_video=False)
        result = await run.finish()
        assert result.summary.notices[:2] == (Notice.VIDEO_DISABLED, Notice.NO_AUDIO_STREAM)
        assert Notice.NO_MODALITY in result.summary.notices


class TestBoundedState:
    """A long session keeps a bounded amount of state: what is final is folded into aggregates."""

    async def test_retained_state_does_not_grow(self, audio: AudioStage) -> None:
        """Eight faces at 10 Hz and (silent) audio for 6 minutes: the state after 6 minutes is no larger
        than after 2 minutes, and the summary still counts every frame and event."""
        run = Run(audio, interim=True, frame_rate_hertz=10.0, max_faces=8)
        retained: dict[int, dict[str, int]] = {}
        laughs = 0
        for minute in range(6):
            for second in range(60):
                t0 = minute * 60 + second
                laughing = second % 20 < 2  # a 2 s laugh every 20 s
                laughs += laughing and second % 20 == 0
                for k in range(10):
                    t = t0 + k / 10
                    happy = [0.9 if laughing else 0.05] * 8
                    await run.engine.push_frames([t], make_frame(happy)[None])
                await run.engine.push_audio(np.zeros(AUDIO_SAMPLE_RATE_HERTZ, np.float32))
            retained[minute + 1] = run.engine.fuser.retained
        result = await run.finish()
        for kind, count in retained[6].items():
            assert count <= retained[2][kind] * 1.2 + 50, kind
        assert retained[6]["observations"] <= 8 * 10 * 10  # at most about 10 s of faces
        assert result.frames_analyzed == 6 * 60 * 10
        assert sum(f.frames_seen for f in result.summary.faces) == 6 * 60 * 10 * 8
        assert len(result.events) == laughs


class TestLongEvents:
    """An event that reaches the longest event duration is ended there, counted and noticed."""

    async def test_split_at_max_event_duration(self, audio: AudioStage) -> None:
        """A face laughing for 25 s over silence with a 10 s cap: three events, two splits, EVENT_SPLIT."""
        options = AnalysisOptions()
        rules = dataclasses.replace(options.rules, max_event_s=10.0)
        run = Run(audio, interim=False, rules=rules)
        frames = frames_for(30.0, 5.0, lambda t: [0.9 if 2.0 <= t < 27.0 else 0.05])
        result = await feed_like_a_file(run, frames, np.zeros(30 * AUDIO_SAMPLE_RATE_HERTZ, np.float32))
        assert [round(e.end_s - e.start_s) for e in result.events] == [10, 10, 5]
        assert result.events_split == 2
        assert Notice.EVENT_SPLIT in result.summary.notices
