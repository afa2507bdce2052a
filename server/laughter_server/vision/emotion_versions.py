"""Face emotion model versions: which network scores a face crop, its crop format, and an optional head.

- ``1``: fer's mini-Xception (Triton model ``face_emotion``), 64x64 grayscale crops.
- ``2``: face-api's expression net (Triton model ``face_expression``), 112x112 RGB crops; it also returns the
  256-value embedding.
- any other version: a head trained by ``laughter-train faces`` (``face_emotion-<version>.json`` in the face
  models folder), applied in-process to version 2's embedding.

``ReloadModel(model_name="face_emotion", version=...)`` switches between them without a restart; summaries
and ListModels report the version in use.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from laughter_server.errors import InvalidOptionError
from laughter_server.pipeline.model_versions import version_sort_key
from laughter_server.vision.face_head import FaceHead, head_file_name, load_head

FACE_EMOTION_NAME = "face_emotion"
"""The name ListModels, summaries and ReloadModel use for the face emotion model, whatever its version."""
MINI_XCEPTION = "1"
EXPRESSION_NET = "2"
DEFAULT_EMOTION_VERSION = EXPRESSION_NET
"""Chosen by measurement on the dev stills and videos (docs/vision-model.md, section 4)."""


@dataclasses.dataclass(frozen=True)
class EmotionVersion:
    """One face emotion version: the Triton model it runs, its crop and its head (trained versions)."""

    version: str
    triton_model: str
    side_px: int
    channels: int
    margin: float
    """Crop margin (fraction of the box's longer side on each side)."""
    mirror: bool
    """Average the scores of each crop and its mirror image."""
    head: FaceHead | None = None

    @property
    def crop_shape(self) -> tuple[int, int, int]:
        return (self.side_px, self.side_px, self.channels)


BUILTIN_VERSIONS = {
    MINI_XCEPTION: EmotionVersion(MINI_XCEPTION, "face_emotion", 64, 1, margin=0.0, mirror=True),
    EXPRESSION_NET: EmotionVersion(EXPRESSION_NET, "face_expression", 112, 3, margin=0.10, mirror=False),
}
"""Margins and mirror averaging chosen per network on the dev stills and videos (docs/vision-model.md)."""


def available_emotion_versions(heads_dir: Path | None) -> list[str]:
    """The built-in versions, then the trained heads in ``heads_dir``, oldest first."""
    heads = []
    if heads_dir is not None and heads_dir.is_dir():
        heads = [
            p.stem.removeprefix(FACE_EMOTION_NAME + "-")
            for p in heads_dir.glob(FACE_EMOTION_NAME + "-*.json")
        ]
    return [*BUILTIN_VERSIONS, *sorted((h for h in heads if h not in BUILTIN_VERSIONS), key=version_sort_key)]


def resolve_emotion_version(heads_dir: Path | None, requested: str) -> EmotionVersion:
    """The version ``requested`` (empty: the default); InvalidOptionError when there is no such version,
    ModelLoadError when its head file is damaged."""
    version = requested or DEFAULT_EMOTION_VERSION
    if version in BUILTIN_VERSIONS:
        return BUILTIN_VERSIONS[version]
    if "/" in version or "\\" in version or version.startswith("."):
        raise InvalidOptionError("version", "version must be a plain version string such as 2.1.0")
    path = heads_dir / head_file_name(version) if heads_dir is not None else None
    if path is None or not path.is_file():
        available = ", ".join(available_emotion_versions(heads_dir))
        raise InvalidOptionError(
            "version", f"no version {version!r} of {FACE_EMOTION_NAME}; available: {available}"
        )
    head = load_head(path)
    base = BUILTIN_VERSIONS[EXPRESSION_NET]
    return dataclasses.replace(base, version=version, head=head)
