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
