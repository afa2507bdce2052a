"""The page in a real Chromium against the real server's web port: live camera and microphone (the sample
played by Chromium's fake devices), file upload, the errors a person sees, and the docs' screenshots."""

from __future__ import annotations

import io
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from PIL import Image

from tests.web_page import REPO, WebServer, browser, silence_check, write_fake_devices

pytestmark = pytest.mark.integration

SAMPLE = REPO / "samples" / "sample.mp4"
SHOTS = REPO / "docs" / "images"
TOLERANCE_S = 1.0
SAMPLE_LOOP_S = 28.5
PAGE_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def web_server(triton: Any) -> Iterator[WebServer]:
    """The real server with its web port, on the session's Triton."""
    server = WebServer(triton.grpc_url).wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    """The sample as Chromium's fake camera (y4m) and microphone (wav)."""
    y4m, wav = write_fake_devices(SAMPLE, tmp_path_factory.mktemp("devices"))
    assert silence_check(wav) > 1000
    return y4m, wav


@pytest.fixture(scope="module")
def chromium(devices: tuple[pathlib.Path, pathlib.Path]) -> Iterator[Any]:
    """Headless Chromium with the fake devices."""
    with browser(*devices) as launched:
        yield launched


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page (960x820 viewport: the screenshots stay small)."""
    context = chromium.new_context(viewport={"width": 960, "height": 820})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def whole_file(web_server: WebServer) -> laughter_service_pb2.AnalyzeMediaResponse:
    """AnalyzeMedia of the sample over the same server's gRPC port."""
    with grpc.insecure_channel(web_server.grpc_address) as channel:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
        request = laughter_service_pb2.AnalyzeMediaRequest(content=SAMPLE.read_bytes(), filename="sample.mp4")
        return stub.AnalyzeMedia(request, timeout=300)


def rows(page: Any, testid: str) -> list[dict[str, Any]]:
    """The events table as dicts (phase, start, end)."""
    return [
        json.loads(x)
        for x in page.eval_on_selector_all(
            f"[data-testid={testid}] tbody tr",
            "rs => rs.map(r => JSON.stringify({phase: r.dataset.phase, start: +r.dataset.start, end: +r.dataset.end}))",
        )
    ]


def wait_media_time(page: Any, seconds: float) -> None:
    """Until the live view's media clock passes ``seconds``."""
    page.wait_for_function(
        f"+document.querySelector('[data-testid=media-time]').dataset.seconds >= {seconds}",
        timeout=PAGE_TIMEOUT_MS,
        polling=100,
    )


def matches(event: dict[str, Any], segment: dict[str, Any]) -> bool:
    return (
        abs(event["start"] - segment["start_s"]) <= TOLERANCE_S
        and abs(event["end"] - segment["end_s"]) <= TOLERANCE_S
    )


def shoot(page: Any, name: str, full_page: bool = False) -> None:
    """Write a docs screenshot: a PNG reduced to 128 colours so that it stays small."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(SHOTS / name, optimize=True)


class TestLive:
    """Camera and microphone stream into a session; events and the summary appear."""

    def test_live_events_match_the_known_laughs(self, page, web_server, sample_truth) -> None:  # type: ignore[no-untyped-def]
        """At least one STARTED and one ENDED update, ENDED events within 1 s of the known laughs, a summary."""
        page.goto(web_server.url + "/#live")
        page.get_by_test_id("live-start").click()
        wait_media_time(page, 24.0)  # inside the last known laugh: preview, face box, open event
        shoot(page, "web-live.png")
        wait_media_time(page, SAMPLE_LOOP_S + 0.3)
        page.get_by_test_id("live-stop").click()
        page.get_by_test_id("summary").wait_for(timeout=PAGE_TIMEOUT_MS)
        stats = page.evaluate("window.laughterLive")
        phases = {p["phase"] for p in stats["phases"]}
        assert {"STARTED", "ENDED"} <= phases, stats["phases"]
        ended = [r for r in rows(page, "live-events") if r["phase"] == "ENDED"]
        segments = sample_truth["laughter_segments"]
        looped = [  # the fake devices play the sample in a loop: its next laughs may begin before the stop
            {"start_s": s["start_s"] + k * SAMPLE_LOOP_S, "end_s": s["end_s"] + k * SAMPLE_LOOP_S}
            for s in segments
            for k in (0, 1)
        ]
        for event in ended:
            assert any(matches(event, s) for s in looped), (event, ended, segments)
        for segment in segments:
            assert any(matches(e, segment) for e in ended), (segment, ended)
        count = int(page.get_by_test_id("summary").get_attribute("data-event-count"))
        assert count == len(ended)
        assert page.get_by_test_id("counters").inner_text().startswith("analysed to")


class TestFile:
    """A dropped recording is analysed; its events and summary are shown."""

    def test_upload_shows_the_events_of_analyze_media(self, page, web_server, whole_file) -> None:  # type: ignore[no-untyped-def]
        """The page's events are AnalyzeMedia's events of the same file."""
        page.goto(web_server.url + "/#file")
        page.get_by_test_id("file-input").set_input_files(str(SAMPLE))
        page.get_by_test_id("summary").wait_for(timeout=PAGE_TIMEOUT_MS)
        shown = [t for r in rows(page, "file-events") for t in (r["start"], r["end"])]
        expected = [
            t.seconds + t.nanos / 1e9
            for e in whole_file.result.events
            for t in (e.start_offset, e.end_offset)
        ]
        assert len(shown) >= 4
        assert shown == pytest.approx(expected, abs=0.0015)
        assert "per minute" in page.get_by_test_id("laughs-per-minute").inner_text()
        assert page.locator("[data-testid=faces] tbody tr").count() >= 1
        page.locator("[data-testid=file-events] tbody tr").nth(1).click()
        assert page.evaluate("document.querySelector('[data-testid=player]').currentTime") == pytest.approx(
            expected[2], abs=0.3
        )
        shoot(page, "web-file.png", full_page=True)

    def test_rejected_file_shows_the_servers_message(self, page, web_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """A file that is not media shows the server's own explanation."""
        bogus = tmp_path / "notes.mp4"
        bogus.write_bytes(b"these are meeting notes, not a recording\n" * 50)
        page.goto(web_server.url + "/#file")
        page.get_by_test_id("file-input").set_input_files(str(bogus))
        error = page.locator("[data-testid=file] [data-testid=error]")
        error.wait_for(timeout=PAGE_TIMEOUT_MS)
        text = error.inner_text()
        assert "notes.mp4" in page.get_by_test_id("file-status").inner_text()
        assert "could not be read" in text  # the server's own message for undecodable media
        assert "Error" not in text
        shoot(page, "web-file-rejected.png")


class TestServerGone:
    """A page whose server stopped says so and how to start it."""

    def test_stopped_server_shows_how_to_start_it(self, page, triton) -> None:  # type: ignore[no-untyped-def]
        """After the server stops, the next upload shows that it cannot be reached."""
        server = WebServer(triton.grpc_url).wait_ready()
        try:
            page.goto(server.url + "/#file")
            page.get_by_text("connected to").wait_for(timeout=PAGE_TIMEOUT_MS)
        finally:
            server.stop()
        page.get_by_test_id("file-input").set_input_files(str(SAMPLE))
        error = page.locator("[data-testid=file] [data-testid=error]")
        error.wait_for(timeout=PAGE_TIMEOUT_MS)
        assert "cannot be reached" in error.inner_text()
        assert "--web-listen" in error.inner_text()
