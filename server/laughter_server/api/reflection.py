"""Server reflection (``grpc.reflection.v1`` and ``v1alpha``) over every laughter.v1 file, so grpcurl, ghz
and other reflection clients work without the .proto files.

grpcio-reflection 1.81 ships only the v1alpha service, and answers from a descriptor pool that has two gaps:

* protobuf's upb pool does not resolve method names: ``FindFileContainingSymbol`` of
  ``laughter.v1.LaughterAnalysisService.ListModels`` raises KeyError although the service resolves, so
  ``grpcurl describe`` of a method answered "Symbol not found", and so did every client that resolves
  ``package.Service.Method`` (ghz's ``--call``). ``ReflectionPool`` falls back to the service and answers
  with the file that declares it.
* a file that no imported module imports (``error_reason.proto``) is not in the pool: every generated
  ``laughter.v1.*_pb2`` module is imported here.

v1 is served by the same servicer on the v1 method path: the two protocols differ only in their package
name, which never appears on the wire, so the v1alpha messages (de)serialise v1 calls byte for byte. So
that reflection can describe itself, the v1 file is derived from the v1alpha descriptor (package renamed)
into a private pool; the process-wide default pool is left alone.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import grpc
import laughter.v1
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

V1ALPHA_SERVICE_NAME: str = reflection.SERVICE_NAME
V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE_NAME = V1_PACKAGE + ".ServerReflection"
V1_FILE_NAME = "grpc/reflection/v1/reflection.proto"
METHOD = "ServerReflectionInfo"

T = TypeVar("T")


def api_files() -> tuple[descriptor.FileDescriptor, ...]:
    """Every file of the laughter.v1 API, from the generated modules (imported here if nobody did)."""
    modules = sorted(info.name for info in pkgutil.iter_modules(laughter.v1.__path__))
    return tuple(
        importlib.import_module(f"laughter.v1.{name}").DESCRIPTOR for name in modules if name.endswith("_pb2")
    )


def v1_file_proto() -> descriptor_pb2.FileDescriptorProto:
    """``grpc/reflection/v1/reflection.proto``: the v1alpha file with its package renamed."""
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old_prefix = f".{proto.package}."
    proto.name, proto.package = V1_FILE_NAME, V1_PACKAGE
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old_prefix):
                field.type_name = f".{V1_PACKAGE}.{field.type_name.removeprefix(old_prefix)}"
    for service in proto.service:
        for method in service.method:
            method.input_type = f".{V1_PACKAGE}.{method.input_type.removeprefix(old_prefix)}"
            method.output_type = f".{V1_PACKAGE}.{method.output_type.removeprefix(old_prefix)}"
    return proto


class ReflectionPool:
    """The lookups the reflection servicer makes, over several descriptor pools in order, with method names
    resolved to the file of their service."""

    def __init__(self, pools: Sequence[descriptor_pool.DescriptorPool]) -> None:
        self._pools = tuple(pools)

    def FindFileByName(self, name: str) -> descriptor.FileDescriptor:
        """The file called ``name``."""
        return self._first(lambda pool: pool.FindFileByName(name), name)

    def FindFileContainingSymbol(self, symbol: str) -> descriptor.FileDescriptor:
        """The file declaring ``symbol``: a message, field, enum, enum value, service or method."""
        for pool in self._pools:
            try:
                return pool.FindFileContainingSymbol(symbol)
            except KeyError:
                pass
            service_name, _, method = symbol.rpartition(".")
            try:
                service = pool.FindServiceByName(service_name)
            except KeyError:
                continue
            if method in service.methods_by_name:
                return service.file
        raise KeyError(symbol)

    def FindMessageTypeByName(self, name: str) -> descriptor.Descriptor:
        """The message type called ``name``."""
        return self._first(lambda pool: pool.FindMessageTypeByName(name), name)

    def FindExtensionByNumber(
        self, message: descriptor.Descriptor, number: int
    ) -> descriptor.FieldDescriptor:
        """The extension ``number`` of ``message`` (in the pool that holds the message)."""
        return self._first(lambda pool: pool.FindExtensionByNumber(message, number), number)

    def FindAllExtensions(self, message: descriptor.Descriptor) -> list[descriptor.FieldDescriptor]:
        """Every extension of ``message`` known to the pool that holds it."""
        return self._first(lambda pool: list(pool.FindAllExtensions(message)), message.full_name)

    def _first(self, lookup: Callable[[descriptor_pool.DescriptorPool], T], key: object) -> T:
        for pool in self._pools:
            try:
                return lookup(pool)
            except KeyError:
                continue
        raise KeyError(key)


def reflection_pool() -> ReflectionPool:
    """The default pool, holding every laughter.v1 file, then a private pool with the v1 reflection file."""
    api_files()
    own = descriptor_pool.DescriptorPool()
    own.Add(v1_file_proto())
    return ReflectionPool((descriptor_pool.Default(), own))


def enable_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serve reflection v1 and v1alpha on ``server`` for ``service_names`` and both reflection services."""
    names = (*service_names, V1ALPHA_SERVICE_NAME, V1_SERVICE_NAME)
    servicer = reflection.aio.ReflectionServicer(names, pool=reflection_pool())
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1_handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(V1_SERVICE_NAME, {METHOD: v1_handler}),)
    )
