"""Cross-stream micro-batching: requests from many sessions are merged into shared Triton calls.

A ``MicroBatcher`` collects submitted arrays until ``max_items`` are waiting or the oldest has waited
``max_delay_s``, concatenates them along axis 0, runs one call, and hands each submitter its own slice.
``BatchedFaceModels`` puts one batcher in front of each face model, so N live streams cost far fewer than N
Triton calls; the batch sizes go to ``laughter_inference_batch_size``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt
import structlog

from laughter_server.aio import wait_set
from laughter_server.inference.models import FaceModels, ModelDescription
from laughter_server.observability.metrics import Metrics
from laughter_server.vision.emotion_versions import EmotionVersion

log = structlog.get_logger(__name__)

Result = TypeVar("Result")


@dataclasses.dataclass
class _Pending(Generic[Result]):
    items: npt.NDArray[np.uint8]
    future: asyncio.Future[Result]


class MicroBatcher(Generic[Result]):
    """Merges concurrent ``submit`` calls into calls of ``run`` with up to ``max_items`` rows."""

    def __init__(
        self,
        run: Callable[[npt.NDArray[np.uint8]], Awaitable[Result]],
        split: Callable[[Result, int, int], Result],
        *,
        max_items: int,
        max_delay_s: float,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._run = run
        self._split = split
        self.max_items = max_items
        self.max_delay_s = max_delay_s
        self._on_batch = on_batch
        self._queue: list[_Pending[Result]] = []
        self._queued_items = 0
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.calls = 0
        self.items = 0

    async def submit(self, items: npt.NDArray[np.uint8]) -> Result:
        """Queue ``items`` (rows along axis 0) and wait for their share of a batched call."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._loop(), name="micro-batcher")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(items, future))
        self._queued_items += len(items)
        self._wakeup.set()
        return await future

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._queue:
                continue
            deadline = loop.time() + self.max_delay_s
            while self._queued_items < self.max_items and (remaining := deadline - loop.time()) > 0:
                if not await wait_set(self._wakeup, remaining):
                    break
                self._wakeup.clear()
            batch, size = self._take()
            task = asyncio.create_task(self._execute(batch, size))  # the next batch gathers meanwhile
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            if self._queue:
                self._wakeup.set()

    def _take(self) -> tuple[list[_Pending[Result]], int]:
        """The oldest request and the requests after it whose rows have its shape and type, in order, up to
        ``max_items`` rows; the others wait for the next call (frames of two shapes cannot be one tensor: live
        sessions whose cameras differ in aspect ratio send differently fitted detector inputs)."""
        first = self._queue[0].items
        batch: list[_Pending[Result]] = []
        rest: list[_Pending[Result]] = []
        size = 0
        for index, pending in enumerate(self._queue):
            if pending.items.shape[1:] != first.shape[1:] or pending.items.dtype != first.dtype:
                rest.append(pending)
            elif batch and size + len(pending.items) > self.max_items:
                rest.extend(self._queue[index:])
                break
            else:
                batch.append(pending)
                size += len(pending.items)
        self._queue = rest
        self._queued_items -= size
        return batch, size

    async def _execute(self, batch: list[_Pending[Result]], size: int) -> None:
        live = [p for p in batch if not p.future.cancelled()]
        if not live:
            return
        self.calls += 1
        self.items += size
        if self._on_batch is not None:
            self._on_batch(size)
        try:
            merged = np.concatenate([p.items for p in live]) if len(live) > 1 else live[0].items
            result = await self._run(merged)
        except Exception as exc:  # each submitter gets the same failure as its own
            for p in live:
                if not p.future.done():
                    p.future.set_exception(exc)
            return
        start = 0
        for p in live:
            stop = start + len(p.items)
            if not p.future.done():
                p.future.set_result(self._split(result, start, stop))
            start = stop

    async def close(self) -> None:
        """Stop the worker; pending submitters are cancelled."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for p in self._queue:
            p.future.cancel()
        self._queue.clear()


def _split_outputs(
    outputs: dict[str, npt.NDArray[np.float32]], start: int, stop: int
) -> dict[str, npt.NDArray[np.float32]]:
    return {name: value[start:stop] for name, value in outputs.items()}


def _split_array(values: npt.NDArray[np.float32], start: int, stop: int) -> npt.NDArray[np.float32]:
    return values[start:stop]


class BatchedFaceModels:
    """``FaceModels`` that merges calls from concurrent sessions before they reach the wrapped models."""

    def __init__(
        self,
        inner: FaceModels,
        *,
        max_frames: int = 16,
        max_crops: int = 64,
        max_landmark_crops: int = 32,
        max_delay_s: float = 0.01,
        metrics: Metrics | None = None,
    ) -> None:
        self.inner = inner

        def observe(model: str) -> Callable[[int], None] | None:
            if metrics is None:
                return None
            histogram = metrics.inference_batch_size.labels(model=model)
            return histogram.observe

        self.detector = MicroBatcher(
            inner.detect,
            _split_outputs,
            max_items=max_frames,
            max_delay_s=max_delay_s,
            on_batch=observe("face_detector"),
        )
        self._max_crops = max_crops
        self._max_delay_s = max_delay_s
        self._observe_emotion = observe("face_emotion")
        self.emotion_batchers: dict[tuple[str, str], MicroBatcher[npt.NDArray[np.float32]]] = {}
        """One batcher per face emotion version: crops for different versions never share a call."""
        self.landmarks = MicroBatcher(
            inner.locate_landmarks,
            _split_outputs,
            max_items=max_landmark_crops,
            max_delay_s=max_delay_s,
            on_batch=observe("face_landmarks"),
        )

    async def detect(self, images: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Detector outputs for ``images``, computed in a batch shared with other sessions."""
        return await self.detector.submit(images)

    async def score_emotions(
        self, crops: npt.NDArray[np.uint8], version: EmotionVersion | None = None
    ) -> npt.NDArray[np.float32]:
        """Emotion probabilities for ``crops``, computed in a batch shared with other sessions."""
        if len(crops) == 0:
            return np.zeros((0, 7), dtype=np.float32)
        version = version or self.inner.current_emotion_version()
        key = (version.version, version.head.sha256 if version.head is not None else "")
        if key not in self.emotion_batchers:
            self.emotion_batchers[key] = MicroBatcher(
                functools.partial(self.inner.score_emotions, version=version),
                _split_array,
                max_items=self._max_crops,
                max_delay_s=self._max_delay_s,
                on_batch=self._observe_emotion,
            )
        return await self.emotion_batchers[key].submit(crops)

    def current_emotion_version(self) -> EmotionVersion:
        """The wrapped models' face emotion version for new analyses."""
        return self.inner.current_emotion_version()

    def set_emotion_version(self, version: EmotionVersion) -> ModelDescription:
        """Switch the wrapped models' face emotion version."""
        return self.inner.set_emotion_version(version)

    async def locate_landmarks(self, crops: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Face-mesh outputs for ``crops``, computed in a batch shared with other sessions."""
        if len(crops) == 0:
            return await self.inner.locate_landmarks(crops)
        return await self.landmarks.submit(crops)

    async def is_ready(self) -> bool:
        """Whether the wrapped models are ready."""
        return await self.inner.is_ready()

    def describe(self, emotion_version: EmotionVersion | None = None) -> list[ModelDescription]:
        """The wrapped models."""
        return self.inner.describe(emotion_version)

    async def close(self) -> None:
        """Stop the batchers."""
        await self.detector.close()
        for batcher in self.emotion_batchers.values():
            await batcher.close()
        await self.landmarks.close()
