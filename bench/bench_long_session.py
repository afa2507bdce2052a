"""Long live session (``make bench``): one engine fed hours of synthetic media as fast as it takes them.

Eight faces per frame at 10 Hz (the face models are the deterministic stand-in of the unit tests, so the
figure is the engine's own cost, not Triton's) and the bundled sample's soundtrack looped, with the faces
laughing during its laughs. Pushed as a live session pushes: one frame, or 0.1 s of audio, per call.
Printed at 1 min, 1 h and 4 h of media: resident memory, CPU time per update (per push, averaged over the
last minute of media) and the state the fuser retains; then the ratio last/first of both figures, measured
in the same run (the reference is the session's own first minute).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter_server.config import DEFAULT_AUDIO_MODEL  # noqa: E402
from laughter_server.media.decode import decode_audio  # noqa: E402
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, MediaInfo  # noqa: E402
from laughter_server.pipeline.audio_stage import AudioStage  # noqa: E402
from laughter_server.pipeline.engine import Engine, Tracks  # noqa: E402
from laughter_server.pipeline.options import AnalysisOptions  # noqa: E402

from tests.unit.pipeline.fake_faces import FakeFaceModels, make_frame  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
LAUGHS_S = ((1.2, 3.68), (15.58, 17.98), (21.26, 27.17))
RATE_HERTZ = 10.0
FACES = 8


def rss_mb() -> float:
    """Resident memory of this process, in MB."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(hours: float) -> list[tuple[str, float, float, dict[str, int]]]:
    clip = decode_audio(SAMPLE.read_bytes())
    assert clip is not None
    loop_s = len(clip.samples) / AUDIO_SAMPLE_RATE_HERTZ
    laughing = make_frame([0.9] * FACES)[None]
    calm = make_frame([0.05] * FACES)[None]
    engine = Engine(
        AnalysisOptions(frame_rate_hertz=RATE_HERTZ, max_faces=FACES),
        Tracks(video=True, audio=True),
        FakeFaceModels(),
        AudioStage.load(DEFAULT_AUDIO_MODEL),
        emit=lambda _: None,
        interim=True,
        keep_events=False,
    )
    checkpoints = {60: "1 min", 3600: "1 h", 4 * 3600: "4 h"}
    checkpoints = {s: n for s, n in checkpoints.items() if s <= hours * 3600} | {
        int(hours * 3600): f"{hours:g} h"
    }
    rows = []
    window_cpu, window_pushes = 0.0, 0
    step = AUDIO_SAMPLE_RATE_HERTZ // 10
    for second in range(int(hours * 3600)):
        cpu = time.process_time()
        for k in range(int(RATE_HERTZ)):
            t = second + k / RATE_HERTZ
            in_loop = t % loop_s
            frame = laughing if any(a <= in_loop < b for a, b in LAUGHS_S) else calm
            await engine.push_frames([t], frame)
        start = round((second % loop_s) * AUDIO_SAMPLE_RATE_HERTZ)
        audio = np.resize(np.roll(clip.samples, -start), AUDIO_SAMPLE_RATE_HERTZ)
        for i in range(0, AUDIO_SAMPLE_RATE_HERTZ, step):
            await engine.push_audio(audio[i : i + step])
        window_cpu += time.process_time() - cpu
        window_pushes += int(RATE_HERTZ) + 10
        if (second + 1) % 60 == 0:
            if second + 1 in checkpoints:
                rows.append(
                    (
                        checkpoints[second + 1],
                        rss_mb(),
                        1000 * window_cpu / window_pushes,
                        engine.fuser.retained,
                    )
                )
                print(
                    f"  {rows[-1][0]:>6}: RSS {rows[-1][1]:7.1f} MB, {rows[-1][2]:.3f} ms CPU/update, retained {rows[-1][3]}",
                    flush=True,
                )
            window_cpu, window_pushes = 0.0, 0
    result = await engine.finish(MediaInfo(container="bench", duration_s=0.0))
    print(
        f"  events {result.summary.durations.event_count}, frames {result.frames_analyzed}, faces seen "
        f"{sum(f.frames_seen for f in result.summary.faces)}"
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0, help="media hours to feed (default 4)")
    args = parser.parse_args()
    print(
        f"long session: {FACES} faces at {RATE_HERTZ:g} Hz + audio, {args.hours:g} h of media, fed as fast as possible"
    )
    started = time.perf_counter()
    rows = asyncio.run(run(args.hours))
    first, last = rows[0], rows[-1]
    print(f"  memory growth {first[0]} -> {last[0]}: {last[1] - first[1]:+.1f} MB (target < 50 MB)")
    print(f"  CPU per update {last[0]} / {first[0]}: {last[2] / first[2]:.2f} (target < 1.5)")
    print(f"  wall {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
