"""``laughter-server --workers N``: N server processes on one port, sharing one Triton.

The parent reserves the gRPC port (a socket bound with SO_REUSEPORT, never listening, so that a port in use
fails here and the workers can still bind it), starts the embedded Triton once (or uses ``--triton-url``),
applies the store's migrations once, serves ``/metrics`` as the sum of every worker (prometheus_client's
multiprocess mode over ``PROMETHEUS_MULTIPROC_DIR``), and then runs N ``laughter-server`` processes, each
listening on the same port with SO_REUSEPORT: the kernel deals each new connection to one of them, and
every call and stream on a connection stays with that process (a live session, an upload). Only worker 0
serves ``--web-listen``: the browser's session calls arrive as separate HTTP requests, often on several
connections, and must all reach the process holding the session.

SIGTERM/SIGINT drains the workers (each writes its queued results) and stops Triton last. A worker starts
with both signals blocked and unblocks them once its handlers are in place, so a stop that arrives while it
is still loading is held until it can drain, never the default death. A worker that
dies is started again; more than ``MAX_RESTARTS`` deaths within ``RESTART_WINDOW_S`` stop everything and
the parent exits 1, so that a crash loop reaches the supervisor (systemd, Kubernetes) instead of spinning.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import math
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

import sqlalchemy as sa
import structlog

from laughter_server.aio import STOP_SIGNALS, handle_stop_signals, wait_set
from laughter_server.config import Settings, load_settings
from laughter_server.errors import InvalidOptionError, LaughterError
from laughter_server.inference.supervisor import TritonProcess, _die_with_parent
from laughter_server.logging import configure_logging
from laughter_server.store.database import ResultStore, engine_url

log = structlog.get_logger(__name__)

MAX_RESTARTS = 3
RESTART_WINDOW_S = 60.0
POLL_S = 0.5
STOP_SLACK_S = 15.0
"""Beyond ``shutdown_grace_s``: a worker's Triton channel, store and web port close after the drain."""


CGROUP_CPU_MAX = pathlib.Path("/sys/fs/cgroup/cpu.max")


def available_cores(cpu_max: pathlib.Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity (taskset, cpusets), capped by a cgroup v2 CPU quota
    (a container's ``--cpus`` or a Kubernetes CPU limit), rounded up."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def reserve_port(listen: str) -> socket.socket:
    """Bind (not listen) ``host:port`` with SO_REUSEPORT and keep it, as grpc's multiprocessing example
    does: a port taken by another program fails here, and the workers can still bind it."""
    host, _, port_text = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
    except ValueError:
        raise InvalidOptionError("listen", f"listen {listen!r}: the port is not a number") from None
    if port == 0:
        raise InvalidOptionError("listen", "--workers above 1 needs a fixed port in --listen (not :0)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise InvalidOptionError(
            "listen", f"cannot listen on {listen}: address in use or not available"
        ) from None
    return sock


def migrate_store(settings: Settings) -> None:
    """Apply the migrations once before the workers open the store (they then find it at head)."""
    store = ResultStore(engine_url(settings.database_url, settings.data_dir))
    try:
        store.migrate()
    except sa.exc.OperationalError:
        log.warning("store.unreachable_at_start", dialect=store.dialect)
    finally:
        store.close()


@dataclasses.dataclass
class Worker:
    """One server process."""

    index: int
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


def _start_worker_process() -> None:
    """In the child before exec: tied to the parent, with the stop signals blocked until ``serve`` handles
    them (a blocked signal stays pending across exec)."""
    _die_with_parent()
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


class WorkerPool:
    """Starts, watches and stops the worker processes."""

    def __init__(self, argv: Sequence[str], triton_url: str, count: int, metrics_dir: pathlib.Path) -> None:
        self.argv = list(argv)
        self.triton_url = triton_url
        self.count = count
        self.metrics_dir = metrics_dir
        self.workers: dict[int, Worker] = {}
        self.deaths: collections.deque[float] = collections.deque()

    def command(self, index: int) -> list[str]:
        """The worker's command line: the parent's flags, then those only the parent may set."""
        overrides = ["--triton-url", self.triton_url, "--metrics-port", "0", "--workers", "1"]
        if index > 0:
            overrides += ["--web-listen", ""]
        return [sys.executable, "-m", "laughter_server.workers", str(index), *self.argv, *overrides]

    def start(self, index: int) -> Worker:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}
        process = subprocess.Popen(  # own process group: a terminal's Ctrl-C reaches the parent, which drains
            self.command(index),
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_start_worker_process,
            process_group=0,
        )
        worker = Worker(index, process)
        self.workers[index] = worker
        log.info("worker.started", worker=index, pid=worker.pid, workers=self.count)
        return worker

    def start_all(self) -> None:
        for index in range(self.count):
            self.start(index)

    def reap(self) -> bool:
        """Start again the workers that died; False when too many died too quickly."""
        for index, worker in list(self.workers.items()):
            code = worker.process.poll()
            if code is None:
                continue
            self._forget(worker)
            now = time.monotonic()
            self.deaths.append(now)
            while self.deaths and now - self.deaths[0] > RESTART_WINDOW_S:
                self.deaths.popleft()
            log.error("worker.died", worker=index, pid=worker.pid, exit_code=code)
            if len(self.deaths) > MAX_RESTARTS:
                log.error("worker.restarts_exhausted", restarts=MAX_RESTARTS, window_s=RESTART_WINDOW_S)
                return False
            self.start(index)
        return True

    def _forget(self, worker: Worker) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(self.metrics_dir))  # type: ignore[no-untyped-call]

    def stop(self, sig: signal.Signals, timeout_s: float) -> bool:
        """Signal every worker, wait up to ``timeout_s``, kill the rest; True when all exited 0."""
        clean = True
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(sig)
        deadline = time.monotonic() + timeout_s
        for worker in self.workers.values():
            try:
                code = worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                code = worker.process.wait(timeout=10)
                log.error("worker.killed", worker=worker.index, pid=worker.pid)
            clean = clean and code == 0
            log.info("worker.stopped", worker=worker.index, pid=worker.pid, exit_code=code)
        return clean


