"""The model RPCs (ListModels, ReloadModel, SetAudioModelSplit): a mixin of the servicer.

ReloadModel switches the face emotion model (``model_name`` "face_emotion": version 1, 2 or a trained head), or
the default audio model when no A/B split is in force. With a split in force the split's
versions are what serve, so ReloadModel works on them: ``version`` alone reloads that version of the split
from disk in place; ``replace_version`` names the split's version that ``version`` replaces, with its share.
SetAudioModelSplit sets, changes or clears the split; every version is loaded and checked before the new split
applies. Analyses and sessions already running keep the model they started with (they hold snapshots), and
the cache key names every version of the split with its share, so any change misses the cache."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
from collections.abc import Callable
from typing import Any

from laughter.v1 import laughter_service_pb2

from laughter_server.api import convert
from laughter_server.config import Settings
from laughter_server.errors import InvalidOptionError
from laughter_server.inference.models import FaceModels
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.model_split import AudioSplit
from laughter_server.pipeline.model_versions import resolve_version
from laughter_server.vision.emotion_versions import FACE_EMOTION_NAME, resolve_emotion_version


def split_to_proto(split: AudioSplit | None) -> list[laughter_service_pb2.AudioModelShare]:
    """The split's versions and shares (empty without a split)."""
    if split is None:
        return []
    return [
        laughter_service_pb2.AudioModelShare(model=convert.model_to_proto(stage.describe()), percent=percent)
        for stage, percent in split.stages
    ]


class ModelRpcs:
    """ListModels, ReloadModel and SetAudioModelSplit."""

    settings: Settings
    face_models: FaceModels
    audio: AudioStage
    audio_split: AudioSplit | None
    _rpc: Callable[[str, Any], contextlib.AbstractAsyncContextManager[str]]  # the servicer's RPC wrapper

    @property
    def _models_dir(self) -> pathlib.Path:
        return pathlib.Path(self.settings.audio_model).parent

    async def ListModels(
        self, request: laughter_service_pb2.ListModelsRequest, context: Any
    ) -> laughter_service_pb2.ListModelsResponse:
        """The models in use, with versions and checksums, and the audio model split in force."""
        async with self._rpc("ListModels", context):
            ready = await self.face_models.is_ready()
            models = [convert.model_to_proto(m) for m in self.face_models.describe()]
            for model in models:
                model.ready = ready
            models.append(convert.model_to_proto(self.audio.describe()))
            return laughter_service_pb2.ListModelsResponse(
                models=models, audio_model_split=split_to_proto(self.audio_split)
            )
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def ReloadModel(
        self, request: laughter_service_pb2.ReloadModelRequest, context: Any
    ) -> laughter_service_pb2.ReloadModelResponse:
        """Switch the audio model (or a version of the split in force), or the face emotion model, to another
        shipped version."""
        async with self._rpc("ReloadModel", context):
            current = self.audio.describe()
            name = request.model_name or current.name
            if name == FACE_EMOTION_NAME:
                if request.replace_version:
                    raise InvalidOptionError(
                        "replace_version", "replace_version applies to the audio model split only"
                    )
                heads_dir = pathlib.Path(self.settings.face_models_dir)
                version = await asyncio.to_thread(resolve_emotion_version, heads_dir, request.version)
                described = self.face_models.set_emotion_version(version)
                return laughter_service_pb2.ReloadModelResponse(model=convert.model_to_proto(described))
            if name != current.name:
                raise InvalidOptionError(
                    "model_name",
                    f"the models that can be reloaded are '{current.name}' and '{FACE_EMOTION_NAME}' "
                    f"(got {name!r})",
                )
            path = resolve_version(self._models_dir, name, request.version)
            stage = self._reloaded_stage(path.stem.removeprefix(name + "-"), request.replace_version)
            described = await asyncio.to_thread(stage.reload, path)
            return laughter_service_pb2.ReloadModelResponse(
                model=convert.model_to_proto(described), audio_model_split=split_to_proto(self.audio_split)
            )
        raise AssertionError("unreachable: translate_errors aborts the call")

    def _reloaded_stage(self, version: str, replace_version: str) -> AudioStage:
        """The stage that a reload to ``version`` switches: the default model, or a version of the split."""
        split = self.audio_split
        if split is None:
            if replace_version:
                raise InvalidOptionError(
                    "replace_version", "no audio model split is in force: leave replace_version empty"
                )
            return self.audio
        versions = ", ".join(stage.describe().version for stage, _ in split.stages)
        if not replace_version:
            if (stage := split.stage_of(version)) is None:
                raise InvalidOptionError(
                    "version",
                    f"an audio model split is in force ({versions}): reload one of its versions, name the one "
                    "to replace in replace_version, or change the split with SetAudioModelSplit",
                )
            return stage
        if (stage := split.stage_of(replace_version)) is None:
            raise InvalidOptionError(
                "replace_version", f"version {replace_version!r} is not in the split ({versions})"
            )
        if version != replace_version and split.stage_of(version) is not None:
            raise InvalidOptionError("version", f"version {version!r} is already in the split")
        return stage

    async def SetAudioModelSplit(
        self, request: laughter_service_pb2.SetAudioModelSplitRequest, context: Any
    ) -> laughter_service_pb2.SetAudioModelSplitResponse:
        """Set, change or clear the A/B split of audio model versions."""
        async with self._rpc("SetAudioModelSplit", context):
            split = None
            if request.split.strip():
                split = await asyncio.to_thread(
                    AudioSplit.load, self._models_dir, request.split, "split", second=self.audio.second_model
                )
            self.audio_split = split
            return laughter_service_pb2.SetAudioModelSplitResponse(shares=split_to_proto(split))
        raise AssertionError("unreachable: translate_errors aborts the call")
