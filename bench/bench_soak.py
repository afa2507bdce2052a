"""Soak benchmark (``make bench``): a bounded-time mixed load on one server, to see that nothing drifts.

For ``--duration-s`` seconds, at once: ``--sessions`` live sessions (StreamingAnalyze of the sample's first
``--session-media-s`` seconds as JPEG frames and PCM16 audio, paced to the wall clock, one after another on
each client), ``--whole-file`` clients calling AnalyzeMedia on the test recordings, and one garbage client
(random bytes, truncated and flipped files, sessions without config or with a broken config, sessions of
random frames and audio). The server runs as its own ``laughter-server`` process over a local Triton started
here, so its resident memory is measured alone.

Printed: answers by kind and gRPC code (good calls must be OK, garbage INVALID_ARGUMENT-class), per time
slice the p99 latency of good calls (AnalyzeMedia call time; for sessions the time from half-close to the
summary) and the server's RSS, and the ratio last slice / first slice for both (the first slice is the
reference). Exits 1 when a good call failed or garbage got another answer.
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import numpy as np
from google.rpc import error_details_pb2, status_pb2

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, media_pb2  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess, find_free_ports  # noqa: E402

from tests.conftest import DATA, SAMPLE, wait_serving  # noqa: E402
from tests.integration.media_chunks import Chunk, load_chunks, media_chunk, session_config  # noqa: E402

WHOLE_FILES = ("audio_only.wav", "no_faces.mp4", "video_no_audio.mp4")
REFUSED = frozenset({"INVALID_ARGUMENT", "RESOURCE_EXHAUSTED"})
EXPECTED = {
    "garbage:random_bytes": REFUSED,
    "garbage:no_config": REFUSED,
    "garbage:bad_config": REFUSED,
    "garbage:truncated": REFUSED | {"OK"},
    "garbage:flipped": REFUSED | {"OK"},
    "garbage:random_chunks": frozenset({"OK"}),
    "live": frozenset({"OK"}),
    "whole_file": frozenset({"OK"}),
}
"""The answers each kind may get: garbage is refused as bad input; damaged real files (the first 2 KB, 16
bytes flipped) are refused or analysed as far as they decode; a session of random chunks ends OK with a
warning for each chunk; good calls are OK."""
CALL_TIMEOUT_S = 300.0


class Recorder:
    """Answers by kind and code, and good-call latencies with their wall time, from all client threads."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.lock = threading.Lock()
        self.codes: collections.Counter[tuple[str, str]] = collections.Counter()
        self.warnings: collections.Counter[str] = collections.Counter()
        self.latencies: list[tuple[float, str, float]] = []
        self.memory: list[tuple[float, float]] = []

    def answer(self, kind: str, code: str, latency_s: float | None = None) -> None:
        with self.lock:
            self.codes[(kind, code)] += 1
            if latency_s is not None and code == "OK":
                self.latencies.append((time.monotonic() - self.start, kind, latency_s))

    def warning(self, reason: str) -> None:
        with self.lock:
            self.warnings[reason] += 1


def code_of(error: grpc.RpcError) -> str:
    return str(error.code().name)  # type: ignore[attr-defined]


def warning_reason(warning: status_pb2.Status) -> str:
    for detail in warning.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return "UNSPECIFIED"


def paced(chunks: list[Chunk], marks: dict[str, float]):  # type: ignore[no-untyped-def]
    yield laughter_service_pb2.StreamingAnalyzeRequest(config=session_config(block=True))
    start = time.monotonic()
    for chunk in chunks:
        delay = start + chunk.offset_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(chunk))
    marks["half_close"] = time.monotonic()


def live_client(stub, chunks: list[Chunk], end: float, rec: Recorder) -> None:  # type: ignore[no-untyped-def]
    """Live sessions one after another until ``end``; latency is half-close to summary."""
    while time.monotonic() < end:
        marks: dict[str, float] = {}
        try:
            summary = False
            for response in stub.StreamingAnalyze(paced(chunks, marks), timeout=CALL_TIMEOUT_S):
                kind = response.update.WhichOneof("update")
                summary = summary or kind == "summary"
                if kind == "warning":
                    rec.warning(warning_reason(response.update.warning))
            latency = time.monotonic() - marks.get("half_close", time.monotonic())
            rec.answer("live", "OK" if summary else "NO_SUMMARY", latency)
        except grpc.RpcError as error:
            rec.answer("live", code_of(error))


