"""Helpers for the browser tests: the real server with its web port as a child process, the sample as the
fake camera (y4m) and microphone (wav) files, and a Chromium started through Playwright."""

from __future__ import annotations

import collections
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import av
import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
DIST = REPO / "clients" / "web" / "dist"
SERVER_SCRIPT = pathlib.Path(sys.executable).parent / "laughter-server"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
INSTALL_HINT = (
    "the web tests need Debian's Chromium and the built page: run `make web-deps` "
    "(apt-get install -y chromium; npm ci and the bundle build in clients/web)"
)
START_TIMEOUT_S = 120.0


def free_port() -> int:
    """A loopback port that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chromium_path() -> str:
    """The Chromium binary; fails (never skips) with how to install it."""
    found = next((p for p in CHROMIUM_CANDIDATES if pathlib.Path(p).is_file()), None) or shutil.which(
        "chromium"
    )
    if found is None:
        raise AssertionError(f"no Chromium found at {', '.join(CHROMIUM_CANDIDATES)}: {INSTALL_HINT}")
    if not (DIST / "index.html").is_file() or not (DIST / "assets" / "main.js").is_file():
        raise AssertionError(
            f"the page is not built ({DIST} has no index.html/assets/main.js): {INSTALL_HINT}"
        )
    return found


class WebServer:
    """``laughter-server`` with ``--web-listen`` as a child process, using an already running Triton."""

    def __init__(
        self, triton_url: str, extra: Sequence[str] = (), data_dir: pathlib.Path | None = None
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = data_dir or pathlib.Path(tempfile.mkdtemp(prefix="laughter-web-"))
        self.grpc_address = f"127.0.0.1:{free_port()}"
        self.web_port = free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.output: collections.deque[str] = collections.deque(maxlen=200)
        self.process = subprocess.Popen(
            [
                str(SERVER_SCRIPT),
                "--listen",
                self.grpc_address,
                "--web-listen",
                f"127.0.0.1:{self.web_port}",
                "--triton-url",
                triton_url,
                "--metrics-port",
                "0",
                "--log-format",
                "json",
                "--data-dir",
                str(self.data_dir),
                # one process: the web port runs on the first worker only, and the tests hold the gRPC and
                # web calls to one admission and one set of sessions (`--workers` has its own tests)
                "--workers",
                "1",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip()[:500])

    def wait_ready(self) -> WebServer:
        """Until the page is served (the web port starts after the gRPC port is serving)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("laughter-server exited while starting:\n" + "\n".join(self.output))
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.web_port)) == 0:
                    return self
            time.sleep(0.2)
        raise AssertionError("the web port did not open in time:\n" + "\n".join(self.output))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def write_fake_devices(sample: pathlib.Path, folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """The sample's picture as a y4m (yuv420p rawvideo) and its sound as a 16-bit PCM wav."""
    y4m = folder / "sample.y4m"
    wav = folder / "sample.wav"
    with av.open(str(sample)) as source, av.open(str(y4m), "w", format="yuv4mpegpipe") as out:
        stream = source.streams.video[0]
        rate = stream.average_rate or 24
        video = out.add_stream("rawvideo", rate=rate)
        video.width, video.height, video.pix_fmt = stream.width, stream.height, "yuv420p"
        for frame in source.decode(stream):
            for packet in video.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    with av.open(str(sample)) as source, av.open(str(wav), "w", format="wav") as out:
        stream = source.streams.audio[0]
        audio = out.add_stream("pcm_s16le", rate=48000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for frame in source.decode(stream):
            for piece in resampler.resample(frame):
                for packet in audio.encode(piece):
                    out.mux(packet)
        for piece in resampler.resample(None):
            for packet in audio.encode(piece):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)
    return y4m, wav


def launch(browser_type: Any, y4m: pathlib.Path, wav: pathlib.Path, *, allow_media: bool = True) -> Any:
    """A headless Chromium whose camera and microphone play the given files; fails if it cannot start.
    ``allow_media=False`` leaves out the flag that accepts the camera prompt, so the browser denies it."""
    from playwright.sync_api import Error

    executable = chromium_path()
    try:
        return browser_type.launch(
            executable_path=executable,
            headless=True,
            args=[
                *(["--use-fake-ui-for-media-stream"] if allow_media else []),
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={y4m}",
                f"--use-file-for-fake-audio-capture={wav}",
                "--autoplay-policy=no-user-gesture-required",
                "--no-sandbox",
            ],
        )
    except Error as exc:
        raise AssertionError(
            f"Chromium at {executable} did not start ({exc.message[:300]}): {INSTALL_HINT}"
        ) from None


@contextmanager
def browser(y4m: pathlib.Path, wav: pathlib.Path) -> Iterator[Any]:
    """``launch`` within its own Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p.chromium, y4m, wav)
        try:
            yield chromium
        finally:
            chromium.close()


def silence_check(wav: pathlib.Path) -> float:
    """Peak level of the wav (a sanity check that the fixture carries sound)."""
    with av.open(str(wav)) as source:
        peak = max(float(np.abs(f.to_ndarray()).max()) for f in source.decode(audio=0))
    return peak
