"""The laughter.v1 API: generated stubs, enum contracts, service shape, and freshness of the stubs."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

REPO_ROOT = Path(__file__).resolve().parents[3]
CLIENT_SRC = REPO_ROOT / "clients" / "python" / "src"
GEN_SCRIPT = REPO_ROOT / "tools" / "gen_protos.sh"
BUF = REPO_ROOT / "node_modules" / ".bin" / "buf"
STUB_NAMES = (
    "analysis_pb2",
    "error_reason_pb2",
    "laughter_service_pb2",
    "laughter_service_pb2_grpc",
    "media_pb2",
    "model_pb2",
    "results_pb2",
    "session_pb2",
    "summary_pb2",
)
MODEL_EMOTION_ORDER = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# (client streaming, server streaming) per RPC.
EXPECTED_RPCS = {
    "AnalyzeMediaUpload": (True, False),
    "AnalyzeMedia": (False, False),
    "StreamingAnalyze": (True, True),
    "CreateSession": (False, False),
    "AppendSessionMedia": (False, False),
    "WatchSession": (False, True),
    "EndSession": (False, False),
    "ListModels": (False, False),
    "ReloadModel": (False, False),
    "SetAudioModelSplit": (False, False),
    "GetResult": (False, False),
    "ListResults": (False, False),
    "DeleteResults": (False, False),
    "GetAnalytics": (False, False),
    "GetPerformanceStats": (False, False),
}


@pytest.fixture(name="stubs", scope="module")
def fixture_stubs() -> Iterator[dict[str, ModuleType]]:
    """The generated modules, imported from the installed client or else from clients/python/src."""
    with pytest.MonkeyPatch.context() as patch:
        if importlib.util.find_spec("laughter") is None:
            patch.syspath_prepend(str(CLIENT_SRC))
        yield {name: importlib.import_module("laughter.v1." + name) for name in STUB_NAMES}


def _duration(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromTimedelta(datetime.timedelta(seconds=seconds))
    return value


class TestStubImports:
    """The generated stubs import and expose the service."""

    def test_modules_come_from_the_client_package(self, stubs: dict[str, ModuleType]) -> None:
        """Every stub imports as laughter.v1.<name> from a laughter/v1 folder."""
        for name, module in stubs.items():
            assert module.__name__ == "laughter.v1." + name
            assert Path(module.__file__ or "").parts[-3:] == ("laughter", "v1", name + ".py")

    def test_grpc_module_has_stub_servicer_and_registration(self, stubs: dict[str, ModuleType]) -> None:
        """The grpc module offers the client stub, the servicer base and the server hook."""
        grpc_module = stubs["laughter_service_pb2_grpc"]
        assert hasattr(grpc_module, "LaughterAnalysisServiceStub")
        assert hasattr(grpc_module, "LaughterAnalysisServiceServicer")
        assert hasattr(grpc_module, "add_LaughterAnalysisServiceServicer_to_server")

    def test_session_update_uses_googleapis_status(self, stubs: dict[str, ModuleType]) -> None:
        """SessionUpdate.warning is google.rpc.Status from googleapis-common-protos, not a local copy."""
        update = stubs["session_pb2"].SessionUpdate.DESCRIPTOR
        assert update.fields_by_name["warning"].message_type is status_pb2.Status.DESCRIPTOR


class TestEmotionEnum:
    """Emotion values follow the face emotion model's class order."""

    def test_order_matches_model_classes(self, stubs: dict[str, ModuleType]) -> None:
        """Value i + 1 is model output i: angry, disgust, fear, happy, sad, surprise, neutral."""
        emotion = stubs["analysis_pb2"].Emotion
        names = [emotion.Name(number) for number in sorted(emotion.values())]
        assert names[0] == "EMOTION_UNSPECIFIED"
        assert [name.removeprefix("EMOTION_").lower() for name in names[1:]] == list(MODEL_EMOTION_ORDER)
        assert sorted(emotion.values()) == list(range(len(MODEL_EMOTION_ORDER) + 1))


