"""An analysis keeps the face emotion version it started with when the server switches to another."""

from __future__ import annotations

import asyncio

import numpy as np
from laughter_server.inference.batcher import BatchedFaceModels
from laughter_server.pipeline.faces import FaceStage, StageClock
from laughter_server.vision.emotion_versions import BUILTIN_VERSIONS

from tests.unit.pipeline.fake_faces import FakeFaceModels, make_frame


async def test_a_stage_keeps_its_version_after_a_switch() -> None:
    """Crops are cut and scored for version 1 although the models switched to 2 after the stage started;
    a stage started after the switch cuts 112x112 RGB crops for version 2."""
    models = FakeFaceModels()
    before = FaceStage(models)
    models.set_emotion_version(BUILTIN_VERSIONS["2"])
    frames = np.stack([make_frame([0.8]), make_frame([0.2, 0.6])])
    observations = await before.process([0.0, 0.2], frames, StageClock())
    assert len(observations) == 3
    assert observations[0].emotions[3] > observations[1].emotions[3]  # the grey level still drives "happy"
    assert {call for call in models.emotion_calls} == {((64, 64, 1), "1")}
    assert models.describe(before.emotion_version)[1].version == "1"
    models.emotion_calls.clear()
    after = FaceStage(models)
    await after.process([0.0], frames[:1], StageClock())
    assert models.emotion_calls == [((112, 112, 3), "2")]  # version 2 does not average mirrors


async def test_the_batcher_never_mixes_versions() -> None:
    """Concurrent crops for two versions reach the model in separate calls, each with its version."""
    inner = FakeFaceModels()
    models = BatchedFaceModels(inner, max_crops=64, max_delay_s=0.05)
    try:
        one, two = await asyncio.gather(
            models.score_emotions(np.zeros((2, 64, 64, 1), np.uint8), BUILTIN_VERSIONS["1"]),
            models.score_emotions(np.zeros((3, 112, 112, 3), np.uint8), BUILTIN_VERSIONS["2"]),
        )
    finally:
        await models.close()
    assert (len(one), len(two)) == (2, 3)
    assert sorted(inner.emotion_calls) == [((64, 64, 1), "1"), ((112, 112, 3), "2")]
