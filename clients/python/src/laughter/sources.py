"""Media sources for live sessions: a media file, a WAV file, a camera.

A source is an iterable (and an async iterable) of :class:`~laughter.Frame` and
:class:`~laughter.AudioChunk` values in capture order, and its ``options`` are the
:class:`~laughter.SessionOptions` that describe what it sends, so ``client.stream(source)`` needs nothing
else. Change them with :func:`dataclasses.replace`, for example to add analysis options.

:func:`file_source` and :func:`camera_source` need the optional ``media`` extra (PyAV, numpy, OpenCV):
``pip install 'laughter-client[media]'``. :func:`wav_source` needs only the standard library. There is no
microphone source: capturing audio needs a library such as ``sounddevice``, which the SDK does not depend
on; feed its buffers to :meth:`~laughter.LiveSession.send_audio` instead.
"""

from __future__ import annotations

import abc
import asyncio
import os
import pathlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from laughter._aiter import iterate_async
from laughter._config import SessionOptions
from laughter._enums import AudioEncoding, BacklogPolicy, FrameEncoding
from laughter._exceptions import (
    MediaFileNotFoundError,
    MediaIsADirectoryError,
    MediaSourceError,
)
from laughter._media import decode_file, import_cv2, open_container
from laughter._session_types import AudioChunk, Frame, MediaChunk

__all__ = [
    "AUDIO_CHUNK_S",
    "AUDIO_RATE_HERTZ",
    "CameraSource",
    "FileSource",
    "MediaSource",
    "WavSource",
    "camera_source",
    "file_source",
    "wav_source",
]

AUDIO_RATE_HERTZ = 16_000
"""Sample rate of the audio :func:`file_source` sends (mono PCM16), the server's analysis rate."""
AUDIO_CHUNK_S = 0.1
"""Length of each audio chunk the file sources send."""
CLIENT_ID = "laughter-python"
WAV_MIN_RATE_HERTZ = 8_000
WAV_MAX_RATE_HERTZ = 48_000


class MediaSource(abc.ABC):
    """Base of the sources: iterable and async iterable of media chunks, with matching ``options``.

    With ``realtime``, chunks are released when the wall clock reaches their capture offset, counted from
    the first chunk (or from ``origin_s``, a :func:`time.monotonic` value, so two sources can share one
    clock); otherwise they come as fast as they are decoded.
    """

    def __init__(self, *, realtime: bool = False, origin_s: float | None = None) -> None:
        self.realtime = realtime
        self.origin_s = origin_s

    @property
    @abc.abstractmethod
    def options(self) -> SessionOptions:
        """The session options that describe what this source sends."""

    @abc.abstractmethod
    def _chunks(self) -> Iterator[MediaChunk]:
        """The chunks in capture order, unpaced."""

    def __iter__(self) -> Iterator[MediaChunk]:
        if not self.realtime:
            return self._chunks()
        return self._paced()

    def __aiter__(self) -> AsyncIterator[MediaChunk]:
        return self._paced_async()

    def _paced(self) -> Iterator[MediaChunk]:
        origin_s = self.origin_s
        for chunk in self._chunks():
            origin_s = time.monotonic() if origin_s is None else origin_s
            delay_s = origin_s + chunk.offset_s - time.monotonic()
            if delay_s > 0:
                time.sleep(delay_s)
            yield chunk

    async def _paced_async(self) -> AsyncIterator[MediaChunk]:
        """Decoding runs in a worker thread; pacing sleeps on the event loop."""
        origin_s = self.origin_s
        async for chunk in iterate_async(self._chunks()):
            if self.realtime:
                origin_s = time.monotonic() if origin_s is None else origin_s
                delay_s = origin_s + chunk.offset_s - time.monotonic()
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
            yield chunk


def _check_file(path: str | os.PathLike[str]) -> pathlib.Path:
    file_path = pathlib.Path(path)
    if not file_path.exists():
        raise MediaFileNotFoundError(f"media file not found: {file_path}", path=str(file_path))
    if file_path.is_dir():
        raise MediaIsADirectoryError(
            f"media path is a directory, not a file: {file_path}", path=str(file_path)
        )
    return file_path


