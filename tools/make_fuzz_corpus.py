"""Write the decoder fuzzer's seed corpus (tests/fuzz/corpus/): a few small generated media files, valid and
broken, a few KB each (the MKV and Ogg muxers write a new stream id on each run)."""

from __future__ import annotations

import argparse
import io
import pathlib
import struct

import av
import cv2
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fuzz" / "corpus"
RATE = 16_000


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    return (np.sin(np.arange(int(seconds * rate)) / 5.0) * 8000).astype(np.int16)


def wav(samples: np.ndarray, rate: int = RATE, *, data_size: int | None = None) -> bytes:
    payload = samples.astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    size = len(payload) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _with_rate(content: bytes, rate: int) -> bytes:
    """A WAV whose fmt chunk declares ``rate`` samples per second (the resampler's cost grows with it)."""
    return content[:24] + struct.pack("<I", rate) + content[28:]


def clip(container: str, codec: str, frames: int, *, audio: str | None = None, size=(32, 24)) -> bytes:
    """``frames`` small frames (and 0.3 s of a tone in ``audio`` codec) muxed in memory."""
    width, height = size
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with av.open(buffer, mode="w", format=container) as output:
        video = output.add_stream(codec, rate=10)
        video.width, video.height = width, height
        video.pix_fmt = {"mjpeg": "yuvj420p", "png": "rgb24"}.get(codec, "yuv420p")
        sound = None
        if audio is not None:
            sound = output.add_stream(audio, rate=RATE)
            sound.layout = "mono"
        for _ in range(frames):
            image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                output.mux(packet)
        for packet in video.encode():
            output.mux(packet)
        if sound is not None:
            frame = av.AudioFrame.from_ndarray(tone(0.3).reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = RATE
            for packet in sound.encode(frame):
                output.mux(packet)
            for packet in sound.encode():
                output.mux(packet)
    return buffer.getvalue()


def picture(extension: str) -> bytes:
    image = np.random.default_rng(1).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    ok, data = cv2.imencode(extension, image)
    assert ok
    return bytes(data.tobytes())


def corpus() -> dict[str, bytes]:
    mp4 = clip("mp4", "mpeg4", 4, audio="aac")
    samples = tone(0.1)
    files = {
        "tone.wav": wav(tone(0.1)),
        "tone_data_size_lies.wav": wav(samples, data_size=0x7FFFFFFF),
        "tone_truncated.wav": wav(samples)[:300],
        "tone_rate_704mhz.wav": _with_rate(wav(samples), 0x2A003E80),
        "clip.mp4": mp4,
        "clip_truncated.mp4": mp4[: len(mp4) // 2],
        "clip_box_size_lies.mp4": struct.pack(">I", 0xFFFFFFF0) + mp4[4:],
        "mjpeg3.mkv": clip("matroska", "mjpeg", 3),
        "png2.mov": clip("mov", "png", 2, size=(8, 6)),
        "opus.ogg": _audio_only("ogg", "libopus"),
        "frame.png": picture(".png"),
        "frame.jpg": picture(".jpg"),
        "frame_truncated.jpg": picture(".jpg")[:200],
        "pcm_s16.raw": samples[:800].tobytes(),
        "pcm_f32.raw": (samples[:400] / 32768.0).astype("<f4").tobytes(),
        "rgb24_8x6.raw": bytes(range(144)),
    }
    return files


def _audio_only(container: str, codec: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        sound = output.add_stream(codec, rate=48000)
        sound.layout = "mono"
        frame = av.AudioFrame.from_ndarray(tone(0.2, 48000).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        for packet in sound.encode(frame):
            output.mux(packet)
        for packet in sound.encode():
            output.mux(packet)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in corpus().items():
        (args.out / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
