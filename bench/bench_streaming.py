"""Live-streaming benchmark (``make bench``): how many camera streams this machine sustains.

Each stream is a camera client: 640x480 JPEG frames at 15 fps plus 100 ms PCM16 audio chunks, paced to the
wall clock, analysed at the server's default rate (5 Hz), with the default backlog policy (drop the oldest
frame). A load level is sustained when no frame was dropped and the p95 event latency stays under 500 ms.

Event latency is measured per STARTED event update: from the moment the client sent the media the decision
needed (every track up to the update's ``processed_offset``, plus the half analysis window of audio beyond
it) to the moment the update arrived. The same run repeats with cross-stream batching switched off (or, with
``--detect-every N``, with the face detector on every frame against every Nth), and prints the ratio; CPU per
stream is the server's and Triton's CPU time over the streams' media time, also split by process (the server,
tritonserver, and each model's Python-backend process).

``--audio-models 1.4.0,1.5.0`` instead compares audio model versions (cross-stream batching on): the same sweep
with each version, and the ratio of sustained streams to the first (the stacked 1.5.0 adds the ResNet cascade,
its windows micro-batched across the streams; 1.5.1, the stack over the int8 ResNet, needs
``--model-config-name int8``).

``--triton-configs int8,default`` instead starts Triton with each model configuration name in turn (``int8``:
the int8 face detector instead of the float32 one, and ResNet version 2 beside 1) and prints the sustained
streams and CPU per stream as ratios to the first.

``--workers 1,2`` instead runs ``laughter-server --workers N`` for each count over one Triton, one connection
per stream (the kernel deals connections to the workers), and prints each count's ratio to the first.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import av
import cv2
import grpc
import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, session_pb2  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess, find_free_ports  # noqa: E402

from tests.conftest import wait_serving  # noqa: E402
from tests.integration.media_chunks import Chunk, media_chunk, session_config  # noqa: E402

FPS = 15
WIDTH, HEIGHT = 640, 480
AUDIO_RATE_HERTZ = 16_000
AUDIO_CHUNK_S = 0.1
LOOKAHEAD_S = 0.6  # half an audio analysis window plus the 0.1 s of feature context after it
LATENCY_LIMIT_MS = 500.0


def camera_chunks(path: pathlib.Path, seconds: float) -> list[Chunk]:
    """The sample as a 640x480 15 fps JPEG camera with 16 kHz PCM16 audio, looped to ``seconds``."""
    frames: list[bytes] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        source_fps = float(stream.average_rate or 24)
        step = source_fps / FPS
        for index, frame in enumerate(container.decode(stream)):
            if int(index / step) == len(frames) and index >= len(frames) * step:
                image = cv2.resize(
                    frame.to_ndarray(format="bgr24"), (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR
                )
                ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
                assert ok
                frames.append(jpeg.tobytes())
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE_HERTZ)
        pcm = [
            f.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for f in resampler.resample(frame)
        ]
    audio = np.concatenate(pcm).astype(np.int16)
    chunks = [Chunk(i / FPS, "frame", frames[i % len(frames)]) for i in range(int(seconds * FPS))]
    step_samples = int(AUDIO_CHUNK_S * AUDIO_RATE_HERTZ)
    total = int(seconds * AUDIO_RATE_HERTZ)
    looped = np.resize(audio, total)
    chunks += [
        Chunk(i / AUDIO_RATE_HERTZ, "audio", looped[i : i + step_samples].tobytes())
        for i in range(0, total, step_samples)
    ]
    chunks.sort(key=lambda c: (c.offset_s, c.kind))
    return chunks


class CameraStream(threading.Thread):
    """One paced camera client; records send times and event latencies."""

    def __init__(
        self, stub: laughter_service_pb2_grpc.LaughterAnalysisServiceStub, chunks: list[Chunk], name: str
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.stub, self.chunks = stub, chunks
        self.sent_offsets: list[float] = []
        self.sent_times: list[float] = []
        self.latencies_ms: list[float] = []
        self.dropped = 0
        self.events = 0
        self.error: BaseException | None = None

    def requests(self):  # type: ignore[no-untyped-def]
        config = session_config(block=False)
        yield laughter_service_pb2.StreamingAnalyzeRequest(config=config)
        start = time.monotonic()
        for chunk in self.chunks:
            delay = start + chunk.offset_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sent_offsets.append(chunk.offset_s)
            self.sent_times.append(time.monotonic())
            yield laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(chunk))

    def sent_at(self, offset_s: float) -> float | None:
        """When the last chunk at or before ``offset_s`` left the client."""
        index = bisect.bisect_right(self.sent_offsets, offset_s) - 1
        return self.sent_times[index] if index >= 0 else None

    def run(self) -> None:
        try:
            for response in self.stub.StreamingAnalyze(self.requests(), timeout=600):
                update = response.update
                if update.HasField("event") and update.event.phase == session_pb2.EVENT_PHASE_STARTED:
                    needed = update.event.processed_offset.ToNanoseconds() / 1e9 + LOOKAHEAD_S
                    sent = self.sent_at(needed)
                    if sent is not None:
                        self.latencies_ms.append(1000 * (time.monotonic() - sent))
                    self.events += 1
                elif update.HasField("progress"):
                    self.dropped = update.progress.frames_dropped
        except grpc.RpcError as error:
            self.error = error


def cpu_by_process(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process and its waited-for children (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        found[pid] = sum(int(v) for v in fields[11:15]) / ticks
    return found


def process_role(pid: int, servers: list[int]) -> str:
    """What a counted process is: ``server``, ``tritonserver`` or the Triton model whose Python-backend stub
    it is (the stub's command line names its instance, e.g. ``face_detector_0_0``)."""
    if pid in servers:
        return "server"
    args = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    stub = [
        pathlib.Path(a.decode()) for a in args if a.endswith(b"/model.py") and a.split(b"/")[-2].isdigit()
    ]
    return stub[0].parent.parent.name if stub else "tritonserver"


def split_text(before: dict[int, float], after: dict[int, float], servers: list[int], media_s: float) -> str:
    """Each role's CPU seconds per media second per stream, largest first."""
    roles: dict[str, float] = {}
    for pid, seconds in after.items():
        role = process_role(pid, servers)
        roles[role] = roles.get(role, 0.0) + (seconds - before.get(pid, 0.0)) / media_s
    return ", ".join(f"{role} {value:.3f}" for role, value in sorted(roles.items(), key=lambda kv: -kv[1]))


def triton_pids(root: int) -> list[int]:
    pids = [root]
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == root:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def ratio_text(count: int, reference: int) -> str:
    """``count / reference`` as ``1.33x``; with no stream sustained by the reference, the lowest level tried
    was already too many for it, and the ratio is unknown."""
    return (
        f"{count / reference:.2f}x"
        if reference
        else "unknown (the reference sustained none of the levels tried)"
    )


def descendant_pids(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [root], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def run_level(
    address: str,
    chunks: list[Chunk],
    streams: int,
    triton: TritonProcess,
    servers: list[int],
    own_connections: bool = False,
) -> dict[str, Any]:
    """One load level. ``servers``: the server processes whose CPU counts, with Triton's (the camera clients in
    this process do not count). ``own_connections``: each stream gets a connection of its own (with
    ``--workers``, the kernel deals connections to workers); otherwise they share one."""

    def stub_for() -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
        options = [("grpc.use_local_subchannel_pool", 1)] if own_connections else []
        return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(address, options))

    shared = stub_for()
    tpids = triton_pids(triton._proc.pid) if triton._proc else []
    pids = [*tpids, *servers]
    cpu0 = cpu_by_process(pids)
    threads = [
        CameraStream(stub_for() if own_connections else shared, chunks, f"camera-{i}") for i in range(streams)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu1 = cpu_by_process(pids)
    cpu = sum(cpu1.values()) - sum(cpu0.values())
    latencies = sorted(v for t in threads for v in t.latencies_ms)
    media_s = chunks[-1].offset_s * streams

    def pct(q: float) -> float:
        return float(np.percentile(latencies, q)) if latencies else float("nan")

    return {
        "streams": streams,
        "errors": sum(t.error is not None for t in threads),
        "dropped": sum(t.dropped for t in threads),
        "events": sum(t.events for t in threads),
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "cpu_per_stream": cpu / media_s,
        "split": split_text(cpu0, cpu1, servers, media_s),
    }


def sweep(
    address: str,
    chunks: list[Chunk],
    levels: list[int],
    triton: TritonProcess,
    label: str,
    servers: list[int],
    own_connections: bool = False,
    cpu: dict[int, list[float]] | None = None,
) -> int:
    """The most streams sustained of ``levels`` (tried in order, up to the first that is not); ``cpu``
    collects each level's CPU s per media s per stream (a level given twice, twice)."""
    best = 0
    print(f"\n== {label}")
    print("  streams  dropped  events   p50 ms   p95 ms   p99 ms  CPU s per media s per stream")
    for n in levels:
        r = run_level(address, chunks, n, triton, servers, own_connections)
        ok = r["errors"] == 0 and r["dropped"] == 0 and (r["p95"] < LATENCY_LIMIT_MS or r["events"] == 0)
        print(
            f"  {n:7d}  {r['dropped']:7.0f}  {r['events']:6.0f}  {r['p50']:7.0f}  {r['p95']:7.0f}  {r['p99']:7.0f}"
            f"  {r['cpu_per_stream']:.3f}{'' if ok else '   <- not sustained'}"
        )
        print(f"           CPU per stream by process: {r['split']}")
        if cpu is not None:
            cpu.setdefault(n, []).append(r["cpu_per_stream"])
        if not ok:
            break
        best = n
    return best


@contextlib.contextmanager
def server_process(triton: TritonProcess, *flags: str, workers: int = 1) -> Iterator[tuple[str, list[int]]]:
    """``laughter-server --workers N`` with ``flags`` over ``triton``, as processes of their own, so the CPU
    counted for the server is the server's and never the benchmark's camera clients'. Yields the address and
    the server's process ids once every worker has started."""
    (port,) = find_free_ports(1)
    address = f"127.0.0.1:{port}"
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    command = [
        str(pathlib.Path(sys.executable).parent / "laughter-server"),
        *("--workers", str(workers), "--listen", address, "--triton-url", triton.grpc_url),
        *("--metrics-port", "0", "--data-dir", str(data_dir)),
        *flags,
    ]
    log_path = data_dir / "server.log"
    env = {**os.environ, "LAUGHTER_LOG_FORMAT": "json"}
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_serving(address, timeout_s=180)
        deadline = time.monotonic() + 180
        while log_path.read_text(errors="replace").count('"server.started"') < workers:  # every worker
            if time.monotonic() > deadline:
                raise TimeoutError(f"not every worker started; see {log_path}")
            time.sleep(0.5)
        yield address, descendant_pids(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)


def compare_workers(chunks: list[Chunk], levels: list[int], counts: list[int], triton: TritonProcess) -> None:
    """``laughter-server --workers N`` for each N over the same Triton; the ratio of each to the first."""
    results: dict[int, int] = {}
    for count in counts:
        with server_process(triton, workers=count) as (address, servers):
            results[count] = sweep(
                address, chunks, levels, triton, f"--workers {count}", servers, own_connections=True
            )
    first = counts[0]
    print("\nsustained camera streams by --workers (one Triton, a connection per stream):")
    for count in counts:
        print(
            f"  --workers {count}: {results[count]} -> {ratio_text(results[count], results[first])} --workers {first}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="media per stream at each load level")
    parser.add_argument("--levels", default="1,2,3,4,6,8,10")
    parser.add_argument(
        "--audio-models", default="", help="compare these audio model versions, e.g. 1.4.0,1.5.0"
    )
    parser.add_argument(
        "--workers",
        default="",
        help="e.g. 1,2: compare laughter-server --workers counts (processes over one Triton) instead",
    )
    parser.add_argument(
        "--detect-every",
        type=int,
        default=0,
        help="compare detection on every frame against this detector interval (batching on) instead of "
        "cross-stream batching on against off",
    )
    parser.add_argument(
        "--triton-configs",
        default="",
        help="e.g. int8,default: compare Triton model configurations (--model-config-name; 'default' is "
        "config.pbtxt, int8 the int8 face detector and both ResNet versions) instead",
    )
    parser.add_argument(
        "--model-config-name",
        default="",
        help="Triton's --model-config-name for the other modes, e.g. int8 (the int8 face detector, and the "
        "int8 ResNet that 1.5.1 needs)",
    )
    args = parser.parse_args()
    if args.audio_models:
        compare_audio_models(args)
        return
    if args.triton_configs:
        compare_triton_configs(args)
        return
    levels = [int(v) for v in args.levels.split(",")]
    chunks = camera_chunks(REPO / "samples" / "sample.mp4", args.seconds)
    triton = TritonProcess(REPO / "model_repository", model_config_name=args.model_config_name)
    triton.start()
    results = {}
    try:
        triton.wait_ready(120)
        if args.workers:
            compare_workers(chunks, levels, [int(v) for v in args.workers.split(",")], triton)
            return
        runs: dict[str, tuple[str, ...]]
        if args.detect_every > 1:
            runs = {
                f"detect every {args.detect_every}": ("--detect-every", str(args.detect_every)),
                "detect every frame": ("--detect-every", "1"),
            }
        else:
            runs = {"with cross-stream batching": (), "without": ("--cross-stream-batching", "off")}
        for label, flags in runs.items():
            with server_process(triton, *flags) as (address, servers):
                results[label] = sweep(address, chunks, levels, triton, label, servers)
    finally:
        triton.stop()
    (first, on), (second, off) = results.items()
    print(
        f"\nsustained camera streams (640x480 JPEG 15 fps + audio, p95 < {LATENCY_LIMIT_MS:.0f} ms, no drops): "
        f"{on} {first}, {off} {second} -> {ratio_text(on, off)}"
    )
    print(
        f"(latency excludes the {LOOKAHEAD_S:.1f} s of audio lookahead every decision needs; levels tried: {levels})"
    )


def compare_audio_models(args: argparse.Namespace) -> None:
    """Sustained streams with each audio model version (batching on) and their ratio to the first."""
    levels = [int(v) for v in args.levels.split(",")]
    versions = [v.strip() for v in args.audio_models.split(",") if v.strip()]
    models = REPO / "server" / "laughter_server" / "models" / "audio"
    chunks = camera_chunks(REPO / "samples" / "sample.mp4", args.seconds)
    triton = TritonProcess(REPO / "model_repository", model_config_name=args.model_config_name)
    triton.start()
    results = {}
    try:
        triton.wait_ready(120)
        for version in versions:
            model = str(models / f"laughter-audio-{version}.skops")
            with server_process(triton, "--audio-model", model) as (address, servers):
                results[version] = sweep(address, chunks, levels, triton, f"audio model {version}", servers)
    finally:
        triton.stop()
    first = results[versions[0]]
    print("\nsustained camera streams by audio model: " + ", ".join(f"{v} {n}" for v, n in results.items()))
    for version in versions[1:]:
        print(f"  {version} / {versions[0]}: {ratio_text(results[version], first)} (levels tried: {levels})")


def compare_triton_configs(args: argparse.Namespace) -> None:
    """The same sweep over a Triton started with each model configuration name; sustained streams and CPU
    per stream (mean over the levels both sustained or reached) as ratios to the first."""
    levels = [int(v) for v in args.levels.split(",")]
    names = [v.strip() for v in args.triton_configs.split(",") if v.strip()]
    chunks = camera_chunks(REPO / "samples" / "sample.mp4", args.seconds)
    sustained: dict[str, int] = {}
    cpu: dict[str, dict[int, list[float]]] = {}
    for name in names:
        triton = TritonProcess(REPO / "model_repository", model_config_name="" if name == "default" else name)
        triton.start()
        try:
            triton.wait_ready(120)
            with server_process(triton) as (address, servers):
                cpu[name] = {}
                sustained[name] = sweep(
                    address, chunks, levels, triton, f"Triton config {name}", servers, cpu=cpu[name]
                )
        finally:
            triton.stop()
    first = names[0]
    print(
        "\nsustained camera streams by Triton config: " + ", ".join(f"{n} {v}" for n, v in sustained.items())
    )
    for name in names[1:]:
        common = sorted(set(cpu[name]) & set(cpu[first]))
        ours = float(np.mean([v for n in common for v in cpu[first][n]])) if common else float("nan")
        theirs = float(np.mean([v for n in common for v in cpu[name][n]])) if common else float("nan")
        print(
            f"  {first} / {name}: streams {ratio_text(sustained[first], sustained[name])}; CPU s per media s per "
            f"stream at levels {common}: {ours:.3f} against {theirs:.3f} -> {ours / theirs:.2f}x"
        )


if __name__ == "__main__":
    main()
