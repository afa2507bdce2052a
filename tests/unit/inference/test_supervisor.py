"""The bundled Triton: locating it, and starting, failing and stopping a real tritonserver process."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from laughter_server.errors import ModelUnavailableError
from laughter_server.inference.supervisor import TritonInstall, TritonProcess, find_free_ports

START_TIMEOUT_S = 60.0
BROKEN_CONFIG = 'name: "broken"\nbackend: "python"\nthis is { not valid protobuf text\n'


@pytest.fixture(name="broken_repository")
def fixture_broken_repository(tmp_path: Path) -> Path:
    """A model repository whose only model has an unparsable config.pbtxt."""
    model = tmp_path / "broken"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text(BROKEN_CONFIG)
    return tmp_path


@pytest.fixture(name="stopping")
def fixture_stopping() -> Iterator[list[TritonProcess]]:
    """Processes registered here are stopped after the test, whatever happened."""
    processes: list[TritonProcess] = []
    yield processes
    for process in processes:
        process.stop()


class TestFindFreePorts:
    """find_free_ports hands out distinct bindable ports."""

    def test_distinct_and_bindable(self) -> None:
        """Five ports are distinct, in range, and can be bound right away."""
        ports = find_free_ports(5)
        assert len(set(ports)) == 5
        assert all(1024 <= p <= 65535 for p in ports)
        for port in ports:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", port))


class TestTritonInstall:
    """TritonInstall.locate finds the binary bundled with nvidia-pytriton."""

    def test_locates_binary_and_stub(self) -> None:
        """Binary, Python backend and this interpreter's stub exist."""
        install = TritonInstall.locate()
        assert install.binary.name == "tritonserver"
        assert install.binary.is_file()
        assert (install.backend_dir / "libtriton_python.so").exists()
        assert install.stub.is_file()
        assert f"{sys.version_info.major}.{sys.version_info.minor}" in install.stub.parts
        assert install.libs_dir.is_dir()


class TestTritonProcess:
    """A real tritonserver child process."""

    def test_command_uses_own_ports(self, tmp_path: Path) -> None:
        """The command line names the repository and three distinct loopback ports."""
        process = TritonProcess(tmp_path, model_config_name="gpu")
        command = process.command(TritonInstall.locate(), tmp_path / "backends")
        assert f"--model-repository={tmp_path.resolve()}" in command
        assert f"--grpc-port={process.grpc_port}" in command
        assert "--model-config-name=gpu" in command
        assert len({process.http_port, process.grpc_port, process.metrics_port}) == 3
        assert process.grpc_url == f"127.0.0.1:{process.grpc_port}"

    def test_empty_repository_starts_and_stops(self, tmp_path: Path, stopping: list[TritonProcess]) -> None:
        """On an empty repository Triton becomes ready; stop() ends it and cleans up."""
        process = TritonProcess(tmp_path)
        stopping.append(process)
        assert not process.is_alive
        process.start()
        process.wait_ready(START_TIMEOUT_S)
        assert process.is_alive
        assert process.is_ready()
        process.stop()
        assert not process.is_alive
        assert not process.is_ready()
        process.stop()  # safe twice

    def test_broken_config_is_model_unavailable(
        self, broken_repository: Path, stopping: list[TritonProcess]
    ) -> None:
        """A config.pbtxt Triton cannot parse makes wait_ready raise with Triton's exit code and output."""
        process = TritonProcess(broken_repository)
        stopping.append(process)
        process.start()
        with pytest.raises(ModelUnavailableError) as caught:
            process.wait_ready(START_TIMEOUT_S)
        assert "exited with code" in caught.value.message
        assert "last output" in caught.value.message
        assert caught.value.message.count("\n") >= 5
        assert not process.is_alive
        assert process.exit_code not in (None, 0)

    def test_broken_config_message_names_the_model(
        self, broken_repository: Path, stopping: list[TritonProcess]
    ) -> None:
        """The start failure names the broken model directory."""
        process = TritonProcess(broken_repository)
        stopping.append(process)
        process.start()
        with pytest.raises(ModelUnavailableError) as caught:
            process.wait_ready(START_TIMEOUT_S)
        assert "'broken'" in caught.value.message
