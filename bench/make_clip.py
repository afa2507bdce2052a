"""Generate the benchmark clip: the bundled sample, letterboxed to a larger frame and looped.

``python bench/make_clip.py --seconds 60 --width 1280 --height 720 --out /tmp/bench.mp4`` writes an H.264 +
AAC MP4 and, beside it, ``<out>.json`` with the looped ground truth from ``samples/sample.json``. The
picture and the soundtrack loop with the same period, so every laugh stays on its face. The output is
deterministic for a given set of flags; it is made at run time and not committed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = REPO_ROOT / "samples" / "sample.mp4"
MIX_RATE_HERTZ = 16_000
OUT_AUDIO_RATE_HERTZ = 44_100


def read_audio(path: Path) -> npt.NDArray[np.float32]:
    """Decode the first audio stream as 16 kHz mono float32."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=MIX_RATE_HERTZ)
    chunks: list[npt.NDArray[np.float32]] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def read_video_info(path: Path) -> tuple[float, int, tuple[int, int]]:
    """Return the frame rate, frame count and (width, height) of the first video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 24)
        count = sum(1 for packet in container.demux(stream) if packet.size)
        size = (stream.codec_context.width, stream.codec_context.height)
    return rate, count, size


class Letterboxer:
    """Scale decoded frames to fit ``width`` x ``height`` and centre them on black, in YUV 4:2:0."""

    def __init__(self, source_width: int, source_height: int, width: int, height: int) -> None:
        scale = min(width / source_width, height / source_height)
        self.fit_w = max(2, round(source_width * scale) // 2 * 2)
        self.fit_h = max(2, round(source_height * scale) // 2 * 2)
        self.top = (height - self.fit_h) // 4 * 2
        self.left = (width - self.fit_w) // 4 * 2
        self.luma = np.full((height, width), 16, dtype=np.uint8)
        self.chroma = np.full((2, height // 2, width // 2), 128, dtype=np.uint8)

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Return a new frame holding ``frame`` scaled and centred."""
        w, h = self.fit_w, self.fit_h
        planes = frame.to_ndarray(format="yuv420p", width=w, height=h)
        self.luma[self.top : self.top + h, self.left : self.left + w] = planes[:h]
        quarter = h // 4
        for index in range(2):
            plane = planes[h + index * quarter : h + (index + 1) * quarter].reshape(h // 2, w // 2)
            self.chroma[index, self.top // 2 : (self.top + h) // 2, self.left // 2 : (self.left + w) // 2] = (
                plane
            )
        height, width = self.luma.shape
        packed = np.concatenate(
            [
                self.luma,
                self.chroma[0].reshape(height // 4, width),
                self.chroma[1].reshape(height // 4, width),
            ]
        )
        return av.VideoFrame.from_ndarray(packed, format="yuv420p")


def iterate_looped_frames(
    path: Path, source_fps: float, source_count: int, fps: int, total: int
) -> Iterator[av.VideoFrame]:
    """Yield ``total`` decoded frames at ``fps``: the source frame due at each instant, looping."""
    produced = 0
    while produced < total:
        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                # Emit every output frame whose instant (mod the loop) falls on this source frame.
                while produced < total and int((produced * source_fps / fps) % source_count) == index:
                    yield frame
                    produced += 1
                if produced >= total:
                    return


def write_clip(args: argparse.Namespace) -> dict[str, object]:
    """Encode the looped clip and return what it holds."""
    source_fps, source_count, source_size = read_video_info(args.sample)
    audio = read_audio(args.sample)
    period_s = source_count / source_fps
    period_samples = round(period_s * MIX_RATE_HERTZ)
    audio = np.resize(audio[:period_samples], round(args.seconds * MIX_RATE_HERTZ)).astype(np.float32)
    total_frames = round(args.seconds * args.fps)
    with av.open(str(args.out), "w", format="mp4") as out:
        options = {"crf": str(args.crf), "preset": args.preset}
        video = out.add_stream("libx264", rate=args.fps, options=options)
        video.width, video.height, video.pix_fmt = args.width, args.height, "yuv420p"
        video.thread_count = args.threads
        sound = out.add_stream("aac", rate=OUT_AUDIO_RATE_HERTZ, layout="mono")
        sound.bit_rate = 64_000
        for start in range(0, len(audio), 1024):
            chunk = np.ascontiguousarray(audio[np.newaxis, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts = MIX_RATE_HERTZ, start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
        fit = Letterboxer(*source_size, args.width, args.height)
        frames = iterate_looped_frames(args.sample, source_fps, source_count, args.fps, total_frames)
        for index, source in enumerate(frames):
            picture = fit(source)
            picture.pts = index
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
    return {"period_s": period_s, "frames": total_frames}


def loop_segments(
    segments: list[dict[str, object]], period_s: float, seconds: float
) -> list[dict[str, object]]:
    """Repeat ground-truth segments every ``period_s`` and keep those that start before ``seconds``."""
    looped: list[dict[str, object]] = []
    repeat = 0
    while repeat * period_s < seconds:
        for segment in segments:
            start_s = float(segment["start_s"]) + repeat * period_s  # type: ignore[arg-type]
            end_s = min(float(segment["end_s"]) + repeat * period_s, seconds)  # type: ignore[arg-type]
            if start_s < seconds:
                looped.append(segment | {"start_s": round(start_s, 3), "end_s": round(end_s, 3)})
        repeat += 1
    return looped


def main(argv: list[str] | None = None) -> int:
    """Parse flags, write the clip and its ground truth, and report the time taken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="clip to loop")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--preset", default="veryfast", help="x264 preset")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.width % 2 or args.height % 2:
        parser.error("--width and --height must be even")
    started = time.perf_counter()
    made = write_clip(args)
    truth_path = Path(args.sample).with_suffix(".json")
    truth = json.loads(truth_path.read_text()) if truth_path.is_file() else {}
    period_s = float(made["period_s"])  # type: ignore[arg-type]
    sidecar = {
        "file": args.out.name,
        "duration_s": args.seconds,
        "fps": args.fps,
        "width": args.width,
        "height": args.height,
        "loop_period_s": round(period_s, 3),
        "laughter_segments": loop_segments(truth.get("laughter_segments", []), period_s, args.seconds),
        "speech_segments": loop_segments(truth.get("speech_segments", []), period_s, args.seconds),
    }
    args.out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    elapsed_s = time.perf_counter() - started
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size} bytes, {made['frames']} frames) in {elapsed_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
