"""``laughter batch`` and ``laughter-worker`` without servers: inputs, error kinds, backoff, the progress line,
flag errors, and the job records' idempotent writes against a real redis-server."""

from __future__ import annotations

import io
import pathlib
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator

import pytest
from laughter._cli import main
from laughter._exceptions import (
    InvalidMediaError,
    MediaTooLargeError,
    ResourceExhaustedError,
    ServerError,
    ServiceUnavailableError,
)
from laughter.batch import worker
from laughter.batch.cli import progress_line
from laughter.batch.inputs import InputError, collect_files
from laughter.batch.jobs import DONE, FAILED, PENDING, FileRecord, JobProgress, JobStore, new_job_id
from laughter.batch.tasks import analysis_options, is_transient, retry_delay_s

from tests.redis_server import RedisServer

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_celery_is_an_sdk_extra_and_not_in_the_servers_install() -> None:
    server = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    sdk = tomllib.loads((REPO / "clients" / "python" / "pyproject.toml").read_text())["project"]
    assert not any("celery" in dependency for dependency in server["dependencies"])
    assert any(dependency.startswith("celery[redis]") for dependency in sdk["optional-dependencies"]["batch"])
    assert not any("celery" in dependency for dependency in sdk["dependencies"])
    assert sdk["scripts"]["laughter-worker"] == "laughter.batch.worker:main"


def test_the_command_line_imports_neither_celery_nor_redis_until_a_batch_command_runs() -> None:
    code = "import sys, laughter._cli; print(sorted({'celery', 'redis', 'kombu'} & set(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def closed_broker() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_inputs_from_a_folder_a_manifest_and_files_each_once(tmp_path: pathlib.Path) -> None:
    (tmp_path / "archive" / "day1").mkdir(parents=True)
    for name in ("archive/a.mp4", "archive/day1/b.wav", "archive/.hidden", "c.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "list.csv").write_text("file,label\nc.mp4,x\narchive/a.mp4,y\n")
    found = collect_files([str(tmp_path / "archive"), str(tmp_path / "list.csv"), str(tmp_path / "c.mp4")])
    names = [path.relative_to(tmp_path).as_posix() for path in found]
    assert names == ["archive/a.mp4", "archive/day1/b.wav", "c.mp4"]
    assert all(path.is_absolute() for path in found)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: None, "no such file or folder"),
        (lambda root: (root / "x.csv").write_text("name\nfoo\n"), "no 'file' or 'path' column"),
        (lambda root: (root / "x.csv").write_text("path\nmissing.mp4\n"), "names 1 missing files"),
        (lambda root: (root / "x.csv").mkdir() and None, "holds no files"),
    ],
)
def test_inputs_that_name_no_file_are_refused(tmp_path: pathlib.Path, setup: object, message: str) -> None:
    setup(tmp_path)  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        collect_files([str(tmp_path / "x.csv")])


def test_transient_errors_are_unavailable_deadline_and_a_full_queue_not_rejections() -> None:
    assert is_transient(ServiceUnavailableError("down", code="UNAVAILABLE"))
    assert is_transient(ResourceExhaustedError("queue full", code="RESOURCE_EXHAUSTED", reason="SERVER_BUSY"))
    assert not is_transient(
        MediaTooLargeError("too big", code="RESOURCE_EXHAUSTED", reason="MEDIA_TOO_LARGE")
    )
    assert not is_transient(InvalidMediaError("bad", code="INVALID_ARGUMENT", reason="MEDIA_UNDECODABLE"))
    assert not is_transient(ServerError("bug", code="INTERNAL"))


def test_retry_delays_grow_and_stay_under_the_cap() -> None:
    for retries, bound in ((0, 2.0), (1, 4.0), (3, 16.0), (10, 30.0)):
        delays = [retry_delay_s(retries, 2.0, 30.0) for _ in range(200)]
        assert all(0.0 <= delay <= bound for delay in delays)
        assert max(delays) > bound / 2  # full jitter uses the whole range
    # the server's RetryInfo delay is a floor, the cap still holds
    assert all(5.0 <= retry_delay_s(0, 2.0, 30.0, at_least_s=5.0) <= 30.0 for _ in range(50))
    assert retry_delay_s(0, 2.0, 30.0, at_least_s=90.0) == 30.0


def test_job_options_map_to_analysis_options_and_unknown_names_are_ignored() -> None:
    options = analysis_options({"analysis_frame_rate_hertz": 2.0, "disable_video": True, "other": 1})
    assert options.analysis_frame_rate_hertz == 2.0
    assert options.disable_video
    assert options.laughter_threshold is None


def test_progress_line_shows_counts_bar_and_eta() -> None:
    progress = JobProgress("j", done=9, failed=1, pending=10, in_progress=2, created_s=0, media_s=0, eta_s=65)
    line = progress_line(progress)
    assert line.startswith("[" + "#" * 15 + "." * 15 + "]")
    assert "10/20 done 9 failed 1 pending 10 (2 running) ETA 0:01:05" in line


