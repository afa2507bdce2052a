"""The page in a real Chromium against the real server's web port: live camera and microphone (the sample
played by Chromium's fake devices), file upload, the errors a person sees, and the docs' screenshots."""

from __future__ import annotations

import base64
import datetime
import io
import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from laughter import LaughterClient, NotFoundError
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from PIL import Image

from tests.web_page import REPO, WebServer, browser, launch, silence_check, write_fake_devices

pytestmark = pytest.mark.integration

SAMPLE = REPO / "samples" / "sample.mp4"
SHOTS = pathlib.Path(os.environ.get("LAUGHTER_SCREENSHOTS", REPO / ".cache" / "screenshots"))
"""Where the page screenshots go: outside the tracked tree unless asked (``make screenshots`` writes docs/images)."""
TOLERANCE_S = 1.0
SAMPLE_LOOP_S = 28.5
PAGE_TIMEOUT_MS = 120_000
CLI = pathlib.Path(sys.executable).parent / "laughter"
STORE_WAIT_S = 60.0


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
def cli_result(web_server: WebServer) -> dict[str, Any]:
    """`laughter analyze samples/sample.mp4 --json` against the same server."""
    return cli_analyze(web_server)


def cli_times(result: dict[str, Any]) -> list[float]:
    """Start and end of each event of a CLI result, in order."""
    return [t for e in result["events"] for t in (e["start_s"], e["end_s"])]


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

    def test_dropped_file_shows_the_events_of_the_cli(self, page, web_server, whole_file, cli_result) -> None:  # type: ignore[no-untyped-def]
        """The sample dropped on the page shows the events of `laughter analyze samples/sample.mp4` (and of
        AnalyzeMedia over gRPC)."""
        page.goto(web_server.url + "/#file")
        drop_file(page, "[data-testid=drop-zone]", SAMPLE.name, SAMPLE.read_bytes(), "video/mp4")
        page.get_by_test_id("summary").wait_for(timeout=PAGE_TIMEOUT_MS)
        shown = [t for r in rows(page, "file-events") for t in (r["start"], r["end"])]
        expected = cli_times(cli_result)
        assert len(shown) >= 4
        assert shown == pytest.approx(expected, abs=0.0015)
        over_grpc = [
            t.seconds + t.nanos / 1e9
            for e in whole_file.result.events
            for t in (e.start_offset, e.end_offset)
        ]
        assert shown == pytest.approx(over_grpc, abs=0.0015)
        assert "per minute" in page.get_by_test_id("laughs-per-minute").inner_text()
        assert "95% interval" in page.get_by_test_id("laughs-per-minute").inner_text()
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
        """A new server's dashboard says there are no results yet and how to get some; after the server stops,
        the dashboard and the next upload show that it cannot be reached."""
        server = WebServer(triton.grpc_url).wait_ready()
        try:
            page.goto(server.url + "/#dashboard")
            page.get_by_text("connected to").wait_for(timeout=PAGE_TIMEOUT_MS)
            empty = page.get_by_test_id("dash-empty")
            empty.wait_for(timeout=PAGE_TIMEOUT_MS)
            assert "No results in this range yet" in empty.inner_text()
            assert "File view" in empty.inner_text()
            assert page.get_by_test_id("dash-figure-results").get_attribute("data-value") == "0"
            assert page.get_by_test_id("dash-recent-empty").is_visible()
        finally:
            server.stop()
        page.get_by_test_id("dash-refresh").click()
        gone = page.locator("[data-testid=dashboard] [data-testid=error]")
        gone.wait_for(timeout=PAGE_TIMEOUT_MS)
        assert "cannot be reached" in gone.inner_text()
        page.get_by_test_id("tab-file").click()
        page.get_by_test_id("file-input").set_input_files(str(SAMPLE))
        error = page.locator("[data-testid=file] [data-testid=error]")
        error.wait_for(timeout=PAGE_TIMEOUT_MS)
        assert "cannot be reached" in error.inner_text()
        assert "--web-listen" in error.inner_text()


