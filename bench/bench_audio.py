"""Audio laughter detector speed on one core (``make bench``).

Features + classification of a 60 s, 16 kHz mono clip (the bundled sample's soundtrack, repeated), one
thread, best of several runs, for every shipped model version, and for the default model also the way
analyses score audio (fixed blocks of two windows with context, 40 blocks per classifier call, the same
for whole files and live sessions). Printed next to a reference measured in the same run: the 20-band MFCC
matrix alone (librosa), the least any MFCC-based detector must compute; the block path also as a ratio to
the whole-clip call.
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
from laughter_server.media.decode import decode_audio  # noqa: E402
from laughter_server.media.types import AudioClip  # noqa: E402
from laughter_server.pipeline.audio_blocks import AudioAccumulator  # noqa: E402
from laughter_server.pipeline.engine import MAX_BLOCKS_PER_CALL  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"


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
        for path in sorted(default_model_path().parent.glob("laughter-audio-*.skops")):
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
                print(
                    f"    as analyses score it (fixed blocks of 2 windows with context, {MAX_BLOCKS_PER_CALL} "
                    f"blocks per classifier call): {blocks_s * 1000:.1f} ms, {args.seconds / blocks_s:.0f}x "
                    f"real time, {blocks_s / elapsed_s:.1f}x the whole-clip call"
                )
    return 0


def score_in_blocks(detector: AudioLaughterDetector, samples: np.ndarray) -> int:
    """The engine's audio path: the clip through AudioAccumulator, scored MAX_BLOCKS_PER_CALL blocks a call."""
    accumulator = AudioAccumulator(detector.settings.window_s, detector.settings.hop_s)
    accumulator.place(samples.astype(np.float32), None)
    windows = 0
    while True:
        blocks = []
        while len(blocks) < MAX_BLOCKS_PER_CALL and (taken := accumulator.take(final=True)):
            blocks.append(taken[0])
        if not blocks:
            return windows
        windows += sum(s.count for s in detector.predict_blocks(blocks))


if __name__ == "__main__":
    raise SystemExit(main())
