"""TLS, mutual TLS and the bearer token, end to end with servers whose certificates are made in the test."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Iterator
from typing import Any

import laughter
import pytest
from laughter import AsyncLaughterClient, ClientOptions, LaughterClient
from laughter._cli import main

from tests.conftest import ServerThread, make_settings
from tests.tls import Pki, make_pki

pytestmark = pytest.mark.integration

MODEL_COUNT = 4
"""ListModels: face detector, face emotion, face landmarks and the audio model."""

TOKEN = "sdk-test-token-42"
CALL_TIMEOUT_S = 30.0


@pytest.fixture(name="pki", scope="module")
def fixture_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throw-away CA with server and client certificates."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(name="tls_token_address", scope="module")
def fixture_tls_token_address(triton: Any, pki: Pki) -> Iterator[str]:
    """A server with TLS and a bearer token."""
    settings = make_settings(
        triton_url=triton.grpc_url,
        auth_token=TOKEN,
        tls_cert_file=str(pki.server_cert),
        tls_key_file=str(pki.server_key),
    )
    server = ServerThread(settings).start()
    yield server.address
    server.stop()


@pytest.fixture(name="mtls_address", scope="module")
def fixture_mtls_address(triton: Any, pki: Pki) -> Iterator[str]:
    """A server that requires client certificates signed by the test CA."""
    settings = make_settings(
        triton_url=triton.grpc_url,
        tls_cert_file=str(pki.server_cert),
        tls_key_file=str(pki.server_key),
        tls_client_ca_file=str(pki.ca_cert),
    )
    server = ServerThread(settings).start()
    yield server.address
    server.stop()


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


class TestTlsAndToken:
    """TLS with the server's CA, and the token as metadata."""

    def test_models_and_analysis(self, tls_token_address: str, pki: Pki, test_data: pathlib.Path) -> None:
        """With the CA file and the token, the API answers, the upload path included."""
        options = ClientOptions(
            address=tls_token_address,
            root_certificates=pki.ca_cert,
            auth_token=TOKEN,
            upload_threshold_bytes=0,
        )
        with LaughterClient(options=options) as client:
            assert client.health(timeout_s=CALL_TIMEOUT_S) is laughter.HealthStatus.SERVING
            assert len(client.list_models(timeout_s=CALL_TIMEOUT_S)) == MODEL_COUNT
            result = client.analyze_file(test_data / "audio_only.wav", timeout_s=120.0)
        assert result.events

    async def test_async_client(self, tls_token_address: str, pki: Pki) -> None:
        """The async client takes the same options; PEM bytes work as well as paths."""
        options = ClientOptions(
            address=tls_token_address, root_certificates=pki.ca_cert.read_bytes(), auth_token=TOKEN
        )
        async with AsyncLaughterClient(options=options) as client:
            assert len(await client.list_models(timeout_s=CALL_TIMEOUT_S)) == MODEL_COUNT

    @pytest.mark.parametrize("token", [None, "wrong-token"])
    def test_missing_or_wrong_token(self, tls_token_address: str, pki: Pki, token: str | None) -> None:
        """No token or a wrong one raises UnauthenticatedError with the server's reason, without retries."""
        options = ClientOptions(address=tls_token_address, root_certificates=pki.ca_cert, auth_token=token)
        with (
            LaughterClient(options=options) as client,
            pytest.raises(laughter.UnauthenticatedError) as caught,
        ):
            client.list_models(timeout_s=CALL_TIMEOUT_S)
        assert caught.value.code == "UNAUTHENTICATED"
        assert caught.value.reason == "UNAUTHENTICATED"
        assert isinstance(caught.value, laughter.PermissionDeniedError)

    def test_plaintext_client_refused(self, tls_token_address: str) -> None:
        """A client without TLS cannot talk to a TLS server: a transport error, not a hang."""
        options = ClientOptions(
            address=tls_token_address, auth_token=TOKEN, retry=laughter.RetryPolicy.disabled()
        )
        with LaughterClient(options=options) as client, pytest.raises(laughter.TransportError):
            client.list_models(timeout_s=5.0)

    def test_unreadable_ca_file(self, tmp_path: pathlib.Path) -> None:
        """A CA path that cannot be read raises ConfigurationError when the client is created."""
        options = ClientOptions(address="127.0.0.1:1", root_certificates=tmp_path / "absent.pem")
        with pytest.raises(laughter.ConfigurationError, match=r"absent\.pem"):
            LaughterClient(options=options)

    def test_cli_flags(self, tls_token_address: str, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
        """laughter models honours --ca and --token (or LAUGHTER_AUTH_TOKEN); a wrong token exits 3."""
        common = ("--address", tls_token_address, "--ca", str(pki.ca_cert))
        code, out, _ = run_cli("models", *common, "--token", TOKEN, "--json")
        assert code == 0
        assert '"version"' in out
        code, _, err = run_cli("models", *common, "--token", "nope")
        assert code == 3
        assert "UNAUTHENTICATED" in err
        monkeypatch.setenv("LAUGHTER_AUTH_TOKEN", TOKEN)
        assert run_cli("health", *common)[0] == 0
        assert run_cli("models", *common)[0] == 0


class TestMutualTls:
    """Client certificates."""

    def test_with_client_certificate(self, mtls_address: str, pki: Pki) -> None:
        """The client certificate and key open the connection."""
        options = ClientOptions(
            address=mtls_address,
            root_certificates=pki.ca_cert,
            certificate_chain=pki.client_cert,
            private_key=pki.client_key,
        )
        with LaughterClient(options=options) as client:
            assert len(client.list_models(timeout_s=CALL_TIMEOUT_S)) == MODEL_COUNT

    def test_without_client_certificate(self, mtls_address: str, pki: Pki) -> None:
        """Without a client certificate the handshake fails: a transport error."""
        options = ClientOptions(
            address=mtls_address, root_certificates=pki.ca_cert, retry=laughter.RetryPolicy.disabled()
        )
        with LaughterClient(options=options) as client, pytest.raises(laughter.TransportError):
            client.list_models(timeout_s=5.0)

    def test_certificate_without_key_refused(self, pki: Pki) -> None:
        """A certificate chain without its key is refused by the options."""
        with pytest.raises(ValueError, match="private_key"):
            ClientOptions(certificate_chain=pki.client_cert)

    def test_cli_mutual_tls(self, mtls_address: str, pki: Pki) -> None:
        """--cert and --key give the CLI a client certificate."""
        code, _, err = run_cli(
            "models", "--address", mtls_address, "--ca", str(pki.ca_cert), "--cert", str(pki.client_cert),
            "--key", str(pki.client_key),
        )  # fmt: skip
        assert code == 0, err
