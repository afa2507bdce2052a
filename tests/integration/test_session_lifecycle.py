"""Live-session lifecycle: idle timeout, call deadlines, graceful shutdown, several faces, config errors."""

from __future__ import annotations

import threading
import time

import cv2
import grpc
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, media_pb2, session_pb2

from tests.conftest import ServerThread, make_settings, wait_serving
from tests.integration.media_chunks import Chunk, media_chunk, requests, session_config
from tests.integration.test_analyze_media import error_reason
from tests.integration.test_streaming import warnings

pytestmark = pytest.mark.integration


def slow_requests(config, chunks, gap_s: float, then_wait_s: float = 0.0):  # type: ignore[no-untyped-def]
    yield laughter_service_pb2.StreamingAnalyzeRequest(config=config)
    for chunk in chunks:
        time.sleep(gap_s)
        yield laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(chunk))
    time.sleep(then_wait_s)


def audio_chunks(seconds: float) -> list[Chunk]:
    silence = b"\0\0" * 1600
    return [Chunk(i * 0.1, "audio", silence) for i in range(int(seconds * 10))]


@pytest.fixture(scope="module")
def short_server(triton):  # type: ignore[no-untyped-def]
    server = ServerThread(make_settings(triton_url=triton.grpc_url, session_idle_timeout_s=1.0)).start()
    wait_serving(server.address)
    yield server
    server.stop()


class TestLifecycle:
    """Sessions end with their summary when idle, near their deadline, or when the server shuts down."""

    def test_idle_timeout(self, short_server) -> None:  # type: ignore[no-untyped-def]
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(
            grpc.insecure_channel(short_server.address)
        )
        config = session_config(video=False)
        updates = [
            r.update
            for r in stub.StreamingAnalyze(slow_requests(config, audio_chunks(1), 0.0, 5.0), timeout=60)
        ]
        assert "DEADLINE_EXCEEDED" in warnings(updates)
        assert updates[-1].HasField("summary")

    def test_call_deadline_still_gets_the_summary(self, server_address) -> None:  # type: ignore[no-untyped-def]
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))
        config = session_config(video=False)
        updates = [
            r.update for r in stub.StreamingAnalyze(slow_requests(config, audio_chunks(30), 0.1), timeout=3.0)
        ]
        assert updates[-1].HasField("summary")
        assert "DEADLINE_EXCEEDED" in warnings(updates)

    def test_shutdown_drains_open_sessions(self, triton) -> None:  # type: ignore[no-untyped-def]
        server = ServerThread(make_settings(triton_url=triton.grpc_url, shutdown_grace_s=5.0)).start()
        wait_serving(server.address)
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server.address))
        received: list[session_pb2.SessionUpdate] = []
        started = threading.Event()

        def run() -> None:
            for r in stub.StreamingAnalyze(
                slow_requests(session_config(video=False), audio_chunks(60), 0.1), timeout=60
            ):
                received.append(r.update)
                started.set()

        client = threading.Thread(target=run)
        client.start()
        assert started.wait(30)
        time.sleep(0.5)
        server.stop()
        client.join(30)
        assert received[-1].HasField("summary")
        assert "SHUTTING_DOWN" in warnings(received)


class TestSeveralFaces:
    """Six faces keep six stable ids, and the summary has one breakdown per face."""

    def test_group_photo_stream(self, server_address, dev_data) -> None:  # type: ignore[no-untyped-def]
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))
        image = cv2.imread(str(dev_data / "images" / "insightface__images_t1.jpg"))
        assert image is not None
        ok, jpeg = cv2.imencode(".jpg", image)
        assert ok
        frames = [Chunk(i / 5, "frame", jpeg.tobytes()) for i in range(15)]
        updates = [
            r.update
            for r in stub.StreamingAnalyze(requests(session_config(audio=False), frames), timeout=120)
        ]
        faces = updates[-1].summary.faces
        assert len(faces) == 6
        assert all(f.frames_seen == 15 for f in faces)


class TestConfigErrors:
    """Invalid formats are refused up front with the offending field."""

    @pytest.mark.parametrize(
        "config",
        [
            session_pb2.SessionConfig(
                audio=media_pb2.AudioFormat(
                    encoding=media_pb2.AUDIO_ENCODING_PCM_S16LE, sample_rate_hertz=1000
                )
            ),
            session_pb2.SessionConfig(
                audio=media_pb2.AudioFormat(
                    encoding=media_pb2.AUDIO_ENCODING_PCM_S16LE, sample_rate_hertz=16000, channel_count=6
                )
            ),
            session_pb2.SessionConfig(
                video=media_pb2.VideoFormat(encoding=media_pb2.FRAME_ENCODING_RAW_RGB24)
            ),
            session_pb2.SessionConfig(
                session_id="no spaces allowed",
                video=media_pb2.VideoFormat(encoding=media_pb2.FRAME_ENCODING_JPEG),
            ),
        ],
    )
    def test_rejected(self, server_address, config) -> None:  # type: ignore[no-untyped-def]
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))
        with pytest.raises(grpc.RpcError) as caught:
            list(
                stub.StreamingAnalyze(
                    iter([laughter_service_pb2.StreamingAnalyzeRequest(config=config)]), timeout=30
                )
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == "SESSION_CONFIG_INVALID"
