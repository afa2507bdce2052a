"""Value types shared by the decoding, vision, audio and fusion stages."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

AUDIO_SAMPLE_RATE_HERTZ = 16_000
"""Every stage after decoding sees 16 kHz mono float32 audio in [-1, 1]."""


@dataclasses.dataclass(frozen=True)
class AudioClip:
    """Mono audio at ``sample_rate_hertz``; ``start_s`` is its offset from the start of the media."""

    samples: npt.NDArray[np.float32]
    sample_rate_hertz: int = AUDIO_SAMPLE_RATE_HERTZ
    start_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return float(len(self.samples)) / float(self.sample_rate_hertz)


@dataclasses.dataclass(frozen=True)
class FrameBatch:
    """Sampled video frames: RGB uint8 images of one size and their media timestamps in seconds."""

    images: npt.NDArray[np.uint8]  # (N, H, W, 3), RGB
    timestamps_s: npt.NDArray[np.float64]  # (N,), increasing

    @property
    def count(self) -> int:
        return int(self.images.shape[0])

    @property
    def height(self) -> int:
        return int(self.images.shape[1])

    @property
    def width(self) -> int:
        return int(self.images.shape[2])


@dataclasses.dataclass(frozen=True)
class MediaInfo:
    """What the container held, for the summary and for error messages."""

    container: str
    duration_s: float
    video_codec: str | None = None
    audio_codec: str | None = None
    source_fps: float | None = None
    width: int | None = None
    height: int | None = None
    source_sample_rate_hertz: int | None = None
    audio_channels: int | None = None


@dataclasses.dataclass(frozen=True)
class DecodedMedia:
    """The output of decoding: sampled frames (if any video), resampled audio (if any) and stream info."""

    info: MediaInfo
    frames: FrameBatch | None
    audio: AudioClip | None

    @property
    def has_video(self) -> bool:
        return self.frames is not None and self.frames.count > 0

    @property
    def has_audio(self) -> bool:
        return self.audio is not None and len(self.audio.samples) > 0