def whole_file_client(stub, files: list[bytes], end: float, rec: Recorder) -> None:  # type: ignore[no-untyped-def]
    """AnalyzeMedia on the test recordings in turn until ``end``."""
    index = 0
    while time.monotonic() < end:
        content = files[index % len(files)]
        index += 1
        started = time.monotonic()
        try:
            stub.AnalyzeMedia(
                laughter_service_pb2.AnalyzeMediaRequest(content=content), timeout=CALL_TIMEOUT_S
            )
            rec.answer("whole_file", "OK", time.monotonic() - started)
        except grpc.RpcError as error:
            rec.answer("whole_file", code_of(error))


def garbage_calls(rng: random.Random, files: list[bytes]):  # type: ignore[no-untyped-def]
    """(kind, callable) pairs of bad input, round after round."""
    while True:
        original = rng.choice(files)
        flipped = bytearray(original)
        for _ in range(16):
            flipped[rng.randrange(min(len(flipped), 4096))] ^= 0xFF
        yield "random_bytes", ("analyze", rng.randbytes(rng.randrange(1, 65536)))
        yield "truncated", ("analyze", original[: rng.randrange(1, 2048)])
        yield "flipped", ("analyze", bytes(flipped))
        yield (
            "no_config",
            ("stream", [laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_pb2.MediaChunk())]),
        )
        bad = session_config()
        bad.audio.sample_rate_hertz = rng.choice((0, -1, 7, 10**9))
        yield "bad_config", ("stream", [laughter_service_pb2.StreamingAnalyzeRequest(config=bad)])
        frames = [
            Chunk(i * 0.1, rng.choice(("frame", "audio")), rng.randbytes(rng.randrange(1, 4096)))
            for i in range(20)
        ]
        stream = [laughter_service_pb2.StreamingAnalyzeRequest(config=session_config())]
        stream += [laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(c)) for c in frames]
        yield "random_chunks", ("stream_warned", stream)


def garbage_client(stub, files: list[bytes], end: float, rec: Recorder) -> None:  # type: ignore[no-untyped-def]
    """Bad input until ``end``; sessions of random chunks must end OK with a warning per chunk."""
    rng = random.Random(0)
    for kind, call in garbage_calls(rng, files):
        if time.monotonic() >= end:
            return
        try:
            if call[0] == "analyze":
                stub.AnalyzeMedia(
                    laughter_service_pb2.AnalyzeMediaRequest(content=call[1]), timeout=CALL_TIMEOUT_S
                )
                rec.answer("garbage:" + kind, "OK")
            elif call[0] == "stream":
                list(stub.StreamingAnalyze(iter(call[1]), timeout=CALL_TIMEOUT_S))
                rec.answer("garbage:" + kind, "OK")
            else:
                updates = [r.update for r in stub.StreamingAnalyze(iter(call[1]), timeout=CALL_TIMEOUT_S)]
                warned = sum(u.WhichOneof("update") == "warning" for u in updates)
                ended = bool(updates) and updates[-1].WhichOneof("update") == "summary"
                rec.answer("garbage:" + kind, "OK" if ended and warned else "UNWARNED")
        except grpc.RpcError as error:
            rec.answer("garbage:" + kind, code_of(error))


