"""Decode media bytes in memory with PyAV (ffmpeg bundled in the wheel): no temp files, no subprocess.

``probe_media`` reads the container header and validates it; ``iter_video_frames`` yields frames sampled at
the analysis rate (bounded memory: one frame at a time); ``decode_audio`` returns the whole audio track
resampled to 16 kHz mono float32.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator, Sequence
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt
import structlog

from laughter_server.errors import (
    EmptyMediaError,
    FrameTooLargeError,
    MediaTooLargeError,
    NoMediaStreamsError,
    StillImageError,
    UndecodableMediaError,
)
from laughter_server.media.decode_errors import describe_decode_error
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip, MediaInfo

log = structlog.get_logger(__name__)

IMAGE_CODECS = frozenset(
    {"mjpeg", "png", "apng", "bmp", "webp", "tiff", "gif", "jpeg2000", "ppm", "pgm", "pbm", "qoi", "jpegxl"}
)
"""Codecs that can hold a single picture; in a video container they are a still only with one frame."""
IMAGE_DEMUXERS = frozenset({"image2", "image2pipe"})
"""Demuxers of picture files (besides the ``*_pipe`` ones such as png_pipe, jpeg_pipe, webp_pipe)."""
DECODE_ERRORS = (av.error.FFmpegError, ValueError, UnicodeDecodeError)
"""What PyAV raises for bad data: its FFmpeg errors, and ValueError for values it cannot convert."""

MAX_AUDIO_SAMPLE_RATE_HERTZ = 768_000
"""The highest audio sample rate in use (DXD and studio formats stop here); a header declaring more is damaged,
and resampling it down to 16 kHz would cost seconds of CPU for a few bytes."""
MAX_AUDIO_CHANNELS = 64
"""The most channels FFmpeg's resampler mixes."""

MAX_ANALYSIS_SIDE_PX = 1280
"""Frames with a longer side are scaled down once when decoded: faces stay large enough, memory stays small."""


@dataclasses.dataclass(frozen=True)
class MediaLimits:
    """Limits checked before any frame is decoded."""

    max_frame_pixels: int = 3840 * 2160
    max_duration_s: float = 3600.0


def _open(content: bytes) -> av.container.InputContainer:
    try:
        return av.open(io.BytesIO(content), mode="r", metadata_errors="ignore")
    except DECODE_ERRORS as exc:
        raise UndecodableMediaError(
            f"the media could not be read: {describe_decode_error(exc)}; send a video (mp4, mkv, webm, "
            "mov...) or an audio file (wav, mp3, m4a, ogg...)"
        ) from exc


def _decodable(streams: Sequence[Any]) -> Any | None:
    """The first stream this build of FFmpeg has a decoder for (PyAV leaves ``codec_context`` None);
    attached pictures (cover art) come after real streams."""
    for stream in sorted(streams, key=_is_attached_picture):
        context = stream.codec_context
        if context is None:
            continue
        if stream.type == "audio" and not (
            0 < context.sample_rate <= MAX_AUDIO_SAMPLE_RATE_HERTZ
            and 0 < context.channels <= MAX_AUDIO_CHANNELS
        ):
            continue
        return stream
    return None


def _is_attached_picture(stream: Any) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _is_still(container: av.container.InputContainer, video: Any) -> bool:
    """A picture file, or a video stream of a picture codec holding a single frame."""
    name = container.format.name
    if name in IMAGE_DEMUXERS or name.endswith("_pipe"):
        return True
    if video.codec_context.name not in IMAGE_CODECS:
        return False
    return _frame_count(container, video, at_most=2) <= 1


def _frame_count(container: av.container.InputContainer, video: Any, at_most: int) -> int:
    """Frames of the stream, from the header or by reading packets (no decoding) until ``at_most``."""
    if video.frames:
        return int(video.frames)
    count = 0
    try:
        for packet in container.demux(video):
            if packet.size:
                count += 1
                if count >= at_most:
                    break
    except DECODE_ERRORS:
        pass  # a damaged packet ends the count; decoding reports the damage later
    return count


