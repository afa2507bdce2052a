"""Batch throughput benchmark (``make bench``): 30 copies of the sample through the SDK's
``LaughterClient.analyze_files`` at concurrency 1, 4 and 8, against the real gRPC server and a real local
Triton.

For each concurrency: files per minute, media-hours analysed per wall hour, the ratio to concurrency 1, and
CPU use as CPU seconds over wall seconds (1.0 = one core busy) of the server process (the server runs in
this process, so the SDK client's own threads are included) and of Triton (tritonserver plus its
Python-backend model processes), read from /proc. The machine is shared: compare the ratios, not the
absolute figures, across runs.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import resource
import shutil
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter import ClientOptions, LaughterClient  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess  # noqa: E402

from tests.conftest import ServerThread, make_settings, wait_serving  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
CONCURRENCIES = (1, 4, 8)
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """User plus system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process and its direct children, from /proc."""

    def cpu_of(stat_path: pathlib.Path) -> tuple[int, float]:
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S

    total = cpu_of(pathlib.Path(f"/proc/{pid}/stat"))[1]
    for stat_path in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            parent, seconds = cpu_of(stat_path)
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            total += seconds
    return total


def run_batch(address: str, paths: list[pathlib.Path], concurrency: int, triton_pid: int) -> dict[str, float]:
    """Analyse ``paths`` at ``concurrency``; wall time, media seconds, failures and CPU figures."""
    cpu_before, triton_before = own_cpu_s(), tree_cpu_s(triton_pid)
    started = time.perf_counter()
    media_s = 0.0
    failed = 0
    options = ClientOptions(address=address, timeout_s=900.0)
    with LaughterClient(options=options) as client:
        for item in client.analyze_files(paths, concurrency=concurrency):
            if item.result is None:
                failed += 1
                print(f"  failed: {item.path}: {item.error!r}")
                continue
            media_s += item.result.summary.media.duration_s
    wall_s = time.perf_counter() - started
    return {
        "wall_s": wall_s,
        "media_s": media_s,
        "failed": failed,
        "server_cpu": (own_cpu_s() - cpu_before) / wall_s,
        "triton_cpu": (tree_cpu_s(triton_pid) - triton_before) / wall_s,
    }


def main() -> None:
    """Start Triton and the server, run the batches, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=30, help="copies of the sample per batch (default 30)")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=list(CONCURRENCIES),
        help="concurrencies (default 1 4 8)",
    )
    args = parser.parse_args()
    triton = TritonProcess(REPO / "model_repository")
    triton.start()
    try:
        triton.wait_ready(120)
        server = ServerThread(make_settings(triton_url=triton.grpc_url)).start()
        try:
            wait_serving(server.address)
            triton_pid = triton._proc.pid if triton._proc else os.getpid()
            with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
                paths = [
                    pathlib.Path(shutil.copy(SAMPLE, pathlib.Path(folder) / f"sample_{i:02d}.mp4"))
                    for i in range(args.files)
                ]
                with LaughterClient(server.address) as client:
                    client.analyze_file(paths[0], timeout_s=900.0)  # warm-up: one-off start-up costs
                print(
                    f"\n== batch: {args.files} copies of {SAMPLE.name} through LaughterClient.analyze_files "
                    f"(server max_concurrent_analyses={server.settings.max_concurrent_analyses}, {os.cpu_count()} CPUs)"
                )
                print(
                    f"  {'concurrency':>11} {'wall s':>8} {'files/min':>10} {'media h/h':>10} "
                    f"{'vs c=1':>7} {'server CPU':>10} {'Triton CPU':>10} {'failed':>6}"
                )
                baseline = None
                for concurrency in args.concurrency:
                    figures = run_batch(server.address, paths, concurrency, triton_pid)
                    files_per_min = (args.files - figures["failed"]) / figures["wall_s"] * 60
                    baseline = baseline or files_per_min
                    print(
                        f"  {concurrency:>11d} {figures['wall_s']:>8.1f} {files_per_min:>10.1f} "
                        f"{figures['media_s'] / figures['wall_s']:>10.2f} {files_per_min / baseline:>6.2f}x "
                        f"{figures['server_cpu']:>10.2f} {figures['triton_cpu']:>10.2f} {int(figures['failed']):>6d}"
                    )
                print(
                    "  media h/h = media-hours analysed per wall hour; CPU = CPU seconds per wall second "
                    "(server includes the SDK client, which runs in the same process)"
                )
        finally:
            server.stop()
    finally:
        triton.stop()


if __name__ == "__main__":
    main()