def rss_mb(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_sampler(pid: int, end: float, rec: Recorder, period_s: float = 1.0) -> None:
    while time.monotonic() < end:
        rec.memory.append((time.monotonic() - rec.start, rss_mb(pid)))
        time.sleep(period_s)


def report(rec: Recorder, slices: int, duration_s: float) -> int:
    """Print the tables; the number of wrong answers."""
    print("\n== answers by kind and code")
    wrong = 0
    for (kind, code), count in sorted(rec.codes.items()):
        bad = code not in EXPECTED[kind]
        wrong += count if bad else 0
        print(f"  {kind:<24} {code:<20} {count:>6}{'   <- wrong' if bad else ''}")
    for reason, count in sorted(rec.warnings.items()):
        print(f"  {'live: warnings':<24} {reason:<20} {count:>6}   <- wrong")
        wrong += count
    width = duration_s / slices
    print(f"\n== per {width:.0f} s slice: good-call p99 latency and server RSS")
    print(f"  {'slice':>9} {'live n':>6} {'live p99 s':>10} {'file n':>6} {'file p99 s':>10} {'RSS MB':>8}")
    firsts: dict[str, float] = {}
    lasts: dict[str, float] = {}
    for index in range(slices):
        low, high = index * width, (index + 1) * width
        row = [f"{low:4.0f}-{high:<4.0f}"]
        for kind in ("live", "whole_file"):
            values = [lat for t, k, lat in rec.latencies if k == kind and low <= t < high]
            p99 = float(np.percentile(values, 99)) if values else float("nan")
            row += [f"{len(values):>6d}", f"{p99:>10.2f}"]
            if values:
                firsts.setdefault(kind, p99)
                lasts[kind] = p99
        memory = [m for t, m in rec.memory if low <= t < high]
        rss = max(memory) if memory else float("nan")
        if memory:
            firsts.setdefault("rss", rss)
            lasts["rss"] = rss
        print("  " + " ".join(row) + f" {rss:>8.0f}")
    for key, label in (("live", "live p99"), ("whole_file", "AnalyzeMedia p99"), ("rss", "server RSS")):
        if key in firsts:
            print(
                f"  {label}: first {firsts[key]:.2f}, last {lasts[key]:.2f}, last/first {lasts[key] / firsts[key]:.2f}"
            )
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration-s", type=float, default=120.0)
    parser.add_argument("--sessions", type=int, default=3, help="live clients at once (default 3)")
    parser.add_argument("--session-media-s", type=float, default=10.0, help="media per live session")
    parser.add_argument("--whole-file", type=int, default=1, help="AnalyzeMedia clients at once (default 1)")
    parser.add_argument("--slices", type=int, default=6, help="time slices in the report (default 6)")
    args = parser.parse_args()
    chunks = load_chunks(SAMPLE, max_s=args.session_media_s)
    files = [(DATA / name).read_bytes() for name in WHOLE_FILES]
    triton = TritonProcess(REPO / "model_repository")
    triton.start()
    server = None
    try:
        triton.wait_ready(120)
        (port,) = find_free_ports(1)
        address = f"127.0.0.1:{port}"
        log = tempfile.NamedTemporaryFile(prefix="bench-soak-", suffix=".log", delete=False)  # noqa: SIM115
        command = pathlib.Path(sys.executable).parent / "laughter-server"
        server = subprocess.Popen(
            [str(command), "--listen", address, "--metrics-port", "0", "--triton-url", triton.grpc_url],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LAUGHTER_LOG_FORMAT": "json"},
        )
        wait_serving(address, timeout_s=120)
        with grpc.insecure_channel(address) as channel:
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            stub.AnalyzeMedia(
                laughter_service_pb2.AnalyzeMediaRequest(content=files[0]), timeout=CALL_TIMEOUT_S
            )
            start = time.monotonic()
            end = start + args.duration_s
            rec = Recorder(start)
            workers = [threading.Thread(target=memory_sampler, args=(server.pid, end, rec))]
            workers += [
                threading.Thread(target=live_client, args=(stub, chunks, end, rec))
                for _ in range(args.sessions)
            ]
            workers += [
                threading.Thread(target=whole_file_client, args=(stub, files, end, rec))
                for _ in range(args.whole_file)
            ]
            workers.append(threading.Thread(target=garbage_client, args=(stub, files, end, rec)))
            print(
                f"== soak: {args.duration_s:.0f} s, {args.sessions} live clients ({args.session_media_s:.0f} s "
                f"sessions), {args.whole_file} AnalyzeMedia client(s), 1 garbage client, {os.cpu_count()} CPUs; "
                f"server log {log.name}"
            )
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.monotonic() - start
        wrong = report(rec, args.slices, args.duration_s)
        print(f"  wall {elapsed:.0f} s (calls in flight at the end finish after --duration-s)")
        if server.poll() is not None:
            print("  the server process died")
            wrong += 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        triton.stop()
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
