"""The audio stage with a stacked model: the cascade, the shared micro-batched calls, and the fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.errors import ModelUnavailableError
from laughter_server.fusion.types import Notice
from laughter_server.inference.batcher import MicroBatcher
from laughter_server.inference.models import ModelDescription
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, MediaInfo
from laughter_server.pipeline.audio_blocks import AudioAccumulator
from laughter_server.pipeline.audio_cascade import Block
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.engine import Engine, Output, Tracks
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.result import AnalysisResult

from tests.stacked_model import BASE, MODELS, write_stacked_model
from tests.unit.pipeline.fake_faces import FakeFaceModels

LAUGH = "audio/laughter/btanks-data__sounds_laugh01.wav"
SPEECH = "audio/speech/codec2-examples__raw_cross.wav"


class FakeSecond:
    """Scores every window by its mean dB (a stand-in for the ResNet), counting what it is asked."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.windows = 0
        self.calls = 0
        self.versions: list[str] = []

    async def score(self, melspec: npt.NDArray[np.float32], version: str = "1") -> npt.NDArray[np.float32]:
        self.calls += 1
        self.versions.append(version)
        if self.fail:
            raise ModelUnavailableError("laughter_resnet is not served")
        assert melspec.shape[1:] == (44, 128)
        assert melspec.dtype == np.float32
        self.windows += len(melspec)
        return np.clip(1.0 + melspec.mean(axis=(1, 2)) / 80.0, 0.0, 1.0).astype(np.float32)

    async def is_ready(self, version: str = "1") -> bool:
        return not self.fail

    def describe(self, version: str = "1") -> ModelDescription:
        return ModelDescription("laughter_resnet", version, "audio_laughter", "fake")


def blocks_of(samples: npt.NDArray[np.float32]) -> list[Block]:
    accumulator = AudioAccumulator(1.0, 0.25)
    accumulator.place(samples, 0)
    out: list[Block] = []
    while (taken := accumulator.take(final=True)) is not None:
        out.append(taken)
    return out