def test_broker_down_exits_4_with_the_url(tmp_path: pathlib.Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    url = closed_broker()
    code, _, err = run_cli("batch", "submit", str(clip), "--broker", url)
    assert code == 4
    assert f"no answer from the broker at {url}" in err


def test_submit_of_a_missing_file_exits_2_before_touching_the_broker(tmp_path: pathlib.Path) -> None:
    code, _, err = run_cli("batch", "submit", str(tmp_path / "nope.mp4"), "--broker", closed_broker())
    assert code == 2
    assert "no such file or folder" in err


def test_worker_refuses_a_retry_cap_past_the_visibility_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    code = worker.main(["--visibility-timeout", "10", "--retry-backoff-max", "10"])
    assert code == 2
    assert "--retry-backoff-max must be below --visibility-timeout" in capsys.readouterr().err


def test_worker_reports_an_unreadable_token_file(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = worker.main(["--token-file", str(tmp_path / "missing-token")])
    assert code == 2
    assert f"cannot read --token-file {tmp_path / 'missing-token'}" in capsys.readouterr().err


def test_worker_reads_the_token_file_stripped(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "token"
    path.write_text("s3cret\n")
    assert worker._token(str(path)) == "s3cret"
    assert worker._token(None) is None


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer().start()
    yield server.url
    server.remove()


@pytest.mark.integration
def test_first_done_wins_and_a_repeated_delivery_changes_nothing(redis_url: str) -> None:
    store = JobStore(redis_url)
    job = new_job_id()
    store.create(job, {}, "q")
    pending = FileRecord(sha256="a" * 64, path="/x/a.mp4", size_bytes=10)
    assert store.add_file(job, pending)
    assert not store.add_file(job, pending)  # the same contents twice are one file
    assert store.note_start(job, pending.sha256, "w1") == PENDING
    failed = FileRecord(
        sha256=pending.sha256, path=pending.path, size_bytes=10, state=FAILED, error={"code": "UNAVAILABLE"}
    )
    assert store.record_outcome(job, failed, None) == 1
    done = FileRecord(sha256=pending.sha256, path=pending.path, size_bytes=10, state=DONE, result_id="r1")
    assert store.record_outcome(job, done, {"result_id": "r1"}) == 1  # a later success replaces a failure
    again = FileRecord(sha256=pending.sha256, path=pending.path, size_bytes=10, state=DONE, result_id="r2")
    assert store.record_outcome(job, again, {"result_id": "r2"}) == 0
    assert store.record_outcome(job, failed, None) == 0
    assert store.note_start(job, pending.sha256, "w2") == DONE
    record = store.record(job, pending.sha256)
    assert record is not None
    assert (record.state, record.result_id, record.deliveries) == (DONE, "r1", 1)
    assert [result for _, result in store.results(job)] == [{"result_id": "r1"}]
    unknown = FileRecord(sha256="b" * 64, path="/x/b.mp4", size_bytes=1, state=DONE)
    assert store.record_outcome(job, unknown, {}) == -1
    progress = store.progress(job)
    assert (progress.done, progress.failed, progress.pending, progress.eta_s) == (1, 0, 0, 0.0)
    store.close()


@pytest.mark.integration
def test_status_and_results_of_an_unknown_job_exit_2(redis_url: str) -> None:
    for action in ("status", "results"):
        code, _, err = run_cli("batch", action, "nojob", "--broker", redis_url)
        assert code == 2
        assert "no job nojob" in err


@pytest.mark.integration
def test_submit_queues_each_content_once_and_job_alone_requeues_only_pending(
    redis_url: str, tmp_path: pathlib.Path
) -> None:
    for name, content in (("a.mp4", b"one"), ("b.mp4", b"two"), ("copy-of-a.mp4", b"one")):
        (tmp_path / name).write_bytes(content)
    queue = "laughter.batch.requeue-test"
    code, out, err = run_cli("batch", "submit", str(tmp_path), "--broker", redis_url, "--queue", queue)
    assert code == 0, err
    assert "2 files queued, 1 skipped" in err
    job = out.strip()
    store = JobStore(redis_url)
    assert store.client.llen(queue) == 2
    (first, second) = store.records(job)
    done = FileRecord(sha256=first.sha256, path=first.path, size_bytes=3, state=DONE, result_id="r")
    assert store.record_outcome(job, done, {}) == 1
    code, _, err = run_cli("batch", "submit", "--job", job, "--broker", redis_url, "--queue", queue)
    assert code == 0, err
    assert store.client.llen(queue) == 3  # the pending one again, not the done one
    message = store.client.lindex(queue, 0)
    assert message is not None
    assert second.sha256.encode() in message
    code, _, err = run_cli("batch", "submit", "--broker", redis_url)
    assert code == 2
    assert "give files" in err
    store.client.delete(queue)
    store.close()
