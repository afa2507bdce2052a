"""Decoding of live chunks: encoded or raw video frames, and PCM audio resampled to 16 kHz mono as it
streams (the resampler keeps its state between chunks, so chunk edges leave no clicks)."""

from __future__ import annotations

import dataclasses

import av
import cv2
import numpy as np
import numpy.typing as npt

from laughter_server.media.frame_header import FrameHeaderError, check_frame_header
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ

OPENCV_LOG_LEVEL_ERROR = 2
cv2.setLogLevel(
    OPENCV_LOG_LEVEL_ERROR
)  # its warnings on bad frames would go to stderr, outside the log chain

FRAME_ENCODINGS = ("jpeg", "png", "rgb24", "bgr24")
AUDIO_ENCODINGS = ("s16le", "f32le")
MAX_FRAME_SIDE_PX = 4096


class ChunkError(ValueError):
    """A chunk that cannot be used; ``reason`` is an ErrorReason name, ``field`` the request field."""

    def __init__(self, reason: str, field: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.field, self.message = reason, field, message


@dataclasses.dataclass(frozen=True)
class VideoInput:
    """How the client sends frames."""

    encoding: str
    width: int = 0
    height: int = 0

    @property
    def is_raw(self) -> bool:
        return self.encoding in ("rgb24", "bgr24")

    def decode(self, data: bytes) -> npt.NDArray[np.uint8]:
        """One RGB (H, W, 3) uint8 frame; ChunkError when it does not decode or has the wrong size."""
        if self.is_raw:
            expected = self.width * self.height * 3
            if len(data) != expected:
                raise ChunkError(
                    "CHUNK_INVALID",
                    "chunk.frame.data",
                    f"raw frame has {len(data)} bytes; {self.width}x{self.height} {self.encoding} needs {expected}",
                )
            image = np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width, 3)
            return np.ascontiguousarray(image[:, :, ::-1]) if self.encoding == "bgr24" else image.copy()
        self._check_header(data)
        decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise ChunkError(
                "CHUNK_INVALID", "chunk.frame.data", f"frame does not decode as {self.encoding.upper()}"
            )
        rgb: npt.NDArray[np.uint8] = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB).astype(np.uint8, copy=False)
        return rgb

    def _check_header(self, data: bytes) -> None:
        """Refuse malformed, mislabelled or oversized frames from their headers, before any decoding."""
        try:
            header = check_frame_header(data, self.encoding)
        except FrameHeaderError as error:
            raise ChunkError("CHUNK_INVALID", "chunk.frame.data", str(error)) from None
        width, height = header.width, header.height
        if max(width, height) > MAX_FRAME_SIDE_PX:
            raise ChunkError(
                "FRAME_TOO_LARGE",
                "chunk.frame.data",
                f"frame is {width}x{height}; the limit is {MAX_FRAME_SIDE_PX} per side",
            )
        if self.width and self.height and (width, height) != (self.width, self.height):
            raise ChunkError(
                "CHUNK_INVALID",
                "chunk.frame.data",
                f"frame is {width}x{height} but the session declared {self.width}x{self.height}",
            )


@dataclasses.dataclass
class AudioInput:
    """How the client sends audio, with the streaming resampler to 16 kHz mono float32."""

    encoding: str
    sample_rate_hertz: int
    channel_count: int = 1
    _resampler: av.AudioResampler | None = None

    @property
    def bytes_per_frame(self) -> int:
        return (2 if self.encoding == "s16le" else 4) * self.channel_count

    def duration_s(self, data: bytes) -> float:
        """Media seconds in a chunk."""
        return len(data) / self.bytes_per_frame / self.sample_rate_hertz

    def decode(self, data: bytes) -> npt.NDArray[np.float32]:
        """16 kHz mono float32 samples for one chunk (the resampler may hold a few back until the next)."""
        if not data:
            raise ChunkError("CHUNK_INVALID", "chunk.audio.data", "the audio chunk carries no data")
        if len(data) % self.bytes_per_frame:
            raise ChunkError(
                "CHUNK_INVALID",
                "chunk.audio.data",
                f"audio chunk has {len(data)} bytes, not a whole number of {self.bytes_per_frame}-byte "
                f"sample frames ({self.encoding}, {self.channel_count} channel(s))",
            )
        samples: npt.NDArray[np.int16] | npt.NDArray[np.float32]
        if self.encoding == "s16le":
            samples = np.frombuffer(data, dtype=np.int16).reshape(1, -1)
        else:
            samples = np.frombuffer(data, dtype=np.float32).reshape(1, -1)
            if not np.isfinite(samples).all():
                raise ChunkError(
                    "CHUNK_INVALID",
                    "chunk.audio.data",
                    "audio chunk holds samples that are not finite numbers (NaN or infinity); PCM_F32LE "
                    "samples must lie in [-1, 1]",
                )
            samples = np.clip(samples, -1.0, 1.0)  # louder than full scale: clipped, as whole files are
        frame = av.AudioFrame.from_ndarray(
            samples,
            format="s16" if self.encoding == "s16le" else "flt",
            layout="mono" if self.channel_count == 1 else "stereo",
        )
        frame.sample_rate = self.sample_rate_hertz
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_SAMPLE_RATE_HERTZ)
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    def flush(self) -> npt.NDArray[np.float32]:
        """Samples the resampler still holds at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(None)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)
