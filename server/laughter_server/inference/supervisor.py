"""Start and supervise the local Triton server bundled in the ``nvidia-pytriton`` wheel (CPU, Python backend).

The wheel ships a real ``tritonserver`` binary, the Python backend and one backend stub per Python version.
Three things make it run from a virtual environment (measured, see docs/triton.md):
the stub for this interpreter sits in the backend folder as ``triton_python_backend_stub``; LD_LIBRARY_PATH
starts with this interpreter's LIBDIR (so the stub loads the matching libpython) and the wheel's library
folder; PATH starts with this interpreter's ``bin/`` (the stub finds site-packages through ``python3``).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request

import structlog

from laughter_server.errors import ModelUnavailableError

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1
LOG_TAIL_LINES = 200


def find_free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the kernel hands out for ``bind((host, 0))``, all distinct, released before returning."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclasses.dataclass(frozen=True)
class TritonInstall:
    """Where the bundled Triton lives inside site-packages."""

    binary: pathlib.Path
    backend_dir: pathlib.Path
    stub: pathlib.Path
    libs_dir: pathlib.Path

    @classmethod
    def locate(cls) -> TritonInstall:
        """Find the binary, backend and the stub for this Python; raise ModelUnavailableError if absent."""
        try:
            import pytriton
        except ImportError as exc:
            raise ModelUnavailableError(
                "the embedded Triton needs the nvidia-pytriton package; install it or pass --triton-url"
            ) from exc
        root = pathlib.Path(pytriton.__file__).resolve().parent / "tritonserver"
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        install = cls(
            binary=root / "bin" / "tritonserver",
            backend_dir=root / "backends" / "python",
            stub=root / "python_backend_stubs" / version / "triton_python_backend_stub",
            libs_dir=root.parent.parent / "nvidia_pytriton.libs",
        )
        for path in (install.binary, install.backend_dir, install.stub):
            if not path.exists():
                raise ModelUnavailableError(
                    f"the bundled Triton is incomplete: {path} is missing (Python {version} supported?)"
                )
        return install


class TritonProcess:
    """A ``tritonserver`` child process on free loopback ports: ``start()``, ``wait_ready()``, ``stop()``.

    The child dies with its parent (PR_SET_PDEATHSIG). Its output is kept (last lines) so that a failed
    start can be explained, and ``is_alive`` / ``exit_code`` tell a supervisor when it died.
    """

    def __init__(
        self,
        model_repository: pathlib.Path,
        *,
        host: str = "127.0.0.1",
        model_config_name: str = "",
        log_verbose: int = 0,
    ) -> None:
        self.model_repository = model_repository.resolve()
        self.host = host
        self.model_config_name = model_config_name
        self.log_verbose = log_verbose
        self.http_port, self.grpc_port, self.metrics_port = find_free_ports(3, host)
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self._reader: threading.Thread | None = None

    @property
    def grpc_url(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def log_tail(self, lines: int = 30) -> str:
        """Triton's error lines (``E...``) followed by the last lines it printed, for error messages."""
        if self._reader is not None and not self.is_alive:
            self._reader.join(timeout=2.0)  # the process ended: let the reader take its last lines
        kept = list(self._lines)
        errors = [line for line in kept[:-lines] if line.startswith("E")]
        return "\n".join(errors + kept[-lines:])

    def _prepare_backends(self, install: TritonInstall) -> pathlib.Path:
        self._workdir = tempfile.TemporaryDirectory(prefix="laughter-triton-")
        backends = pathlib.Path(self._workdir.name) / "backends"
        python_backend = backends / "python"
        python_backend.mkdir(parents=True)
        for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
            os.symlink(install.backend_dir / name, python_backend / name)
        shutil.copy2(install.stub, python_backend / "triton_python_backend_stub")
        return backends

    def _environment(self, install: TritonInstall) -> dict[str, str]:
        env = dict(os.environ)
        libdir = sysconfig.get_config_var("LIBDIR") or ""
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (libdir, str(install.libs_dir), env.get("LD_LIBRARY_PATH", "")) if p
        )
        env["PATH"] = os.pathsep.join((str(pathlib.Path(sys.executable).parent), env.get("PATH", "")))
        env.setdefault("OMP_NUM_THREADS", "1")
        return env

    def command(self, install: TritonInstall, backends: pathlib.Path) -> list[str]:
        """The tritonserver command line."""
        cmd = [
            str(install.binary),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={backends}",
            f"--http-address={self.host}",
            f"--grpc-address={self.host}",
            f"--http-port={self.http_port}",
            f"--grpc-port={self.grpc_port}",
            f"--metrics-port={self.metrics_port}",
            "--allow-metrics=true",
            "--allow-gpu-metrics=false",
            "--strict-readiness=true",
            "--exit-on-error=true",
            f"--log-verbose={self.log_verbose}",
        ]
        if self.model_config_name:
            cmd.append(f"--model-config-name={self.model_config_name}")
        return cmd

    def start(self) -> None:
        """Launch the child process; returns at once (see ``wait_ready``)."""
        install = TritonInstall.locate()
        backends = self._prepare_backends(install)
        cmd = self.command(install, backends)
        log.info("triton.starting", grpc_url=self.grpc_url, model_repository=str(self.model_repository))
        self._proc = subprocess.Popen(
            cmd,
            env=self._environment(install),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(
            target=self._read_output, args=(self._proc,), name="triton-log", daemon=True
        )
        self._reader.start()

    def _read_output(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self._lines.append(line)
            if self.log_verbose:
                log.debug("triton.output", line=line)

    def is_ready(self) -> bool:
        """True when Triton answers HTTP /v2/health/ready with 200."""
        try:
            with urllib.request.urlopen(self.http_url + "/v2/health/ready", timeout=1.0) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout_s: float) -> None:
        """Block until ready; raise ModelUnavailableError with Triton's last output if it dies or times out."""
        deadline = time.monotonic() + timeout_s
        started = time.monotonic()
        while time.monotonic() < deadline:
            if not self.is_alive:
                raise ModelUnavailableError(
                    f"the local Triton exited with code {self.exit_code} while starting; last output:\n"
                    + self.log_tail()
                )
            if self.is_ready():
                log.info(
                    "triton.ready", grpc_url=self.grpc_url, startup_s=round(time.monotonic() - started, 2)
                )
                return
            time.sleep(0.1)
        self.stop()
        raise ModelUnavailableError(
            f"the local Triton was not ready after {timeout_s:.0f} s; last output:\n" + self.log_tail()
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGINT, wait, then SIGKILL; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout_s)
            log.info("triton.stopped", exit_code=proc.returncode)
        if proc is not None and proc.stdout is not None:
            # the reader ends at the pipe's end of file once the child has gone; closing the pipe under a
            # read that is still going would fail it, so a pipe some grandchild still holds is left open
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.join(timeout=2.0)
            if reader is None or not reader.is_alive():
                proc.stdout.close()
        if self._workdir is not None:
            with contextlib.suppress(OSError):
                self._workdir.cleanup()
            self._workdir = None

    def restart(self) -> None:
        """Stop (if needed) and start again on the same ports, so clients keep their URL."""
        self.stop()
        self._lines.clear()
        self.start()

    def kill(self) -> None:
        """Kill the child at once (used by fault-injection tests)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
