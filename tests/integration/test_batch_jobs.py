"""Batch jobs end to end: a real redis-server (append-only file on), two real ``laughter-worker`` processes
(Celery), two real laughter servers sharing the session's Triton; jobs submitted and read with the real
``laughter batch`` command."""

from __future__ import annotations

import functools
import io
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from laughter import LaughterClient
from laughter._cli import main as laughter_main
from laughter.batch.jobs import DONE, FAILED, PENDING, WORKER_RETRIES, FileRecord, JobStore
from laughter_server.inference.supervisor import TritonProcess

from tests.batch_clips import make_clips
from tests.conftest import DATA, ServerThread, make_settings, wait_serving
from tests.redis_server import RedisServer

pytestmark = pytest.mark.integration

JOB_FILES = 30
VISIBILITY_TIMEOUT_S = 12.0
JOB_TIMEOUT_S = 150.0
OPTIONS = ("--fps", "2")


class Worker:
    """One ``laughter-worker`` process; its log is kept for the failure report."""

    def __init__(self, broker: str, servers: list[str], log: pathlib.Path, *extra: str) -> None:
        self.log = log
        command = [
            sys.executable,
            "-m",
            "laughter.batch.worker",
            "--broker",
            broker,
            "--server",
            ",".join(servers),
            "--concurrency",
            "2",
            "--visibility-timeout",
            str(VISIBILITY_TIMEOUT_S),
            "--retry-backoff",
            "0.2",
            "--retry-backoff-max",
            "1",
            "--loglevel",
            "WARNING",
            *extra,
        ]
        with log.open("ab") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        self.name = f"{socket.gethostname()}:{self.process.pid}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def two_servers(triton: TritonProcess) -> Iterator[list[ServerThread]]:
    threads = [ServerThread(make_settings(triton_url=triton.grpc_url)).start() for _ in range(2)]
    for thread in threads:
        wait_serving(thread.address)
    yield threads
    for thread in threads:
        thread.stop()


