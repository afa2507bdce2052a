"""``laughter-server`` processes over one external Triton, as an orchestrator tier runs them: each with its own
gRPC port, /metrics port, results store and log file; and a TCP relay that can cut one server's link to
Triton (a real network fault: the server's Triton client sees the connection refused)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request

from laughter_server.inference.supervisor import find_free_ports

from tests.conftest import wait_serving

SERVER_COMMAND = pathlib.Path(sys.executable).parent / "laughter-server"


class ServerProcess:
    """One ``laughter-server --triton-url URL`` process on free loopback ports."""

    def __init__(self, triton_url: str, *extra_args: str) -> None:
        self.triton_url = triton_url
        self.port, self.metrics_port = find_free_ports(2)
        self.data_dir = tempfile.mkdtemp(prefix="laughter-server-")
        self.log_path = pathlib.Path(self.data_dir) / "server.log"
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        command = [
            str(SERVER_COMMAND),
            "--triton-url",
            self.triton_url,
            "--listen",
            self.address,
            "--metrics-port",
            str(self.metrics_port),
            "--data-dir",
            self.data_dir,
            "--workers",
            "1",
            *self.extra_args,
        ]
        env = {**os.environ, "LAUGHTER_LOG_FORMAT": "json"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        return self

    def wait_serving(self, timeout_s: float = 180.0) -> ServerProcess:
        try:
            wait_serving(self.address, timeout_s=timeout_s)
        except TimeoutError:
            raise TimeoutError(f"{self.address} not serving; log tail:\n{self.log_tail()}") from None
        return self

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())

    def calls(self, method: str) -> int:
        """``laughter_rpc_seconds_count`` of ``method`` on this server's own /metrics (0 before the first)."""
        pattern = rf'^laughter_rpc_seconds_count\{{method="{re.escape(method)}"\}} ([0-9.e+]+)$'
        match = re.search(pattern, self.metrics(), re.MULTILINE)
        return int(float(match.group(1))) if match else 0

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 60.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


class TcpRelay:
    """Forwards a free loopback port to ``target_port``; :meth:`cut` closes the port and every open link
    (new connections are refused), :meth:`restore` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        (self.port,) = find_free_ports(1)
        self._listener: socket.socket | None = None
        self._links: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpRelay:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="relay-accept").start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._links.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone does not
            self._listener.close()
            self._listener = None
        with self._lock:
            links, self._links = self._links, set()
        for sock in links:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        if self._listener is None:
            self.start()