def _container_duration_s(container: av.container.InputContainer) -> float:
    if container.duration is not None:
        return float(container.duration) / float(av.time_base)
    best = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            best = max(best, float(stream.duration * stream.time_base))
    return best


def probe_media(content: bytes, limits: MediaLimits) -> MediaInfo:
    """Validate the container and describe its first video and audio streams."""
    if not content:
        raise EmptyMediaError("the request carried no media bytes; put the file's contents in `content`")
    with _open(content) as container:
        video = _decodable(container.streams.video)
        audio = _decodable(container.streams.audio)
        if video is None and audio is None:
            kinds = [k for k in ("video", "audio") if getattr(container.streams, k)]
            if kinds:
                raise UndecodableMediaError(
                    f"the media's {' and '.join(kinds)} stream is in a format this server has no decoder "
                    "for, or its header declares no (or an impossible) sample rate, channel count or sample "
                    "size; convert it to H.264 or VP9 video, or AAC, Opus, MP3 or 16-bit PCM WAV audio"
                )
            raise NoMediaStreamsError(
                "the container holds no video and no audio stream; send a recording with at least one of them"
            )
        width = height = None
        if video is not None:
            width, height = int(video.codec_context.width), int(video.codec_context.height)
            if width * height > limits.max_frame_pixels:
                raise FrameTooLargeError(
                    f"video frames are {width}x{height}, above the limit of {limits.max_frame_pixels} pixels; "
                    "downscale the video (e.g. to 1920x1080) before sending it"
                )
            if width <= 0 or height <= 0:
                raise UndecodableMediaError(
                    "the video stream declares no frame size; the file may be truncated"
                )
            if _is_still(container, video):
                if audio is None:
                    raise StillImageError(
                        "the media is a still image, not a video or audio recording: one picture cannot show "
                        "laughter over time; send a video, or send the pictures as frames of a live session "
                        "(StreamingAnalyze or CreateSession)"
                    )
                video = None  # a cover picture beside the audio: analyse the audio
                width = height = None
        duration_s = _container_duration_s(container)
        if duration_s > limits.max_duration_s:
            raise MediaTooLargeError(
                f"the media lasts {duration_s:.0f} s, above the limit of {limits.max_duration_s:.0f} s; "
                "split it or use StreamingAnalyze"
            )
        fps = float(video.average_rate) if video is not None and video.average_rate else None
        return MediaInfo(
            container=container.format.name,
            duration_s=duration_s,
            video_codec=video.codec_context.name if video is not None else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            source_fps=fps,
            width=width,
            height=height,
            source_sample_rate_hertz=int(audio.codec_context.sample_rate) if audio is not None else None,
            audio_channels=int(audio.codec_context.channels) if audio is not None else None,
        )


def _scaled_size(width: int, height: int) -> tuple[int, int]:
    longest = max(width, height)
    if longest <= MAX_ANALYSIS_SIDE_PX:
        return width, height
    scale = MAX_ANALYSIS_SIDE_PX / longest
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


SAMPLE_SLACK_FRAMES = 1.5
"""Packets whose time lies within this many source frames after a sampling instant are always decoded in full."""


def _near_sampling_instant(t_s: float, period_s: float, slack_s: float) -> bool:
    """Whether a frame at ``t_s`` may be the first at or after one of the instants 0, period, 2 period..."""
    return t_s - (t_s + 1e-6) // period_s * period_s < slack_s


