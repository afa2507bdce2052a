"""Hypothesis strategies for every laughter.v1 request field: random, structured and boundary values, and
mutations of real media files (truncation, byte flips, header lies)."""

from __future__ import annotations

import pathlib
import struct

import hypothesis.strategies as st
from google.protobuf import duration_pb2
from laughter.v1 import analysis_pb2, laughter_service_pb2, media_pb2, session_pb2

from tests.conftest import DATA, SAMPLE

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
DURATION_SECONDS_MAX = 315_576_000_000
"""The largest valid google.protobuf.Duration, in seconds (10,000 years)."""
FLOAT_BOUNDARIES = (0.0, -0.0, 1e-45, 0.5, 1.0, -1.0, 30.0, 1e9, -1e9, 3.4e38, -3.4e38)
MEDIA_FILES = ("audio_only.wav", "silence.wav", "video_no_audio.mp4", "no_faces.mp4", "no_streams.mkv")

int32s = st.one_of(st.sampled_from((0, 1, -1, 2, 7, 99, 4096, 4097, *INT32)), st.integers(*INT32))
int64s = st.one_of(st.sampled_from((0, 1, -1, *INT64, 2**53)), st.integers(*INT64))
float32s = st.one_of(
    st.sampled_from(FLOAT_BOUNDARIES),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
)
texts = st.one_of(
    st.sampled_from(("", "a", "-", "_", "x" * 64, "x" * 65, "../etc/passwd", "ünï", " ", "\n", "\x00")),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
)


@st.composite
def durations(draw: st.DrawFn) -> duration_pb2.Duration:
    """Valid, boundary and invalid Durations (nanos outside ±999,999,999, mixed signs, huge seconds)."""
    seconds = draw(
        st.one_of(
            st.sampled_from((0, 1, -1, 10**7, 3 * 10**11, DURATION_SECONDS_MAX, DURATION_SECONDS_MAX + 1)),
            st.integers(-100, 100_000),
            st.integers(*INT64),
        )
    )
    nanos = draw(
        st.one_of(
            st.sampled_from((0, 1, -1, 999_999_999, -999_999_999, 10**9, -(10**9), 2 * 10**9, *INT32)),
            st.integers(*INT32),
        )
    )
    return duration_pb2.Duration(seconds=seconds, nanos=nanos)


def maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object | None]:
    return st.one_of(st.none(), strategy)


def _set(message: object, values: dict[str, object]) -> object:
    for name, value in values.items():
        if value is None:
            continue
        if hasattr(value, "CopyFrom"):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


@st.composite
def analysis_options(draw: st.DrawFn) -> analysis_pb2.AnalysisOptions:
    """Every AnalysisOptions field unset or any value of its type."""
    return _set(  # type: ignore[return-value]
        analysis_pb2.AnalysisOptions(),
        {
            "analysis_frame_rate_hertz": draw(maybe(float32s)),
            "disable_video": draw(maybe(st.booleans())),
            "disable_audio": draw(maybe(st.booleans())),
            "laughter_threshold": draw(maybe(float32s)),
            "min_event_duration": draw(maybe(durations())),
            "max_faces": draw(maybe(int32s)),
            "include_face_samples": draw(maybe(st.booleans())),
        },
    )


enum_values = st.one_of(st.sampled_from((0, 1, 2, 3, 4, 5, 99, -1)), st.integers(*INT32))
rates = st.one_of(st.sampled_from((0, 1, 8000, 16000, 44100, 48000, 192000, 192001, -16000)), int32s)
channels = st.one_of(st.sampled_from((0, 1, 2, 3, 8, -1)), int32s)
session_ids = st.one_of(
    st.sampled_from(("", "a", "x" * 64, "x" * 65, "has space", "ünï", "../x", "a/b", "-_-")), texts
)


@st.composite
def session_configs(draw: st.DrawFn) -> session_pb2.SessionConfig:
    """Every SessionConfig field unset or any value: unknown enum numbers, sizes, rates, channels, ids."""
    config = session_pb2.SessionConfig()
    _set(
        config,
        {
            "client_id": draw(maybe(texts)),
            "session_id": draw(maybe(session_ids)),
            "options": draw(maybe(analysis_options())),
            "progress_interval": draw(maybe(durations())),
            "backlog_policy": draw(maybe(enum_values)),
        },
    )
    if draw(st.booleans()):
        _set(
            config.video,
            {
                "encoding": draw(maybe(enum_values)),
                "width": draw(maybe(int32s)),
                "height": draw(maybe(int32s)),
            },
        )
    if draw(st.booleans()):
        _set(
            config.audio,
            {
                "encoding": draw(maybe(enum_values)),
                "sample_rate_hertz": draw(maybe(rates)),
                "channel_count": draw(maybe(channels)),
            },
        )
    return config


def _png_bytes() -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.zeros((24, 32, 3), dtype=np.uint8))
    assert ok
    return bytes(data.tobytes())


def _jpeg_bytes() -> bytes:
    return (DATA / "image.jpg").read_bytes()


