"""Shared fixtures: the dev data, and a real local Triton plus the real gRPC server on loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import pathlib
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from laughter_server.app import RunningServer, build_services, start_server
from laughter_server.config import Settings, load_settings
from laughter_server.inference.supervisor import TritonProcess

from tests.postgres import PostgresServer

REPO = pathlib.Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SAMPLE = REPO / "samples" / "sample.mp4"
TRITON_START_TIMEOUT_S = 120.0
SERVER_START_TIMEOUT_S = 120.0


@pytest.fixture(scope="session")
def dev_data() -> pathlib.Path:
    """The shared development recordings (LAUGHTER_DEV_DATA, default <repo>/../shared/data/dev): every test
    that reads them fails, naming the folder, when they are absent."""
    path = pathlib.Path(os.environ.get("LAUGHTER_DEV_DATA", REPO.parent / "shared" / "data" / "dev"))
    if not (path / "manifest.csv").is_file():
        pytest.fail(
            f"development data not found at {path}: check out the shared data beside the repository "
            "or set LAUGHTER_DEV_DATA to the folder holding manifest.csv"
        )
    return path


@pytest.fixture(scope="session")
def sample_truth() -> dict[str, object]:
    """Ground truth of the bundled sample."""
    return json.loads((REPO / "samples" / "sample.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def fixtures_index() -> dict[str, dict[str, object]]:
    """tests/data/fixtures.json by file name."""
    index = json.loads((DATA / "fixtures.json").read_text())
    return {item["file"]: item for item in index["fixtures"]}


@pytest.fixture(scope="session")
def triton() -> Iterator[TritonProcess]:
    """A real tritonserver (bundled binary) over model_repository/, on free loopback ports."""
    process = TritonProcess(REPO / "model_repository")
    process.start()
    try:
        process.wait_ready(TRITON_START_TIMEOUT_S)
        yield process
    finally:
        process.stop()


class ServerThread:
    """The real gRPC server, run on its own event loop in a thread so sync and async clients can call it."""

    def __init__(self, settings: Settings, listen: str = "127.0.0.1:0") -> None:
        self.settings = settings
        self.listen = listen
        self.port = 0
        self.running: RunningServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="laughter-server", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(SERVER_START_TIMEOUT_S):
            raise TimeoutError("the server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            services = await build_services(self.settings)
            self.running = await start_server(services, self.listen)
            self.port = self.running.port
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.running.stop(self.settings.shutdown_grace_s)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


def wait_serving(
    address: str, timeout_s: float = 60.0, credentials: grpc.ChannelCredentials | None = None
) -> None:
    """Poll grpc.health.v1 until SERVING."""
    channel_for = (
        grpc.insecure_channel if credentials is None else lambda a: grpc.secure_channel(a, credentials)
    )
    with channel_for(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    raise TimeoutError(f"server at {address} not SERVING after {timeout_s} s")


def make_settings(**overrides: object) -> Settings:
    """Settings for a server under test: LAUGHTER_* variables as for the real server, then loopback, no
    metrics port, a fresh results store (SQLite in a temporary folder), and ``overrides``."""
    base = load_settings([], os.environ)
    values = {
        "listen": "127.0.0.1:0",
        "metrics_port": 0,
        "log_format": "console",
        "data_dir": tempfile.mkdtemp(prefix="laughter-data-"),
        **overrides,
    }
    return dataclasses.replace(base, **values).validate()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server(triton: TritonProcess) -> Iterator[ServerThread]:
    """The real server using the session's Triton."""
    thread = ServerThread(make_settings(triton_url=triton.grpc_url)).start()
    wait_serving(thread.address)
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def server_address(server: ServerThread) -> str:
    """host:port of the session's server."""
    return server.address


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL on a free loopback port (fails with how to install it when it is missing)."""
    server = PostgresServer().start()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):
        server.stop()
    server.remove()
