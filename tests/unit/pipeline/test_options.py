"""resolve_options: server defaults for unset fields, and range checks naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from laughter_server.errors import InvalidOptionError
from laughter_server.fusion.rules import DEFAULT_RULES
from laughter_server.pipeline.options import MAX_FACES_LIMIT, AnalysisOptions, resolve_options


def resolve(**request: Any) -> AnalysisOptions:
    """resolve_options with the server's rate settings and frame_rate_hertz 0 unless given."""
    request.setdefault("frame_rate_hertz", 0.0)
    return resolve_options(default_frame_rate_hertz=5.0, max_frame_rate_hertz=30.0, **request)


class TestResolveOptions:
    """resolve_options applies defaults and checks ranges."""

    def test_defaults(self) -> None:
        """Zero and unset fields take the server and rule defaults."""
        options = resolve()
        assert options.frame_rate_hertz == 5.0
        assert options.use_video
        assert options.use_audio
        assert options.max_faces == AnalysisOptions.max_faces == 8
        assert options.include_face_samples is False
        assert options.rules == DEFAULT_RULES

    def test_explicit_values(self) -> None:
        """Set fields are used as given."""
        options = resolve(frame_rate_hertz=30.0, disable_video=True, max_faces=32, include_face_samples=True)
        assert options.frame_rate_hertz == 30.0
        assert options.use_video is False
        assert options.use_audio is True
        assert options.max_faces == MAX_FACES_LIMIT
        assert options.include_face_samples is True

    def test_laughter_threshold_moves_both_thresholds(self) -> None:
        """A custom threshold sets enter and keeps exit below it."""
        for threshold in (0.2, 0.5, 0.7, 0.99):
            rules = resolve(laughter_threshold=threshold).rules
            assert rules.enter_threshold == threshold
            assert rules.exit_threshold <= threshold
            assert rules.exit_threshold == pytest.approx(min(DEFAULT_RULES.exit_threshold, 0.7 * threshold))

    def test_min_event_duration(self) -> None:
        """A custom minimum event length replaces the rule's default and nothing else."""
        rules = resolve(min_event_s=1.5).rules
        assert rules.min_event_s == 1.5
        assert rules.enter_threshold == DEFAULT_RULES.enter_threshold

    @pytest.mark.parametrize(
        ("request_fields", "field"),
        [
            ({"frame_rate_hertz": 31.0}, "options.analysis_frame_rate_hertz"),
            ({"frame_rate_hertz": -1.0}, "options.analysis_frame_rate_hertz"),
            ({"disable_video": True, "disable_audio": True}, "options.disable_audio"),
            ({"laughter_threshold": 1.0}, "options.laughter_threshold"),
            ({"laughter_threshold": -0.1}, "options.laughter_threshold"),
            ({"min_event_s": 10.5}, "options.min_event_duration"),
            ({"min_event_s": -0.1}, "options.min_event_duration"),
            ({"max_faces": MAX_FACES_LIMIT + 1}, "options.max_faces"),
            ({"max_faces": -1}, "options.max_faces"),
        ],
    )
    def test_out_of_range(self, request_fields: dict[str, Any], field: str) -> None:
        """Each out-of-range value raises InvalidOptionError naming its field."""
        with pytest.raises(InvalidOptionError) as caught:
            resolve(**request_fields)
        assert caught.value.field == field
        assert caught.value.reason == "OPTION_OUT_OF_RANGE"

    @pytest.mark.parametrize(
        "request_fields",
        [
            {"frame_rate_hertz": 30.0},
            {"frame_rate_hertz": 0.1},
            {"laughter_threshold": 0.0},
            {"min_event_s": 10.0},
            {"max_faces": MAX_FACES_LIMIT},
            {"max_faces": 0},
        ],
    )
    def test_boundaries_accepted(self, request_fields: dict[str, Any]) -> None:
        """Values at the documented limits are accepted."""
        resolve(**request_fields)

    def test_field_prefix(self) -> None:
        """The field path uses the given prefix (session configs)."""
        with pytest.raises(InvalidOptionError) as caught:
            resolve(max_faces=99, field_prefix="config.options")
        assert caught.value.field == "config.options.max_faces"

    def test_default_above_max_is_rejected(self) -> None:
        """An unset rate falls back to the default, which is still checked against the maximum."""
        with pytest.raises(InvalidOptionError):
            resolve_options(frame_rate_hertz=0.0, default_frame_rate_hertz=40.0, max_frame_rate_hertz=30.0)