class FileSource(MediaSource):
    """A media file decoded with PyAV: video frames as JPEG (every frame, or ``frame_rate_hertz`` of them
    per second) and the first audio track as 16 kHz mono PCM16 chunks of 100 ms, interleaved by capture
    time. Iterate it once per session; each iteration decodes the file again."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        realtime: bool = False,
        frame_rate_hertz: float | None = None,
        jpeg_quality: int = 85,
        origin_s: float | None = None,
    ) -> None:
        super().__init__(realtime=realtime, origin_s=origin_s)
        if frame_rate_hertz is not None and frame_rate_hertz <= 0:
            raise ValueError(f"frame_rate_hertz must be positive or None, got {frame_rate_hertz}")
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {jpeg_quality}")
        self.path = _check_file(path)
        self.frame_rate_hertz = frame_rate_hertz
        self.jpeg_quality = jpeg_quality
        with open_container(self.path) as container:
            self.has_video = bool(container.streams.video)
            self.has_audio = bool(container.streams.audio)
            self.duration_s = float(container.duration or 0) / 1e6
        if not (self.has_video or self.has_audio):
            raise MediaSourceError(f"{self.path} has neither a video nor an audio stream")

    @property
    def options(self) -> SessionOptions:
        """JPEG video and/or 16 kHz mono PCM16 audio, as the file has them; ``BacklogPolicy.BLOCK`` when
        sent as fast as possible (nothing dropped), ``DROP_OLDEST`` at real-time pace."""
        return SessionOptions(
            video_encoding=FrameEncoding.JPEG if self.has_video else None,
            audio_encoding=AudioEncoding.PCM_S16LE if self.has_audio else None,
            audio_sample_rate_hertz=AUDIO_RATE_HERTZ,
            audio_channel_count=1,
            client_id=CLIENT_ID,
            backlog_policy=BacklogPolicy.DROP_OLDEST if self.realtime else BacklogPolicy.BLOCK,
        )

    def _chunks(self) -> Iterator[MediaChunk]:
        return decode_file(
            self.path,
            frame_rate_hertz=self.frame_rate_hertz,
            jpeg_quality=self.jpeg_quality,
            audio_rate_hertz=AUDIO_RATE_HERTZ,
            audio_chunk_s=AUDIO_CHUNK_S,
        )


class WavSource(MediaSource):
    """A 16-bit PCM WAV file sent as it is (its own rate and channels) in chunks of ``chunk_s``; needs
    only the standard library. Other audio files: use :func:`file_source`, which resamples."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        realtime: bool = False,
        chunk_s: float = AUDIO_CHUNK_S,
        origin_s: float | None = None,
    ) -> None:
        super().__init__(realtime=realtime, origin_s=origin_s)
        import wave

        if chunk_s <= 0:
            raise ValueError(f"chunk_s must be positive, got {chunk_s}")
        self.path = _check_file(path)
        self.chunk_s = chunk_s
        try:
            with wave.open(str(self.path), "rb") as reader:
                self.sample_rate_hertz = reader.getframerate()
                self.channel_count = reader.getnchannels()
                sample_width = reader.getsampwidth()
                self.duration_s = reader.getnframes() / max(1, self.sample_rate_hertz)
        except (wave.Error, EOFError) as exc:
            raise MediaSourceError(f"{self.path} is not a PCM WAV file ({exc}); use file_source()") from None
        if sample_width != 2 or self.channel_count not in (1, 2):
            raise MediaSourceError(
                f"{self.path} has {8 * sample_width}-bit samples in {self.channel_count} channels; wav_source"
                " sends 16-bit mono or stereo WAV files as they are: use file_source() for this one"
            )
        if not WAV_MIN_RATE_HERTZ <= self.sample_rate_hertz <= WAV_MAX_RATE_HERTZ:
            raise MediaSourceError(
                f"{self.path} is sampled at {self.sample_rate_hertz} Hz, outside [8000, 48000] Hz:"
                " use file_source(), which resamples"
            )

    @property
    def options(self) -> SessionOptions:
        """Audio only, PCM16 at the file's rate and channel count."""
        return SessionOptions(
            video_encoding=None,
            audio_encoding=AudioEncoding.PCM_S16LE,
            audio_sample_rate_hertz=self.sample_rate_hertz,
            audio_channel_count=self.channel_count,
            client_id=CLIENT_ID,
            backlog_policy=BacklogPolicy.DROP_OLDEST if self.realtime else BacklogPolicy.BLOCK,
        )

    def _chunks(self) -> Iterator[MediaChunk]:
        import wave

        frames_per_chunk = max(1, round(self.chunk_s * self.sample_rate_hertz))
        with wave.open(str(self.path), "rb") as reader:
            position = 0
            while True:
                data = reader.readframes(frames_per_chunk)
                if not data:
                    return
                yield AudioChunk(data, position / self.sample_rate_hertz)
                position += len(data) // (2 * self.channel_count)


