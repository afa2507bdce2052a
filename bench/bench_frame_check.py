"""Cost of refusing a bad live frame (``make bench``).

Garbage PNG frames (the PNG signature and 3,000 random bytes), a JPEG frame in a PNG session and a truncated
PNG go through ``VideoInput.decode``, which refuses them from their headers. Printed next to a reference
measured in the same run: the image decoder (``cv2.imdecode``) on the same garbage, and on a good 640x480 frame.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter_server.media.frame_header import PNG_SIGNATURE  # noqa: E402
from laughter_server.media.live_input import ChunkError, VideoInput  # noqa: E402


def median_ms(runs: int, action: Callable[[], object]) -> float:
    """Median wall time of ``runs`` calls of ``action``, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000.0


def refused(video: VideoInput, data: bytes) -> Callable[[], object]:
    def run() -> object:
        try:
            return video.decode(data)
        except ChunkError as error:
            return error

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="runs of the header checks (default 200)")
    parser.add_argument(
        "--decoder-runs", type=int, default=3, help="runs of cv2.imdecode on garbage (default 3)"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    garbage = PNG_SIGNATURE + rng.bytes(3000)
    picture = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    png = cv2.imencode(".png", picture)[1].tobytes()
    jpeg = cv2.imencode(".jpg", picture)[1].tobytes()
    session = VideoInput("png")
    rows = [
        ("garbage PNG, header check", median_ms(args.runs, refused(session, garbage))),
        ("JPEG in a PNG session", median_ms(args.runs, refused(session, jpeg))),
        ("truncated PNG", median_ms(args.runs, refused(session, png[: len(png) // 2]))),
        (
            "reference: cv2.imdecode on the garbage",
            median_ms(
                args.decoder_runs, lambda: cv2.imdecode(np.frombuffer(garbage, np.uint8), cv2.IMREAD_COLOR)
            ),
        ),
        ("reference: good 640x480 PNG decoded", median_ms(20, refused(session, png))),
    ]
    for name, ms in rows:
        print(f"{name:42s} {ms:10.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
