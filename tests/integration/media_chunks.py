"""Turn a media file into live-session chunks (JPEG frames + PCM16 audio, interleaved by capture time)."""

from __future__ import annotations

import dataclasses
import pathlib

import av
import cv2
import numpy as np
from google.protobuf import duration_pb2
from laughter.v1 import analysis_pb2, laughter_service_pb2, media_pb2, session_pb2

AUDIO_CHUNK_S = 0.1
AUDIO_RATE_HERTZ = 16_000


@dataclasses.dataclass(frozen=True)
class Chunk:
    offset_s: float
    kind: str  # "frame" | "audio"
    data: bytes


def duration(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


def load_chunks(path: pathlib.Path, *, max_s: float | None = None, jpeg_quality: int = 80) -> list[Chunk]:
    """Every video frame as JPEG and the audio as 100 ms PCM16 mono 16 kHz chunks, in capture order."""
    chunks: list[Chunk] = []
    with av.open(str(path)) as container:
        if container.streams.video:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                t = float(frame.time or 0.0)
                if max_s is not None and t >= max_s:
                    break
                bgr = frame.to_ndarray(format="bgr24")
                ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
                assert ok
                chunks.append(Chunk(t, "frame", jpeg.tobytes()))
    with av.open(str(path)) as container:
        if container.streams.audio:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE_HERTZ)
            pcm = []
            for frame in container.decode(audio=0):
                pcm.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            pcm.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
            samples = np.concatenate(pcm).astype(np.int16)
            if max_s is not None:
                samples = samples[: int(max_s * AUDIO_RATE_HERTZ)]
            step = int(AUDIO_CHUNK_S * AUDIO_RATE_HERTZ)
            for i in range(0, len(samples), step):
                chunks.append(Chunk(i / AUDIO_RATE_HERTZ, "audio", samples[i : i + step].tobytes()))
    chunks.sort(key=lambda c: (c.offset_s, c.kind))
    return chunks


def session_config(
    *,
    video: bool = True,
    audio: bool = True,
    include_face_samples: bool = False,
    session_id: str = "",
    block: bool = True,
) -> session_pb2.SessionConfig:
    """JPEG + PCM16 16 kHz mono; by default the sender waits when the server is busy (no frame drops)."""
    return session_pb2.SessionConfig(
        client_id="tests",
        session_id=session_id,
        backlog_policy=session_pb2.BACKLOG_POLICY_BLOCK if block else session_pb2.BACKLOG_POLICY_DROP_OLDEST,
        video=media_pb2.VideoFormat(encoding=media_pb2.FRAME_ENCODING_JPEG) if video else None,
        audio=media_pb2.AudioFormat(
            encoding=media_pb2.AUDIO_ENCODING_PCM_S16LE, sample_rate_hertz=AUDIO_RATE_HERTZ, channel_count=1
        )
        if audio
        else None,
        options=analysis_pb2.AnalysisOptions(include_face_samples=include_face_samples),
    )


def media_chunk(chunk: Chunk) -> media_pb2.MediaChunk:
    if chunk.kind == "frame":
        return media_pb2.MediaChunk(
            frame=media_pb2.VideoFrame(data=chunk.data, capture_offset=duration(chunk.offset_s))
        )
    return media_pb2.MediaChunk(
        audio=media_pb2.AudioChunk(data=chunk.data, capture_offset=duration(chunk.offset_s))
    )


def requests(config: session_pb2.SessionConfig, chunks: list[Chunk]):  # type: ignore[no-untyped-def]
    yield laughter_service_pb2.StreamingAnalyzeRequest(config=config)
    for chunk in chunks:
        yield laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(chunk))
