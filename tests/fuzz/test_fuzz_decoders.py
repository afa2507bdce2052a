"""Property tests of the media decoders in-process: the seed corpus and its mutations (truncation, byte
flips, inserted and spliced bytes) and random bytes. Only LaughterError (whole files) or the live decoders'
ChunkError / FrameHeaderError escape, and each input is decoded within a time bound."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.decoder_target import CORPUS, run_decoders, seeds
from tests.fuzz.profiles import more_examples

SEEDS = seeds()


@st.composite
def mutated_seeds(draw: st.DrawFn) -> bytes:
    """A corpus file truncated, with bytes flipped, bytes inserted, or two files spliced together."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("truncate", "flip", "insert", "splice")))
        position = draw(st.integers(0, len(data)))
        if kind == "truncate":
            del data[position:]
        elif kind == "flip" and data:
            data[min(position, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            other = draw(st.sampled_from(SEEDS))
            data = data[:position] + other[draw(st.integers(0, len(other))) :]
    return bytes(data)


def test_corpus_present() -> None:
    """The seed corpus is committed (regenerate it with tools/make_fuzz_corpus.py)."""
    assert len(SEEDS) >= 10, f"seed corpus missing in {CORPUS}: run tools/make_fuzz_corpus.py"


@given(data=st.sampled_from(SEEDS))
def test_seeds_decode_within_bounds(data: bytes) -> None:
    """Every seed, valid or broken, decodes or is refused with a documented error."""
    run_decoders(data)


@more_examples(8)
@given(data=mutated_seeds())
def test_mutated_seeds(data: bytes) -> None:
    """Mutations of the seeds: only documented errors, within the time bound."""
    run_decoders(data)


@more_examples(8)
@given(data=st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    """Random bytes: only documented errors, within the time bound."""
    run_decoders(data)
