"""The scripts in clients/python/examples run against the real server (address from LAUGHTER_ADDRESS)."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerThread, make_settings
from tests.sdk.conftest import REPO_ROOT
from tests.tls import make_pki

pytestmark = pytest.mark.integration

EXAMPLES = REPO_ROOT / "clients" / "python" / "examples"
TOKEN = "example-token"
RUN_TIMEOUT_S = 240.0


def run_example(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run an example as integrators would: a fresh interpreter, settings in LAUGHTER_* variables."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LAUGHTER_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(name="tls_server", scope="module")
def fixture_tls_server(
    triton: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, pathlib.Path]]:
    """A server with TLS and a token; yields (address, CA file)."""
    pki = make_pki(tmp_path_factory.mktemp("example-pki"))
    settings = make_settings(
        triton_url=triton.grpc_url,
        auth_token=TOKEN,
        tls_cert_file=str(pki.server_cert),
        tls_key_file=str(pki.server_key),
    )
    server = ServerThread(settings).start()
    yield server.address, pki.ca_cert
    server.stop()


class TestExamples:
    """Each example exits 0 on success with sensible output, and non-zero on failure."""

    def test_analyze_file(self, server_address: str, sample_path: pathlib.Path) -> None:
        """analyze_file.py prints the sample's events; a missing file exits 1."""
        done = run_example("analyze_file.py", str(sample_path), LAUGHTER_ADDRESS=server_address)
        assert done.returncode == 0, done.stderr
        assert "events, dominant type" in done.stdout
        missing = run_example("analyze_file.py", "absent.mp4", LAUGHTER_ADDRESS=server_address)
        assert missing.returncode == 1
        assert "MediaFileNotFoundError" in missing.stderr

    def test_batch_to_jsonl(
        self, server_address: str, test_data: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """batch_to_jsonl.py writes one record per file and exits 1 because one file is bad."""
        folder = tmp_path / "clips"
        folder.mkdir()
        for name in ("audio_only.wav", "silence.wav", "random.bin"):
            shutil.copy(test_data / name, folder / name)
        out = tmp_path / "results.jsonl"
        done = run_example("batch_to_jsonl.py", str(folder), str(out), LAUGHTER_ADDRESS=server_address)
        assert done.returncode == 1, done.stderr
        records = {pathlib.Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
        assert set(records) == {"audio_only.wav", "silence.wav", "random.bin"}
        assert records["audio_only.wav"]["ok"]
        assert records["random.bin"]["error"]["reason"] == "MEDIA_UNDECODABLE"
        assert "2 of 3 files analysed" in done.stdout

    def test_stream_async(self, server_address: str, test_data: pathlib.Path) -> None:
        """stream_async.py streams a file and ends with the summary line."""
        done = run_example(
            "stream_async.py", str(test_data / "audio_only.wav"), LAUGHTER_ADDRESS=server_address
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1].startswith("summary:")

    def test_tls_token(self, tls_server: tuple[str, pathlib.Path], test_data: pathlib.Path) -> None:
        """tls_token.py connects with the CA file and token; a wrong token exits 1."""
        address, ca_file = tls_server
        env = {"LAUGHTER_ADDRESS": address, "LAUGHTER_CA_FILE": str(ca_file)}
        wav = str(test_data / "audio_only.wav")
        done = run_example("tls_token.py", wav, LAUGHTER_AUTH_TOKEN=TOKEN, **env)
        assert done.returncode == 0, done.stderr
        assert "model " in done.stdout
        refused = run_example("tls_token.py", wav, LAUGHTER_AUTH_TOKEN="wrong", **env)
        assert refused.returncode == 1
        assert "refused the token" in refused.stderr
