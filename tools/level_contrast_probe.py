"""Level statistics of labelled audio for a recording-relative level reference (runtime venv).

For each class of a manifest's audio clips it prints two figures a level reference could lean on:

* window contrast: the 95th minus the 10th percentile of the 1 s window levels (every 0.25 s) of the
  whole clip, i.e. how far the loud part of a recording stands above its floor;
* frame contrast: the same over 25 ms frame levels of the first ``--seconds`` (what a live session has
  heard by then), i.e. whether the sound so far is modulated (speech, laughter) or steady (hiss, hum).

::

    .venv/bin/python tools/level_contrast_probe.py ../shared/data/dev/manifest.csv [--sample samples/sample.mp4]

``--sample`` adds the frame contrast of a file's first ``--intro-s`` seconds (the bundled sample's room
noise before its first laugh). docs/events.md ("Level robustness") quotes the figures.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import numpy.typing as npt
from laughter_server.media.decode import decode_audio
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ

WINDOW_S, HOP_S, FRAME_S = 1.0, 0.25, 0.025
HIGH, LOW = 95, 10
"""The percentiles a contrast is taken between."""


def _levels_db(power: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(10.0 * np.log10(np.maximum(power, 1e-12)), dtype=np.float64)


def window_levels_db(
    samples: npt.NDArray[np.float32], rate: int = AUDIO_SAMPLE_RATE_HERTZ
) -> npt.NDArray[np.float64]:
    """RMS level (dBFS) of each ``WINDOW_S`` window every ``HOP_S`` (a short clip is zero-padded to one)."""
    window, hop = round(WINDOW_S * rate), round(HOP_S * rate)
    values = np.asarray(samples, dtype=np.float64)
    if values.size < window:
        values = np.pad(values, (0, window - values.size))
    starts = np.arange(1 + (values.size - window) // hop) * hop
    sums = np.concatenate([[0.0], np.cumsum(values**2)])
    return _levels_db((sums[starts + window] - sums[starts]) / window)


def frame_levels_db(
    samples: npt.NDArray[np.float32], rate: int = AUDIO_SAMPLE_RATE_HERTZ
) -> npt.NDArray[np.float64]:
    """RMS level (dBFS) of each consecutive ``FRAME_S`` frame (a partial last frame is left out)."""
    frame = round(FRAME_S * rate)
    count = len(samples) // frame
    values = np.asarray(samples[: count * frame], dtype=np.float64).reshape(count, frame)
    return _levels_db((values**2).mean(axis=1))


def contrast_db(levels_db: npt.NDArray[np.float64]) -> float:
    """The ``HIGH``th minus the ``LOW``th percentile of ``levels_db`` (NaN for fewer than 8 levels)."""
    if levels_db.size < 8:
        return float("nan")
    return float(np.percentile(levels_db, HIGH) - np.percentile(levels_db, LOW))


def _spread(values: list[float]) -> str:
    array = np.asarray(values, dtype=np.float64)
    if np.isnan(array).all():
        return "n/a (clips too short)"
    low, mid, high = np.nanpercentile(array, [10, 50, 90])
    return f"{low:.1f} / {mid:.1f} / {high:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifest", type=Path, help="a manifest CSV with file and label columns")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="frame contrast over this much of each clip"
    )
    parser.add_argument("--sample", type=Path, default=None, help="also a file's intro")
    parser.add_argument("--intro-s", type=float, default=1.2, help="length of that intro")
    args = parser.parse_args(argv)
    windows: dict[str, list[float]] = {}
    frames: dict[str, list[float]] = {}
    with args.manifest.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["file"].startswith("audio/"):
                continue
            clip = decode_audio((args.manifest.parent / row["file"]).read_bytes())
            samples = np.asarray(clip.samples, dtype=np.float32)
            head = samples[: round(args.seconds * clip.sample_rate_hertz)]
            windows.setdefault(row["label"], []).append(contrast_db(window_levels_db(samples)))
            frames.setdefault(row["label"], []).append(contrast_db(frame_levels_db(head)))
    print(
        f"class: clips, window contrast (whole clip), frame contrast (first {args.seconds:g} s); dB, 10th / 50th / 90th"
    )
    for label in sorted(windows):
        print(f"{label}: {len(windows[label])}, {_spread(windows[label])}, {_spread(frames[label])}")
    if args.sample is not None:
        clip = decode_audio(args.sample.read_bytes())
        intro = np.asarray(clip.samples, dtype=np.float32)[: round(args.intro_s * clip.sample_rate_hertz)]
        level = float(_levels_db(np.mean(intro.astype(np.float64) ** 2)))
        print(
            f"{args.sample} first {args.intro_s:g} s: frame contrast {contrast_db(frame_levels_db(intro)):.1f} dB at {level:.1f} dBFS"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
