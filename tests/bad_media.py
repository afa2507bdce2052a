"""Bad media built in memory for tests: WAV files with hand-made headers, short clips, still pictures, and
a check that a client-facing message is in plain words."""

from __future__ import annotations

import builtins
import io
import re
import struct
from pathlib import Path

import av
import av.error
import cv2
import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
EXCEPTION_NAMES = {
    name
    for module in (builtins, av.error)
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def wav(tag: int, bits: int, *, fmt_size: int = 16, channels: int = 1, rate: int = 16000) -> bytes:
    """A RIFF/WAVE file with one second of a tone and a hand-made fmt chunk."""
    samples = (np.sin(np.arange(rate) / 5.0) * 8000).astype("<i2").tobytes()
    block = channels * max(bits, 8) // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    if fmt_size > 16:
        fmt += struct.pack("<H", fmt_size - 18) + b"\0" * (fmt_size - 18)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def video(container: str, codec: str, frames: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A clip of ``frames`` noisy frames made in memory with PyAV."""
    width, height = size
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=10)
        stream.width, stream.height = width, height
        stream.pix_fmt = {"mjpeg": "yuvj420p", "png": "rgb24", "gif": "rgb8"}.get(codec, "yuv420p")
        image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def still(extension: str) -> bytes:
    """A 64x48 picture file encoded by OpenCV (GIF by PyAV, which OpenCV cannot write)."""
    if extension == ".gif":
        return video("gif", "gif", 1)
    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    ok, data = cv2.imencode(extension, image)
    assert ok
    return bytes(data.tobytes())


def assert_plain_words(message: str) -> None:
    """No exception class name, no ``Error)`` suffix and no file path in a client-facing message."""
    assert "Error)" not in message, message
    words = set(re.findall(r"[A-Za-z_]+", message))
    assert not words & EXCEPTION_NAMES, (words & EXCEPTION_NAMES, message)
    assert not re.search(r"(^|[\s(])(/|\./|\w+/\w+\.\w+)", message), message


def broken_copies(original: bytes, seed: int, flips: int = 6) -> list[bytes]:
    """Truncations at 0.1 %, 2 %, 30 % and 70 %, and ``flips`` copies with six bytes flipped near the start."""
    rng = np.random.default_rng(seed)
    broken = [original[: max(1, int(len(original) * f))] for f in (0.001, 0.02, 0.3, 0.7)]
    for _ in range(flips):
        flipped = bytearray(original)
        for position in rng.integers(0, min(len(original), 2048), size=6):
            flipped[position] ^= 0xFF
        broken.append(bytes(flipped))
    return broken


def audio_with_picture(container: str, codec: str, *, attached: bool = True) -> bytes:
    """Two seconds of a tone with a one-frame MJPEG picture beside it (cover art when ``attached``)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        audio = output.add_stream(codec, rate=16000)
        audio.layout = "mono"
        picture = output.add_stream("mjpeg", rate=1)
        picture.width, picture.height, picture.pix_fmt = 64, 48, "yuvj420p"
        if attached:
            picture.disposition = av.stream.Disposition.attached_pic
        image = np.zeros((48, 64, 3), dtype=np.uint8)
        for packet in picture.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            output.mux(packet)
        for packet in picture.encode():
            output.mux(packet)
        tone = (np.sin(np.arange(32000) / 5.0) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in audio.encode(frame):
            output.mux(packet)
        for packet in audio.encode():
            output.mux(packet)
    return buffer.getvalue()
