"""The cross-session micro-batcher merges only requests whose rows share a shape."""

from __future__ import annotations

import asyncio

import numpy as np
from laughter_server.inference.batcher import BatchedFaceModels

from tests.unit.pipeline.fake_faces import FakeFaceModels


async def test_frames_of_two_shapes_go_in_two_calls() -> None:
    """Two 16:9 sessions share a detector call; a 5:4 session waiting with them gets its own, and every
    session gets back its own rows."""
    inner = FakeFaceModels()
    models = BatchedFaceModels(inner, max_frames=16, max_delay_s=0.05)
    shapes = ((2, 192, 320, 3), (1, 256, 320, 3), (3, 192, 320, 3))
    try:
        results = await asyncio.gather(*(models.detect(np.zeros(shape, np.uint8)) for shape in shapes))
    finally:
        await models.close()
    assert inner.detect_calls == 2
    assert inner.frames_seen == 6
    assert [len(result["heatmap"]) for result in results] == [2, 1, 3]


async def test_a_full_batch_leaves_the_rest_for_the_next_call() -> None:
    """Requests of one shape beyond ``max_frames`` wait for the next call, in order."""
    inner = FakeFaceModels()
    models = BatchedFaceModels(inner, max_frames=4, max_delay_s=0.05)
    try:
        results = await asyncio.gather(
            *(models.detect(np.zeros((n, 64, 64, 3), np.uint8)) for n in (3, 2, 1))
        )
    finally:
        await models.close()
    assert inner.detect_calls == 2  # 3, then 2 + 1
    assert [len(result["heatmap"]) for result in results] == [3, 2, 1]
