"""A/B split of audio model versions: ``1.4.0=90,1.1.0=10`` loads each version once and assigns each
analysis or session to one by a stable hash of its id (the same id always gets the same version). A version
of the split can be reloaded or replaced in place (its share kept); the cache key names every version of the
split with its share, so that any change to the assignment changes the key."""

from __future__ import annotations

import hashlib
import pathlib
import re

from laughter_server.errors import InvalidOptionError
from laughter_server.inference.laughter_model import LaughterModel
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.model_versions import resolve_version

SHARE = re.compile(r"^\s*([0-9][0-9A-Za-z.\-]*)\s*=\s*([0-9]{1,3})\s*$")
AUDIO_MODEL_NAME = "laughter-audio"


def parse_split(text: str, field: str = "audio_model_split") -> tuple[tuple[str, int], ...]:
    """``version=percent`` pairs, comma-separated, percents summing to 100; InvalidOptionError (naming
    ``field``) otherwise."""
    shares: list[tuple[str, int]] = []
    for part in text.split(","):
        match = SHARE.match(part)
        if match is None:
            raise InvalidOptionError(
                field, f"{field} must look like 1.4.0=90,1.1.0=10 (version=percent, ...)"
            )
        shares.append((match.group(1), int(match.group(2))))
    versions = [v for v, _ in shares]
    if (
        len(set(versions)) != len(versions)
        or any(p <= 0 for _, p in shares)
        or sum(p for _, p in shares) != 100
    ):
        raise InvalidOptionError(field, f"{field} needs distinct versions with percents > 0 that sum to 100")
    return tuple(shares)


def bucket_of(assignment_id: str) -> int:
    """A stable number in [0, 100) for an id."""
    return int.from_bytes(hashlib.sha256(assignment_id.encode()).digest()[:8], "big") % 100


class AudioSplit:
    """The audio model versions of a split, each loaded once, and the assignment of ids to them."""

    def __init__(self, stages: tuple[tuple[AudioStage, int], ...]) -> None:
        self.stages = stages

    @classmethod
    def load(
        cls,
        models_dir: pathlib.Path,
        text: str,
        field: str = "audio_model_split",
        *,
        second: LaughterModel | None = None,
    ) -> AudioSplit:
        """Load every version named in ``text`` from ``models_dir`` (checksums verified); an unknown version
        raises InvalidOptionError naming ``field``, a damaged one ModelLoadError. ``second`` serves stacked
        versions' ResNet windows."""
        stages = []
        for version, percent in parse_split(text, field):
            try:
                path = resolve_version(models_dir, AUDIO_MODEL_NAME, version)
            except InvalidOptionError as error:
                raise InvalidOptionError(field, error.message) from None
            stages.append((AudioStage.load(path, second), percent))
        return cls(tuple(stages))

    def stage_of(self, version: str) -> AudioStage | None:
        """The split's stage serving ``version``, if any."""
        for stage, _ in self.stages:
            if stage.describe().version == version:
                return stage
        return None

    def key_models(self) -> list[tuple[str, str, str]]:
        """Every version of the split with its share, as the cache key's (name, version, sha256)."""
        out = []
        for stage, percent in self.stages:
            model = stage.describe()
            out.append((f"{model.name}={percent}%", model.version, model.sha256))
        return out

    def pick(self, assignment_id: str) -> AudioStage:
        """The version this id is assigned to."""
        bucket = bucket_of(assignment_id)
        for stage, percent in self.stages:
            if bucket < percent:
                return stage
            bucket -= percent
        return self.stages[-1][0]