class TestEnumConventions:
    """Every enum of the API is prefixed and starts at _UNSPECIFIED = 0."""

    def test_enums_are_prefixed_with_unspecified_zero(self, stubs: dict[str, ModuleType]) -> None:
        """Each value carries its enum's UPPER_SNAKE name as prefix; zero is <PREFIX>_UNSPECIFIED."""
        for name in STUB_NAMES:
            if name.endswith("_grpc"):
                continue
            file_descriptor = stubs[name].DESCRIPTOR
            enums = list(file_descriptor.enum_types_by_name.values())
            for message in file_descriptor.message_types_by_name.values():
                enums.extend(message.enum_types)
            for enum in enums:
                prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
                assert enum.values_by_number[0].name == prefix + "UNSPECIFIED"
                assert all(value.name.startswith(prefix) for value in enum.values)


class TestErrorReason:
    """ErrorReason names become valid google.rpc.ErrorInfo reasons."""

    def test_reasons_fit_error_info_rules(self, stubs: dict[str, ModuleType]) -> None:
        """Without the prefix each reason is at most 63 characters of [A-Z0-9_]."""
        for value in stubs["error_reason_pb2"].ErrorReason.DESCRIPTOR.values:
            short = value.name.removeprefix("ERROR_REASON_")
            assert re.fullmatch(r"[A-Z0-9_]{1,63}", short), value.name

    def test_expected_reasons_exist(self, stubs: dict[str, ModuleType]) -> None:
        """The reasons the server raises are all defined."""
        reason = stubs["error_reason_pb2"].ErrorReason
        for short in (
            "MEDIA_EMPTY",
            "MEDIA_UNDECODABLE",
            "MEDIA_NO_STREAMS",
            "MEDIA_TOO_LARGE",
            "FRAME_TOO_LARGE",
            "OPTION_OUT_OF_RANGE",
            "MODEL_UNAVAILABLE",
            "SESSION_NOT_FOUND",
            "SESSION_CONFIG_MISSING",
            "SESSION_LIMIT_REACHED",
            "CHUNK_INVALID",
            "TIMESTAMP_NOT_MONOTONIC",
            "DEADLINE_EXCEEDED",
            "INTERNAL",
            "MEDIA_IS_STILL_IMAGE",
            "UPLOAD_INVALID",
            "RESULT_NOT_FOUND",
            "STORE_UNAVAILABLE",
        ):
            assert reason.Value("ERROR_REASON_" + short) > 0


class TestServiceDescriptor:
    """LaughterAnalysisService has the agreed RPCs with the agreed streaming shape."""

    def test_rpcs_and_streaming_flags(self, stubs: dict[str, ModuleType]) -> None:
        """Each RPC exists once, with its own Request/Response and the right streaming flags."""
        service = stubs["laughter_service_pb2"].DESCRIPTOR.services_by_name["LaughterAnalysisService"]
        found = {
            method.name: (method.client_streaming, method.server_streaming) for method in service.methods
        }
        assert found == EXPECTED_RPCS
        for method in service.methods:
            assert method.input_type.full_name == "laughter.v1." + method.name + "Request"
            assert method.output_type.full_name == "laughter.v1." + method.name + "Response"

    def test_streaming_request_puts_config_first_in_a_oneof(self, stubs: dict[str, ModuleType]) -> None:
        """StreamingAnalyzeRequest's oneof holds config = 1 and chunk = 2."""
        request = stubs["laughter_service_pb2"].StreamingAnalyzeRequest.DESCRIPTOR
        oneof = request.oneofs_by_name["request"]
        assert [(field.name, field.number) for field in oneof.fields] == [("config", 1), ("chunk", 2)]


