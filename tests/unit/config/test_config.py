"""Settings: defaults, LAUGHTER_* environment overrides, flags, and validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from laughter_server.config import ENV_PREFIX, Settings, build_parser, load_settings
from laughter_server.errors import InvalidOptionError


class TestLoadSettings:
    """load_settings layers defaults, environment and flags."""

    def test_defaults(self) -> None:
        """No flags and no environment give the dataclass defaults."""
        settings = load_settings([], {})
        assert settings == Settings()
        assert settings.max_message_bytes == 64 * 1024 * 1024
        assert settings.default_frame_rate_hertz == 5.0
        assert settings.triton_url == ""
        assert Path(settings.model_repository).is_dir()

    def test_env_overrides_default(self) -> None:
        """LAUGHTER_<FIELD> replaces the default, parsed to the field's type."""
        settings = load_settings(
            [],
            {
                "LAUGHTER_MAX_MESSAGE_BYTES": "1048576",
                "LAUGHTER_INFERENCE_TIMEOUT_S": "2.5",
                "LAUGHTER_TRITON_URL": "triton:8001",
                "LAUGHTER_LOG_LEVEL": "debug",
            },
        )
        assert settings.max_message_bytes == 1048576
        assert isinstance(settings.max_message_bytes, int)
        assert settings.inference_timeout_s == 2.5
        assert settings.triton_url == "triton:8001"
        assert settings.log_level == "debug"

    def test_unprefixed_env_is_ignored(self) -> None:
        """Only LAUGHTER_-prefixed variables count."""
        assert load_settings([], {"MAX_MESSAGE_BYTES": "1"}).max_message_bytes == Settings().max_message_bytes

    def test_flag_wins_over_env(self) -> None:
        """A flag beats the environment variable for the same field."""
        settings = load_settings(
            ["--max-message-bytes", "2048", "--listen", "0.0.0.0:6000"],
            {"LAUGHTER_MAX_MESSAGE_BYTES": "1024", "LAUGHTER_LISTEN": "127.0.0.1:7000"},
        )
        assert settings.max_message_bytes == 2048
        assert settings.listen == "0.0.0.0:6000"

    def test_env_and_flags_combine(self) -> None:
        """Fields set in different layers all apply."""
        settings = load_settings(["--metrics-port", "0"], {"LAUGHTER_MAX_CONCURRENT_ANALYSES": "9"})
        assert settings.metrics_port == 0
        assert settings.max_concurrent_analyses == 9

    @pytest.mark.parametrize(
        ("variable", "value", "field"),
        [
            ("MAX_MESSAGE_BYTES", "lots", "max_message_bytes"),
            ("MAX_MESSAGE_BYTES", "1.5", "max_message_bytes"),
            ("MAX_MESSAGE_BYTES", "0", "max_message_bytes"),
            ("INFERENCE_TIMEOUT_S", "-1", "inference_timeout_s"),
            ("DEFAULT_FRAME_RATE_HERTZ", "60", "default_frame_rate_hertz"),
            ("LOG_FORMAT", "xml", "log_format"),
            ("LOG_LEVEL", "verbose", "log_level"),
            ("LISTEN", "50051", "listen"),
            ("MODEL_REPOSITORY", "/nonexistent/models", "model_repository"),
            ("DETECTOR_BATCH_SIZE", "0", "detector_batch_size"),
        ],
    )
    def test_bad_env_value_names_field(self, variable: str, value: str, field: str) -> None:
        """A bad value raises InvalidOptionError naming the field, which its message mentions too."""
        with pytest.raises(InvalidOptionError) as caught:
            load_settings([], {ENV_PREFIX + variable: value})
        assert caught.value.field == field
        assert field in caught.value.message or field.replace("_", " ") in caught.value.message

    def test_bad_flag_value_names_field(self) -> None:
        """Flags are validated the same way."""
        with pytest.raises(InvalidOptionError) as caught:
            load_settings(["--emotion-batch-size", "-3"], {})
        assert caught.value.field == "emotion_batch_size"

    def test_external_triton_skips_repository_check(self) -> None:
        """With triton_url set, a missing local model repository is fine."""
        settings = load_settings(
            [], {"LAUGHTER_TRITON_URL": "h:1", "LAUGHTER_MODEL_REPOSITORY": "/nonexistent"}
        )
        assert settings.model_repository == "/nonexistent"

    def test_nan_is_rejected(self) -> None:
        """A NaN timeout is not a positive number."""
        with pytest.raises(InvalidOptionError):
            load_settings([], {"LAUGHTER_INFERENCE_TIMEOUT_S": "nan"})


class TestSettings:
    """The Settings dataclass."""

    def test_is_frozen(self) -> None:
        """Settings cannot be changed after loading."""
        with pytest.raises(dataclasses.FrozenInstanceError):
            Settings().listen = "x:1"  # type: ignore[misc]

    def test_validate_returns_self(self) -> None:
        """validate() returns the same settings so it can be chained."""
        settings = Settings()
        assert settings.validate() is settings

    def test_redacted_lists_every_field(self) -> None:
        """The start-up log dict holds every field."""
        assert set(Settings().redacted()) == {f.name for f in dataclasses.fields(Settings)}

    def test_every_field_has_a_flag(self) -> None:
        """The parser has one --flag per field, with help text."""
        parser = build_parser()
        options = {opt for action in parser._actions for opt in action.option_strings}
        for field in dataclasses.fields(Settings):
            assert "--" + field.name.replace("_", "-") in options
            assert field.metadata.get("help")