def iter_video_frames(
    content: bytes, frame_rate_hertz: float
) -> Iterator[tuple[float, npt.NDArray[np.uint8]]]:
    """Yield ``(timestamp_s, rgb (H, W, 3) uint8)`` for one frame every ``1 / frame_rate_hertz`` seconds.

    Timestamps are offsets from the start of the stream. A decode error part-way through ends the
    iteration with UndecodableMediaError naming the time reached, so callers can tell truncation apart.

    Frames that no other frame refers to (most B-frames) are not decoded at all unless they lie just after a
    sampling instant (``SAMPLE_SLACK_FRAMES``): the frames taken are the ones decoding every frame would take,
    at about half the decoder's work on a typical H.264 file. Without packet times or a frame rate, every
    frame is decoded.
    """
    period_s = 1.0 / frame_rate_hertz
    with _open(content) as container:
        stream = _decodable(container.streams.video)
        if stream is None:
            return
        stream.thread_type = "AUTO"
        codec = stream.codec_context
        start = stream.start_time if stream.start_time is not None else 0
        time_base = float(stream.time_base) if stream.time_base is not None else 0.0
        out_w, out_h = _scaled_size(int(codec.width), int(codec.height))
        next_s = 0.0
        index = 0
        fallback_fps = float(stream.average_rate) if stream.average_rate else 25.0
        slack_s = (
            SAMPLE_SLACK_FRAMES / float(stream.average_rate) if stream.average_rate and time_base else 0.0
        )
        last_s = -1.0
        try:
            for packet in container.demux(stream):
                if slack_s:  # a packet without a time is always decoded
                    needed = packet.pts is None or _near_sampling_instant(
                        float(packet.pts - start) * time_base, period_s, slack_s
                    )
                    codec.skip_frame = "DEFAULT" if needed else "NONREF"
                for frame in packet.decode():
                    if frame.pts is not None and time_base:
                        t_s = float(frame.pts - start) * time_base
                    else:
                        t_s = index / fallback_fps
                    index += 1
                    if t_s + 1e-6 < next_s or t_s <= last_s:
                        continue
                    last_s = t_s
                    next_s = max(next_s + period_s, t_s + period_s * 0.5)
                    image = np.asarray(
                        frame.to_ndarray(format="rgb24", width=out_w, height=out_h), dtype=np.uint8
                    )
                    yield max(0.0, t_s), image
        except DECODE_ERRORS as exc:
            if index == 0:
                raise UndecodableMediaError(
                    f"the video stream could not be decoded: {describe_decode_error(exc, decoding=True)}"
                ) from exc
            log.warning("media.video_truncated", frames_decoded=index, error=type(exc).__name__)


def decode_audio(content: bytes) -> AudioClip | None:
    """Decode the first decodable audio stream to 16 kHz mono float32; None when there is none."""
    with _open(content) as container:
        stream = _decodable(container.streams.audio)
        if stream is None:
            return None
        pieces = list(_audio_pieces(container, stream, AUDIO_CHUNK_S))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return AudioClip(samples=samples, sample_rate_hertz=AUDIO_SAMPLE_RATE_HERTZ)


AUDIO_CHUNK_S = 5.0


def iter_audio(content: bytes, chunk_s: float = AUDIO_CHUNK_S) -> Iterator[npt.NDArray[np.float32]]:
    """The first decodable audio stream as 16 kHz mono float32 pieces of about ``chunk_s``, clipped to
    [-1, 1] (bounded memory: one piece at a time); nothing when there is no such stream. A decode error
    part-way ends the pieces early (logged); one before any audio raises UndecodableMediaError."""
    with _open(content) as container:
        stream = _decodable(container.streams.audio)
        if stream is not None:
            yield from _audio_pieces(container, stream, chunk_s)


def _audio_pieces(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, chunk_s: float
) -> Iterator[npt.NDArray[np.float32]]:
    target = max(1, round(chunk_s * AUDIO_SAMPLE_RATE_HERTZ))
    resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_SAMPLE_RATE_HERTZ)
    pending: list[npt.NDArray[np.float32]] = []
    size = 0
    decoded = 0
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
                size += pending[-1].size
            decoded += 1
            if size >= target:
                yield _full_scale(np.concatenate(pending))
                pending, size = [], 0
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
    except DECODE_ERRORS as exc:
        if not decoded:
            raise UndecodableMediaError(
                f"the audio stream could not be decoded: {describe_decode_error(exc, decoding=True)}"
            ) from exc
        log.warning("media.audio_truncated", frames_decoded=decoded, error=type(exc).__name__)
    if pending:
        yield _full_scale(np.concatenate(pending))


def _full_scale(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Samples in [-1, 1]; NaN (a float WAV may hold any bits) becomes silence, infinities full scale."""
    return np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
