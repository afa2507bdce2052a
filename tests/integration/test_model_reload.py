"""ReloadModel against the real server: switching the audio model version at run time, refusals, a damaged
version, and an analysis running while the model is swapped."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import time
from collections.abc import Iterator

import grpc
import pytest
from laughter.v1 import (
    analysis_pb2,
    laughter_service_pb2,
    laughter_service_pb2_grpc,
    model_pb2,
    results_pb2,
    summary_pb2,
)
from laughter_server.pipeline.model_split import bucket_of

from tests.conftest import REPO, SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.test_analyze_media import error_reason, seconds
from tests.integration.test_bad_input import field_violations

pytestmark = pytest.mark.integration

SHIPPED = REPO / "server" / "laughter_server" / "models" / "audio"
NAME = "laughter-audio"
DEFAULT = "1.4.0"
OLDEST = "1.0.0"
VERSIONS = ("1.0.0", "1.1.0", "1.4.0", "1.5.0", "1.5.1")
NEWEST = "1.5.1"
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
            (NAME, "7.7.7", "available: 1.0.0, 1.1.0, 1.4.0, 1.5.0, 1.5.1"),
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


def split_request(text: str) -> laughter_service_pb2.SetAudioModelSplitRequest:
    return laughter_service_pb2.SetAudioModelSplitRequest(split=text)


def shares(items: object) -> list[tuple[str, int]]:
    return [(s.model.version, s.percent) for s in items]  # type: ignore[attr-defined]


def audio_only(stub: Stub, client_id: str, *, fresh: bool = False) -> summary_pb2.AnalysisResult:
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=SAMPLE.read_bytes(),
        filename=SAMPLE.name,
        client_id=client_id,
        fresh=fresh,
        options=analysis_pb2.AnalysisOptions(disable_video=True),
    )
    return stub.AnalyzeMedia(request, timeout=300).result


def stored(stub: Stub, result: summary_pb2.AnalysisResult, client_id: str) -> None:
    """Wait until the background write of ``result`` has landed (so that a repeat can hit the cache)."""
    end = time.monotonic() + 60
    while True:
        try:
            request = results_pb2.GetResultRequest(result_id=result.summary.result_id, client_id=client_id)
            stub.GetResult(request, timeout=10)
            return
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > end:
                raise
        time.sleep(0.05)


class TestSplitAtRunTime:
    """SetAudioModelSplit sets, changes and clears the split; ReloadModel reloads or replaces one of its
    versions; the cache key changes with any model of the assignment."""

    @pytest.fixture(autouse=True)
    def no_split_after(self, reload_server: ReloadServer) -> Iterator[None]:
        yield
        reload_server.stub.SetAudioModelSplit(split_request(""), timeout=60)
        if listed_audio_model(reload_server.stub).version != DEFAULT:
            reload(reload_server.stub, DEFAULT)

    def test_set_replace_and_clear(self, reload_server: ReloadServer) -> None:
        """The split is listed as set; ReloadModel replaces one version (its share kept) and analyses are
        assigned by their id to the split in force; clearing it brings back the default model."""
        stub = reload_server.stub
        reply = stub.SetAudioModelSplit(split_request("1.4.0=50,1.1.0=50"), timeout=60)
        assert shares(reply.shares) == [("1.4.0", 50), ("1.1.0", 50)]
        assert reply.shares[1].model.sha256 == shipped_sha256("1.1.0")
        listed = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10)
        assert shares(listed.audio_model_split) == [("1.4.0", 50), ("1.1.0", 50)]

        replaced = stub.ReloadModel(
            laughter_service_pb2.ReloadModelRequest(version=OLDEST, replace_version="1.1.0"), timeout=60
        )
        assert (replaced.model.version, replaced.model.sha256) == (OLDEST, shipped_sha256(OLDEST))
        assert shares(replaced.audio_model_split) == [("1.4.0", 50), (OLDEST, 50)]
        seen = set()
        for _ in range(12):
            result = audio_only(stub, "split", fresh=True)
            expected = "1.4.0" if bucket_of(result.summary.result_id) < 50 else OLDEST
            assert audio_model(result.summary.models).version == expected
            seen.add(expected)
            if len(seen) == 2:
                break
        assert seen == {"1.4.0", OLDEST}

        again = stub.ReloadModel(laughter_service_pb2.ReloadModelRequest(version=OLDEST), timeout=60)
        assert again.model.version == OLDEST  # a version of the split, loaded again in place
        assert shares(again.audio_model_split) == [("1.4.0", 50), (OLDEST, 50)]

        cleared = stub.SetAudioModelSplit(split_request(""), timeout=60)
        assert list(cleared.shares) == []
        listed = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10)
        assert list(listed.audio_model_split) == []
        assert audio_model(audio_only(stub, "split", fresh=True).summary.models).version == DEFAULT

    @pytest.mark.parametrize(
        ("split", "version", "replace_version", "field"),
        [
            ("1.4.0=50,1.1.0=50", OLDEST, "", "version"),  # not in the split, nothing named to replace
            ("1.4.0=50,1.1.0=50", OLDEST, "1.2.3", "replace_version"),  # not in the split
            ("1.4.0=50,1.1.0=50", "1.4.0", "1.1.0", "version"),  # already in the split
            ("", OLDEST, "1.1.0", "replace_version"),  # no split in force
        ],
    )
    def test_refused_reloads(
        self, reload_server: ReloadServer, split: str, version: str, replace_version: str, field: str
    ) -> None:
        """INVALID_ARGUMENT naming the field; the split and the default model are unchanged."""
        stub = reload_server.stub
        stub.SetAudioModelSplit(split_request(split), timeout=60)
        before = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10)
        request = laughter_service_pb2.ReloadModelRequest(version=version, replace_version=replace_version)
        with pytest.raises(grpc.RpcError) as caught:
            stub.ReloadModel(request, timeout=60)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(caught.value) == [field]
        assert stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10) == before

    @pytest.mark.parametrize("split", ["garbage", "1.4.0=60,1.1.0=60", "1.4.0=60,7.7.7=40"])
    def test_refused_splits(self, reload_server: ReloadServer, split: str) -> None:
        """A malformed split, or one naming a version that is not there, is INVALID_ARGUMENT on `split`;
        the split in force stays."""
        stub = reload_server.stub
        stub.SetAudioModelSplit(split_request("1.4.0=90,1.1.0=10"), timeout=60)
        with pytest.raises(grpc.RpcError) as caught:
            stub.SetAudioModelSplit(split_request(split), timeout=60)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(caught.value) == ["split"]
        listed = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=10)
        assert shares(listed.audio_model_split) == [("1.4.0", 90), ("1.1.0", 10)]

    def test_cache_key_follows_the_assignment(self, reload_server: ReloadServer) -> None:
        """Setting a split, replacing one of its versions and changing a share each miss the cache; a
        repeat under the same assignment hits; clearing the split hits the result stored without it."""
        stub = reload_server.stub
        client = "cache-" + str(time.monotonic_ns())

        def miss_then_hit() -> summary_pb2.AnalysisResult:
            first = audio_only(stub, client)
            assert not first.cached
            stored(stub, first, client)
            repeat = audio_only(stub, client)
            assert repeat.cached
            assert repeat.summary.result_id == first.summary.result_id
            return first

        plain = miss_then_hit()
        stub.SetAudioModelSplit(split_request("1.4.0=90,1.1.0=10"), timeout=60)
        miss_then_hit()
        stub.ReloadModel(
            laughter_service_pb2.ReloadModelRequest(version=OLDEST, replace_version="1.1.0"), timeout=60
        )
        miss_then_hit()
        stub.SetAudioModelSplit(split_request("1.4.0=80,1.0.0=20"), timeout=60)
        miss_then_hit()
        stub.SetAudioModelSplit(split_request(""), timeout=60)
        back = audio_only(stub, client)
        assert back.cached
        assert back.summary.result_id == plain.summary.result_id
