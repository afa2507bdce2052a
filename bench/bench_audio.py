"""Audio laughter detector speed on one core (``make bench``).

Features + classification of a 60 s, 16 kHz mono clip (the bundled sample's soundtrack, repeated), one
thread, best of several runs, for every shipped model version, and for the default model also the way
analyses score audio (fixed blocks of two windows with context, 40 blocks per classifier call, the same
for whole files and live sessions). Printed next to a reference measured in the same run: the 20-band MFCC
matrix alone (librosa), the least any MFCC-based detector must compute; the block path also as a ratio to
the whole-clip call and to the same blocks without the stream's frame cache (each block computing every
frame's spectrum again).

The stacked models (``kind: stacked``: 1.5.0 over the float32 ResNet, 1.5.1 over its int8 version) are measured
on a speech-heavy clip (dev speech clips end to end, ``--speech-data``) the way analyses score it: cues model on
every block, the ResNet front end and the ResNet version the model names (in-process onnxruntime on the same
thread, standing in for Triton on the same core) on the windows the cascade lets through, then the combiner;
printed as real-time factor, as a ratio to the cues-only block path on the same clip, with the share of windows
that reached the ResNet, and each stack after the first as a ratio to the first (1.5.1 against 1.5.0).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable

import librosa
import numpy as np
from threadpoolctl import threadpool_limits

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter_server.audio.detector import AudioLaughterDetector, default_model_path  # noqa: E402
from laughter_server.audio.features import FrameCache  # noqa: E402
from laughter_server.audio.stack import StackedAudioDetector, is_stacked  # noqa: E402
from laughter_server.media.decode import decode_audio  # noqa: E402
from laughter_server.media.types import AudioClip  # noqa: E402
from laughter_server.pipeline import audio_cascade  # noqa: E402
from laughter_server.pipeline.audio_blocks import AudioAccumulator  # noqa: E402
from laughter_server.pipeline.engine import MAX_BLOCKS_PER_CALL  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
RESNET = REPO / "model_repository" / "laughter_resnet"
DEV_DATA = REPO.parent / "shared" / "data" / "dev"


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Shortest wall time of ``runs`` calls of ``action``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length (default 60)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure, best kept (default 5)")
    parser.add_argument(
        "--speech-data",
        type=pathlib.Path,
        default=DEV_DATA,
        help="dev set whose speech clips make the speech clip",
    )
    args = parser.parse_args()

    decoded = decode_audio(SAMPLE.read_bytes())
    assert decoded is not None
    rate = decoded.sample_rate_hertz
    repeats = int(np.ceil(args.seconds * rate / decoded.samples.size))
    samples = np.tile(decoded.samples, repeats)[: int(args.seconds * rate)].astype(np.float32)
    clip = AudioClip(samples)

    with threadpool_limits(limits=1):
        reference_s = best_of(args.runs, lambda: librosa.feature.mfcc(y=samples, sr=rate, n_mfcc=20))
        print(f"audio clip: {args.seconds:.0f} s, one thread, best of {args.runs}")
        print(
            f"  reference, MFCC matrix only: {reference_s * 1000:.1f} ms ({args.seconds / reference_s:.0f}x real time)"
        )
        stacked = []
        for path in sorted(default_model_path().parent.glob("laughter-audio-*.skops")):
            if is_stacked(path.with_suffix(".json")):
                stacked.append(path)
                continue
            detector = AudioLaughterDetector.load(path)
            detector.predict_windows(clip)  # warm-up
            elapsed_s = best_of(args.runs, lambda d=detector: d.predict_windows(clip))
            print(
                f"  {detector.name}-{detector.version} ({detector.metadata.get('chosen_estimator')}): "
                f"{elapsed_s * 1000:.1f} ms, {args.seconds / elapsed_s:.0f}x real time, "
                f"{elapsed_s / reference_s:.1f}x the MFCC-only time"
            )
            if path == default_model_path():
                blocks_s = best_of(args.runs, lambda d=detector: score_in_blocks(d, samples))
                uncached_s = best_of(args.runs, lambda d=detector: score_in_blocks(d, samples, cache=False))
                print(
                    f"    as analyses score it (fixed blocks of 2 windows with context, {MAX_BLOCKS_PER_CALL} "
                    f"blocks per classifier call, shared frames from the stream's frame cache): "
                    f"{blocks_s * 1000:.1f} ms, {args.seconds / blocks_s:.0f}x real time, "
                    f"{blocks_s / elapsed_s:.1f}x the whole-clip call, {blocks_s / uncached_s:.2f}x the same "
                    f"blocks without the frame cache ({uncached_s * 1000:.1f} ms)"
                )
        speech = speech_clip(args.speech_data, args.seconds)
        cascades = [
            (path.stem, bench_cascade(StackedAudioDetector.load(path), speech, args)) for path in stacked
        ]
        for (name, elapsed_s), (reference, reference_s) in zip(cascades[1:], cascades, strict=False):
            print(f"  {name} against {reference} on the speech clip: {elapsed_s / reference_s:.2f}x the time")
    return 0


def speech_clip(dev_data: pathlib.Path, seconds: float) -> np.ndarray:
    """The dev set's speech clips end to end, cut to ``seconds``."""
    import soundfile

    parts, total = [], 0
    for path in sorted((dev_data / "audio" / "speech").glob("*.wav")):
        samples = soundfile.read(path, dtype="float32")[0]
        parts.append(samples if samples.ndim == 1 else samples.mean(axis=1))
        total += parts[-1].size
        if total >= seconds * 16000:
            break
    return np.concatenate(parts)[: int(seconds * 16000)].astype(np.float32)


