"""ReloadModel against the real server: switching the audio model version at run time, refusals, a damaged
version, and an analysis running while the model is swapped."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
from collections.abc import Iterator

import grpc
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, model_pb2, summary_pb2

from tests.conftest import REPO, SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.test_analyze_media import error_reason, seconds

pytestmark = pytest.mark.integration

SHIPPED = REPO / "server" / "laughter_server" / "models" / "audio"
NAME = "laughter-audio"
DEFAULT = "1.4.0"
OLDEST = "1.0.0"
VERSIONS = ("1.0.0", "1.1.0", "1.4.0", "1.5.0")
NEWEST = "1.5.0"
DAMAGED = "9.9.9"

Stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub


def shipped_sha256(version: str) -> str:
    metadata = json.loads((SHIPPED / f"{NAME}-{version}.json").read_text())
    return str(metadata["artifact_sha256"])


@dataclasses.dataclass(frozen=True)
class ReloadServer:
    """A server of its own whose audio model lives in a writable copy of the shipped models folder."""

    stub: Stub
    models_dir: pathlib.Path


def audio_model(models: object) -> model_pb2.ModelInfo:
    """The one audio laughter model among ``models``."""
    audio = [m for m in models if m.role == model_pb2.MODEL_ROLE_AUDIO_LAUGHTER]  # type: ignore[attr-defined]
    assert len(audio) == 1, audio
    return audio[0]


def listed_audio_model(stub: Stub) -> model_pb2.ModelInfo:
    return audio_model(stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10).models)


def reload(stub: Stub, version: str, model_name: str = NAME) -> model_pb2.ModelInfo:
    request = laughter_service_pb2.ReloadModelRequest(model_name=model_name, version=version)
    return stub.ReloadModel(request, timeout=60).model


def analyze_request() -> laughter_service_pb2.AnalyzeMediaRequest:
    return laughter_service_pb2.AnalyzeMediaRequest(content=SAMPLE.read_bytes(), filename=SAMPLE.name)


def analyze(stub: Stub) -> summary_pb2.AnalysisResult:
    return stub.AnalyzeMedia(analyze_request(), timeout=300).result


def event_spans(result: summary_pb2.AnalysisResult) -> list[tuple[float, float]]:
    """Start and end of each event, to 10 ms."""
    return [(round(seconds(e.start_offset), 2), round(seconds(e.end_offset), 2)) for e in result.events]


@pytest.fixture(scope="class")
def reload_server(triton, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReloadServer]:  # type: ignore[no-untyped-def]
    models_dir = tmp_path_factory.mktemp("audio-models")
    for path in SHIPPED.glob(f"{NAME}-*"):
        shutil.copyfile(path, models_dir / path.name)
    settings = make_settings(
        triton_url=triton.grpc_url, audio_model=str(models_dir / f"{NAME}-{DEFAULT}.skops")
    )
    server = ServerThread(settings).start()
    channel = grpc.insecure_channel(
        server.address, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
    )
    try:
        wait_serving(server.address)
        yield ReloadServer(Stub(channel), models_dir)
    finally:
        channel.close()
        server.stop()


@pytest.fixture(scope="class")
def references(reload_server: ReloadServer) -> dict[str, list[tuple[float, float]]]:
    """The sample's event spans with the default and the oldest model, analysed with nothing else running."""
    spans = {}
    for version in (OLDEST, DEFAULT):
        reload(reload_server.stub, version)
        result = analyze(reload_server.stub)
        assert audio_model(result.summary.models).version == version
        spans[version] = event_spans(result)
    reload(reload_server.stub, DEFAULT)
    assert spans[OLDEST] != spans[DEFAULT], "the two versions must tell apart on the sample"
    return spans