class TestSessionUpdateRoundTrip:
    """SessionUpdate survives serialization with every kind of content."""

    def test_event_update_round_trips(self, stubs: dict[str, ModuleType]) -> None:
        """An ENDED event update parses back equal, keeping face_id presence."""
        analysis, session = stubs["analysis_pb2"], stubs["session_pb2"]
        event = analysis.LaughterEvent(
            event_id="evt-0001",
            start_offset=_duration(1.25),
            end_offset=_duration(2.5),
            peak_offset=_duration(1.75),
            confidence=0.82,
            laughter_type=analysis.LAUGHTER_TYPE_JOYFUL,
            face_id=0,
            evidence=analysis.EventEvidence(
                source=analysis.EVIDENCE_SOURCE_AUDIO_AND_FACE, audio_probability=0.9, face_happy=0.7
            ),
        )
        update = session.SessionUpdate(
            event=session.LaughterEventUpdate(phase=session.EVENT_PHASE_ENDED, event=event)
        )
        parsed = session.SessionUpdate.FromString(update.SerializeToString())
        assert parsed == update
        assert parsed.WhichOneof("update") == "event"
        assert parsed.event.event.HasField("face_id")
        assert parsed.event.event.face_id == 0
        assert parsed.event.event.end_offset.ToTimedelta().total_seconds() == pytest.approx(2.5)

    def test_event_without_face_has_no_face_id(self, stubs: dict[str, ModuleType]) -> None:
        """An audio-only event keeps face_id unset after a round trip."""
        analysis = stubs["analysis_pb2"]
        event = analysis.LaughterEvent(event_id="evt-0002", confidence=0.6)
        parsed = analysis.LaughterEvent.FromString(event.SerializeToString())
        assert not parsed.HasField("face_id")

    def test_warning_round_trips_with_error_info(self, stubs: dict[str, ModuleType]) -> None:
        """A warning carries a google.rpc.Status whose ErrorInfo detail unpacks after parsing."""
        session = stubs["session_pb2"]
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.ErrorInfo(reason="TIMESTAMP_NOT_MONOTONIC", domain="laughter.v1"))
        warning = status_pb2.Status(
            code=code_pb2.INVALID_ARGUMENT, message="frame offset went backwards", details=[detail]
        )
        parsed = session.SessionUpdate.FromString(session.SessionUpdate(warning=warning).SerializeToString())
        assert parsed.WhichOneof("update") == "warning"
        info = error_details_pb2.ErrorInfo()
        assert parsed.warning.details[0].Unpack(info)
        assert (info.reason, info.domain) == ("TIMESTAMP_NOT_MONOTONIC", "laughter.v1")

    def test_oneof_keeps_only_the_last_content(self, stubs: dict[str, ModuleType]) -> None:
        """Setting progress after summary leaves only progress on the wire."""
        session, summary = stubs["session_pb2"], stubs["summary_pb2"]
        update = session.SessionUpdate(summary=summary.AnalysisSummary(laughter_detected=True))
        update.progress.frames_received = 12
        parsed = session.SessionUpdate.FromString(update.SerializeToString())
        assert parsed.WhichOneof("update") == "progress"
        assert parsed.progress.frames_received == 12
        assert not parsed.HasField("summary")


class TestVendoredStatusProto:
    """The copy of google/rpc/status.proto that buf reads equals the installed one."""

    def test_copy_matches_installed_googleapis(self) -> None:
        """protos/third_party/google/rpc/status.proto is byte-identical to googleapis-common-protos'."""
        installed = Path(status_pb2.__file__).with_name("status.proto")
        vendored = REPO_ROOT / "protos" / "third_party" / "google" / "rpc" / "status.proto"
        assert vendored.read_bytes() == installed.read_bytes()


class TestGeneratedStubsAreCurrent:
    """The committed stubs equal what tools/gen_protos.sh generates from protos/."""

    @pytest.mark.timeout(120)
    def test_gen_protos_check_passes(self) -> None:
        """tools/gen_protos.sh --check exits 0."""
        if importlib.util.find_spec("grpc_tools") is None:
            pytest.fail(
                "grpc_tools is not importable: run `make setup` (it installs grpcio-tools from the dev extras)"
            )
        result = subprocess.run(
            ["bash", str(GEN_SCRIPT), "--check"],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHON": sys.executable},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


class TestBufLint:
    """buf lint reports nothing for protos/."""

    @pytest.mark.timeout(120)
    def test_buf_lint_is_clean(self) -> None:
        """npx-installed buf finds no STANDARD or COMMENTS violations."""
        if not BUF.exists() or shutil.which("node") is None:
            pytest.fail("buf or node is missing: run `make setup` (it runs `npm ci` in the repository root)")
        result = subprocess.run(
            [str(BUF), "lint", "protos"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""