@pytest.fixture(name="laugh")
def fixture_laugh(read_clip: Callable[[str], npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    """Speech, then a laugh: windows on both sides of the cascade threshold."""
    return np.concatenate([read_clip(SPEECH), read_clip(LAUGH)])


class TestCascade:
    async def test_only_windows_over_the_threshold_reach_the_second_model(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """The second model sees exactly the new windows whose cues probability passes the cascade."""
        stage = AudioStage.load(write_stacked_model(tmp_path, cascade_threshold=0.3), FakeSecond())
        second = FakeSecond()
        stage.use_second_model(second)
        blocks = blocks_of(laugh)
        scoring = await stage.score(blocks)
        detector = stage.detector
        raw = detector.base._raw_blocks([b[0] for b in blocks])  # type: ignore[union-attr]
        expected = 0
        for (_, first_s, last_s), scores in zip(blocks, raw, strict=True):
            new = (scores.centers_s >= first_s - 1e-6) & (scores.centers_s <= last_s + 1e-6)
            expected += int(np.sum(new & (scores.probabilities >= 0.3)))
        assert 0 < expected < scoring.new_windows
        assert second.windows == scoring.reached_second == expected
        assert not scoring.second_unavailable

    async def test_the_second_model_version_comes_from_the_stack(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """A stack fitted over the int8 ResNet asks for version 2, on warm-up and on every call; one whose
        metadata names no version asks for version 1."""
        second = FakeSecond()
        stage = AudioStage.load(write_stacked_model(tmp_path / "int8", second_version="2"), second)
        await stage.warm_up_second()
        await stage.score(blocks_of(laugh))
        assert second.versions == ["2", "2"]
        legacy = FakeSecond()
        await AudioStage.load(write_stacked_model(tmp_path / "fp32"), legacy).score(blocks_of(laugh))
        assert legacy.versions == ["1"]

    async def test_rejected_windows_score_as_the_cues_model(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """With a threshold no window passes, the stack's scores are the cues probabilities at the stack's
        operating point, and the second model is never called."""
        second = FakeSecond()
        stage = AudioStage.load(write_stacked_model(tmp_path, cascade_threshold=0.999), second)
        scoring = await stage.score(blocks_of(laugh))
        assert second.calls == 1
        assert second.windows == 0
        assert scoring.reached_second == 0
        base = stage.detector.base  # type: ignore[union-attr]
        raw = base._raw_blocks([b[0] for b in blocks_of(laugh)])
        from laughter_server.audio.scores import remap_operating_point

        for got, cues in zip(scoring.scores, raw, strict=True):
            assert np.allclose(got.probabilities, remap_operating_point(cues.probabilities, 0.6), atol=1e-6)

    async def test_unavailable_second_model_falls_back_to_the_cues_model(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """When the second model cannot serve, the scores are the cues model's own (1.4.0's) and say so."""
        stage = AudioStage.load(write_stacked_model(tmp_path), FakeSecond(fail=True))
        blocks = blocks_of(laugh)
        scoring = await stage.score(blocks)
        assert scoring.second_unavailable
        cues_only = stage.detector.base.predict_blocks([b[0] for b in blocks])  # type: ignore[union-attr]
        for got, expected in zip(scoring.scores, cues_only, strict=True):
            assert np.allclose(got.probabilities, expected.probabilities, atol=1e-6)

    async def test_without_a_second_model_the_stage_says_so(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """A stacked model loaded with no second model scores with its cues model, flagged."""
        stage = AudioStage.load(write_stacked_model(tmp_path))
        assert (await stage.score(blocks_of(laugh))).second_unavailable

    async def test_concurrent_analyses_share_batched_calls(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """Two analyses scoring at once through one MicroBatcher make one call of the second model."""
        inner = FakeSecond()
        batcher: MicroBatcher[npt.NDArray[np.float32]] = MicroBatcher(
            inner.score,  # type: ignore[arg-type]
            lambda r, a, b: r[a:b],
            max_items=4096,
            max_delay_s=3.0,  # long enough for both analyses to submit, even on a loaded machine
        )

        class Batched(FakeSecond):
            async def score(
                self, melspec: npt.NDArray[np.float32], version: str = "1"
            ) -> npt.NDArray[np.float32]:
                return await batcher.submit(melspec)  # type: ignore[arg-type]

        path = write_stacked_model(tmp_path, cascade_threshold=0.2)
        stages = [AudioStage.load(path, Batched()) for _ in range(2)]
        results = await asyncio.gather(*(s.score(blocks_of(laugh)) for s in stages))
        await batcher.close()
        assert inner.calls == 1
        assert inner.windows == sum(r.reached_second for r in results) > 0
        assert np.array_equal(results[0].scores[0].probabilities, results[1].scores[0].probabilities)


class TestEngineWithTheStack:
    """The engine over a stacked model: the same scores however fed, and the fallback notice."""

    async def run(
        self, stage: AudioStage, samples: npt.NDArray[np.float32], piece_s: float
    ) -> AnalysisResult:
        outputs: list[Output] = []
        engine = Engine(
            AnalysisOptions(),
            Tracks(video=False, audio=True),
            FakeFaceModels(),
            stage,
            emit=outputs.append,
            interim=False,
            keep_events=True,
        )
        step = int(piece_s * AUDIO_SAMPLE_RATE_HERTZ)
        for i in range(0, len(samples), step):
            await engine.push_audio(samples[i : i + step])
        return await engine.finish(MediaInfo(container="test", duration_s=0.0))

    async def test_whole_file_and_live_feeding_agree(
        self, tmp_path: Path, laugh: npt.NDArray[np.float32]
    ) -> None:
        """5 s pieces and 0.1 s pieces give the same events and no notice about the second model."""
        path = write_stacked_model(tmp_path, cascade_threshold=0.2)
        whole = await self.run(AudioStage.load(path, FakeSecond()), laugh, 5.0)
        live = await self.run(AudioStage.load(path, FakeSecond()), laugh, 0.1)
        assert [(e.start_s, e.end_s, e.confidence) for e in whole.events] == [
            (e.start_s, e.end_s, e.confidence) for e in live.events
        ]
        assert len(whole.events) >= 1
        assert Notice.SECOND_AUDIO_MODEL_UNAVAILABLE not in whole.summary.notices

    async def test_fallback_notice(self, tmp_path: Path, laugh: npt.NDArray[np.float32]) -> None:
        """When the second model cannot serve, the result says so and has the cues model's events."""
        path = write_stacked_model(tmp_path)
        fallback = await self.run(AudioStage.load(path, FakeSecond(fail=True)), laugh, 5.0)
        cues = await self.run(AudioStage.load(MODELS / (BASE + ".skops")), laugh, 5.0)
        assert Notice.SECOND_AUDIO_MODEL_UNAVAILABLE in fallback.summary.notices
        assert Notice.SECOND_AUDIO_MODEL_UNAVAILABLE not in cues.summary.notices
        assert [(e.start_s, e.end_s) for e in fallback.events] == [(e.start_s, e.end_s) for e in cues.events]
