"""The conversational laughter ResNet on Triton (``laughter_resnet``), behind the same ``MicroBatcher`` as the
face models: windows from every analysis and session are merged into shared calls.

``LaughterModel`` is the seam the audio stage uses; unit tests pass a fake, production a
``BatchedLaughterModel`` over ``TritonLaughterModel``. Each call names the model version it needs (a stacked
audio model's combiner is fitted over one version's scores: 1 is the float32 ResNet, 2 its int8
quantization); windows of different versions never share a request.
"""

from __future__ import annotations

import asyncio
import functools
import pathlib
from typing import Protocol

import numpy as np
import numpy.typing as npt
import structlog
import tritonclient.grpc.aio as triton_aio
from tritonclient.grpc import InferInput, InferRequestedOutput
from tritonclient.utils import InferenceServerException

from laughter_server.errors import ModelUnavailableError
from laughter_server.inference.batcher import MicroBatcher
from laughter_server.inference.models import ModelDescription
from laughter_server.inference.triton import read_checksums
from laughter_server.observability.metrics import Metrics

log = structlog.get_logger(__name__)

LAUGHTER_RESNET = "laughter_resnet"
WINDOW_SHAPE = (44, 128)
DEFAULT_VERSION = "1"


class LaughterModel(Protocol):
    """Laughter probabilities of 1 s log-mel windows (``audio.resnet_frontend``)."""

    async def score(
        self, melspec: npt.NDArray[np.float32], version: str = DEFAULT_VERSION
    ) -> npt.NDArray[np.float32]:
        """``(N,)`` probabilities of model ``version`` for ``(N, 44, 128)`` windows; raises
        ModelUnavailableError."""
        ...

    async def is_ready(self, version: str = DEFAULT_VERSION) -> bool:
        """True when model ``version`` can serve now."""
        ...

    def describe(self, version: str = DEFAULT_VERSION) -> ModelDescription:
        """Name, version, backend and file checksum of model ``version``."""
        ...


class TritonLaughterModel:
    """``laughter_resnet`` over Triton's gRPC API, ``batch_size`` windows per request; each version's sha256 is
    read from ``model_repository``'s SHA256SUMS, as for the face models."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        batch_size: int = 64,
        model_repository: pathlib.Path | None = None,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self._checksums = read_checksums(model_repository)
        self._client = triton_aio.InferenceServerClient(url)

    async def close(self) -> None:
        """Close the channel."""
        await self._client.close()

    async def is_ready(self, version: str = DEFAULT_VERSION) -> bool:
        """Whether Triton serves ``laughter_resnet`` ``version`` now."""
        try:
            return bool(await self._client.is_model_ready(LAUGHTER_RESNET, version, client_timeout=2.0))
        except InferenceServerException:
            return False

    def describe(self, version: str = DEFAULT_VERSION) -> ModelDescription:
        """The model as summaries and ListModels report it."""
        return ModelDescription(
            name=LAUGHTER_RESNET,
            version=version,
            role="audio_laughter",
            backend="triton",
            sha256=self._checksums.get((LAUGHTER_RESNET, version), ""),
        )

    async def _infer(self, batch: npt.NDArray[np.float32], version: str) -> npt.NDArray[np.float32]:
        tensor = InferInput("melspec", list(batch.shape), "FP32")
        tensor.set_data_from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        try:
            result = await self._client.infer(
                LAUGHTER_RESNET,
                [tensor],
                model_version=version,
                outputs=[InferRequestedOutput("probability")],
                client_timeout=self.timeout_s,
            )
        except InferenceServerException as exc:
            log.warning(
                "triton.infer_failed",
                model=LAUGHTER_RESNET,
                version=version,
                url=self.url,
                status=str(exc.status() or ""),
            )
            raise ModelUnavailableError(
                f"the inference server could not run the model laughter_resnet version {version}: it is down, "
                "restarting, overloaded or does not serve that version (version 2 is served with "
                "--triton-model-config-name int8)"
            ) from exc
        probabilities: npt.NDArray[np.float32] = result.as_numpy("probability").reshape(-1).astype(np.float32)
        return probabilities

    async def score(
        self, melspec: npt.NDArray[np.float32], version: str = DEFAULT_VERSION
    ) -> npt.NDArray[np.float32]:
        """Probabilities of the windows, sent as concurrent requests of ``batch_size``."""
        if len(melspec) == 0:
            return np.zeros(0, np.float32)
        chunks = [melspec[i : i + self.batch_size] for i in range(0, len(melspec), self.batch_size)]
        parts = await asyncio.gather(*(self._infer(chunk, version) for chunk in chunks))
        return np.concatenate(parts)


def _split(values: npt.NDArray[np.float32], start: int, stop: int) -> npt.NDArray[np.float32]:
    return values[start:stop]


class BatchedLaughterModel:
    """A ``LaughterModel`` whose calls from concurrent analyses are merged by a ``MicroBatcher``, one batcher
    per model version (made on its first call)."""

    def __init__(
        self,
        inner: TritonLaughterModel,
        *,
        max_windows: int = 64,
        max_delay_s: float = 0.01,
        metrics: Metrics | None = None,
    ) -> None:
        self.inner = inner
        self._max_windows = max_windows
        self._max_delay_s = max_delay_s
        self._observe = (
            None if metrics is None else metrics.inference_batch_size.labels(model=LAUGHTER_RESNET).observe
        )
        self._batchers: dict[str, MicroBatcher[npt.NDArray[np.float32]]] = {}

    def batcher(self, version: str = DEFAULT_VERSION) -> MicroBatcher[npt.NDArray[np.float32]]:
        """The batcher of ``version``'s calls."""
        found = self._batchers.get(version)
        if found is None:
            found = self._batchers[version] = MicroBatcher(
                functools.partial(self.inner.score, version=version),
                _split,  # the batcher concatenates any array rows
                max_items=self._max_windows,
                max_delay_s=self._max_delay_s,
                on_batch=self._observe,
            )
        return found

    async def score(
        self, melspec: npt.NDArray[np.float32], version: str = DEFAULT_VERSION
    ) -> npt.NDArray[np.float32]:
        """Probabilities of the windows, computed in a batch shared with other analyses."""
        if len(melspec) == 0:
            return np.zeros(0, np.float32)
        return await self.batcher(version).submit(melspec)  # type: ignore[arg-type]

    async def is_ready(self, version: str = DEFAULT_VERSION) -> bool:
        """Whether the wrapped model is ready."""
        return await self.inner.is_ready(version)

    def describe(self, version: str = DEFAULT_VERSION) -> ModelDescription:
        """The wrapped model."""
        return self.inner.describe(version)

    async def close(self) -> None:
        """Stop the batchers and close the channel."""
        for batcher in self._batchers.values():
            await batcher.close()
        await self.inner.close()
