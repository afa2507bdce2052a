"""The A/B split of audio model versions: parsing, and a stable assignment in the stated shares."""

from __future__ import annotations

import pytest
from laughter_server.errors import InvalidOptionError
from laughter_server.pipeline.model_split import AudioSplit, bucket_of, parse_split


class TestParse:
    """version=percent pairs summing to 100."""

    def test_valid(self) -> None:
        """Spaces are allowed; order is kept."""
        assert parse_split("1.4.0=90, 1.1.0=10") == (("1.4.0", 90), ("1.1.0", 10))

    @pytest.mark.parametrize(
        "text", ["", "1.4.0", "1.4.0=90", "1.4.0=50,1.4.0=50", "1.4.0=0,1.1.0=100", "a=b"]
    )
    def test_invalid(self, text: str) -> None:
        """Anything else is refused, naming the setting."""
        with pytest.raises(InvalidOptionError) as caught:
            parse_split(text)
        assert caught.value.field == "audio_model_split"


class TestPick:
    """Ids map to versions by a stable hash, in the stated shares."""

    def test_stable_and_shared(self) -> None:
        """The same id always gets the same stage; 10,000 ids split about 90/10."""
        first, second = object(), object()
        split = AudioSplit(((first, 90), (second, 10)))  # type: ignore[arg-type]
        ids = [f"id-{i}" for i in range(10_000)]
        picks = [split.pick(i) for i in ids]
        assert picks == [split.pick(i) for i in ids]
        assert 800 <= sum(p is second for p in picks) <= 1200
        assert all((p is first) == (bucket_of(i) < 90) for i, p in zip(ids, picks, strict=True))


class TestRunTimeChanges:
    """A version of the split found by its name, reloaded in place; the cache key names the assignment."""

    def test_key_follows_versions_and_shares(self) -> None:
        """Replacing a version (its share kept) or changing a share changes the key's models."""
        import pathlib

        models = pathlib.Path(__file__).resolve().parents[3] / "server/laughter_server/models/audio"
        split = AudioSplit.load(models, "1.4.0=90,1.1.0=10")
        before = split.key_models()
        assert [(name, version) for name, version, _ in before] == [
            ("laughter-audio=90%", "1.4.0"),
            ("laughter-audio=10%", "1.1.0"),
        ]
        stage = split.stage_of("1.1.0")
        assert stage is not None
        assert split.stage_of("1.0.0") is None
        stage.reload(models / "laughter-audio-1.0.0.skops")
        assert split.stage_of("1.0.0") is stage
        after = split.key_models()
        assert after[0] == before[0]
        assert after[1][1:] != before[1][1:]
        reshared = AudioSplit.load(models, "1.4.0=80,1.0.0=20").key_models()
        assert [m[0] for m in reshared] == ["laughter-audio=80%", "laughter-audio=20%"]

    def test_unknown_version_names_the_field(self) -> None:
        """A version that is not shipped is an InvalidOptionError on the field the caller names."""
        import pathlib

        models = pathlib.Path(__file__).resolve().parents[3] / "server/laughter_server/models/audio"
        with pytest.raises(InvalidOptionError) as caught:
            AudioSplit.load(models, "1.4.0=50,7.7.7=50", "split")
        assert caught.value.field == "split"
        assert "7.7.7" in caught.value.message
