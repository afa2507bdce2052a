"""Compare detect-then-track against detection on every frame, file by file.

For each file, whole-file analysis runs once with the detector on every analysed frame (the reference) and
once per ``--detect-every`` interval; the tool prints, per interval, whether the events keep their types and
their boundaries within ``--boundary-s`` and whether every face's emotion breakdown stays within
``--breakdown``, plus the analysis time as a ratio to the reference. Exits 1 when an interval misses.

    .venv/bin/python tools/compare_tracking.py samples/sample.mp4 /work/shared/data/dev/video/*.mp4 \\
        --detect-every 2 3 5

``--candidate-config int8`` runs the candidates over a second local Triton started with that model
configuration name (the int8 face detector), so ``--detect-every 1`` compares it with the default float32
detector, frame for frame.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from laughter_server.app import build_services  # noqa: E402
from laughter_server.config import load_settings  # noqa: E402
from laughter_server.pipeline.options import AnalysisOptions  # noqa: E402
from laughter_server.pipeline.result import AnalysisResult  # noqa: E402

BOUNDARY_S = 0.2
BREAKDOWN = 0.03


@dataclasses.dataclass(frozen=True)
class Deviation:
    """How far a tracked analysis is from the reference."""

    same_event_types: bool
    max_boundary_s: float  # largest start/end difference of paired events (inf when counts differ)
    max_breakdown: float  # largest per-face (and overall) emotion-share difference
    faces: tuple[int, int]  # faces in the reference, faces in the candidate

    def within(self, boundary_s: float = BOUNDARY_S, breakdown: float = BREAKDOWN) -> bool:
        return self.same_event_types and self.max_boundary_s <= boundary_s and self.max_breakdown <= breakdown


def compare(reference: AnalysisResult, candidate: AnalysisResult) -> Deviation:
    """Events paired in order (same count and types required); faces paired by frames seen, most first."""
    ref_events, new_events = reference.events, candidate.events
    same_types = len(ref_events) == len(new_events) and all(
        a.laughter_type == b.laughter_type for a, b in zip(ref_events, new_events, strict=True)
    )
    if len(ref_events) == len(new_events):
        boundary = max(
            (
                max(abs(a.start_s - b.start_s), abs(a.end_s - b.end_s))
                for a, b in zip(ref_events, new_events, strict=True)
            ),
            default=0.0,
        )
    else:
        boundary = float("inf")
    breakdown = max(
        (
            abs(x - y)
            for x, y in zip(
                reference.summary.emotion_breakdown, candidate.summary.emotion_breakdown, strict=True
            )
        ),
        default=0.0,
    )
    ref_faces = sorted(reference.summary.faces, key=lambda f: -f.frames_seen)
    new_faces = sorted(candidate.summary.faces, key=lambda f: -f.frames_seen)
    for a, b in zip(ref_faces, new_faces, strict=False):
        # faces seen on a few frames only carry little weight; compare those seen on 10 frames or more
        if a.frames_seen < 10:
            continue
        breakdown = max(
            breakdown,
            *(abs(x - y) for x, y in zip(a.emotion_breakdown, b.emotion_breakdown, strict=True)),
        )
    return Deviation(same_types, boundary, breakdown, (len(ref_faces), len(new_faces)))


async def run(
    paths: list[pathlib.Path], intervals: list[int], rate_hertz: float, candidate_config: str = ""
) -> bool:
    flags = ["--data-dir", tempfile.mkdtemp(prefix="laughter-compare-"), "--metrics-port", "0"]
    reference_services = await build_services(load_settings(flags, os.environ))
    services = (
        await build_services(
            load_settings([*flags, "--triton-model-config-name", candidate_config], os.environ)
        )
        if candidate_config
        else reference_services
    )
    ok = True
    try:
        analyzer = services.analyzer
        print(f"{'file':44} {'every':>5} {'types':>5} {'bound s':>8} {'breakd':>7} {'faces':>7} {'time':>6}")
        for path in paths:
            content = path.read_bytes()
            base = AnalysisOptions(frame_rate_hertz=rate_hertz)
            started = time.perf_counter()
            reference = await reference_services.analyzer.analyze(content, base)
            reference_s = time.perf_counter() - started
            for every in intervals:
                started = time.perf_counter()
                candidate = await analyzer.analyze(content, dataclasses.replace(base, detect_every=every))
                ratio = (time.perf_counter() - started) / reference_s
                d = compare(reference, candidate)
                ok = ok and d.within()
                print(
                    f"{path.name[:44]:44} {every:5d} {('same' if d.same_event_types else 'DIFF'):>5} "
                    f"{d.max_boundary_s:8.3f} {d.max_breakdown:7.4f} {d.faces[0]:3d}/{d.faces[1]:<3d} "
                    f"{ratio:6.2f}{'' if d.within() else '  MISS'}"
                )
    finally:
        await services.close()
        if reference_services is not services:
            await reference_services.close()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    parser.add_argument("--detect-every", nargs="+", type=int, default=[2, 3, 5])
    parser.add_argument("--rate", type=float, default=5.0, help="analysis frames per second")
    parser.add_argument(
        "--candidate-config", default="", help="Triton model configuration of the candidates, e.g. int8"
    )
    args = parser.parse_args()
    ok = asyncio.run(run(args.files, args.detect_every, args.rate, args.candidate_config))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
