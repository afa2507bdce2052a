"""The cross-session micro-batcher in front of the face-mesh model."""

from __future__ import annotations

import asyncio

import numpy as np
from laughter_server.inference.batcher import BatchedFaceModels

from tests.unit.pipeline.fake_faces import FakeFaceModels


async def test_concurrent_landmark_calls_share_one_call() -> None:
    """Three sessions' crops go to the model in one call, and each gets back its own rows."""
    inner = FakeFaceModels(mouth_ratio=0.25)
    models = BatchedFaceModels(inner, max_landmark_crops=32, max_delay_s=0.05)
    try:
        sizes = (1, 3, 2)
        results = await asyncio.gather(
            *(models.locate_landmarks(np.zeros((n, 192, 192, 3), np.uint8)) for n in sizes)
        )
    finally:
        await models.close()
    assert inner.landmark_calls == 1
    assert [len(r["landmarks"]) for r in results] == list(sizes)
    assert [r["face_presence"].shape for r in results] == [(n, 1) for n in sizes]


async def test_no_crops_need_no_call() -> None:
    """An empty batch is answered with empty outputs of the right shape."""
    inner = FakeFaceModels()
    models = BatchedFaceModels(inner)
    result = await models.locate_landmarks(np.zeros((0, 192, 192, 3), np.uint8))
    await models.close()
    assert result["landmarks"].shape[1:] == (468, 3)
    assert len(result["landmarks"]) == 0
