"""AnalyzeMedia against a real Triton and the real server over loopback gRPC."""

from __future__ import annotations

import math
import pathlib

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from laughter.v1 import analysis_pb2, laughter_service_pb2, laughter_service_pb2_grpc, model_pb2, summary_pb2

from tests.conftest import DATA, SAMPLE

pytestmark = pytest.mark.integration

ONSET_TOLERANCE_S = 0.5


def seconds(duration: object) -> float:
    return duration.ToNanoseconds() / 1e9  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def stub(server_address: str) -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
    channel = grpc.insecure_channel(
        server_address, options=[("grpc.max_send_message_length", 256 * 1024 * 1024)]
    )
    return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)


def analyze(
    stub: laughter_service_pb2_grpc.LaughterAnalysisServiceStub, path: pathlib.Path, **options: object
):  # type: ignore[no-untyped-def]
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=path.read_bytes(), filename=path.name, options=analysis_pb2.AnalysisOptions(**options)
    )
    return stub.AnalyzeMedia(request, timeout=300).result


def error_reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "the server must send a rich status"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            assert info.domain == "laughter.v1"
            return info.reason
    raise AssertionError("no ErrorInfo in the status details")


def notice_codes(result: summary_pb2.AnalysisResult) -> set[int]:
    return {n.code for n in result.summary.notices}


@pytest.fixture(scope="module")
def sample_result(stub: laughter_service_pb2_grpc.LaughterAnalysisServiceStub):  # type: ignore[no-untyped-def]
    return analyze(stub, SAMPLE, include_face_samples=True)


class TestSample:
    """The bundled sample: known laughs, one face."""

    def test_every_known_laugh_is_found_with_its_onset(self, sample_result, sample_truth) -> None:  # type: ignore[no-untyped-def]
        """Each ground-truth laugh has an event starting within 0.5 s of it."""
        starts = [seconds(e.start_offset) for e in sample_result.events]
        for segment in sample_truth["laughter_segments"]:
            nearest = min(starts, key=lambda s: abs(s - segment["start_s"]))
            assert abs(nearest - segment["start_s"]) <= ONSET_TOLERANCE_S, (segment, starts)

    def test_no_event_during_speech_only(self, sample_result, sample_truth) -> None:  # type: ignore[no-untyped-def]
        """Speech without laughter makes no event."""
        for speech in sample_truth["speech_segments"]:
            for event in sample_result.events:
                overlap = min(seconds(event.end_offset), speech["end_s"]) - max(
                    seconds(event.start_offset), speech["start_s"]
                )
                assert overlap < 1.0, (speech, event)

    def test_the_face_is_found_and_tracked(self, sample_result) -> None:  # type: ignore[no-untyped-def]
        """The face is seen in most frames under one id, and laughing events name it."""
        media = sample_result.summary.media
        assert media.frames_analyzed > 100
        assert media.frames_with_faces >= 0.9 * media.frames_analyzed
        assert len(sample_result.summary.faces) >= 1
        main = max(sample_result.summary.faces, key=lambda f: f.frames_seen)
        assert main.frames_seen >= 0.8 * media.frames_analyzed
        assert any(e.HasField("face_id") and e.face_id == main.face_id for e in sample_result.events)
        assert sample_result.face_samples, "face samples were requested"

    def test_face_samples_carry_smiling_and_mouth_open(self, sample_result, sample_truth) -> None:  # type: ignore[no-untyped-def]
        """smiling is the happy score; the mouth is open during the visible laughs and not during speech."""

        def during(segments: list[dict[str, float]]) -> list[analysis_pb2.FaceEmotionSample]:
            return [
                s
                for s in sample_result.face_samples
                if any(g["start_s"] <= seconds(s.offset) <= g["end_s"] for g in segments)
            ]

        for sample in sample_result.face_samples:
            happy = next(e.score for e in sample.scores if e.emotion == analysis_pb2.EMOTION_HAPPY)
            assert sample.smiling == pytest.approx(happy)
            assert 0.0 <= sample.mouth_open <= 1.0
        laughing, speaking = during(sample_truth["visible_laughs"]), during(sample_truth["speech_segments"])
        assert laughing
        assert speaking
        assert np.mean([s.mouth_open for s in laughing]) > 0.5
        assert np.mean([s.mouth_open for s in speaking]) < 0.2
        main = max(sample_result.summary.faces, key=lambda f: f.frames_seen)
        assert 0.0 < main.mouth_open < 1.0
        assert main.smiling == pytest.approx(main.emotion_breakdown[3].score, abs=1e-6)

    def test_summary_is_consistent(self, sample_result) -> None:  # type: ignore[no-untyped-def]
        """Counts, durations, intervals and breakdowns agree with the events."""
        summary, events = sample_result.summary, sample_result.events
        d = summary.durations
        assert summary.laughter_detected is True
        assert d.event_count == len(events)
        total = sum(seconds(e.end_offset) - seconds(e.start_offset) for e in events)
        assert math.isclose(seconds(d.total_laughter_duration), total, abs_tol=0.01 * len(events) + 0.01)
        assert seconds(d.longest_event_duration) <= seconds(d.total_laughter_duration) + 1e-3
        minutes = seconds(summary.media.media_duration) / 60
        assert math.isclose(d.laughs_per_minute, len(events) / minutes, rel_tol=1e-3)
        assert d.laughs_per_minute_ci.lower <= d.laughs_per_minute <= d.laughs_per_minute_ci.upper
        assert d.laughter_fraction_ci.lower <= d.laughter_fraction <= d.laughter_fraction_ci.upper
        assert math.isclose(sum(s.score for s in summary.emotion_breakdown), 1.0, abs_tol=1e-3)
        assert summary.dominant_emotion != analysis_pb2.EMOTION_UNSPECIFIED
        assert summary.dominant_laughter_type != analysis_pb2.LAUGHTER_TYPE_NONE
        assert sum(c.event_count for c in summary.type_counts) == len(events)
        assert 0 < summary.overall_confidence <= 1
        for e in events:
            assert seconds(e.start_offset) <= seconds(e.peak_offset) <= seconds(e.end_offset)
        stages = {t.stage for t in summary.stage_timings}
        assert {"decode", "face_detection", "emotion", "audio", "fusion"} <= stages
        roles = {m.role for m in summary.models}
        assert roles == {
            model_pb2.MODEL_ROLE_FACE_DETECTOR,
            model_pb2.MODEL_ROLE_FACE_EMOTION,
            model_pb2.MODEL_ROLE_FACE_LANDMARKS,
            model_pb2.MODEL_ROLE_AUDIO_LAUGHTER,
        }
        assert all(m.version and m.sha256 for m in summary.models)


