"""Transport security and access control, and the chunked upload, against the real server."""

from __future__ import annotations

import grpc
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc

from tests.conftest import SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.test_analyze_media import error_reason, seconds
from tests.tls import make_pki

pytestmark = pytest.mark.integration

MODEL_COUNT = 4
"""ListModels: face detector, face emotion, face landmarks and the audio model."""

TOKEN = "test-token-123"


def list_models(channel: grpc.Channel, metadata=None) -> int:  # type: ignore[no-untyped-def]
    stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
    return len(
        stub.ListModels(laughter_service_pb2.ListModelsRequest(), metadata=metadata, timeout=10).models
    )


class TestToken:
    """With --auth-token, API calls need the bearer token; health stays open."""

    @pytest.fixture(scope="class")
    @classmethod
    def address(cls, triton):  # type: ignore[no-untyped-def]
        server = ServerThread(make_settings(triton_url=triton.grpc_url, auth_token=TOKEN)).start()
        wait_serving(server.address)  # health needs no token
        yield server.address
        server.stop()

    def test_right_token(self, address: str) -> None:
        with grpc.insecure_channel(address) as channel:
            assert list_models(channel, [("authorization", f"Bearer {TOKEN}")]) == MODEL_COUNT

    @pytest.mark.parametrize(
        "metadata", [None, [("authorization", "Bearer wrong")], [("authorization", TOKEN)]]
    )
    def test_missing_or_wrong_token(self, address: str, metadata) -> None:  # type: ignore[no-untyped-def]
        with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as caught:
            list_models(channel, metadata)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error_reason(caught.value) == "UNAUTHENTICATED"

    @pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
    def test_scheme_in_any_case(self, address: str, scheme: str) -> None:
        """RFC 7235: the auth scheme is case-insensitive."""
        with grpc.insecure_channel(address) as channel:
            assert list_models(channel, [("authorization", f"{scheme} {TOKEN}")]) == MODEL_COUNT


class TestTokenFiles:
    """Tokens from files: one token (--auth-token-file), or one per tenant (--auth-tenants-file)."""

    def test_token_from_a_file(self, triton, tmp_path) -> None:  # type: ignore[no-untyped-def]
        path = tmp_path / "token"
        path.write_text(TOKEN + "\n")
        path.chmod(0o600)
        server = ServerThread(make_settings(triton_url=triton.grpc_url, auth_token_file=str(path))).start()
        try:
            wait_serving(server.address)
            with grpc.insecure_channel(server.address) as channel:
                assert list_models(channel, [("authorization", f"Bearer {TOKEN}")]) == MODEL_COUNT
                with pytest.raises(grpc.RpcError) as caught:
                    list_models(channel, [("authorization", "Bearer wrong")])
                assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        finally:
            server.stop()

    def test_two_tenants(self, triton, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """Both tenants' tokens are accepted; any other token is UNAUTHENTICATED."""
        path = tmp_path / "tenants"
        path.write_text("# tenant:token\nalpha:alpha-token-1\n\nbeta:beta-token-2\n")
        path.chmod(0o600)
        server = ServerThread(make_settings(triton_url=triton.grpc_url, auth_tenants_file=str(path))).start()
        try:
            wait_serving(server.address)
            with grpc.insecure_channel(server.address) as channel:
                for token in ("alpha-token-1", "beta-token-2"):
                    assert list_models(channel, [("authorization", f"Bearer {token}")]) == MODEL_COUNT
                for wrong in ("alpha", "alpha-token-1x", "alpha-token-1:beta-token-2"):
                    with pytest.raises(grpc.RpcError) as caught:
                        list_models(channel, [("authorization", f"Bearer {wrong}")])
                    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
                    assert error_reason(caught.value) == "UNAUTHENTICATED"
        finally:
            server.stop()


class TestTls:
    """TLS with a server certificate, and mutual TLS with client certificates."""

    def test_server_tls(self, triton, tmp_path) -> None:  # type: ignore[no-untyped-def]
        pki = make_pki(tmp_path)
        server = ServerThread(
            make_settings(
                triton_url=triton.grpc_url,
                tls_cert_file=str(pki.server_cert),
                tls_key_file=str(pki.server_key),
            )
        ).start()
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca_cert.read_bytes())
        try:
            wait_serving(server.address, credentials=credentials)
            with grpc.secure_channel(server.address, credentials) as channel:
                assert list_models(channel) == MODEL_COUNT
            with grpc.insecure_channel(server.address) as channel, pytest.raises(grpc.RpcError) as caught:
                list_models(channel)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            server.stop()

    def test_mutual_tls(self, triton, tmp_path) -> None:  # type: ignore[no-untyped-def]
        pki = make_pki(tmp_path)
        server = ServerThread(
            make_settings(
                triton_url=triton.grpc_url,
                tls_cert_file=str(pki.server_cert),
                tls_key_file=str(pki.server_key),
                tls_client_ca_file=str(pki.ca_cert),
            )
        ).start()
        with_client = grpc.ssl_channel_credentials(
            root_certificates=pki.ca_cert.read_bytes(),
            private_key=pki.client_key.read_bytes(),
            certificate_chain=pki.client_cert.read_bytes(),
        )
        without_client = grpc.ssl_channel_credentials(root_certificates=pki.ca_cert.read_bytes())
        try:
            wait_serving(server.address, credentials=with_client)
            with grpc.secure_channel(server.address, with_client) as channel:
                assert list_models(channel) == MODEL_COUNT
            with grpc.secure_channel(server.address, without_client) as channel, pytest.raises(grpc.RpcError):
                list_models(channel)
        finally:
            server.stop()