MAX_CHUNK_BYTES = 8 * 1024 * 1024
"""The server's default ``max_chunk_bytes``."""
_ENCODED = st.sampled_from(("jpeg", "png", "pcm")).map(
    lambda kind: {"jpeg": _jpeg_bytes, "png": _png_bytes, "pcm": lambda: b"\x00\x01" * 1600}[kind]()
)
payloads = st.one_of(
    st.just(b""),
    st.binary(max_size=4096),
    _ENCODED,
    st.binary(min_size=1, max_size=64),
    _ENCODED,
    st.sampled_from((65_536, 1 << 20, MAX_CHUNK_BYTES - 1, MAX_CHUNK_BYTES + 1)).map(lambda n: bytes(n)),
)


@st.composite
def offsets(draw: st.DrawFn, previous: float = 0.0) -> duration_pb2.Duration | None:
    """Unset, in order, going backwards, negative, huge, or an invalid Duration."""
    kind = draw(st.sampled_from(("unset", "forward", "backward", "any")))
    if kind == "unset":
        return None
    if kind == "any":
        return draw(durations())
    step = draw(st.floats(0.0, 5.0))
    value = duration_pb2.Duration()
    value.FromNanoseconds(round((previous + step if kind == "forward" else previous - step) * 1e9))
    return value


@st.composite
def media_chunks(draw: st.DrawFn) -> media_pb2.MediaChunk:
    """A frame, an audio chunk, or neither, with any payload and offset."""
    kind = draw(st.sampled_from(("frame", "audio", "none")))
    chunk = media_pb2.MediaChunk()
    if kind == "none":
        return chunk
    part = chunk.frame if kind == "frame" else chunk.audio
    part.data = draw(payloads)
    offset = draw(offsets(previous=draw(st.floats(0.0, 10.0))))
    if offset is not None:
        part.capture_offset.CopyFrom(offset)
    return chunk


def _riff_lie(content: bytes, value: int, where: int) -> bytes:
    """A WAV with its RIFF size (4), fmt size (16), channels and rate (22), rate (24) or data size (40)
    replaced."""
    return content[:where] + struct.pack("<I", value & 0xFFFFFFFF) + content[where + 4 :]


def _box_lie(content: bytes, value: int, index: int) -> bytes:
    """An MP4 with the size of its ``index``-th top-level box replaced."""
    position = 0
    for _ in range(index):
        size = struct.unpack(">I", content[position : position + 4])[0]
        if size < 8 or position + size >= len(content):
            break
        position += size
    return content[:position] + struct.pack(">I", value & 0xFFFFFFFF) + content[position + 4 :]


@st.composite
def mutated_media(draw: st.DrawFn, *, with_sample: bool = True) -> bytes:
    """A real file truncated at a random point, with bytes flipped, or with a header size that lies."""
    name = draw(st.sampled_from((*MEDIA_FILES, SAMPLE.name) if with_sample else MEDIA_FILES))
    path = SAMPLE if name == SAMPLE.name else DATA / name
    content = _read(path)
    kind = draw(st.sampled_from(("truncate", "flip", "lie")))
    if kind == "truncate":
        return content[: draw(st.integers(0, len(content)))]
    if kind == "flip":
        data = bytearray(content)
        window = draw(st.sampled_from((64, 2048, len(content))))
        for _ in range(draw(st.integers(1, 16))):
            data[draw(st.integers(0, min(window, len(data)) - 1))] ^= draw(st.integers(1, 255))
        return bytes(data)
    value = draw(st.one_of(st.sampled_from((0, 1, 7, 8, 0xFFFFFFFF, 0x7FFFFFFF)), st.integers(0, 2**32 - 1)))
    if path.suffix == ".wav":
        return _riff_lie(content, value, draw(st.sampled_from((4, 16, 22, 24, 40))))
    return _box_lie(content, value, draw(st.integers(0, 3)))


_CACHE: dict[pathlib.Path, bytes] = {}


def _read(path: pathlib.Path) -> bytes:
    if path not in _CACHE:
        _CACHE[path] = path.read_bytes()
    return _CACHE[path]


@st.composite
def upload_sequences(draw: st.DrawFn) -> list[laughter_service_pb2.AnalyzeMediaUploadRequest]:
    """Header first or not, a second header, size_bytes that lies (or -1), pieces of a real or random file."""
    content = draw(
        st.one_of(
            st.binary(max_size=2048), mutated_media(with_sample=False), st.just(_read(DATA / "silence.wav"))
        )
    )
    pieces = []
    step = draw(st.integers(max(1, len(content) // 64), max(1, len(content))))  # at most 64 pieces
    for start in range(0, len(content), step):
        pieces.append(
            laughter_service_pb2.AnalyzeMediaUploadRequest(content_chunk=content[start : start + step])
        )
    size = draw(
        st.one_of(
            st.just(len(content)),
            st.sampled_from((0, -1, 1, len(content) - 1, len(content) + 1, 2**40, *INT64)),
            int64s,
        )
    )
    header = laughter_service_pb2.AnalyzeMediaUploadHeader(
        filename=draw(texts), size_bytes=size, options=draw(analysis_options())
    )
    place = draw(st.sampled_from(("first", "none", "late", "twice")))
    header_message = laughter_service_pb2.AnalyzeMediaUploadRequest(header=header)
    if place == "first":
        return [header_message, *pieces]
    if place == "twice":
        return [header_message, header_message, *pieces]
    if place == "late":
        return [*pieces[:1], header_message, *pieces[1:]]
    return pieces