@pytest.fixture(scope="module")
def worker_logs(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("worker-logs")


@pytest.fixture
def workers(
    redis_server: RedisServer, two_servers: list[ServerThread], worker_logs: pathlib.Path
) -> Iterator[list[Worker]]:
    addresses = [thread.address for thread in two_servers]
    started = [Worker(redis_server.url, addresses, worker_logs / f"worker-{n}.log") for n in range(2)]
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[JobStore]:
    job_store = JobStore(redis_server.url, retries=WORKER_RETRIES)
    yield job_store
    job_store.close()


def laughter(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = laughter_main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def submit(broker: str, *inputs: str | pathlib.Path, queue: str | None = None) -> str:
    extra = ("--queue", queue) if queue else ()
    code, out, err = laughter("batch", "submit", *map(str, inputs), "--broker", broker, *OPTIONS, *extra)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def wait_finished(store: JobStore, job_id: str, logs: pathlib.Path, timeout_s: float = JOB_TIMEOUT_S) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if store.progress(job_id).finished:
            return
        time.sleep(0.25)
    tails = "\n".join(f"{log.name}: {log.read_text(errors='replace')[-1500:]}" for log in logs.glob("*.log"))
    pytest.fail(f"job {job_id} not finished after {timeout_s} s: {store.progress(job_id)}\n{tails}")


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def assert_complete(store: JobStore, job_id: str, count: int) -> list[FileRecord]:
    """Every file done once, with its own stored result."""
    records = store.records(job_id)
    assert [r.state for r in records] == [DONE] * count, [(r.path, r.state, r.error) for r in records]
    results = list(store.results(job_id))
    assert all(result is not None for _, result in results)
    ids = [record.result_id for record in records]
    assert all(ids)
    assert len(set(ids)) == count
    assert len({record.sha256 for record in records}) == count
    return records


def test_job_of_30_files_finishes_with_30_results_spread_over_both_servers(
    workers: list[Worker],
    two_servers: list[ServerThread],
    store: JobStore,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
    worker_logs: pathlib.Path,
) -> None:
    make_clips(tmp_path / "clips", JOB_FILES, tag="plain")
    job_id = submit(redis_server.url, tmp_path / "clips")
    wait_finished(store, job_id, worker_logs)
    records = assert_complete(store, job_id, JOB_FILES)
    servers = {thread.address for thread in two_servers}
    assert {record.server for record in records} == servers
    assert {record.worker for record in records} == {worker.name for worker in workers}
    assert all(record.media_s == pytest.approx(3.0, abs=0.2) for record in records)

    code, out, _ = laughter("batch", "status", job_id, "--broker", redis_server.url)
    assert code == 0
    assert f"{JOB_FILES}/{JOB_FILES} done {JOB_FILES} failed 0 pending 0" in out
    code, _, err = laughter(
        "batch", "results", job_id, "--broker", redis_server.url, "--out", str(tmp_path / "r.jsonl")
    )
    assert code == 0, err
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(lines) == JOB_FILES
    assert {line["state"] for line in lines} == {DONE}
    assert {line["result"]["result_id"] for line in lines} == {r.result_id for r in records}

    # the servers stored what the job points to (the store writes in the background)
    for record in records[:4]:
        with LaughterClient(record.server) as client:
            stored = functools.partial(_stored, client, record.result_id)
            wait_until(stored, 10.0, f"stored result {record.result_id}")


def _stored(client: LaughterClient, result_id: str) -> bool:
    try:
        return client.get_result(result_id).result_id == result_id
    except Exception:
        return False


def test_worker_killed_mid_file_loses_and_duplicates_nothing(
    workers: list[Worker],
    store: JobStore,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
    worker_logs: pathlib.Path,
) -> None:
    make_clips(tmp_path / "clips", JOB_FILES, tag="kill")
    job_id = submit(redis_server.url, tmp_path / "clips")
    victim, survivor = workers

    def victim_busy() -> bool:
        records = store.records(job_id)
        return sum(r.state == DONE for r in records) >= 3 and any(
            r.state == PENDING and r.worker == victim.name for r in records
        )

    wait_until(victim_busy, 60.0, "the first worker to be mid-file")
    victim.kill()
    interrupted = [r.sha256 for r in store.records(job_id) if r.state == PENDING and r.worker == victim.name]
    assert interrupted
    wait_finished(store, job_id, worker_logs)
    records = {r.sha256: r for r in assert_complete(store, job_id, JOB_FILES)}
    for sha256 in interrupted:  # delivered again after the visibility timeout, finished by the survivor
        assert records[sha256].deliveries >= 2
        assert records[sha256].worker == survivor.name


def test_redis_restart_mid_job_loses_and_duplicates_nothing(
    workers: list[Worker],
    store: JobStore,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
    worker_logs: pathlib.Path,
) -> None:
    make_clips(tmp_path / "clips", JOB_FILES, tag="restart")
    job_id = submit(redis_server.url, tmp_path / "clips")
    wait_until(lambda: store.progress(job_id).done >= 5, 60.0, "five files done")
    assert store.progress(job_id).pending > 0
    redis_server.restart()
    wait_finished(store, job_id, worker_logs)
    assert_complete(store, job_id, JOB_FILES)
    assert all(worker.alive() for worker in workers)


def test_corrupt_file_is_dead_lettered_with_the_servers_reason(
    workers: list[Worker],
    store: JobStore,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
    worker_logs: pathlib.Path,
) -> None:
    (good,) = make_clips(tmp_path / "clips", 1, tag="good")
    corrupt = tmp_path / "clips" / "corrupt.mp4"
    corrupt.write_bytes((DATA / "random.bin").read_bytes())
    job_id = submit(redis_server.url, good, corrupt)
    wait_finished(store, job_id, worker_logs)
    by_path = {pathlib.Path(r.path).name: r for r in store.records(job_id)}
    assert by_path["good-000.mp4"].state == DONE
    failed = by_path["corrupt.mp4"]
    assert failed.state == FAILED
    assert failed.result_id == ""
    assert failed.error is not None
    assert (failed.error["code"], failed.error["reason"]) == ("INVALID_ARGUMENT", "MEDIA_UNDECODABLE")
    assert failed.error["message"]
    assert "Error" not in failed.error["message"]
    assert failed.attempts == 1  # a permanent error is not retried

    code, out, _ = laughter("batch", "status", job_id, "--broker", redis_server.url, "--watch")
    assert code == 3
    assert "done 1 failed 1 pending 0" in out
    assert "dead-letter" in out
    assert "MEDIA_UNDECODABLE" in out


def test_unavailable_server_is_retried_with_backoff_then_dead_lettered(
    store: JobStore, redis_server: RedisServer, tmp_path: pathlib.Path, worker_logs: pathlib.Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    queue = "laughter.batch.unreachable"
    log = worker_logs / "worker-unreachable.log"
    worker = Worker(redis_server.url, [closed], log, "--queue", queue, "--max-retries", "2")
    try:
        (clip,) = make_clips(tmp_path / "clips", 1, tag="unreachable")
        job_id = submit(redis_server.url, clip, queue=queue)
        wait_finished(store, job_id, worker_logs, timeout_s=60.0)
    finally:
        worker.stop()
    (record,) = store.records(job_id)
    assert record.state == FAILED
    assert record.error is not None
    assert record.error["code"] == "UNAVAILABLE"
    assert record.attempts == 3  # the first call and two retries
    assert os.path.basename(record.path) == "unreachable-000.mp4"
