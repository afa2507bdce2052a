"""The ``laughter stream`` and ``laughter live`` commands: send a file or a camera to a live session and
print its updates as they come, then the summary."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

from laughter._async_client import AsyncLaughterClient
from laughter._client import LaughterClient
from laughter._config import AnalysisOptions, ClientOptions
from laughter._enums import AudioEncoding, EventPhase
from laughter._live import LiveSession, feed_session
from laughter._render import (
    Table,
    emotion_table,
    event_table,
    face_table,
    model_table,
    notice_table,
    print_tables,
    summary_table,
    timing_table,
    trend_table,
    type_table,
)
from laughter._session_types import EventUpdate, SessionStarted, SessionUpdate, SessionWarning
from laughter._types import AnalysisSummary, LaughterEvent
from laughter.sources import MediaSource, camera_source, file_source, wav_source

__all__ = ["add_stream_commands", "run_live", "run_stream"]

EXIT_OK = 0
EXIT_SERVER_FAULT = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def add_stream_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``stream`` and ``live`` to the command's subparsers."""
    stream = commands.add_parser(
        "stream", parents=[common], help="stream a media file to a live session and print events as they come"
    )
    stream.add_argument("file", metavar="FILE", help="video or audio file (any format FFmpeg reads)")
    stream.add_argument(
        "--realtime", action="store_true", help="send at the media's own pace, like a live feed"
    )
    stream.add_argument(
        "--send-fps",
        type=float,
        default=None,
        metavar="F",
        help="video frames sent per second (default: all)",
    )
    live = commands.add_parser(
        "live", parents=[common], help="stream a camera (and a WAV file as its sound) until Ctrl-C"
    )
    live.add_argument("--camera", type=int, default=0, metavar="INDEX", help="camera index (default 0)")
    live.add_argument(
        "--camera-fps", type=float, default=15.0, metavar="F", help="frames per second (default 15)"
    )
    live.add_argument("--width", type=int, default=640, help="requested frame width (default 640)")
    live.add_argument("--height", type=int, default=480, help="requested frame height (default 480)")
    live.add_argument("--audio-wav", default=None, metavar="FILE", help="16-bit PCM WAV played as the sound")
    for parser in (stream, live):
        parser.add_argument("--jsonl", action="store_true", help="print every update as one JSON line")
        parser.add_argument("--fps", type=float, default=None, metavar="F", help="frames analysed per second")
        parser.add_argument(
            "--threshold", type=float, default=None, metavar="T", help="laughter score that starts an event"
        )
        parser.add_argument(
            "--face-samples", action="store_true", help="also emit face samples (with --jsonl)"
        )
        parser.add_argument("--session-id", default="", metavar="ID", help="id for the session")


def _analysis_options(args: argparse.Namespace) -> AnalysisOptions:
    return AnalysisOptions(
        analysis_frame_rate_hertz=args.fps,
        laughter_threshold=args.threshold,
        include_face_samples=args.face_samples,
    )


class UpdatePrinter:
    """Prints updates as they arrive: lines of text, JSON lines, or (``--json``) one document at the end."""

    def __init__(self, out: TextIO, *, mode: str, source: str, use_rich: bool) -> None:
        self._out = out
        self._mode = mode
        self._source = source
        self._use_rich = use_rich
        self.session_id = ""
        self.ended: list[LaughterEvent] = []
        self.warnings: list[SessionWarning] = []
        self.summary: AnalysisSummary | None = None

    def show(self, update: SessionUpdate) -> None:
        """Record one update and print what the mode prints of it."""
        if isinstance(update, SessionStarted):
            self.session_id = update.session_id
        elif isinstance(update, EventUpdate) and update.phase is EventPhase.ENDED:
            self.ended.append(update.event)
        elif isinstance(update, SessionWarning):
            self.warnings.append(update)
        elif isinstance(update, AnalysisSummary):
            self.summary = update
        if self._mode == "jsonl":
            self._out.write(json.dumps({"update": update.kind, **update.to_dict()}) + "\n")
        elif self._mode == "text":
            line = update_line(update)
            if line:
                self._out.write(line + "\n")
        self._out.flush()

    def finish(self) -> int:
        """Print the summary (text and ``--json``); the exit code."""
        if self.summary is None:
            sys.stderr.write("laughter: error: the session ended without a summary\n")
            return EXIT_SERVER_FAULT
        if self._mode == "json":
            document = {
                "session_id": self.session_id,
                "events": [event.to_dict() for event in self.ended],
                "warnings": [warning.to_dict() for warning in self.warnings],
                "summary": self.summary.to_dict(),
            }
            json.dump(document, self._out, indent=2)
            self._out.write("\n")
        elif self._mode == "text":
            self._out.write("\n")
            tables = session_tables(self.ended, self.summary, self._source, self.session_id)
            print_tables(tables, self._out, use_rich=self._use_rich)
        return EXIT_OK


def _face(event: LaughterEvent) -> str:
    return "no face" if event.face_id is None else f"face {event.face_id}"