class CameraSource(MediaSource):
    """Frames of a camera (``cv2.VideoCapture``) as JPEG, at most ``fps`` per second, each stamped with
    the :func:`time.monotonic` time it was read, as an offset from the first frame (or from
    ``origin_s``). The camera opens when the source is made and is released when the iteration ends or
    :meth:`close` is called; iterate it once. Always live: ``BacklogPolicy.DROP_OLDEST``."""

    def __init__(
        self,
        index: int = 0,
        *,
        fps: float = 15.0,
        width: int = 640,
        height: int = 480,
        jpeg_quality: int = 85,
        origin_s: float | None = None,
    ) -> None:
        super().__init__(realtime=False, origin_s=origin_s)
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        cv2 = import_cv2()
        self.index = index
        self.fps = fps
        self.jpeg_quality = jpeg_quality
        self._cv2 = cv2
        self._is_closed = False
        self._is_reading = False
        self._release_lock = threading.Lock()
        self._capture: Any = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            self.close()
            raise MediaSourceError(f"camera {index} cannot be opened: no such device, or it is in use")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture.set(cv2.CAP_PROP_FPS, fps)

    @property
    def options(self) -> SessionOptions:
        """JPEG video only (size read from each image), ``BacklogPolicy.DROP_OLDEST``."""
        return SessionOptions(
            video_encoding=FrameEncoding.JPEG,
            audio_encoding=None,
            client_id=CLIENT_ID,
            backlog_policy=BacklogPolicy.DROP_OLDEST,
        )

    def close(self) -> None:
        """Stop the iteration and release the camera (after the frame being read, if any); calling it
        again does nothing. Safe to call from another thread than the one iterating."""
        self._is_closed = True
        if not self._is_reading:
            self._release()

    def _release(self) -> None:
        with self._release_lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None

    def _chunks(self) -> Iterator[MediaChunk]:
        interval_s = 1.0 / self.fps
        origin_s = self.origin_s
        due_s: float | None = None
        quality = [self._cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
        self._is_reading = True
        try:
            while not self._is_closed:
                ok, image = self._capture.read()
                now_s = time.monotonic()
                if not ok:
                    if self._is_closed:
                        return
                    raise MediaSourceError(f"camera {self.index} stopped delivering frames")
                if due_s is not None and now_s < due_s:
                    continue
                due_s = max(now_s, (due_s or now_s) + interval_s)
                origin_s = now_s if origin_s is None else origin_s
                encoded, jpeg = self._cv2.imencode(".jpg", image, quality)
                if encoded:
                    yield Frame(jpeg.tobytes(), max(0.0, now_s - origin_s))
        finally:
            self._is_reading = False
            self._is_closed = True
            self._release()


def file_source(
    path: str | os.PathLike[str],
    *,
    realtime: bool = False,
    frame_rate_hertz: float | None = None,
    jpeg_quality: int = 85,
    origin_s: float | None = None,
) -> FileSource:
    """A media file (any container FFmpeg reads) as JPEG frames and 16 kHz mono PCM16 audio chunks of
    100 ms, interleaved by capture time; see :class:`FileSource`. ``realtime`` paces the chunks to the wall
    clock, like a live recording; ``frame_rate_hertz`` sends only that many frames per second (the server
    analyses 5 per second by default). A missing file raises :class:`~laughter.MediaFileNotFoundError`, one
    PyAV cannot open :class:`~laughter.MediaSourceError`, and a missing PyAV
    :class:`~laughter.MissingDependencyError`."""
    return FileSource(
        path,
        realtime=realtime,
        frame_rate_hertz=frame_rate_hertz,
        jpeg_quality=jpeg_quality,
        origin_s=origin_s,
    )


def wav_source(
    path: str | os.PathLike[str],
    *,
    realtime: bool = False,
    chunk_s: float = AUDIO_CHUNK_S,
    origin_s: float | None = None,
) -> WavSource:
    """A 16-bit PCM WAV file as audio chunks at its own rate; see :class:`WavSource`."""
    return WavSource(path, realtime=realtime, chunk_s=chunk_s, origin_s=origin_s)


def camera_source(
    index: int = 0,
    *,
    fps: float = 15.0,
    width: int = 640,
    height: int = 480,
    jpeg_quality: int = 85,
    origin_s: float | None = None,
) -> CameraSource:
    """Camera ``index`` as JPEG frames at up to ``fps`` per second; see :class:`CameraSource`. No camera at
    that index raises :class:`~laughter.MediaSourceError`; a missing OpenCV
    :class:`~laughter.MissingDependencyError`."""
    return CameraSource(
        index, fps=fps, width=width, height=height, jpeg_quality=jpeg_quality, origin_s=origin_s
    )
