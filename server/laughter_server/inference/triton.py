"""``FaceModels`` over a Triton server's gRPC API: many frames and many crops per request, requests in flight
concurrently so that Triton's dynamic batcher can merge them."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Awaitable, Callable

import numpy as np
import numpy.typing as npt
import structlog
import tritonclient.grpc.aio as triton_aio
from tritonclient.grpc import InferInput, InferRequestedOutput
from tritonclient.utils import InferenceServerException

from laughter_server.errors import AnalysisTimeoutError, ModelUnavailableError
from laughter_server.inference.models import (
    DETECTOR_OUTPUTS,
    FACE_DETECTOR,
    FACE_EMOTION,
    FACE_EXPRESSION,
    FACE_LANDMARKS,
    LANDMARK_OUTPUTS,
    ModelDescription,
)
from laughter_server.vision.emotion_versions import (
    BUILTIN_VERSIONS,
    DEFAULT_EMOTION_VERSION,
    FACE_EMOTION_NAME,
    EmotionVersion,
)

log = structlog.get_logger(__name__)

MAX_GRPC_MESSAGE_BYTES = 256 * 1024 * 1024
SERVED_MODELS = (FACE_DETECTOR, FACE_EMOTION, FACE_LANDMARKS, FACE_EXPRESSION)
"""Every Triton model the face stage may call (both face emotion versions stay loaded for ReloadModel)."""


def read_checksums(model_repository: pathlib.Path | None) -> dict[tuple[str, str], str]:
    """``{(model_name, version): sha256}`` from the repository's SHA256SUMS (``<sha>  <model>/<version>/model.onnx``
    lines)."""
    if model_repository is None:
        return {}
    sums = model_repository / "SHA256SUMS"
    if not sums.is_file():
        return {}
    result: dict[tuple[str, str], str] = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].endswith("/model.onnx") and parts[1].count("/") == 2:
            name, version, _ = parts[1].split("/")
            result[(name, version)] = parts[0]
    return result


class TritonFaceModels:
    """Face detection, emotion and landmark models served by Triton (local or external)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        detector_batch_size: int = 16,
        emotion_batch_size: int = 64,
        landmark_batch_size: int = 32,
        model_repository: pathlib.Path | None = None,
        backend: str = "triton",
        emotion_version: EmotionVersion = BUILTIN_VERSIONS[DEFAULT_EMOTION_VERSION],
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.detector_batch_size = detector_batch_size
        self.emotion_batch_size = emotion_batch_size
        self.landmark_batch_size = landmark_batch_size
        self._checksums = read_checksums(model_repository)
        self._backend = backend
        self.emotion_version = emotion_version
        self._versions: dict[str, str] = {}
        self._unavailable_listeners: list[Callable[[], Awaitable[None]]] = []
        self._client = triton_aio.InferenceServerClient(
            url,
            channel_args=[
                ("grpc.max_send_message_length", MAX_GRPC_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE_BYTES),
                ("grpc.keepalive_time_ms", 30_000),
            ],
        )

    def on_unavailable(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Await ``listener`` whenever a model call or readiness check finds Triton unavailable, before the
        caller hears of it."""
        self._unavailable_listeners.append(listener)

    async def close(self) -> None:
        """Close the channel to Triton."""
        await self._client.close()

    async def is_ready(self) -> bool:
        """Every face model ready on the server (listeners hear when they are not)."""
        try:
            ready = all([await self._client.is_model_ready(n, client_timeout=2.0) for n in SERVED_MODELS])
        except InferenceServerException:
            ready = False
        if not ready:
            await self._notify_unavailable()
        return ready

    async def _notify_unavailable(self) -> None:
        for listener in self._unavailable_listeners:
            await listener()

    async def load_versions(self) -> None:
        """Remember the served version of each model (for summaries); raises if a model is missing."""
        for name in SERVED_MODELS:
            try:
                metadata = await self._client.get_model_metadata(name, client_timeout=5.0)
            except InferenceServerException as exc:
                raise ModelUnavailableError(
                    f"Triton at {self.url} does not serve the model '{name}' ({exc.status()})"
                ) from exc
            versions = list(metadata.versions)
            self._versions[name] = max(versions, key=int) if versions else "1"
        log.info("face_models.served", url=self.url, versions=dict(self._versions))

    def current_emotion_version(self) -> EmotionVersion:
        """The face emotion version new analyses use."""
        return self.emotion_version

    def set_emotion_version(self, version: EmotionVersion) -> ModelDescription:
        """Make ``version`` the one new analyses use; returns its description."""
        self.emotion_version = version
        log.info("face_emotion.switched", version=version.version, triton_model=version.triton_model)
        return self._describe_emotion(version)

    def _describe_emotion(self, current: EmotionVersion) -> ModelDescription:
        head = current.head
        return ModelDescription(
            name=FACE_EMOTION_NAME,
            version=current.version,
            role=FACE_EMOTION,
            backend=self._backend + "+head-cpu" if head is not None else self._backend,
            sha256=head.sha256 if head is not None else self._checksum(current.triton_model),
        )

    def describe(self, emotion_version: EmotionVersion | None = None) -> list[ModelDescription]:
        """The detector, the face emotion version (default: the one in use) and the landmark model, with
        their checksums."""
        plain = [
            ModelDescription(
                name=name,
                version=self._versions.get(name, "1"),
                role=name,
                backend=self._backend,
                sha256=self._checksum(name),
            )
            for name in (FACE_DETECTOR, FACE_LANDMARKS)
        ]
        return [plain[0], self._describe_emotion(emotion_version or self.emotion_version), plain[1]]

    def _checksum(self, name: str) -> str:
        """The sha256 of the version Triton serves (the detector's CPU and GPU configs serve different ones)."""
        return self._checksums.get((name, self._versions.get(name, "1")), "")

    async def _infer(
        self, model: str, input_name: str, batch: npt.NDArray[np.uint8], outputs: tuple[str, ...]
    ) -> dict[str, npt.NDArray[np.float32]]:
        tensor = InferInput(input_name, list(batch.shape), "UINT8")
        tensor.set_data_from_numpy(np.ascontiguousarray(batch))
        try:
            result = await self._client.infer(
                model,
                [tensor],
                outputs=[InferRequestedOutput(name) for name in outputs],
                client_timeout=self.timeout_s,
            )
        except InferenceServerException as exc:
            status = str(exc.status() or "")
            log.warning("triton.infer_failed", model=model, url=self.url, status=status, detail=exc.message())
            if "DEADLINE_EXCEEDED" in status:
                raise AnalysisTimeoutError(
                    f"the inference server did not answer the {model} request within {self.timeout_s:.0f} s"
                ) from exc
            await self._notify_unavailable()
            raise ModelUnavailableError(
                f"the inference server could not run the model {model}: it is down, restarting or "
                "overloaded; retry shortly"
            ) from exc
        return {name: result.as_numpy(name) for name in outputs}

    async def detect(self, images: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Detector outputs for (N, H, W, 3) uint8 images, sent as concurrent requests of ``detector_batch_size``."""
        chunks = [
            images[i : i + self.detector_batch_size] for i in range(0, len(images), self.detector_batch_size)
        ]
        parts = await asyncio.gather(
            *(self._infer(FACE_DETECTOR, "images", chunk, DETECTOR_OUTPUTS) for chunk in chunks)
        )
        return {name: np.concatenate([p[name] for p in parts]) for name in DETECTOR_OUTPUTS}

    async def score_emotions(
        self, crops: npt.NDArray[np.uint8], version: EmotionVersion | None = None
    ) -> npt.NDArray[np.float32]:
        """Emotion probabilities (M, 7) for uint8 crops cut for ``version`` (default: the one in use);
        empty in, empty out. A trained head replaces ``face_expression``'s probabilities with its own,
        computed here from that model's scores or embedding."""
        if len(crops) == 0:
            return np.zeros((0, 7), dtype=np.float32)
        version = version or self.emotion_version
        if tuple(crops.shape[1:]) != version.crop_shape:
            raise ValueError(f"face emotion version {version.version} takes crops {version.crop_shape}")
        model, head = version.triton_model, version.head
        outputs = ("probabilities",) if head is None else ("probabilities", "embedding")
        chunks = [
            crops[i : i + self.emotion_batch_size] for i in range(0, len(crops), self.emotion_batch_size)
        ]
        parts = await asyncio.gather(*(self._infer(model, "crops", chunk, outputs) for chunk in chunks))
        merged = {name: np.concatenate([p[name] for p in parts]) for name in outputs}
        if head is not None:
            return head.emotions(merged["probabilities"], merged["embedding"])
        return merged["probabilities"].astype(np.float32, copy=False)

    async def locate_landmarks(self, crops: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Face-mesh outputs for (M, 192, 192, 3) uint8 RGB crops; empty in, empty out."""
        if len(crops) == 0:
            return {
                "landmarks": np.zeros((0, 468, 3), dtype=np.float32),
                "face_presence": np.zeros((0, 1), dtype=np.float32),
            }
        chunks = [
            crops[i : i + self.landmark_batch_size] for i in range(0, len(crops), self.landmark_batch_size)
        ]
        parts = await asyncio.gather(
            *(self._infer(FACE_LANDMARKS, "crops", chunk, LANDMARK_OUTPUTS) for chunk in chunks)
        )
        return {
            name: np.concatenate([p[name] for p in parts]).astype(np.float32, copy=False)
            for name in LANDMARK_OUTPUTS
        }
