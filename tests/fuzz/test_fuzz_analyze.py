"""Property tests of the whole-file RPCs against the real server: AnalyzeMedia with any options and any
(mutated) media, AnalyzeMediaUpload with any message sequence. Each answer is OK or a documented status."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from laughter.v1 import analysis_pb2, laughter_service_pb2

from tests.conftest import DATA
from tests.fuzz.answers import CASE_DEADLINE_S, assert_clean_message, assert_documented_error
from tests.fuzz.profiles import more_examples
from tests.fuzz.strategies import analysis_options, mutated_media, texts, upload_sequences

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("stays_serving")]

SHORT_AUDIO = (DATA / "silence.wav").read_bytes()[: 44 + 16000 * 2]
"""One second of the silent WAV: options are fuzzed on a file that analyses fast."""
FAST = analysis_pb2.AnalysisOptions(analysis_frame_rate_hertz=1.0)


def analyze(stub, request: laughter_service_pb2.AnalyzeMediaRequest, echoed: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    """One AnalyzeMedia call that must answer OK (with clean notices) or a documented refusal."""
    try:
        response = stub.AnalyzeMedia(request, timeout=CASE_DEADLINE_S)
    except grpc.RpcError as error:
        assert_documented_error(error, echoed)
        return
    for notice in response.result.summary.notices:
        assert_clean_message(notice.message, echoed)


@more_examples(4)
@given(options=analysis_options(), filename=texts)
def test_analyze_media_any_options(stub, options: analysis_pb2.AnalysisOptions, filename: str) -> None:  # type: ignore[no-untyped-def]
    """Every AnalysisOptions field at random, boundary and invalid values (NaN, ±inf, bad Durations)."""
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=SHORT_AUDIO, filename=filename, options=options
    )
    analyze(stub, request, echoed=(filename,))


@more_examples(2)
@given(
    content=st.one_of(st.binary(max_size=4096), st.binary(min_size=1, max_size=16).map(lambda b: b * 4096))
)
def test_analyze_media_random_bytes(stub, content: bytes) -> None:  # type: ignore[no-untyped-def]
    """Random and repetitive bytes are refused in words (or analysed, should they decode)."""
    analyze(stub, laughter_service_pb2.AnalyzeMediaRequest(content=content, options=FAST))


@more_examples(2)
@given(content=mutated_media())
def test_analyze_media_mutated_files(stub, content: bytes) -> None:  # type: ignore[no-untyped-def]
    """Real files truncated at random points, with bytes flipped, or with a WAV/MP4 size field that lies."""
    analyze(stub, laughter_service_pb2.AnalyzeMediaRequest(content=content, options=FAST))


@more_examples(4)
@given(messages=upload_sequences())
def test_upload_any_sequence(stub, messages: list[laughter_service_pb2.AnalyzeMediaUploadRequest]) -> None:  # type: ignore[no-untyped-def]
    """Header first or not, twice, late; size_bytes true, short, long, -1 or huge; any options."""
    echoed = tuple(m.header.filename for m in messages if m.WhichOneof("request") == "header")
    try:
        response = stub.AnalyzeMediaUpload(iter(messages), timeout=CASE_DEADLINE_S)
    except grpc.RpcError as error:
        assert_documented_error(error, echoed)
        return
    for notice in response.result.summary.notices:
        assert_clean_message(notice.message, echoed)