def drop_file(page: Any, selector: str, name: str, data: bytes, mime: str) -> None:
    """Drop a file on ``selector`` as a drag from the desktop does (a drop event carrying a DataTransfer)."""
    transfer = page.evaluate_handle(
        """([name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            return dt;
        }""",
        [name, base64.b64encode(data).decode(), mime],
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def cli_analyze(server: WebServer) -> dict[str, Any]:
    """`laughter analyze samples/sample.mp4 --json` against the server's gRPC port."""
    done = subprocess.run(
        [str(CLI), "analyze", str(SAMPLE), "--json", "--address", server.grpc_address],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    data = json.loads(done.stdout)
    return data[0] if isinstance(data, list) else data


def wait_stored(client: LaughterClient, result_id: str) -> None:
    """Until the store's background write of ``result_id`` has landed."""
    deadline = time.monotonic() + STORE_WAIT_S
    while True:
        try:
            client.get_result(result_id)
            return
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class TestDashboard:
    """Analytics over the stored results, the recent results, and one of them opened in the File view."""

    def test_dashboard_shows_the_sdks_analytics_and_opens_the_result(
        self, page, web_server, whole_file, cli_result
    ) -> None:  # type: ignore[no-untyped-def]
        """Figures equal to GetAnalytics through the SDK for the same range; the recent result opens with
        the events of `laughter analyze`."""
        result_id = cli_result["result_id"]
        expected = cli_times(cli_result)
        assert len(expected) >= 4
        with LaughterClient(web_server.grpc_address) as client:
            wait_stored(client, whole_file.result.summary.result_id)
            wait_stored(client, result_id)
            page.goto(web_server.url + "/#dashboard")  # the default range: the last 24 hours
            page.get_by_test_id("dash-recent").wait_for(timeout=PAGE_TIMEOUT_MS)
            now = datetime.datetime.now(datetime.UTC)
            sdk = client.analytics(
                since=now - datetime.timedelta(days=1), until=now + datetime.timedelta(minutes=1)
            )
        assert sdk.result_count >= 1
        assert int(page.get_by_test_id("dash-figure-results").get_attribute("data-value")) == sdk.result_count
        assert int(page.get_by_test_id("dash-figure-events").get_attribute("data-value")) == sdk.event_count
        shown_types = {
            json.loads(x)[0].lower(): json.loads(x)[1]
            for x in page.eval_on_selector_all(
                "[data-testid=dash-types] [data-type]",
                "bs => bs.map(b => JSON.stringify([b.dataset.type, +b.dataset.count]))",
            )
        }
        assert shown_types == {t.laughter_type: t.event_count for t in sdk.laughter_types}
        assert sum(shown_types.values()) == sdk.event_count >= 2
        per_bucket = sum(len(b.laughter_types) for b in sdk.buckets)  # one column piece per bucket and type
        assert page.locator("[data-testid=dash-types-over-time] rect").count() == per_bucket >= 1
        assert page.locator("[data-testid=dash-confidence] circle").count() == len(sdk.buckets)
        assert page.locator("[data-testid=dash-models] tbody tr").count() == len(sdk.model_versions)
        listed = page.eval_on_selector_all(
            "[data-testid=dash-recent] tbody tr", "rs => rs.map(r => r.dataset.resultId)"
        )
        assert result_id in listed
        assert len(listed) == min(sdk.result_count, 8)
        shoot(page, "web-dashboard.png", full_page=True)

        page.locator(f"[data-testid=dash-recent] tr[data-result-id='{result_id}']").click()
        page.locator("[data-testid=file] [data-testid=summary]").wait_for(timeout=PAGE_TIMEOUT_MS)
        assert page.get_by_test_id("file").is_visible()
        assert not page.get_by_test_id("dashboard").is_visible()
        shown = [t for r in rows(page, "file-events") for t in (r["start"], r["end"])]
        assert shown == pytest.approx(expected, abs=0.0015)
        assert page.get_by_test_id("media-not-kept").is_visible()  # this page never had the file
        assert not page.get_by_test_id("player").is_visible()
        assert result_id in page.get_by_test_id("file-status").inner_text()
        shoot(page, "web-file-stored.png", full_page=True)


class TestCameraDenied:
    """A browser that refuses the camera and microphone: the live view says how to allow them."""

    def test_denied_camera_says_how_to_allow_it(self, web_server, devices, chromium) -> None:  # type: ignore[no-untyped-def]
        """Without the flag that accepts the prompt, headless Chromium denies getUserMedia."""
        refusing = launch(chromium.browser_type, *devices, allow_media=False)
        try:
            context = refusing.new_context(viewport={"width": 960, "height": 820})
            try:
                page = context.new_page()
                page.goto(web_server.url + "/#live")
                page.get_by_test_id("live-start").click()
                error = page.locator("[data-testid=live] [data-testid=error]")
                error.wait_for(timeout=PAGE_TIMEOUT_MS)
                assert "denied" in error.inner_text()
                assert "press Start again" in error.inner_text()
                assert page.get_by_test_id("live-start").is_enabled()
            finally:
                context.close()
        finally:
            refusing.close()
