"""A/B split of audio model versions: ``1.4.0=90,1.1.0=10`` loads each version once and assigns each
analysis or session to one by a stable hash of its id (the same id always gets the same version)."""

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


def parse_split(text: str) -> tuple[tuple[str, int], ...]:
    """``version=percent`` pairs, comma-separated, percents summing to 100; InvalidOptionError otherwise."""
    shares: list[tuple[str, int]] = []
    for part in text.split(","):
        match = SHARE.match(part)
        if match is None:
            raise InvalidOptionError(
                "audio_model_split",
                "audio_model_split must look like 1.4.0=90,1.1.0=10 (version=percent, ...)",
            )
        shares.append((match.group(1), int(match.group(2))))
    versions = [v for v, _ in shares]
    if (
        len(set(versions)) != len(versions)
        or any(p <= 0 for _, p in shares)
        or sum(p for _, p in shares) != 100
    ):
        raise InvalidOptionError(
            "audio_model_split", "audio_model_split needs distinct versions with percents > 0 that sum to 100"
        )
    return tuple(shares)


def bucket_of(assignment_id: str) -> int:
    """A stable number in [0, 100) for an id."""
    return int.from_bytes(hashlib.sha256(assignment_id.encode()).digest()[:8], "big") % 100


class AudioSplit:
    """The audio model versions of a split, each loaded once, and the assignment of ids to them."""

    def __init__(self, stages: tuple[tuple[AudioStage, int], ...]) -> None:
        self.stages = stages

    @classmethod
    def load(cls, models_dir: pathlib.Path, text: str, second: LaughterModel | None = None) -> AudioSplit:
        """Load every version named in ``text`` from ``models_dir`` (checksums verified); ``second`` serves
        stacked versions' ResNet windows."""
        return cls(
            tuple(
                (AudioStage.load(resolve_version(models_dir, AUDIO_MODEL_NAME, version), second), percent)
                for version, percent in parse_split(text)
            )
        )

    def pick(self, assignment_id: str) -> AudioStage:
        """The version this id is assigned to."""
        bucket = bucket_of(assignment_id)
        for stage, percent in self.stages:
            if bucket < percent:
                return stage
            bucket -= percent
        return self.stages[-1][0]
