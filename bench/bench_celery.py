"""Batch jobs on Celery (``make bench``): one 30-file job through ``laughter-worker`` processes on a real
redis-server, with 1 worker + 1 server, then 2 workers + 2 servers sharing one local Triton.

Each configuration gets its own clips (the sample's first ``--seconds`` seconds, stream-copied with distinct
titles, so no server answers from its content cache) and fresh ``laughter-server`` processes. Prints files
per minute and media hours analysed per wall hour, from the submit to the last outcome; the reference is the
1 + 1 configuration of the same run, and the figure of interest is the ratio. On a machine with few cores
the two servers share the same CPUs as Triton, so the ratio shows what the orchestrator tier adds there,
not what separate hosts would.
"""

from __future__ import annotations

import argparse
import io
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter._cli import main as laughter_main  # noqa: E402
from laughter.batch.jobs import WORKER_RETRIES, JobStore  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess, find_free_ports  # noqa: E402

from tests.batch_clips import make_clips  # noqa: E402
from tests.conftest import wait_serving  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
JOB_TIMEOUT_S = 1800.0


@contextmanager
def process(command: list[str], log: pathlib.Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def servers(stack: ExitStack, count: int, triton_url: str, folder: pathlib.Path) -> list[str]:
    addresses = []
    for number in range(count):
        (port,) = find_free_ports(1)
        address = f"127.0.0.1:{port}"
        data = folder / f"data-{number}"
        data.mkdir()
        command = [str(BIN / "laughter-server"), "--listen", address, "--metrics-port", "0"]
        command += ["--triton-url", triton_url, "--data-dir", str(data)]
        stack.enter_context(process(command, folder / f"server-{number}.log"))
        addresses.append(address)
    for address in addresses:
        wait_serving(address, timeout_s=120)
    return addresses


def run_job(broker: str, clips: list[pathlib.Path], fps: float | None) -> tuple[float, float, int]:
    """Submit the clips as one job and wait for it: (wall seconds, media seconds done, files failed)."""
    out = io.StringIO()
    options = ["--fps", str(fps)] if fps else []
    started = time.perf_counter()
    code = laughter_main(["batch", "submit", *map(str, clips), "--broker", broker, *options], stdout=out)
    if code != 0:
        raise RuntimeError(f"laughter batch submit exited with {code}")
    job_id = out.getvalue().strip().splitlines()[-1]
    store = JobStore(broker, retries=WORKER_RETRIES)
    try:
        end = time.monotonic() + JOB_TIMEOUT_S
        while not (progress := store.progress(job_id)).finished:
            if time.monotonic() > end:
                raise TimeoutError(f"job {job_id} unfinished after {JOB_TIMEOUT_S} s: {progress}")
            time.sleep(0.1)
        return time.perf_counter() - started, progress.media_s, progress.failed
    finally:
        store.close()


def configuration(
    count: int, triton_url: str, broker: str, folder: pathlib.Path, args: argparse.Namespace
) -> tuple[float, float, int]:
    """``count`` servers and ``count`` workers (each worker given every server): warm up, then the job."""
    folder.mkdir()
    with ExitStack() as stack:
        addresses = servers(stack, count, triton_url, folder)
        for number in range(count):
            command = [sys.executable, "-m", "laughter.batch.worker", "--broker", broker]
            command += ["--server", ",".join(addresses), "--concurrency", str(args.concurrency)]
            command += ["--loglevel", "WARNING"]
            stack.enter_context(process(command, folder / f"worker-{number}.log"))
        warm = make_clips(folder / "warm", 2 * count, seconds=args.seconds, tag=f"warm{count}")
        run_job(broker, warm, args.fps)  # one-off start-up costs on every server and worker
        clips = make_clips(folder / "clips", args.files, seconds=args.seconds, tag=f"job{count}")
        return run_job(broker, clips, args.fps)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=30, help="files in the job (default 30)")
    parser.add_argument("--seconds", type=float, default=10.0, help="media seconds per file (default 10)")
    parser.add_argument("--concurrency", type=int, default=2, help="files per worker at a time (default 2)")
    parser.add_argument("--fps", type=float, default=None, help="frames analysed per second (server default)")
    args = parser.parse_args()
    redis = RedisServer().start()
    triton = TritonProcess(REPO / "model_repository")
    triton.start()
    try:
        triton.wait_ready(120)
        with tempfile.TemporaryDirectory(prefix="bench-celery-") as folder:
            rows = []
            for count in (1, 2):
                wall_s, media_s, failed = configuration(
                    count, triton.grpc_url, redis.url, pathlib.Path(folder) / f"x{count}", args
                )
                rows.append((count, wall_s, media_s, failed))
    finally:
        triton.stop()
        redis.remove()
    print(
        f"\n== batch jobs on Celery: {args.files} files of {args.seconds:.0f} s, workers of concurrency "
        f"{args.concurrency}, one local Triton, {os.cpu_count()} CPUs"
    )
    print(
        f"  {'workers+servers':>15} {'wall s':>8} {'files/min':>10} {'media h/h':>10} {'vs 1+1':>7} {'failed':>6}"
    )
    baseline = None
    for count, wall_s, media_s, failed in rows:
        files_per_min = (args.files - failed) / wall_s * 60
        baseline = baseline or files_per_min
        print(
            f"  {f'{count}+{count}':>15} {wall_s:>8.1f} {files_per_min:>10.1f} {media_s / wall_s:>10.2f} "
            f"{files_per_min / baseline:>6.2f}x {failed:>6d}"
        )
    print("  media h/h = media-hours analysed per wall hour, from the submit to the last file's outcome")


if __name__ == "__main__":
    main()
