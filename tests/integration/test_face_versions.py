"""Face emotion versions against the real Triton and server: the default (face-api's expression net), a head
trained by ``laughter-train faces`` on the dev stills, switched to with ReloadModel, and the mini-Xception."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
from collections.abc import Iterator

import grpc
import pytest
from laughter.v1 import analysis_pb2, laughter_service_pb2, laughter_service_pb2_grpc, model_pb2, summary_pb2
from laughter_server.vision.emotion import EMOTION_INDEX

from tests.conftest import REPO, SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.test_analyze_media import error_reason

pytestmark = pytest.mark.integration

Stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub
TRAINED = "2.1.0"
SHA256SUMS = (REPO / "model_repository" / "SHA256SUMS").read_text()


def repository_sha256(model: str) -> str:
    return next(line.split()[0] for line in SHA256SUMS.splitlines() if line.endswith(f"{model}/1/model.onnx"))


@dataclasses.dataclass(frozen=True)
class FaceServer:
    stub: Stub
    heads_dir: pathlib.Path
    head_sha256: str
    head_classes: tuple[str, ...]


@pytest.fixture(scope="module")
def face_server(
    triton, dev_data: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaceServer]:  # type: ignore[no-untyped-def]
    from laughter_train.faces import train_face_head

    heads_dir = tmp_path_factory.mktemp("face-heads")
    path, figures = train_face_head(
        [dev_data / "manifest.csv"], heads_dir, TRAINED, REPO / "model_repository"
    )
    assert figures["cross_validation"]["folds"] >= 2
    head = json.loads(path.read_text())
    server = ServerThread(make_settings(triton_url=triton.grpc_url, face_models_dir=str(heads_dir))).start()
    channel = grpc.insecure_channel(
        server.address, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
    )
    try:
        wait_serving(server.address)
        yield FaceServer(
            Stub(channel), heads_dir, hashlib.sha256(path.read_bytes()).hexdigest(), tuple(head["classes"])
        )
    finally:
        channel.close()
        server.stop()


def emotion_model(models: object) -> model_pb2.ModelInfo:
    found = [m for m in models if m.role == model_pb2.MODEL_ROLE_FACE_EMOTION]  # type: ignore[attr-defined]
    assert len(found) == 1, found
    return found[0]


def reload(stub: Stub, version: str) -> model_pb2.ModelInfo:
    request = laughter_service_pb2.ReloadModelRequest(model_name="face_emotion", version=version)
    return stub.ReloadModel(request, timeout=60).model


def analyze(stub: Stub) -> summary_pb2.AnalysisResult:
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=SAMPLE.read_bytes(),
        filename=SAMPLE.name,
        fresh=True,
        options=analysis_pb2.AnalysisOptions(include_face_samples=True),
    )
    return stub.AnalyzeMedia(request, timeout=300).result


def nonzero_emotions(result: summary_pb2.AnalysisResult) -> set[int]:
    """Emotion enum values scored above 0 in any face sample."""
    return {score.emotion for sample in result.face_samples for score in sample.scores if score.score > 0}


class TestFaceEmotionVersions:
    """ReloadModel switches the face emotion model among version 1, version 2 and trained heads."""

    def test_default_is_the_expression_net(self, face_server: FaceServer) -> None:
        listed = emotion_model(
            face_server.stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10).models
        )
        assert (listed.name, listed.version) == ("face_emotion", "2")
        assert listed.sha256 == repository_sha256("face_expression")

    def test_switch_to_a_trained_head_and_back(self, face_server: FaceServer) -> None:
        """With the head the face samples score only the head's classes, and the summary names its file."""
        stub = face_server.stub
        before = analyze(stub)
        assert emotion_model(before.summary.models).version == "2"
        assert len(nonzero_emotions(before)) > len(face_server.head_classes)
        reply = reload(stub, TRAINED)
        try:
            assert (reply.name, reply.version, reply.sha256) == (
                "face_emotion",
                TRAINED,
                face_server.head_sha256,
            )
            after = analyze(stub)
            used = emotion_model(after.summary.models)
            assert (used.version, used.sha256) == (TRAINED, face_server.head_sha256)
            assert after.face_samples
            expected = {EMOTION_INDEX[name] + 1 for name in face_server.head_classes}
            assert nonzero_emotions(after) <= expected
            for sample in after.face_samples:
                assert sum(score.score for score in sample.scores) == pytest.approx(1.0, abs=1e-4)
        finally:
            reload(stub, "2")
        again = analyze(stub)
        assert emotion_model(again.summary.models).version == "2"
        assert nonzero_emotions(again) == nonzero_emotions(before)

    def test_switch_to_the_mini_xception(self, face_server: FaceServer) -> None:
        stub = face_server.stub
        reply = reload(stub, "1")
        try:
            assert (reply.version, reply.sha256) == ("1", repository_sha256("face_emotion"))
            result = analyze(stub)
            assert emotion_model(result.summary.models).version == "1"
            assert result.face_samples
        finally:
            reload(stub, "2")

    def test_unknown_and_damaged_versions_are_refused(self, face_server: FaceServer) -> None:
        stub = face_server.stub
        with pytest.raises(grpc.RpcError) as caught:
            reload(stub, "7.7.7")
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "available: 1, 2, " + TRAINED in (caught.value.details() or "")
        assert error_reason(caught.value) == "OPTION_OUT_OF_RANGE"
        (face_server.heads_dir / "face_emotion-9.9.9.json").write_text("{not json")
        with pytest.raises(grpc.RpcError) as caught:
            reload(stub, "9.9.9")
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "face_emotion-9.9.9.json" in (caught.value.details() or "")
        listed = emotion_model(stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10).models)
        assert listed.version == "2"
