"""The load-test inputs work against the real server: ``make protoset`` for ``ghz --protoset`` and the ghz
request data of bench/ghz/ (the binary AnalyzeMediaRequest and the StreamingAnalyze JSON)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import grpc
import pytest
from google.protobuf import descriptor_pb2, json_format
from laughter.v1 import laughter_service_pb2

from tests.conftest import REPO, SAMPLE
from tests.integration.test_reflection import SERVICE, api_files, grpcurl

pytestmark = pytest.mark.integration

GHZ = REPO / "bench" / "ghz"
STREAMING_JSON = GHZ / "streaming_analyze.json"


def json_stream(text: str) -> list[dict[str, object]]:
    """The JSON objects grpcurl prints one after another for a streaming call."""
    decoder = json.JSONDecoder()
    objects, index = [], 0
    while index < len(text.rstrip()):
        while text[index].isspace():
            index += 1
        value, index = decoder.raw_decode(text, index)
        objects.append(value)
    return objects


@pytest.fixture(scope="module", name="protoset")
def protoset_fixture(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """``make protoset`` into a temporary file (without reinstalling .venv)."""
    path = tmp_path_factory.mktemp("protoset") / "laughter.protoset"
    subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "protoset", f"PROTOSET={path}"],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


@pytest.fixture(scope="module", name="ghz_data")
def ghz_data_fixture(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """bench/ghz/make_request.py's output, written into a temporary folder."""
    folder = tmp_path_factory.mktemp("ghz")
    subprocess.run(
        [sys.executable, str(GHZ / "make_request.py"), "--bin-dir", str(folder), "--json-dir", str(folder)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder


class TestProtoset:
    """``make protoset`` writes a self-contained FileDescriptorSet that grpcurl (like ghz) calls with."""

    def test_holds_every_api_file_and_its_imports(self, protoset: pathlib.Path) -> None:
        """Every laughter.v1 file, and each file's imports before it."""
        files = descriptor_pb2.FileDescriptorSet.FromString(protoset.read_bytes()).file
        names = [f.name for f in files]
        assert {f.name for f in api_files()} <= set(names)
        for position, file in enumerate(files):
            assert set(file.dependency) <= set(names[:position]), file.name

    def test_grpcurl_calls_with_the_protoset(self, protoset: pathlib.Path, server_address: str) -> None:
        """grpcurl describes a method and calls ListModels from the protoset alone, without reflection."""
        flags = ("-protoset", str(protoset))
        text = grpcurl(server_address, "describe", f"{SERVICE}.StreamingAnalyze", flags=flags)
        assert "rpc StreamingAnalyze ( stream .laughter.v1.StreamingAnalyzeRequest )" in text
        reply = json.loads(grpcurl(server_address, f"{SERVICE}/ListModels", flags=(*flags, "-d", "{}")))
        assert {m["role"] for m in reply["models"]} == {
            "MODEL_ROLE_FACE_DETECTOR",
            "MODEL_ROLE_FACE_EMOTION",
            "MODEL_ROLE_FACE_LANDMARKS",
            "MODEL_ROLE_AUDIO_LAUGHTER",
        }


class TestGhzData:
    """The ghz scenarios' request data are valid calls that the server analyses."""

    def test_streaming_json_is_up_to_date(self, ghz_data: pathlib.Path) -> None:
        """The committed StreamingAnalyze JSON is what make_request.py writes."""
        assert (ghz_data / STREAMING_JSON.name).read_text() == STREAMING_JSON.read_text()

    def test_binary_request_is_the_sample(self, ghz_data: pathlib.Path, server_address: str) -> None:
        """The serialized AnalyzeMediaRequest, sent as raw bytes, holds the sample and is analysed."""
        data = (ghz_data / "analyze_media.bin").read_bytes()
        assert laughter_service_pb2.AnalyzeMediaRequest.FromString(data).content == SAMPLE.read_bytes()
        with grpc.insecure_channel(server_address) as channel:
            call = channel.unary_unary(
                f"/{SERVICE}/AnalyzeMedia",
                request_serializer=None,
                response_deserializer=laughter_service_pb2.AnalyzeMediaResponse.FromString,
            )
            reply = call(data, timeout=300)
        assert reply.result.summary.media.has_video
        assert reply.result.events

    def test_streaming_json_runs_a_session(self, server_address: str) -> None:
        """The JSON messages, streamed by grpcurl, start a session and end with its summary, no warning."""
        messages = json.loads(STREAMING_JSON.read_text())
        assert "config" in messages[0]
        assert all("chunk" in m for m in messages[1:])
        body = "\n".join(json.dumps(m) for m in messages)
        text = grpcurl(server_address, f"{SERVICE}/StreamingAnalyze", flags=("-d", "@"), stdin=body)
        updates = [
            json_format.ParseDict(reply, laughter_service_pb2.StreamingAnalyzeResponse()).update
            for reply in json_stream(text)
        ]
        kinds = [u.WhichOneof("update") for u in updates]
        assert kinds[0] == "started"
        assert kinds[-1] == "summary"
        assert "warning" not in kinds
        assert updates[-1].summary.media.frames_analyzed == 5
