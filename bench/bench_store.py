"""Results store benchmark: insert 100,000 synthetic results, then time ``GetAnalytics`` over all of them and
over one day, on SQLite and on a real PostgreSQL (started here, as the tests do); and what storing adds to a
whole-file call: the reply path's part (content sha256, cache lookup on the loaded store, result copy and
queueing) per call, p95, as a ratio to the median ``AnalyzeMedia`` of the sample through a real server and
Triton (the write itself runs in the background, off the reply path).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import pathlib
import random
import statistics
import sys
import tempfile
import time

import grpc
import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, results_pb2  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess  # noqa: E402
from laughter_server.store import analytics, cache_key  # noqa: E402
from laughter_server.store.database import ResultStore, engine_url  # noqa: E402
from laughter_server.store.service import ResultsService  # noqa: E402

from tests.conftest import ServerThread, make_settings, wait_serving  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from tests.store.test_store import make  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
OWNER = "tenant:bench"
DAY_MS = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TYPES = (1, 2, 3, 4, 5, 6)


def synthetic(count: int, days: int, seed: int = 7) -> list:  # type: ignore[type-arg]
    """``count`` results over ``days`` days: 0-3 events, faces in 70 %, two audio model versions (90/10)."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        events = tuple(
            (rng.choice(TYPES), rng.uniform(0.5, 4.0), rng.uniform(0.4, 0.99))
            for _ in range(rng.randint(0, 3))
        )
        happy = rng.random()
        record = make(
            f"{i:032x}",
            owner=OWNER,
            version="1.4.0" if rng.random() < 0.9 else "1.1.0",
            confidence=rng.uniform(0.3, 0.99),
            media_s=rng.uniform(10, 600),
            processing_s=rng.uniform(1, 60),
            events=events,
            emotions={"happy": happy, "neutral": 1 - happy} if rng.random() < 0.7 else None,
            stages={
                "decode": rng.uniform(0.1, 5),
                "detect_faces": rng.uniform(0.5, 20),
                "detect_laughter": 0.2,
            },
        )
        record.stored.create_time.FromMilliseconds(START_MS + rng.randrange(days * DAY_MS))
        records.append(record)
    return records


def timed(function, repeats: int) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of ``repeats`` runs."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def bench_backend(name: str, url: str, records: list, repeats: int, content: bytes) -> dict[str, float]:  # type: ignore[type-arg]
    store = ResultStore(url)
    store.migrate()
    started = time.perf_counter()
    for i in range(0, len(records), 1000):
        store.insert(records[i : i + 1000])
    insert_s = time.perf_counter() - started

    def over(message: results_pb2.ResultFilter) -> None:
        with store.engine.connect() as connection:
            analytics.analytics(connection, analytics.Scope(OWNER, message), 3_600_000)

    one_day = results_pb2.ResultFilter()
    one_day.start_time.FromMilliseconds(START_MS + 10 * DAY_MS)
    one_day.end_time.FromMilliseconds(START_MS + 11 * DAY_MS)
    all_s = timed(lambda: over(results_pb2.ResultFilter()), repeats)
    day_s = timed(lambda: over(one_day), repeats)
    service = ResultsService(
        store, data_dir=pathlib.Path(tempfile.mkdtemp()), max_queued=100_000, retention_days=0
    )
    template = records[0].stored
    path_s = asyncio.run(reply_path(service, content, template))
    store.close()
    return {"insert_s": insert_s, "all_s": all_s, "day_s": day_s, "path_p95_s": path_s}


async def reply_path(service: ResultsService, content: bytes, template: results_pb2.StoredResult) -> float:
    """p95 seconds of what storing puts on a reply's path (the background writer is not started)."""
    from laughter_server.api.results_rpc import stamp

    runs = []
    for i in range(200):
        started = time.perf_counter()
        digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
        key = cache_key(digest, str(i).encode(), [("laughter-audio", "1.4.0", "x")])
        await service.cached(OWNER, key)
        message = results_pb2.StoredResult()
        message.CopyFrom(template)
        stamp(
            service, message.result, owner=OWNER, client_id="bench", kind=results_pb2.RESULT_KIND_WHOLE_FILE
        )
        runs.append(time.perf_counter() - started)
    return float(np.percentile(runs, 95))


def call_seconds(calls: int) -> float:
    """Median seconds of a fresh ``AnalyzeMedia`` of the sample through a real server and Triton."""
    triton = TritonProcess(REPO / "model_repository")
    triton.start()
    try:
        triton.wait_ready(120)
        server = ServerThread(make_settings(triton_url=triton.grpc_url)).start()
        try:
            wait_serving(server.address)
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(
                grpc.insecure_channel(server.address)
            )
            request = laughter_service_pb2.AnalyzeMediaRequest(content=SAMPLE.read_bytes(), fresh=True)
            stub.AnalyzeMedia(request, timeout=300)  # warm-up
            return timed(lambda: stub.AnalyzeMedia(request, timeout=300), calls)
        finally:
            server.stop()
    finally:
        triton.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=5, help="AnalyzeMedia calls timed (0 skips the server)")
    args = parser.parse_args()
    content = SAMPLE.read_bytes()
    records = synthetic(args.results, args.days)
    figures = {
        "sqlite": bench_backend("sqlite", engine_url("", tempfile.mkdtemp()), records, args.repeats, content)
    }
    postgres = PostgresServer().start()
    try:
        url = engine_url(postgres.create_database("bench"), "")
        figures["postgresql"] = bench_backend("postgresql", url, records, args.repeats, content)
    finally:
        postgres.stop()
        postgres.remove()
    call_s = call_seconds(args.calls) if args.calls else float("nan")
    print(f"{args.results} results over {args.days} days; AnalyzeMedia of the sample: median {call_s:.2f} s")
    for name, f in figures.items():
        print(
            f"{name:10s} insert {f['insert_s']:.1f} s ({args.results / f['insert_s']:.0f}/s); "
            f"GetAnalytics all {f['all_s'] * 1000:.0f} ms, one day {f['day_s'] * 1000:.0f} ms; "
            f"reply path p95 {f['path_p95_s'] * 1000:.2f} ms = {f['path_p95_s'] / call_s:.2%} of a call"
        )


if __name__ == "__main__":
    main()
