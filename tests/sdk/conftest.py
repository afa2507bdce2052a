"""Fixtures of the SDK tests: the bundled sample and error fixtures, a hand-built result message, a closed
port, and an in-process gRPC server with a scripted servicer (for tests that need a transport but not the
analysis). The real server (``server_address``) and the sample's ground truth (``sample_truth``) come
from tests/conftest.py."""

from __future__ import annotations

import pathlib
import socket
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from laughter.v1 import (
    analysis_pb2,
    laughter_service_pb2,
    laughter_service_pb2_grpc,
    model_pb2,
    summary_pb2,
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(name="sample_path", scope="session")
def fixture_sample_path() -> pathlib.Path:
    """The bundled sample video with laughter (samples/sample.mp4)."""
    return REPO_ROOT / "samples" / "sample.mp4"


@pytest.fixture(name="test_data", scope="session")
def fixture_test_data() -> pathlib.Path:
    """The folder of the error fixtures (tests/data)."""
    return REPO_ROOT / "tests" / "data"


@pytest.fixture(name="closed_address")
def fixture_closed_address() -> str:
    """A loopback address nothing listens on (a port bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


def _seconds(value: float) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromNanoseconds(round(value * 1e9))
    return message


def _scores(*values: float) -> list[analysis_pb2.EmotionScore]:
    return [analysis_pb2.EmotionScore(emotion=index + 1, score=value) for index, value in enumerate(values)]


def build_result_proto() -> summary_pb2.AnalysisResult:
    """A complete result message, shaped like the server's answer for the sample video."""
    evidence = analysis_pb2.EventEvidence(
        source=analysis_pb2.EVIDENCE_SOURCE_AUDIO_AND_FACE,
        audio_probability=0.875,
        face_happy=0.75,
        audio_loudness_dbfs=-18.5,
        burst_rate_hertz=4.5,
        face_coverage=1.0,
        relative_loudness_db=6.0,
    )
    events = [
        analysis_pb2.LaughterEvent(
            event_id="evt-0001",
            start_offset=_seconds(1.25),
            end_offset=_seconds(3.5),
            peak_offset=_seconds(2.0),
            confidence=0.875,
            laughter_type=analysis_pb2.LAUGHTER_TYPE_JOYFUL,
            face_id=0,
            evidence=evidence,
        ),
        analysis_pb2.LaughterEvent(
            event_id="evt-0002",
            start_offset=_seconds(21.5),
            end_offset=_seconds(27.0),
            peak_offset=_seconds(24.0),
            confidence=0.5,
            laughter_type=analysis_pb2.LAUGHTER_TYPE_SOFT_CHUCKLE,
            evidence=analysis_pb2.EventEvidence(source=analysis_pb2.EVIDENCE_SOURCE_AUDIO),
        ),
    ]
    breakdown = _scores(0.0625, 0.0, 0.0625, 0.5, 0.0, 0.125, 0.25)
    interval = summary_pb2.ConfidenceInterval(lower=1.5, upper=12.25, level=0.95, method="poisson-exact")
    summary = summary_pb2.AnalysisSummary(
        laughter_detected=True,
        dominant_laughter_type=analysis_pb2.LAUGHTER_TYPE_SOFT_CHUCKLE,
        overall_confidence=0.875,
        dominant_emotion=analysis_pb2.EMOTION_HAPPY,
        emotion_breakdown=list(reversed(breakdown)),
        durations=summary_pb2.DurationAnalysis(
            event_count=2,
            total_laughter_duration=_seconds(7.75),
            mean_event_duration=_seconds(3.875),
            longest_event_duration=_seconds(5.5),
            laughs_per_minute=4.25,
            laughter_fraction=0.25,
            laughs_per_minute_ci=interval,
        ),
        trend=summary_pb2.Trend(
            direction=summary_pb2.TREND_DIRECTION_STABLE,
            slope_per_minute=0.125,
            bins=[
                summary_pb2.TrendBin(
                    start_offset=_seconds(0.0), end_offset=_seconds(14.25), event_count=1, mean_happy=0.5
                ),
                summary_pb2.TrendBin(start_offset=_seconds(14.25), end_offset=_seconds(28.5), event_count=1),
            ],
        ),
        type_counts=[
            summary_pb2.LaughterTypeCount(
                laughter_type=analysis_pb2.LAUGHTER_TYPE_SOFT_CHUCKLE,
                event_count=1,
                total_duration=_seconds(5.5),
            )
        ],
        faces=[
            summary_pb2.FaceSummary(
                face_id=0,
                frames_seen=140,
                first_seen_offset=_seconds(0.0),
                last_seen_offset=_seconds(28.25),
                emotion_breakdown=breakdown,
                dominant_emotion=analysis_pb2.EMOTION_HAPPY,
                event_count=1,
                dominant_laughter_type=analysis_pb2.LAUGHTER_TYPE_JOYFUL,
            )
        ],
        media=summary_pb2.MediaSummary(
            media_duration=_seconds(28.5),
            has_video=True,
            has_audio=True,
            frames_analyzed=143,
            frames_with_faces=140,
            faces_detected=1,
            analysis_frame_rate_hertz=5.0,
            container="mov,mp4,m4a,3gp,3g2,mj2",
            video_codec="h264",
            audio_codec="aac",
            video_width=360,
            video_height=288,
            video_frame_rate_hertz=24.0,
            audio_sample_rate_hertz=44100,
            audio_channel_count=1,
        ),
        notices=[
            summary_pb2.Notice(code=summary_pb2.NOTICE_CODE_MEDIA_TRUNCATED, message="Decoding stopped.")
        ],
        processing_duration=_seconds(3.25),
        stage_timings=[summary_pb2.StageTiming(stage="decode", duration=_seconds(0.5))],
        models=[
            model_pb2.ModelInfo(
                name="face_emotion",
                version="1",
                role=model_pb2.MODEL_ROLE_FACE_EMOTION,
                backend="triton/cpu",
                sha256="ab" * 32,
                ready=True,
            )
        ],
    )
    sample = analysis_pb2.FaceEmotionSample(
        offset=_seconds(0.2),
        face_id=0,
        box=analysis_pb2.NormalizedBoundingBox(left=0.25, top=0.125, right=0.75, bottom=0.875),
        detection_confidence=0.9375,
        scores=breakdown,
        dominant_emotion=analysis_pb2.EMOTION_HAPPY,
    )
    return summary_pb2.AnalysisResult(
        events=events, summary=summary, face_samples=[sample], request_id="req-0123456789"
    )


@pytest.fixture(name="result_proto")
def fixture_result_proto() -> summary_pb2.AnalysisResult:
    """A complete, hand-built AnalysisResult message."""
    return build_result_proto()


def rich_status(
    code: int, message: str, reason: str, *extra: Any, metadata: dict[str, str] | None = None
) -> grpc.Status:
    """A grpc.Status carrying google.rpc details: ErrorInfo(reason, metadata) plus ``extra`` messages."""
    details = []
    info = error_details_pb2.ErrorInfo(reason=reason, domain="laughter.v1", metadata=metadata or {})
    for detail in (info, *extra):
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


@pytest.fixture(name="make_status")
def fixture_make_status() -> Callable[..., grpc.Status]:
    """rich_status: builds a grpc.Status with ErrorInfo and further google.rpc details."""
    return rich_status


class ScriptedServicer(laughter_service_pb2_grpc.LaughterAnalysisServiceServicer):
    """Answers AnalyzeMedia with the hand-built result for media with an MP4 header, and rejects anything
    else like the real server rejects undecodable media; records the metadata of every call."""

    def __init__(self) -> None:
        self.requests: list[laughter_service_pb2.AnalyzeMediaRequest] = []
        self.metadata: list[dict[str, str]] = []
        self.uploads: list[tuple[laughter_service_pb2.AnalyzeMediaUploadHeader, list[int], bytes]] = []

    def AnalyzeMedia(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(request)
        self.metadata.append({item.key: item.value for item in context.invocation_metadata()})
        if request.content[4:8] != b"ftyp":
            context.abort_with_status(
                rich_status(code_pb2.INVALID_ARGUMENT, "media cannot be decoded", "MEDIA_UNDECODABLE")
            )
        return laughter_service_pb2.AnalyzeMediaResponse(result=build_result_proto())

    def AnalyzeMediaUpload(self, request_iterator: Any, context: grpc.ServicerContext) -> Any:
        """Records the header, the size of every piece and the bytes; answers like AnalyzeMedia."""
        messages = iter(request_iterator)
        header = next(messages).header
        sizes, pieces = [], []
        for message in messages:
            sizes.append(len(message.content_chunk))
            pieces.append(message.content_chunk)
        content = b"".join(pieces)
        self.uploads.append((header, sizes, content))
        if content[4:8] != b"ftyp":
            context.abort_with_status(
                rich_status(code_pb2.INVALID_ARGUMENT, "media cannot be decoded", "MEDIA_UNDECODABLE")
            )
        return laughter_service_pb2.AnalyzeMediaUploadResponse(result=build_result_proto())

    def ListModels(self, request: Any, context: grpc.ServicerContext) -> Any:
        return laughter_service_pb2.ListModelsResponse(models=build_result_proto().summary.models)


@pytest.fixture(name="scripted_server", scope="session")
def fixture_scripted_server() -> Iterator[tuple[str, ScriptedServicer]]:
    """An in-process gRPC server on a free loopback port with the scripted servicer and a SERVING health
    service; yields ("127.0.0.1:PORT", servicer)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = ScriptedServicer()
    laughter_service_pb2_grpc.add_LaughterAnalysisServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(grace=None)
