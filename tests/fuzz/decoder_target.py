"""The media decoders as one fuzz target: whole-file probing and decoding (``probe_media``,
``iter_video_frames``, ``iter_audio``) and the live-frame and live-audio decoders (``frame_header``,
``live_input``). Only the errors they document may escape, and each input's work is bounded in time."""

from __future__ import annotations

import contextlib
import pathlib
import signal
from collections.abc import Iterator
from types import FrameType

import numpy as np
from laughter_server.errors import LaughterError
from laughter_server.media.decode import MediaLimits, iter_audio, iter_video_frames, probe_media
from laughter_server.media.frame_header import FrameHeaderError, check_frame_header
from laughter_server.media.live_input import AudioInput, ChunkError, VideoInput

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
INPUT_TIMEOUT_S = 10.0
"""The most one input may cost all decoders together; more is a failure (unbounded work)."""
MAX_FRAMES = 120
MAX_AUDIO_PIECES = 64
LIMITS = MediaLimits()
VIDEO_INPUTS = (VideoInput("jpeg"), VideoInput("png"), VideoInput("rgb24", 8, 6), VideoInput("bgr24", 4, 4))
AUDIO_FORMATS = (("s16le", 16000, 1), ("s16le", 44100, 2), ("f32le", 8000, 1), ("f32le", 48000, 2))


class InputTooSlowError(AssertionError):
    """One input kept the decoders busy past INPUT_TIMEOUT_S."""


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Fail with InputTooSlowError when the block runs longer than ``seconds`` (main thread only)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise InputTooSlowError(f"one input took more than {seconds} s to decode")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"the decoder did not return {what}")


def decode_whole_file(data: bytes) -> None:
    """What AnalyzeMedia does with the bytes: probe, then frames and audio (a bounded number of each)."""
    try:
        info = probe_media(data, LIMITS)
    except LaughterError:
        return
    try:
        if info.video_codec is not None:
            for index, (t_s, image) in enumerate(iter_video_frames(data, 2.0)):
                _expect(t_s >= 0.0 and image.ndim == 3 and image.shape[2] == 3, "an RGB frame at t >= 0")
                if index >= MAX_FRAMES:
                    break
        if info.audio_codec is not None:
            for index, piece in enumerate(iter_audio(data, chunk_s=1.0)):
                _expect(piece.ndim == 1 and bool(np.all(np.abs(piece) <= 1.0)), "mono samples in [-1, 1]")
                if index >= MAX_AUDIO_PIECES:
                    break
    except LaughterError:
        return


def decode_live(data: bytes) -> None:
    """What a live session does with a chunk: frame headers, frame decoding, PCM decoding."""
    for encoding in ("jpeg", "png"):
        with contextlib.suppress(FrameHeaderError):
            header = check_frame_header(data, encoding)
            _expect(header.width > 0 and header.height > 0, "a positive frame size")
    for video in VIDEO_INPUTS:
        try:
            image = video.decode(data)
        except ChunkError as error:
            _expect(
                error.reason in ("CHUNK_INVALID", "FRAME_TOO_LARGE") and bool(error.message),
                "a documented reason",
            )
            continue
        _expect(image.ndim == 3 and image.shape[2] == 3, "an RGB frame")
    for encoding, rate, channels in AUDIO_FORMATS:
        audio = AudioInput(encoding, rate, channels)
        try:
            for samples in (audio.decode(data), audio.decode(data), audio.flush()):
                _expect(bool(np.isfinite(samples).all()), "finite samples")
        except ChunkError as error:
            _expect(error.reason == "CHUNK_INVALID" and bool(error.message), "a documented reason")


def run_decoders(data: bytes) -> None:
    """The fuzz target: every decoder on ``data``; only documented errors escape, within the time bound."""
    with bounded(INPUT_TIMEOUT_S):
        decode_whole_file(data)
        decode_live(data)


def seeds() -> list[bytes]:
    """The committed seed corpus."""
    return [path.read_bytes() for path in sorted(CORPUS.iterdir()) if path.is_file()]