def _start_metrics(settings: Settings, metrics_dir: pathlib.Path) -> None:
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))  # type: ignore[no-untyped-call]
    host = settings.listen.rsplit(":", 1)[0].strip("[]") or "0.0.0.0"
    start_http_server(settings.metrics_port, addr=host, registry=registry)


def _start_triton(settings: Settings) -> TritonProcess:
    triton = TritonProcess(
        pathlib.Path(settings.model_repository), model_config_name=settings.triton_model_config_name
    )
    triton.start()
    try:
        triton.wait_ready(settings.triton_startup_timeout_s)
    except LaughterError:
        triton.stop()
        raise
    return triton


async def _supervise(pool: WorkerPool, triton: TritonProcess | None, settings: Settings) -> int:
    """Start the workers and watch them (and the local Triton) until a signal; then drain them and return
    the exit code. The handlers come first: a stop right after the workers start drains them too."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handle_stop_signals(loop, stop)
    pool.start_all()
    healthy = True
    while not stop.is_set():
        if not pool.reap():
            healthy = False
            break
        if triton is not None and not triton.is_alive:
            log.error("triton.died", exit_code=triton.exit_code, last_output=triton.log_tail(10))
            with contextlib.suppress(LaughterError):
                triton.restart()  # same ports: the workers' channels reconnect
                await asyncio.to_thread(triton.wait_ready, settings.triton_startup_timeout_s)
        await wait_set(stop, POLL_S)
    log.info("server.stopping", grace_s=settings.shutdown_grace_s, workers=len(pool.workers))
    clean = await asyncio.to_thread(pool.stop, signal.SIGTERM, settings.shutdown_grace_s + STOP_SLACK_S)
    return 0 if healthy and clean else 1


def run_workers(settings: Settings, count: int, argv: Sequence[str]) -> int:
    """The parent of ``--workers N`` (N > 1); returns the exit code."""
    reserved = reserve_port(settings.listen)
    metrics_dir = pathlib.Path(tempfile.mkdtemp(prefix="laughter-metrics-"))
    triton = None
    try:
        if settings.metrics_port:
            _start_metrics(settings, metrics_dir)
        url = settings.triton_url
        if not url:
            triton = _start_triton(settings)  # from this thread: the child is tied to it (PR_SET_PDEATHSIG)
            url = triton.grpc_url
        migrate_store(settings)
        pool = WorkerPool(argv, url, count, metrics_dir)
        try:
            code = asyncio.run(_supervise(pool, triton, settings))
        except BaseException:
            pool.stop(signal.SIGTERM, settings.shutdown_grace_s + STOP_SLACK_S)
            raise
        log.info("server.stopped", exit_code=code)
        return code
    finally:
        if triton is not None:
            triton.stop()
        reserved.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_main(argv: Sequence[str]) -> int:
    """One worker: ``python -m laughter_server.workers INDEX FLAGS...`` (started by the parent)."""
    index = int(argv[0])
    try:
        settings = load_settings(argv[1:], os.environ)
    except InvalidOptionError as exc:
        sys.stderr.write(f"laughter-server worker {index}: {exc.message}\n")
        return 2
    configure_logging(settings.log_format, settings.log_level, {"worker": index, "pid": os.getpid()})
    from laughter_server.app import serve

    try:
        asyncio.run(serve(settings, reuse_port=True, signals_blocked=True))
    except LaughterError as exc:
        structlog.get_logger("laughter_server").error("server.failed", reason=exc.reason, detail=exc.message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