class TestMissingModalities:
    """Media with a modality missing still analyses, and says what was missing."""

    def test_audio_only(self, stub, fixtures_index) -> None:  # type: ignore[no-untyped-def]
        result = analyze(stub, DATA / "audio_only.wav")
        assert summary_pb2.NOTICE_CODE_NO_VIDEO_STREAM in notice_codes(result)
        truth = fixtures_index["audio_only.wav"]["laughter_segments"][0]
        assert any(
            abs(seconds(e.start_offset) - truth["start_s"]) <= ONSET_TOLERANCE_S for e in result.events
        ), result.events
        assert all(e.evidence.source == analysis_pb2.EVIDENCE_SOURCE_AUDIO for e in result.events)

    def test_video_without_audio(self, stub) -> None:  # type: ignore[no-untyped-def]
        result = analyze(stub, DATA / "video_no_audio.mp4")
        assert summary_pb2.NOTICE_CODE_NO_AUDIO_STREAM in notice_codes(result)
        assert result.summary.media.frames_with_faces > 0
        assert all(e.evidence.source == analysis_pb2.EVIDENCE_SOURCE_FACE for e in result.events)

    def test_video_without_faces(self, stub) -> None:  # type: ignore[no-untyped-def]
        result = analyze(stub, DATA / "no_faces.mp4")
        assert summary_pb2.NOTICE_CODE_NO_FACES_FOUND in notice_codes(result)
        assert result.summary.media.faces_detected == 0
        assert not result.events

    def test_silent_audio(self, stub) -> None:  # type: ignore[no-untyped-def]
        result = analyze(stub, DATA / "silence.wav")
        assert summary_pb2.NOTICE_CODE_SILENT_AUDIO in notice_codes(result)
        assert not result.events
        assert result.summary.laughter_detected is False


class TestBadInput:
    """Bad media gets INVALID_ARGUMENT with an actionable message and a reason; the server keeps serving."""

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("empty.bin", "MEDIA_EMPTY"),
            ("random.bin", "MEDIA_UNDECODABLE"),
            ("image.jpg", "MEDIA_IS_STILL_IMAGE"),
            ("no_streams.mkv", "MEDIA_NO_STREAMS"),
            ("huge_frame.mp4", "FRAME_TOO_LARGE"),
        ],
    )
    def test_rejected(self, stub, name: str, reason: str) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(grpc.RpcError) as caught:
            analyze(stub, DATA / name)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == reason
        assert len(caught.value.details()) > 20

    def test_truncated_file_is_analysed_as_far_as_it_goes(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A cut-off file is analysed up to where it breaks, and the summary says it was truncated."""
        result = analyze(stub, DATA / "truncated.mp4")
        assert summary_pb2.NOTICE_CODE_MEDIA_TRUNCATED in notice_codes(result)
        assert 5 < result.summary.media.frames_analyzed < 100

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"analysis_frame_rate_hertz": 500.0}, "options.analysis_frame_rate_hertz"),
            ({"analysis_frame_rate_hertz": -1.0}, "options.analysis_frame_rate_hertz"),
            ({"disable_video": True, "disable_audio": True}, "options.disable_audio"),
            ({"laughter_threshold": 1.5}, "options.laughter_threshold"),
            ({"max_faces": 1000}, "options.max_faces"),
        ],
    )
    def test_option_out_of_range_names_the_field(self, stub, options, field) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(grpc.RpcError) as caught:
            analyze(stub, DATA / "audio_only.wav", **options)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == "OPTION_OUT_OF_RANGE"
        status = rpc_status.from_call(caught.value)
        violations = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(v.field for v in bad.field_violations)
        assert violations == [field]

    def test_server_still_serves_after_bad_input(self, stub) -> None:  # type: ignore[no-untyped-def]
        for name in ("random.bin", "empty.bin", "image.jpg"):
            with pytest.raises(grpc.RpcError):
                analyze(stub, DATA / name)
        result = analyze(stub, DATA / "audio_only.wav")
        assert result.events