def upload(stub, content: bytes, *, piece: int = 256 * 1024, size_bytes: int | None = None, metadata=None):  # type: ignore[no-untyped-def]
    def messages():  # type: ignore[no-untyped-def]
        header = laughter_service_pb2.AnalyzeMediaUploadHeader(
            filename="sample.mp4", size_bytes=len(content) if size_bytes is None else size_bytes
        )
        yield laughter_service_pb2.AnalyzeMediaUploadRequest(header=header)
        for i in range(0, len(content), piece):
            yield laughter_service_pb2.AnalyzeMediaUploadRequest(content_chunk=content[i : i + piece])

    return stub.AnalyzeMediaUpload(messages(), metadata=metadata, timeout=300).result


class TestUpload:
    """A file sent in pieces is analysed like one sent whole; bad uploads are refused clearly."""

    def test_same_result_as_one_message(self, server_address: str) -> None:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))
        content = SAMPLE.read_bytes()
        pieces = upload(stub, content)
        whole = stub.AnalyzeMedia(
            laughter_service_pb2.AnalyzeMediaRequest(content=content), timeout=300
        ).result
        assert [seconds(e.start_offset) for e in pieces.events] == [
            seconds(e.start_offset) for e in whole.events
        ]
        assert pieces.summary.media.frames_analyzed == whole.summary.media.frames_analyzed

    def test_size_mismatch(self, server_address: str) -> None:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))
        content = SAMPLE.read_bytes()
        with pytest.raises(grpc.RpcError) as caught:
            upload(stub, content[: len(content) // 2], size_bytes=len(content))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    def test_no_header(self, server_address: str) -> None:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))
        only_bytes = iter([laughter_service_pb2.AnalyzeMediaUploadRequest(content_chunk=b"abc")])
        with pytest.raises(grpc.RpcError) as caught:
            stub.AnalyzeMediaUpload(only_bytes, timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    def test_over_the_upload_limit(self, triton) -> None:  # type: ignore[no-untyped-def]
        server = ServerThread(make_settings(triton_url=triton.grpc_url, max_upload_bytes=100_000)).start()
        try:
            wait_serving(server.address)
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(
                grpc.insecure_channel(server.address)
            )
            for size in (None, 0):  # announced, and discovered while receiving
                with pytest.raises(grpc.RpcError) as caught:
                    upload(stub, SAMPLE.read_bytes(), size_bytes=size)
                assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert error_reason(caught.value) == "MEDIA_TOO_LARGE"
        finally:
            server.stop()