def bench_cascade(detector: StackedAudioDetector, samples: np.ndarray, args: argparse.Namespace) -> float:
    """The stacked model's block path against the cues-only block path on the same speech clip; returns the
    cascade's best time (s)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    resnet = RESNET / detector.second_model_version / "model.onnx"  # the version its combiner was fitted over
    session = ort.InferenceSession(str(resnet), options, providers=["CPUExecutionProvider"])
    reached = [0, 0]
    resnet_s = [0.0]

    def cascade() -> None:
        reached[:] = [0, 0]
        resnet_s[0] = 0.0
        frames = FrameCache()
        for blocks in blocks_of(detector, samples):
            prepared = audio_cascade.prepare(detector, blocks, frames)
            started = time.perf_counter()
            second = (
                session.run(["probability"], {"melspec": prepared.features})[0][:, 0]
                if len(prepared.features)
                else np.zeros(0, np.float32)
            )
            resnet_s[0] += time.perf_counter() - started
            audio_cascade.finish(detector, prepared, second)
            reached[0] += len(prepared.features)
            reached[1] += prepared.new_windows

    cues_s = best_of(args.runs, lambda: score_in_blocks(detector.base, samples))
    cascade()  # warm-up
    runs = []
    for _ in range(args.runs):
        started = time.perf_counter()
        cascade()
        runs.append((time.perf_counter() - started, resnet_s[0]))
    cascade_s, resnet_in_best = min(runs)
    resnet_s[0] = resnet_in_best
    seconds = samples.size / 16000
    print(f"speech clip: {seconds:.0f} s of dev speech clips, one thread, best of {args.runs}")
    print(
        f"  {detector.base.name}-{detector.base.version} alone (cues, blocks): {cues_s * 1000:.1f} ms, "
        f"{seconds / cues_s:.0f}x real time"
    )
    print(
        f"  {detector.name}-{detector.version} (cascade: cues, then ResNet version {detector.second_model_version} "
        f"on {reached[0]} of {reached[1]} "
        f"windows = {reached[0] / max(1, reached[1]):.1%}, combiner): {cascade_s * 1000:.1f} ms, "
        f"{seconds / cascade_s:.0f}x real time, {cascade_s / cues_s:.1f}x the cues-only path"
    )
    server_s = cascade_s - resnet_s[0]
    print(
        f"    of which the ResNet itself {resnet_s[0] * 1000:.1f} ms (Triton's work in production); the server's "
        f"part (cues, front end, combiner) {server_s * 1000:.1f} ms, {seconds / server_s:.0f}x real time, "
        f"{server_s / cues_s:.2f}x the cues-only path"
    )
    return cascade_s


def blocks_of(detector: StackedAudioDetector, samples: np.ndarray) -> list[list[audio_cascade.Block]]:
    """The clip's blocks, MAX_BLOCKS_PER_CALL per call, as the engine takes them."""
    accumulator = AudioAccumulator(detector.settings.window_s, detector.settings.hop_s)
    accumulator.place(samples.astype(np.float32), None)
    calls: list[list[audio_cascade.Block]] = []
    while True:
        blocks: list[audio_cascade.Block] = []
        while len(blocks) < MAX_BLOCKS_PER_CALL and (taken := accumulator.take(final=True)):
            blocks.append(taken)
        if not blocks:
            return calls
        calls.append(blocks)


def score_in_blocks(detector: AudioLaughterDetector, samples: np.ndarray, cache: bool = True) -> int:
    """The engine's audio path: the clip through AudioAccumulator, scored MAX_BLOCKS_PER_CALL blocks a call,
    with one frame cache for the stream (``cache``) or none."""
    accumulator = AudioAccumulator(detector.settings.window_s, detector.settings.hop_s)
    accumulator.place(samples.astype(np.float32), None)
    frames = FrameCache() if cache else None
    windows = 0
    while True:
        blocks = []
        while len(blocks) < MAX_BLOCKS_PER_CALL and (taken := accumulator.take(final=True)):
            blocks.append(taken[0])
        if not blocks:
            return windows
        windows += sum(s.count for s in detector.predict_blocks(blocks, frames))


if __name__ == "__main__":
    raise SystemExit(main())
