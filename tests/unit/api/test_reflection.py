"""The reflection pool: every laughter.v1 file, method names, and the derived v1 reflection file."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from laughter.v1 import laughter_service_pb2
from laughter_server.api.reflection import V1_FILE_NAME, V1_PACKAGE, reflection_pool, v1_file_proto

REPO = pathlib.Path(__file__).resolve().parents[3]
SERVICE = "laughter.v1.LaughterAnalysisService"

FRESH_PROCESS_CHECK = """
import json, sys
import laughter_server.app  # what the server imports, nothing more
from laughter_server.api.reflection import reflection_pool
pool = reflection_pool()
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = pool.FindFileByName(name).name
    except KeyError:
        found[name] = None
try:
    found["laughter.v1.ErrorReason"] = pool.FindFileContainingSymbol("laughter.v1.ErrorReason").name
except KeyError:
    found["laughter.v1.ErrorReason"] = None
print(json.dumps(found))
"""


class TestReflectionPool:
    """Lookups the reflection servicer makes."""

    def test_a_fresh_server_process_holds_every_api_file(self) -> None:
        """In an interpreter that imported only the server, every .proto of protos/laughter/v1 is served."""
        files = sorted(
            p.relative_to(REPO / "protos").as_posix() for p in (REPO / "protos").glob("laughter/v1/*.proto")
        )
        assert "laughter/v1/error_reason.proto" in files
        done = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS_CHECK, *files],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=REPO,
        )
        found = json.loads(done.stdout.splitlines()[-1])
        assert found == {
            **{name: name for name in files},
            "laughter.v1.ErrorReason": "laughter/v1/error_reason.proto",
        }

    def test_method_names_resolve_to_their_service_file(self) -> None:
        """``Service.Method`` finds the file of the service, which protobuf's own pool does not."""
        pool = reflection_pool()
        for method in laughter_service_pb2.DESCRIPTOR.services_by_name["LaughterAnalysisService"].methods:
            assert (
                pool.FindFileContainingSymbol(method.full_name).name == "laughter/v1/laughter_service.proto"
            )

    @pytest.mark.parametrize(
        "symbol", [f"{SERVICE}.NoSuchMethod", "laughter.v1.NoSuchService.ListModels", "no.such.Symbol"]
    )
    def test_unknown_symbols_raise_key_error(self, symbol: str) -> None:
        """A method the service lacks, or a name nothing declares, is not found."""
        with pytest.raises(KeyError):
            reflection_pool().FindFileContainingSymbol(symbol)

    def test_v1_reflection_file_is_served(self) -> None:
        """The v1 reflection service and its messages resolve; the default pool is left without them."""
        pool = reflection_pool()
        assert pool.FindFileContainingSymbol(f"{V1_PACKAGE}.ServerReflection").name == V1_FILE_NAME
        assert pool.FindMessageTypeByName(f"{V1_PACKAGE}.ServerReflectionResponse").full_name.startswith(
            V1_PACKAGE
        )
        with pytest.raises(KeyError):
            descriptor_pool.Default().FindFileByName(V1_FILE_NAME)


class TestV1File:
    """The v1 reflection file derived from v1alpha."""

    def test_same_wire_format_as_v1alpha(self) -> None:
        """Every message has the same fields (number, type, label, oneof) as v1alpha, in package v1."""
        v1 = v1_file_proto()
        alpha = descriptor_pb2.FileDescriptorProto()
        reflection_pb2.DESCRIPTOR.CopyToProto(alpha)
        assert (v1.name, v1.package) == (V1_FILE_NAME, V1_PACKAGE)
        assert [m.name for m in v1.message_type] == [m.name for m in alpha.message_type]
        for ours, theirs in zip(v1.message_type, alpha.message_type, strict=True):
            assert [(f.name, f.number, f.type, f.label, f.oneof_index) for f in ours.field] == [
                (f.name, f.number, f.type, f.label, f.oneof_index) for f in theirs.field
            ]
            for field in ours.field:
                assert not field.type_name or field.type_name.startswith(f".{V1_PACKAGE}.")

    def test_service_uses_v1_types(self) -> None:
        """The one method streams v1 requests and responses both ways."""
        (service,) = v1_file_proto().service
        (method,) = service.method
        assert (service.name, method.name) == ("ServerReflection", "ServerReflectionInfo")
        assert method.input_type == f".{V1_PACKAGE}.ServerReflectionRequest"
        assert method.output_type == f".{V1_PACKAGE}.ServerReflectionResponse"
        assert method.client_streaming
        assert method.server_streaming
