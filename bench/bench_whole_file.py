"""Whole-file analysis benchmark (``make bench``).

For the bundled sample and a generated 60 s 720p clip, through the real gRPC server and a real local Triton:
real-time factor (media seconds per wall second), time per stage, faces per second and peak memory. Every
figure is printed next to a reference measured in the same run, as a ratio, because the machine is shared:
* decode-only: PyAV decoding + frame sampling + audio resampling of the same file (the physical floor);
* one bare Triton call: a single detector request of one batch, and the same frames one per request;
* detection on every analysed frame (the default) against a server running ``--detect-every N``, on the
  60 s clip at each of ``--rates``.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import resource
import statistics
import subprocess
import sys
import time

import grpc
import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter.v1 import analysis_pb2, laughter_service_pb2, laughter_service_pb2_grpc  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess  # noqa: E402
from laughter_server.inference.triton import TritonFaceModels  # noqa: E402
from laughter_server.media.decode import decode_audio, iter_video_frames  # noqa: E402
from laughter_server.vision.detection import DEFAULT_DETECTOR_INPUT_HW, letterbox  # noqa: E402

from tests.conftest import ServerThread, make_settings, wait_serving  # noqa: E402

FRAME_RATE_HERTZ = 5.0


def vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def process_tree_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process plus its direct children (Triton's Python-backend stubs)."""
    total = vm_hwm_mb(pid)
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += vm_hwm_mb(int(stat.parent.name))
    return total


def decode_only_s(content: bytes, rate_hertz: float = FRAME_RATE_HERTZ) -> float:
    started = time.perf_counter()
    for _ in iter_video_frames(content, rate_hertz):
        pass
    decode_audio(content)
    return time.perf_counter() - started


async def bare_triton(url: str, content: bytes) -> tuple[float, float, int]:
    """(one batched detector call, the same frames one per call, frames) in seconds."""
    frames = [
        image for _, (_, image) in zip(range(16), iter_video_frames(content, FRAME_RATE_HERTZ), strict=False)
    ]
    batch, _ = letterbox(np.stack(frames), DEFAULT_DETECTOR_INPUT_HW)
    models = TritonFaceModels(url, detector_batch_size=len(frames))
    try:
        await models.detect(batch)  # warm-up
        started = time.perf_counter()
        await models.detect(batch)
        batched = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(len(batch)):
            await models.detect(batch[i : i + 1])
        single = time.perf_counter() - started
    finally:
        await models.close()
    return batched, single, len(frames)


def run_case(
    name: str,
    path: pathlib.Path,
    stub: laughter_service_pb2_grpc.LaughterAnalysisServiceStub,
    triton_url: str,
    repeats: int,
) -> None:
    content = path.read_bytes()
    walls, results = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        reply = stub.AnalyzeMedia(
            laughter_service_pb2.AnalyzeMediaRequest(content=content, fresh=True), timeout=900
        )
        walls.append(time.perf_counter() - started)
        results.append(reply.result)
    wall = statistics.median(walls)
    result = results[-1]  # warm: the first call pays one-off start-up costs
    media_s = result.summary.media.media_duration.ToNanoseconds() / 1e9
    decode_s = decode_only_s(content)
    batched, single, n = asyncio.run(bare_triton(triton_url, content))
    faces = sum(f.frames_seen for f in result.summary.faces)  # face detections over all frames
    print(
        f"\n== {name}: {path.name} ({media_s:.1f} s media, {len(content) / 1e6:.1f} MB, "
        f"{result.summary.media.video_width}x{result.summary.media.video_height}, "
        f"{result.summary.media.frames_analyzed} frames analysed at {FRAME_RATE_HERTZ:g} Hz)"
    )
    print(f"  real-time factor      {media_s / wall:8.2f} x   (wall {wall:.2f} s, median of {repeats})")
    print(
        f"  decode-only RTF       {media_s / decode_s:8.2f} x   -> analysis runs at {decode_s / wall:.2f} of decode-only speed"
    )
    print(
        f"  faces per second      {faces / wall:8.1f}     ({faces} face detections, {len(result.summary.faces)} tracked faces)"
    )
    print(f"  events                {len(result.events):8d}")
    print("  stage seconds (summed per stage; audio runs alongside video):")
    for t in sorted(result.summary.stage_timings, key=lambda t: t.stage):
        print(f"    {t.stage:16s} {t.duration.ToNanoseconds() / 1e9:8.3f} s")
    per_frame_pipeline_ms = 1000 * wall / max(1, result.summary.media.frames_analyzed)
    print(
        f"  bare Triton detector: {1000 * batched / n:.1f} ms/frame batched ({n} per request), "
        f"{1000 * single / n:.1f} ms/frame one per request (batched/unbatched {single / batched:.2f}x); "
        f"whole pipeline {per_frame_pipeline_ms:.1f} ms/frame -> {per_frame_pipeline_ms / (1000 * batched / n):.2f}x a bare batched call"
    )


