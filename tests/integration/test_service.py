"""Service-level behaviour: health, reflection, message limits, and Triton going away."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from laughter.v1 import analysis_pb2, laughter_service_pb2, laughter_service_pb2_grpc, media_pb2, model_pb2

from tests.conftest import DATA, REPO, SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.media_chunks import load_chunks, requests, session_config
from tests.integration.test_analyze_media import error_reason

pytestmark = pytest.mark.integration

SERVICE = "laughter.v1.LaughterAnalysisService"


def health_status(address: str, service: str = "") -> int:
    with grpc.insecure_channel(address) as channel:
        return (
            health_pb2_grpc.HealthStub(channel)
            .Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            .status
        )


class TestHealthAndReflection:
    """grpc.health.v1 and server reflection work without the .proto files."""

    def test_health_serving(self, server_address: str) -> None:
        assert health_status(server_address) == health_pb2.HealthCheckResponse.SERVING
        assert health_status(server_address, SERVICE) == health_pb2.HealthCheckResponse.SERVING

    def test_reflection_lists_and_describes_the_service(self, server_address: str) -> None:
        with grpc.insecure_channel(server_address) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            requests = [
                reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE),
            ]
            replies = list(stub.ServerReflectionInfo(iter(requests), timeout=10))
        names = {s.name for s in replies[0].list_services_response.service}
        assert {SERVICE, "grpc.health.v1.Health"} <= names
        assert replies[1].file_descriptor_response.file_descriptor_proto

    def test_list_models(self, server_address: str) -> None:
        with grpc.insecure_channel(server_address) as channel:
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            models = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10).models
        roles = {m.role: m for m in models}
        assert set(roles) == {
            model_pb2.MODEL_ROLE_FACE_DETECTOR,
            model_pb2.MODEL_ROLE_FACE_EMOTION,
            model_pb2.MODEL_ROLE_FACE_LANDMARKS,
            model_pb2.MODEL_ROLE_AUDIO_LAUGHTER,
        }
        assert all(m.ready and len(m.sha256) == 64 and m.version for m in models)
        landmarks = roles[model_pb2.MODEL_ROLE_FACE_LANDMARKS]
        sums = (REPO / "model_repository" / "SHA256SUMS").read_text()
        assert (landmarks.name, landmarks.version) == ("face_landmarks", "1")
        assert f"{landmarks.sha256}  face_landmarks/1/model.onnx" in sums
        detector = roles[model_pb2.MODEL_ROLE_FACE_DETECTOR]  # float32 (configs/int8.pbtxt serves version 2)
        assert (detector.name, detector.version) == ("face_detector", "1")
        assert f"{detector.sha256}  face_detector/1/model.onnx" in sums


class TestMessageLimit:
    """Media above --max-message-bytes is refused with RESOURCE_EXHAUSTED and an actionable message."""

    def test_too_large(self, triton) -> None:  # type: ignore[no-untyped-def]
        """Media a little over the limit gets the server's own message and reason; a message far over it
        (a streamed chunk included) is refused by gRPC before it is read; small media still passes."""
        server = ServerThread(make_settings(triton_url=triton.grpc_url, max_message_bytes=500_000)).start()
        try:
            wait_serving(server.address)
            with grpc.insecure_channel(server.address) as channel:
                stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
                with pytest.raises(grpc.RpcError) as caught:
                    stub.AnalyzeMedia(
                        laughter_service_pb2.AnalyzeMediaRequest(content=SAMPLE.read_bytes()), timeout=30
                    )
                assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert error_reason(caught.value) == "MEDIA_TOO_LARGE"
                assert "max-message-bytes" in caught.value.details()
                huge = laughter_service_pb2.StreamingAnalyzeRequest(
                    chunk=media_pb2.MediaChunk(audio=media_pb2.AudioChunk(data=bytes(2_000_000)))
                )
                with pytest.raises(grpc.RpcError) as caught:
                    list(stub.StreamingAnalyze(iter([huge]), timeout=30))
                assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                small = stub.AnalyzeMedia(
                    laughter_service_pb2.AnalyzeMediaRequest(
                        content=(DATA / "video_no_audio.mp4").read_bytes()
                    ),
                    timeout=60,
                )
                assert small.result.summary.media.frames_analyzed > 0
        finally:
            server.stop()


class TestTritonFailure:
    """With its embedded Triton killed, the server answers UNAVAILABLE, keeps serving audio, and recovers."""

    def test_kill_and_recover(self) -> None:
        server = ServerThread(make_settings(triton_url="")).start()
        try:
            wait_serving(server.address, timeout_s=120)
            assert server.running is not None
            triton = server.running.services.triton
            assert triton is not None
            triton.kill()
            with grpc.insecure_channel(server.address) as channel:
                stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
                request = laughter_service_pb2.AnalyzeMediaRequest(
                    content=(DATA / "video_no_audio.mp4").read_bytes()
                )
                with pytest.raises(grpc.RpcError) as caught:
                    stub.AnalyzeMedia(request, timeout=60)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
                assert error_reason(caught.value) == "MODEL_UNAVAILABLE"
                # the failed call flipped health at once, not at the next poll
                assert health_status(server.address) == health_pb2.HealthCheckResponse.NOT_SERVING
                assert health_status(server.address, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
                audio_only = stub.AnalyzeMedia(
                    laughter_service_pb2.AnalyzeMediaRequest(
                        content=(DATA / "audio_only.wav").read_bytes(),
                        options=analysis_pb2.AnalysisOptions(disable_video=True),
                    ),
                    timeout=60,
                )
                assert audio_only.result.events
                for wanted in (
                    health_pb2.HealthCheckResponse.NOT_SERVING,
                    health_pb2.HealthCheckResponse.SERVING,
                ):
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline and health_status(server.address) != wanted:
                        time.sleep(0.2)
                    assert health_status(server.address) == wanted
                again = stub.AnalyzeMedia(request, timeout=60)
                assert again.result.summary.media.frames_with_faces > 0
                triton.kill()  # again, now for a live session, whose frames fail in the model call itself
                frames = [c for c in load_chunks(SAMPLE, max_s=1.0) if c.kind == "frame"][:3]
                updates = [
                    r.update
                    for r in stub.StreamingAnalyze(requests(session_config(audio=False), frames), timeout=60)
                ]
                assert any(u.HasField("warning") and "not analysed" in u.warning.message for u in updates)
                assert health_status(server.address) == health_pb2.HealthCheckResponse.NOT_SERVING
        finally:
            server.stop()
