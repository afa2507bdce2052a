"""Decoding a media file into live-session chunks with PyAV and OpenCV, imported only when needed (the
``media`` extra)."""

from __future__ import annotations

import collections
import contextlib
import pathlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from laughter._exceptions import MediaSourceError, MissingDependencyError
from laughter._session_types import AudioChunk, Frame, MediaChunk

__all__ = ["Interleaver", "decode_file", "import_av", "import_cv2", "open_container"]

MEDIA_EXTRA = "pip install 'laughter-client[media]'"
PCM16_BYTES = 2


def _import(module: str, purpose: str) -> ModuleType:
    try:
        return __import__(module)
    except ImportError as exc:
        raise MissingDependencyError(f"{purpose} needs the optional media extra: {MEDIA_EXTRA}") from exc


def import_av() -> ModuleType:
    """PyAV, or :class:`~laughter.MissingDependencyError` naming the extra."""
    return _import("av", "decoding media files")


def import_cv2() -> ModuleType:
    """OpenCV, or :class:`~laughter.MissingDependencyError` naming the extra."""
    return _import("cv2", "encoding JPEG frames and reading cameras")


@contextlib.contextmanager
def open_container(path: pathlib.Path) -> Iterator[Any]:
    """The file opened with PyAV; a file FFmpeg cannot read raises :class:`~laughter.MediaSourceError`."""
    av = import_av()
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise MediaSourceError(f"{path} cannot be decoded: {exc}") from None
    try:
        yield container
    finally:
        container.close()


class Interleaver:
    """Merges the frames and audio chunks of two tracks, each in capture order, into one capture order,
    releasing an item as soon as the other track cannot bring an earlier one."""

    def __init__(self, *, has_video: bool, has_audio: bool) -> None:
        self._video: collections.deque[MediaChunk] = collections.deque()
        self._audio: collections.deque[MediaChunk] = collections.deque()
        self._is_single = not (has_video and has_audio)

    def push(self, item: MediaChunk) -> Iterator[MediaChunk]:
        """Add one item; yields the items that are now in order."""
        (self._video if isinstance(item, Frame) else self._audio).append(item)
        while (self._video and self._audio) or (self._is_single and (self._video or self._audio)):
            yield self._pop()

    def drain(self) -> Iterator[MediaChunk]:
        """Every item still held, in order (both tracks have ended)."""
        while self._video or self._audio:
            yield self._pop()

    def _pop(self) -> MediaChunk:
        if not self._video:
            return self._audio.popleft()
        if not self._audio:
            return self._video.popleft()
        if self._audio[0].offset_s <= self._video[0].offset_s:
            return self._audio.popleft()
        return self._video.popleft()


class _AudioChunker:
    """Cuts PCM16 mono bytes into chunks of a fixed length, stamped from the track's first sample."""

    def __init__(self, rate_hertz: int, chunk_s: float) -> None:
        self._rate_hertz = rate_hertz
        self._chunk_bytes = max(1, round(chunk_s * rate_hertz)) * PCM16_BYTES
        self._buffer = bytearray()
        self._samples_sent = 0
        self._start_s: float | None = None

    def push(self, data: bytes, start_s: float) -> Iterator[AudioChunk]:
        """Add samples; yields every full chunk."""
        if self._start_s is None:
            self._start_s = max(0.0, start_s)
        self._buffer += data
        while len(self._buffer) >= self._chunk_bytes:
            yield self._take(self._chunk_bytes)

    def flush(self) -> Iterator[AudioChunk]:
        """The last, shorter chunk, if any samples are left."""
        size = len(self._buffer) - len(self._buffer) % PCM16_BYTES
        if size:
            yield self._take(size)

    def _take(self, size: int) -> AudioChunk:
        offset_s = (self._start_s or 0.0) + self._samples_sent / self._rate_hertz
        chunk = AudioChunk(bytes(self._buffer[:size]), offset_s)
        del self._buffer[:size]
        self._samples_sent += size // PCM16_BYTES
        return chunk


def decode_file(
    path: pathlib.Path,
    *,
    frame_rate_hertz: float | None,
    jpeg_quality: int,
    audio_rate_hertz: int,
    audio_chunk_s: float,
) -> Iterator[MediaChunk]:
    """The file's first video track as JPEG frames (all, or ``frame_rate_hertz`` per second) and its first
    audio track as mono PCM16 chunks at ``audio_rate_hertz``, interleaved by capture time."""
    av = import_av()
    cv2 = import_cv2()
    quality = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    with open_container(path) as container:
        streams = [*container.streams.video[:1], *container.streams.audio[:1]]
        merger = Interleaver(has_video=bool(container.streams.video), has_audio=bool(container.streams.audio))
        resampler = av.AudioResampler(format="s16", layout="mono", rate=audio_rate_hertz)
        chunker = _AudioChunker(audio_rate_hertz, audio_chunk_s)
        interval_s = 1.0 / frame_rate_hertz if frame_rate_hertz else 0.0
        due_s: float | None = None
        last_s = 0.0
        try:
            for frame in container.decode(*streams):
                time_s = float(frame.time) if frame.time is not None else last_s
                if isinstance(frame, av.AudioFrame):
                    pcm = b"".join(out.to_ndarray().tobytes() for out in resampler.resample(frame))
                    for chunk in chunker.push(pcm, time_s):
                        yield from merger.push(chunk)
                    continue
                time_s = max(time_s, last_s)
                if due_s is not None and time_s < due_s - 1e-6:
                    continue
                is_behind = due_s is None or time_s - due_s >= interval_s
                due_s = time_s + interval_s if is_behind else (due_s or 0.0) + interval_s
                last_s = time_s
                encoded, jpeg = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"), quality)
                if not encoded:
                    raise MediaSourceError(f"a frame of {path} at {time_s:.3f} s cannot be encoded as JPEG")
                yield from merger.push(Frame(jpeg.tobytes(), time_s))
            tail = b"".join(out.to_ndarray().tobytes() for out in resampler.resample(None))
        except av.FFmpegError as exc:
            raise MediaSourceError(f"{path} cannot be decoded: {exc}") from None
        for chunk in chunker.push(tail, 0.0):
            yield from merger.push(chunk)
        for chunk in chunker.flush():
            yield from merger.push(chunk)
        yield from merger.drain()
