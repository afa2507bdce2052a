"""Unary load benchmark (``make bench``): N concurrent asyncio callers send ``AnalyzeMedia`` with the sample
to a server, for a bounded number of requests and/or time, through grpc.aio and the generated stubs.

Prints requests per second, p50/p95/p99 latency and errors by status code, next to two references measured
in the same run against the same server: the same call one at a time (sequential latency and rate; the
ratio says what concurrency buys), and ``ListModels`` at the same concurrency (the round trip of a call that
does no analysis: transport and server overhead). Every request sets ``fresh``, so each one is analysed
(the results cache would otherwise answer repeats from the store).

With ``--address`` it loads running servers (one ``host:port``, a comma-separated list or ``dns:///``).
Without, it starts one local Triton and, for each count in ``--servers`` (default ``1,2``), that many
``laughter-server`` processes sharing it (``--triton-url``), loads them through one channel balanced by
gRPC's ``round_robin`` with health checks (the SDK's service config), prints how the calls split over the
servers (each server's own ``/metrics``), and the ratio of each count's rate to the first's. The callers,
the servers and Triton share this machine's CPUs: compare ratios, not absolute figures, across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import itertools
import os
import pathlib
import sys
import time
from collections.abc import Awaitable, Callable

import grpc
import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter._targets import channel_target  # noqa: E402
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess  # noqa: E402

from tests.server_process import ServerProcess  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class LoadResult:
    """What one load level measured."""

    wall_s: float
    latencies_s: tuple[float, ...]
    errors: dict[str, int]

    @property
    def ok_per_s(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q)) * 1000 if self.latencies_s else float("nan")


async def run_load(
    call: Callable[[], Awaitable[object]], concurrency: int, requests: int, duration_s: float
) -> LoadResult:
    """``concurrency`` callers repeat ``call`` until ``requests`` were started or ``duration_s`` passed."""
    started_count = itertools.count()
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    deadline = started + duration_s if duration_s > 0 else float("inf")

    async def caller() -> None:
        while next(started_count) < requests and time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                await call()
            except grpc.aio.AioRpcError as error:
                errors[error.code().name] += 1
            else:
                latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return LoadResult(time.perf_counter() - started, tuple(latencies), dict(errors))


def row(label: str, concurrency: int, result: LoadResult) -> str:
    errors = ", ".join(f"{code} {count}" for code, count in sorted(result.errors.items())) or "none"
    return (
        f"  {label:<24} {concurrency:>4d} {len(result.latencies_s):>5d} {result.wall_s:>8.2f} "
        f"{result.ok_per_s:>9.2f} {result.percentile_ms(50):>8.0f} {result.percentile_ms(95):>8.0f} "
        f"{result.percentile_ms(99):>8.0f}  {errors}"
    )


async def bench(address: str, args: argparse.Namespace, label: str = "") -> LoadResult:
    """Warm up, then the reference levels and the load level; print the table and the ratios."""
    media = args.media.read_bytes()
    request = laughter_service_pb2.AnalyzeMediaRequest(content=media, filename=args.media.name, fresh=True)
    target = channel_target(address)
    options: list[tuple[str, str | int]] = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        *target.channel_options(),
    ]
    async with grpc.aio.insecure_channel(target.target, options=options) as channel:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)

        async def analyze() -> object:
            return await stub.AnalyzeMedia(request, timeout=args.timeout_s)

        async def list_models() -> object:
            return await stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=args.timeout_s)

        try:
            reply = await analyze()  # warm-up: one-off start-up costs, and a check that the call works
        except grpc.aio.AioRpcError as error:
            raise SystemExit(
                f"the warm-up AnalyzeMedia call failed: {error.code().name}: {error.details()}"
            ) from None
        media_s = reply.result.summary.media.media_duration.ToNanoseconds() / 1e9
        await list_models()
        sequential = await run_load(analyze, 1, args.reference_requests, 0.0)
        overhead = await run_load(list_models, args.concurrency, args.list_models_requests, 0.0)
        load = await run_load(analyze, args.concurrency, args.requests, args.duration_s)
    print(
        f"\n== unary load: AnalyzeMedia with {args.media.name} ({len(media) / 1e6:.2f} MB, {media_s:.1f} s media) "
        f"at {label or address} ({os.cpu_count()} CPUs{', servers on this machine' if args.local else ''}, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"  {'call':<24} {'conc':>4} {'ok':>5} {'wall s':>8} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8}  errors"
    )
    print(row("AnalyzeMedia", args.concurrency, load))
    print(row("ref: AnalyzeMedia alone", 1, sequential))
    print(row("ref: ListModels", args.concurrency, overhead))
    if sequential.ok_per_s and load.latencies_s:
        print(
            f"  ratio: {load.ok_per_s / sequential.ok_per_s:.2f}x the sequential rate at concurrency "
            f"{args.concurrency}; p50 {load.percentile_ms(50) / sequential.percentile_ms(50):.2f}x the "
            f"sequential latency; {load.ok_per_s * media_s:.1f} media s analysed per s"
        )
    if overhead.latencies_s and load.latencies_s:
        print(
            f"  ListModels p50 {overhead.percentile_ms(50):.1f} ms = "
            f"{overhead.percentile_ms(50) / load.percentile_ms(50) * 100:.2f} % of an AnalyzeMedia p50"
        )
    return load


def run_tier(triton_url: str, count: int, args: argparse.Namespace) -> LoadResult:
    """Start ``count`` server processes on ``triton_url``, load them through one balanced channel."""
    servers = [ServerProcess(triton_url).start() for _ in range(count)]
    try:
        for server in servers:
            server.wait_serving()
        address = ",".join(server.address for server in servers)
        before = [server.calls("AnalyzeMedia") for server in servers]
        label = f"{count} server{'s' if count > 1 else ''} sharing one Triton ({address})"
        result = asyncio.run(bench(address, args, label))
        split = [server.calls("AnalyzeMedia") - first for server, first in zip(servers, before, strict=True)]
        print(f"  AnalyzeMedia calls per server (each server's /metrics): {split}")
        return result
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    """Load a server at --address, or start a local Triton and server and load that."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--address", default="", help="host:port (or a list) of running servers (default: start them)"
    )
    parser.add_argument(
        "--servers", default="1,2", help="server counts to start over one Triton, compared (default 1,2)"
    )
    parser.add_argument("--media", type=pathlib.Path, default=SAMPLE, help="media file (default the sample)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent callers (default 4)")
    parser.add_argument("--requests", type=int, default=20, help="AnalyzeMedia calls in all (default 20)")
    parser.add_argument(
        "--duration-s", type=float, default=0.0, help="also stop after this long (0: no limit)"
    )
    parser.add_argument(
        "--reference-requests", type=int, default=3, help="sequential reference calls (default 3)"
    )
    parser.add_argument("--list-models-requests", type=int, default=200, help="ListModels reference calls")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="deadline of each call (default 600)")
    args = parser.parse_args()
    if min(args.concurrency, args.requests, args.reference_requests, args.list_models_requests) < 1:
        parser.error("--concurrency and the request counts must be at least 1")
    args.local = not args.address
    if args.address:
        asyncio.run(bench(args.address, args))
        return
    try:
        counts = [int(part) for part in args.servers.split(",")]
    except ValueError:
        parser.error("--servers takes comma-separated counts, e.g. 1,2")
    if not counts or min(counts) < 1:
        parser.error("--servers counts must be at least 1")
    triton = TritonProcess(REPO / "model_repository")
    triton.start()
    try:
        triton.wait_ready(120)
        results = {count: run_tier(triton.grpc_url, count, args) for count in counts}
    finally:
        triton.stop()
    first = counts[0]
    for count in counts[1:]:
        base, other = results[first], results[count]
        if base.ok_per_s and other.ok_per_s:
            print(
                f"  ratio {count} servers / {first}: {other.ok_per_s / base.ok_per_s:.2f}x the rate, p50 "
                f"{other.percentile_ms(50) / base.percentile_ms(50):.2f}x, p99 "
                f"{other.percentile_ms(99) / base.percentile_ms(99):.2f}x (one Triton, {os.cpu_count()} CPUs)"
            )


if __name__ == "__main__":
    main()
