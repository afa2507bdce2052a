"""Property tests of the live-session RPCs against the real server: StreamingAnalyze with any config and
any chunk sequence, CreateSession / AppendSessionMedia / WatchSession / EndSession with any config, chunks
and ids. Each answer is OK or a documented status; each warning has a documented reason."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from laughter.v1 import laughter_service_pb2, media_pb2, session_pb2

from tests.fuzz.answers import (
    CASE_DEADLINE_S,
    assert_clean_message,
    assert_documented_error,
    assert_documented_warning,
)
from tests.fuzz.profiles import more_examples
from tests.fuzz.strategies import media_chunks, session_configs, session_ids
from tests.integration.media_chunks import session_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("stays_serving")]

chunk_lists = st.lists(media_chunks(), max_size=6)


def _config_strings(config: session_pb2.SessionConfig) -> tuple[str, ...]:
    return (config.session_id, config.client_id)


@st.composite
def valid_configs(draw: st.DrawFn) -> session_pb2.SessionConfig:
    """Configs the server accepts: JPEG or PNG or raw frames, PCM16 or float audio, either or both."""
    config = session_config(video=draw(st.booleans()), audio=True, block=draw(st.booleans()))
    if config.HasField("video"):
        encoding = draw(st.sampled_from(sorted(media_pb2.FrameEncoding.values())[1:]))
        config.video.encoding = encoding
        if encoding in (media_pb2.FRAME_ENCODING_RAW_RGB24, media_pb2.FRAME_ENCODING_RAW_BGR24):
            config.video.width, config.video.height = 32, 24
    if draw(st.booleans()):
        config.audio.encoding = media_pb2.AUDIO_ENCODING_PCM_F32LE
    config.audio.sample_rate_hertz = draw(st.sampled_from((8000, 16000, 44100, 48000)))
    config.audio.channel_count = draw(st.sampled_from((1, 2)))
    return config


def stream(
    stub, requests: list[laughter_service_pb2.StreamingAnalyzeRequest], echoed: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    """Run one StreamingAnalyze call: a documented refusal, or updates ending with the summary."""
    updates = []
    try:
        for response in stub.StreamingAnalyze(iter(requests), timeout=CASE_DEADLINE_S):
            updates.append(response.update)
    except grpc.RpcError as error:
        assert_documented_error(error, echoed)
        return
    for update in updates:
        if update.WhichOneof("update") == "warning":
            assert_documented_warning(update.warning, echoed)
    assert updates, "a session that was not refused must answer"
    assert updates[0].WhichOneof("update") == "started"
    assert updates[-1].WhichOneof("update") == "summary", updates[-1]
    for notice in updates[-1].summary.notices:
        assert_clean_message(notice.message, echoed)


@more_examples(4)
@given(
    config=session_configs(), chunks=chunk_lists, order=st.sampled_from(("config", "none", "late", "twice"))
)
def test_streaming_any_config(stub, config, chunks, order: str) -> None:  # type: ignore[no-untyped-def]
    """Any SessionConfig (unknown enums, sizes, rates, channels, ids), first, missing, late or twice."""
    head = laughter_service_pb2.StreamingAnalyzeRequest(config=config)
    body = [laughter_service_pb2.StreamingAnalyzeRequest(chunk=c) for c in chunks]
    requests = {
        "config": [head, *body],
        "none": body,
        "late": [*body[:1], head, *body[1:]],
        "twice": [head, head, *body],
    }[order]
    stream(stub, requests, _config_strings(config))


@more_examples(4)
@given(config=valid_configs(), chunks=chunk_lists)
def test_streaming_any_chunks(stub, config, chunks) -> None:  # type: ignore[no-untyped-def]
    """Any chunk sequence in a session that was accepted: random bytes, empty, huge, the wrong encoding,
    offsets negative, huge, invalid or going backwards; every bad chunk gets a documented warning."""
    requests = [laughter_service_pb2.StreamingAnalyzeRequest(config=config)]
    requests += [laughter_service_pb2.StreamingAnalyzeRequest(chunk=c) for c in chunks]
    stream(stub, requests, _config_strings(config))


def _call(call, echoed: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """The call's answer, or None after checking that its refusal is documented."""
    try:
        return call()
    except grpc.RpcError as error:
        assert_documented_error(error, echoed)
        return None


@more_examples(4)
@given(
    config=st.one_of(valid_configs(), session_configs()),
    batches=st.lists(chunk_lists, max_size=3),
    watch=st.booleans(),
)
def test_unary_session_lifecycle(stub, config, batches, watch: bool) -> None:  # type: ignore[no-untyped-def]
    """CreateSession with any config, AppendSessionMedia with any chunks, an optional watcher, EndSession."""
    echoed = _config_strings(config)
    created = _call(
        lambda: stub.CreateSession(
            laughter_service_pb2.CreateSessionRequest(config=config), timeout=CASE_DEADLINE_S
        ),
        echoed,
    )
    if created is None:
        return
    session_id = created.session_id
    watcher = None
    if watch:
        watcher = stub.WatchSession(
            laughter_service_pb2.WatchSessionRequest(session_id=session_id), timeout=CASE_DEADLINE_S
        )
    try:
        for chunks in batches:
            _call(
                lambda chunks=chunks: stub.AppendSessionMedia(
                    laughter_service_pb2.AppendSessionMediaRequest(session_id=session_id, chunks=chunks),
                    timeout=CASE_DEADLINE_S,
                ),
                echoed,
            )
    finally:
        ended = _call(
            lambda: stub.EndSession(
                laughter_service_pb2.EndSessionRequest(session_id=session_id), timeout=CASE_DEADLINE_S
            ),
            echoed,
        )
    if ended is not None:
        for notice in ended.summary.notices:
            assert_clean_message(notice.message, echoed)
    if watcher is not None:
        try:
            for response in watcher:
                if response.update.WhichOneof("update") == "warning":
                    assert_documented_warning(response.update.warning, echoed)
        except grpc.RpcError as error:
            assert_documented_error(error, echoed)


@more_examples(4)
@given(session_id=session_ids, chunks=chunk_lists)
def test_unknown_session_ids(stub, session_id: str, chunks) -> None:  # type: ignore[no-untyped-def]
    """Append, Watch and End with ids no session has: NOT_FOUND (or a documented refusal), never a hang."""
    echoed = (session_id,)
    _call(
        lambda: stub.AppendSessionMedia(
            laughter_service_pb2.AppendSessionMediaRequest(session_id=session_id, chunks=chunks),
            timeout=CASE_DEADLINE_S,
        ),
        echoed,
    )
    _call(
        lambda: list(
            stub.WatchSession(
                laughter_service_pb2.WatchSessionRequest(session_id=session_id), timeout=CASE_DEADLINE_S
            )
        ),
        echoed,
    )
    _call(
        lambda: stub.EndSession(
            laughter_service_pb2.EndSessionRequest(session_id=session_id), timeout=CASE_DEADLINE_S
        ),
        echoed,
    )