def wall_s(
    stub: laughter_service_pb2_grpc.LaughterAnalysisServiceStub,
    content: bytes,
    rate_hertz: float,
    repeats: int,
) -> tuple[float, laughter_service_pb2.AnalyzeMediaResponse]:
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=content,
        options=analysis_pb2.AnalysisOptions(analysis_frame_rate_hertz=rate_hertz),
        fresh=True,  # analysed, never answered from the results store
    )
    walls = []
    reply = None
    for _ in range(repeats):
        started = time.perf_counter()
        reply = stub.AnalyzeMedia(request, timeout=900)
        walls.append(time.perf_counter() - started)
    assert reply is not None
    return statistics.median(walls), reply


def run_tracking(
    path: pathlib.Path,
    every_frame: laughter_service_pb2_grpc.LaughterAnalysisServiceStub,
    tracked: laughter_service_pb2_grpc.LaughterAnalysisServiceStub,
    detect_every: int,
    rates: list[float],
    repeats: int,
) -> None:
    """Detect-then-track against detection on every frame and against decode-only, at each rate."""
    content = path.read_bytes()
    print(f"\n== detect every {detect_every} frames vs every frame: {path.name}")
    for rate in rates:
        decode_s = decode_only_s(content, rate)
        base_s, base = wall_s(every_frame, content, rate, repeats)
        track_s, reply = wall_s(tracked, content, rate, repeats)
        media_s = reply.result.summary.media.media_duration.ToNanoseconds() / 1e9
        print(
            f"  {rate:4g} frames/s: tracked RTF {media_s / track_s:6.2f} x, every-frame RTF {media_s / base_s:6.2f} x, "
            f"decode-only RTF {media_s / decode_s:6.2f} x -> tracked/every-frame {base_s / track_s:.2f}x, "
            f"tracked/decode-only {decode_s / track_s:.2f}, every-frame/decode-only {decode_s / base_s:.2f} "
            f"(events {len(reply.result.events)} vs {len(base.result.events)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--clip-seconds", type=float, default=60.0)
    parser.add_argument("--detect-every", type=int, default=3, help="detector interval of the tracked run")
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 5.0])
    parser.add_argument("--tracking-only", action="store_true", help="only the tracked vs every-frame runs")
    parser.add_argument(
        "--model-config-name",
        default="",
        help="Triton's --model-config-name, e.g. int8 (the int8 face detector instead of the float32 one)",
    )
    args = parser.parse_args()
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    clip = out / "clip_60s_720p.mp4"
    if not clip.exists():
        subprocess.run(
            [
                sys.executable,
                str(REPO / "bench" / "make_clip.py"),
                "--seconds",
                str(args.clip_seconds),
                "--width",
                "1280",
                "--height",
                "720",
                "--out",
                str(clip),
            ],
            check=True,
        )
    triton = TritonProcess(REPO / "model_repository", model_config_name=args.model_config_name)
    triton.start()
    try:
        triton.wait_ready(120)
        server = ServerThread(make_settings(triton_url=triton.grpc_url)).start()
        try:
            wait_serving(server.address)
            channel = grpc.insecure_channel(
                server.address, options=[("grpc.max_send_message_length", 256 << 20)]
            )
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            if not args.tracking_only:
                run_case("sample", REPO / "samples" / "sample.mp4", stub, triton.grpc_url, args.repeats)
                run_case("60 s 720p clip", clip, stub, triton.grpc_url, args.repeats)
            tracked_server = ServerThread(
                make_settings(triton_url=triton.grpc_url, detect_every=args.detect_every)
            ).start()
            try:
                wait_serving(tracked_server.address)
                tracked = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(
                    grpc.insecure_channel(
                        tracked_server.address, options=[("grpc.max_send_message_length", 256 << 20)]
                    )
                )
                run_tracking(clip, stub, tracked, args.detect_every, args.rates, args.repeats)
            finally:
                tracked_server.stop()
            print(
                f"\npeak memory: server process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
                f"(includes this benchmark's client), Triton {process_tree_hwm_mb(triton._proc.pid) if triton._proc else float('nan'):.0f} MB "
                "(tritonserver and its Python-backend model processes)"
            )
        finally:
            server.stop()
    finally:
        triton.stop()


if __name__ == "__main__":
    main()