def update_line(update: SessionUpdate) -> str:
    """One line of text for an update worth a line (session start, event start and end, warnings)."""
    if isinstance(update, SessionStarted):
        return f"session {update.session_id} started (ends after {update.idle_timeout_s:.0f} s without media)"
    if isinstance(update, EventUpdate):
        event = update.event
        if update.phase is EventPhase.STARTED:
            return (
                f"{event.start_s:7.2f} s         laughter started  {event.laughter_type.value},"
                f" confidence {event.confidence:.2f}, {_face(event)}"
            )
        if update.phase is EventPhase.ENDED:
            return (
                f"{event.start_s:7.2f}-{event.end_s:7.2f} s laughter ended    {event.laughter_type.value},"
                f" confidence {event.confidence:.2f}, {_face(event)} ({event.duration_s:.2f} s)"
            )
        return ""
    if isinstance(update, SessionWarning):
        where = f" {update.field}" if update.field else ""
        return f"warning: {update.reason}{where}: {update.message}"
    return ""


def session_tables(
    events: Iterable[LaughterEvent], summary: AnalysisSummary, source: str, session_id: str
) -> list[Table]:
    """The tables printed at the end of a session: its ended events and its summary."""
    tables = [event_table(list(events)), summary_table(summary, source), emotion_table(summary)]
    optional = [type_table, trend_table, face_table, notice_table, timing_table]
    tables += [table for table in (make(summary) for make in optional) if table.rows]
    if summary.models:
        tables.append(model_table(summary.models))
    tables.append(Table("Session", (), (("session id", session_id),)))
    return tables


def _mode(args: argparse.Namespace) -> str:
    """The output mode: text, json or jsonl; empty (after a message) when both JSON flags are given."""
    if args.json and args.jsonl:
        sys.stderr.write("laughter: error: --json and --jsonl cannot be combined\n")
        return ""
    return "json" if args.json else "jsonl" if args.jsonl else "text"


def run_stream(args: argparse.Namespace, client_options: ClientOptions, out: TextIO) -> int:
    """``laughter stream FILE``: stream the file with the sync client, printing updates as they come."""
    mode = _mode(args)
    if not mode:
        return EXIT_USAGE
    source = file_source(args.file, realtime=args.realtime, frame_rate_hertz=args.send_fps)
    options = dataclasses.replace(
        source.options, analysis=_analysis_options(args), session_id=args.session_id
    )
    printer = UpdatePrinter(out, mode=mode, source=source.path.name, use_rich=not args.plain)
    with LaughterClient(options=client_options) as client:
        for update in client.stream(source, config=options, timeout_s=args.timeout):
            printer.show(update)
    return printer.finish()


def run_live(args: argparse.Namespace, client_options: ClientOptions, out: TextIO) -> int:
    """``laughter live``: stream a camera (and a WAV file) until Ctrl-C, then print the summary."""
    mode = _mode(args)
    if not mode:
        return EXIT_USAGE
    try:
        return asyncio.run(_live(args, client_options, out, mode))
    except asyncio.CancelledError:  # a second Ctrl-C
        sys.stderr.write("laughter: interrupted\n")
        return EXIT_INTERRUPTED


async def _live(args: argparse.Namespace, client_options: ClientOptions, out: TextIO, mode: str) -> int:
    origin_s = time.monotonic()
    sources: list[MediaSource] = []
    camera = camera_source(
        args.camera, fps=args.camera_fps, width=args.width, height=args.height, origin_s=origin_s
    )
    sources.append(camera)
    options = dataclasses.replace(
        camera.options, analysis=_analysis_options(args), session_id=args.session_id
    )
    try:
        if args.audio_wav:
            wav = wav_source(args.audio_wav, realtime=True, origin_s=origin_s)
            sources.append(wav)
            options = dataclasses.replace(
                options,
                audio_encoding=AudioEncoding.PCM_S16LE,
                audio_sample_rate_hertz=wav.sample_rate_hertz,
                audio_channel_count=wav.channel_count,
            )
        printer = UpdatePrinter(out, mode=mode, source=f"camera {args.camera}", use_rich=not args.plain)
        stop = asyncio.Event()
        with _stop_on_interrupt(stop):
            async with AsyncLaughterClient(options=client_options) as client:
                session = await client.open_session(options, timeout_s=args.timeout)
                sys.stderr.write(f"streaming camera {args.camera}; press Ctrl-C to stop\n")
                await _watch(session, sources, stop, printer)
        return printer.finish()
    finally:
        camera.close()


async def _watch(
    session: LiveSession, sources: list[MediaSource], stop: asyncio.Event, printer: UpdatePrinter
) -> None:
    async with session:
        feed = asyncio.create_task(feed_session(session, *sources, stop=stop))
        try:
            async for update in session.updates():
                printer.show(update)
        finally:
            feed.cancel()
            await asyncio.wait({feed})


@contextlib.contextmanager
def _stop_on_interrupt(stop: asyncio.Event) -> Iterator[None]:
    """The first Ctrl-C sets ``stop`` (the session half-closes and sends its summary); the second cancels."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def interrupt() -> None:
        if stop.is_set():
            if task is not None:
                task.cancel()
            return
        sys.stderr.write("stopping: waiting for the summary (Ctrl-C again to abort)\n")
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signal support: Ctrl-C aborts
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