class TestReloadModel:
    """ReloadModel switches the audio model among the versions beside the configured one."""

    @pytest.fixture(autouse=True)
    def at_default(self, reload_server: ReloadServer) -> None:
        """Each test starts with the configured default version in use."""
        if listed_audio_model(reload_server.stub).version != DEFAULT:
            reload(reload_server.stub, DEFAULT)

    def test_switch_to_an_older_version_and_back(self, reload_server: ReloadServer) -> None:
        """The reply, ListModels and the next analysis all name the version switched to, with its sha256."""
        stub = reload_server.stub
        assert listed_audio_model(stub).version == DEFAULT
        for version in (OLDEST, DEFAULT):
            reply = reload(stub, version)
            assert (reply.name, reply.version, reply.sha256) == (NAME, version, shipped_sha256(version))
            assert reply.role == model_pb2.MODEL_ROLE_AUDIO_LAUGHTER
            listed = listed_audio_model(stub)
            assert (listed.version, listed.sha256) == (version, shipped_sha256(version))
            used = audio_model(analyze(stub).summary.models)
            assert (used.version, used.sha256) == (version, shipped_sha256(version))

    def test_empty_version_means_newest_and_empty_name_the_audio_model(
        self, reload_server: ReloadServer
    ) -> None:
        """An empty version loads the highest version number beside the configured model (1.10.0 > 1.4.0)."""
        stub, models_dir = reload_server.stub, reload_server.models_dir
        reload(stub, OLDEST)
        assert reload(stub, "", model_name="").version == NEWEST
        newer = models_dir / f"{NAME}-1.10.0.skops"
        shutil.copyfile(models_dir / f"{NAME}-{OLDEST}.skops", newer)
        metadata = json.loads((models_dir / f"{NAME}-{OLDEST}.json").read_text())
        metadata.update(version="1.10.0")
        newer.with_suffix(".json").write_text(json.dumps(metadata))
        try:
            reply = reload(stub, "")
        finally:
            newer.unlink()
            newer.with_suffix(".json").unlink()
        assert (reply.version, reply.sha256) == ("1.10.0", shipped_sha256(OLDEST))

    @pytest.mark.parametrize(
        ("model_name", "version", "field_text"),
        [
            (NAME, "7.7.7", "available: 1.0.0, 1.1.0, 1.4.0, 1.5.0"),
            (NAME, "../x", "plain version string"),
            (NAME, "a/b", "plain version string"),
            (NAME, "..\\x", "plain version string"),
            (
                "face_detector",
                OLDEST,
                "the models that can be reloaded are 'laughter-audio' and 'face_emotion'",
            ),
        ],
    )
    def test_refused_requests_leave_the_model_unchanged(
        self, reload_server: ReloadServer, model_name: str, version: str, field_text: str
    ) -> None:
        """Unknown or path-like versions and other model names are INVALID_ARGUMENT; nothing is swapped."""
        stub = reload_server.stub
        before = listed_audio_model(stub)
        with pytest.raises(grpc.RpcError) as caught:
            reload(stub, version, model_name)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == "OPTION_OUT_OF_RANGE"
        assert field_text in caught.value.details()
        assert listed_audio_model(stub) == before

    def test_damaged_version_is_refused_and_the_old_model_keeps_serving(
        self, reload_server: ReloadServer
    ) -> None:
        """A version whose file does not match its sha256 fails with FAILED_PRECONDITION; nothing changes."""
        stub, models_dir = reload_server.stub, reload_server.models_dir
        reload(stub, OLDEST)  # a non-default model in use, so a fallback to the configured one would show
        before = listed_audio_model(stub)
        damaged = models_dir / f"{NAME}-{DAMAGED}.skops"
        shutil.copyfile(models_dir / f"{NAME}-{OLDEST}.skops", damaged)
        metadata = json.loads((models_dir / f"{NAME}-{OLDEST}.json").read_text())
        metadata.update(name=NAME, version=DAMAGED)
        damaged.with_suffix(".json").write_text(json.dumps(metadata))
        raw = bytearray(damaged.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        damaged.write_bytes(bytes(raw))
        try:
            with pytest.raises(grpc.RpcError) as caught:
                reload(stub, DAMAGED)
        finally:
            damaged.unlink()
            damaged.with_suffix(".json").unlink()
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_reason(caught.value) == "MODEL_LOAD_FAILED"
        details = caught.value.details()
        assert "sha256 mismatch" in details
        assert damaged.name in details
        assert "Traceback" not in details
        assert listed_audio_model(stub) == before
        used = audio_model(analyze(stub).summary.models)
        assert (used.version, used.sha256) == (OLDEST, shipped_sha256(OLDEST))

    def test_analysis_during_a_reload_reports_the_model_that_scored_it(
        self, reload_server: ReloadServer, references: dict[str, list[tuple[float, float]]]
    ) -> None:
        """An analysis in flight while the model is swapped succeeds, names one audio version, and its
        events are that version's; the server serves the new version afterwards."""
        stub = reload_server.stub
        analysis = stub.AnalyzeMedia.future(analyze_request(), timeout=300)
        reloading = stub.ReloadModel.future(
            laughter_service_pb2.ReloadModelRequest(model_name=NAME, version=OLDEST), timeout=60
        )
        assert reloading.result().model.version == OLDEST
        result = analysis.result().result
        used = audio_model(result.summary.models)
        assert used.version in (OLDEST, DEFAULT)
        assert used.sha256 == shipped_sha256(used.version)
        assert event_spans(result) == references[used.version]
        assert listed_audio_model(stub).version == OLDEST
        after = analyze(stub)
        assert audio_model(after.summary.models).version == OLDEST
        assert event_spans(after) == references[OLDEST]
