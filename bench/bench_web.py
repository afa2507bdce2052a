"""Browser benchmark: the live view's event latency next to the Python SDK's, for the bundled sample.

Both clients stream the sample in real time to the same server (local Triton, ``--web-listen`` on):

- the page, in Debian's Chromium, whose fake camera and microphone play the sample (y4m + wav); it sends
  JPEG frames at the analysis rate and 16 kHz PCM through gRPC-Web. Latency is measured in the page with
  ``performance.now()``: from the moment the fake devices captured the event's start (STARTED) or end
  (ENDED), on the clock that starts when the camera and microphone open, to the next painted frame
  after the update was drawn;
- the SDK (``AsyncLaughterClient.stream`` of a real-time ``FileSource`` at the same 5 Hz), over gRPC:
  from the wall-clock time the same media offset was released to the moment the update arrived.

    python bench/bench_web.py [--seconds 28.7] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import sys
import tempfile
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from laughter import AsyncLaughterClient, EventPhase, EventUpdate  # noqa: E402
from laughter.sources import FileSource  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess  # noqa: E402

from tests.web_page import WebServer, browser, write_fake_devices  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
OUT = REPO / "bench" / "out" / "bench_web.json"
APPENDS: list[float] = []
"""Round trips of the page's AppendSessionMedia calls (ms)."""
LAGS: list[float] = []
"""The page's analysis lag at each progress update: its media time minus the server's processed offset."""


def page_run(url: str, y4m: pathlib.Path, wav: pathlib.Path, seconds: float) -> list[dict[str, object]]:
    """One live run of the page; the STARTED/ENDED latencies it measured."""
    with browser(y4m, wav) as chromium:
        page = chromium.new_page()
        page.goto(url + "/#live")
        page.get_by_test_id("live-start").click()
        page.wait_for_function(
            f"+document.querySelector('[data-testid=media-time]').dataset.seconds >= {seconds}",
            timeout=(seconds + 60) * 1000,
            polling=100,
        )
        page.get_by_test_id("live-stop").click()
        page.get_by_test_id("summary").wait_for(timeout=120_000)
        page.wait_for_timeout(3000)  # updates still on their way after the stop are measured too
        live = page.evaluate("window.laughterLive")
    LAGS.extend(live["lagS"])
    APPENDS.extend(live["appendMs"])
    return [
        {"phase": p["phase"], "ms": p["drawnMs"]}
        for p in live["phases"]
        if p["phase"] in ("STARTED", "ENDED") and p["drawnMs"] == p["drawnMs"]  # NaN: an ONGOING update
    ]


async def sdk_run(address: str, seconds: float) -> list[dict[str, object]]:
    """One real-time SDK session of the sample; latency per STARTED/ENDED update."""
    found: list[dict[str, object]] = []
    origin = time.monotonic() + 0.2
    source = FileSource(SAMPLE, realtime=True, frame_rate_hertz=5.0, origin_s=origin)
    async with AsyncLaughterClient(address) as client:
        async for update in client.stream(source):
            if not isinstance(update, EventUpdate) or update.phase is EventPhase.ONGOING:
                continue
            arrived = time.monotonic()
            offset = update.event.start_s if update.phase is EventPhase.STARTED else update.event.end_s
            if offset <= seconds:
                found.append({"phase": update.phase.name, "ms": 1000 * (arrived - (origin + offset))})
    return found


def stats(rows: list[dict[str, object]], phase: str | None = None) -> dict[str, float]:
    values = [float(r["ms"]) for r in rows if phase is None or r["phase"] == phase]  # type: ignore[arg-type]
    if not values:
        return {"n": 0, "p50": float("nan"), "p95": float("nan")}
    return {
        "n": len(values),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=28.7, help="media time the page streams")
    parser.add_argument("--runs", type=int, default=1, help="runs of each client")
    args = parser.parse_args()
    triton = TritonProcess(REPO / "model_repository")
    triton.start()
    try:
        triton.wait_ready(120)
        server = WebServer(triton.grpc_url).wait_ready()
        try:
            with tempfile.TemporaryDirectory() as folder:
                y4m, wav = write_fake_devices(SAMPLE, pathlib.Path(folder))
                page: list[dict[str, object]] = []
                sdk: list[dict[str, object]] = []
                for _ in range(args.runs):
                    page += page_run(server.url, y4m, wav, args.seconds)
                    sdk += asyncio.run(sdk_run(server.grpc_address, args.seconds))
        finally:
            server.stop()
    finally:
        triton.stop()
    table = {
        client: {phase or "all": stats(rows, phase) for phase in ("STARTED", "ENDED", None)}
        for client, rows in (("page (gRPC-Web, Chromium)", page), ("SDK (gRPC, Python)", sdk))
    }
    print("client                       updates  STARTED p50/p95 ms  ENDED p50/p95 ms  all p50/p95 ms")
    for client, by_phase in table.items():
        cells = "  ".join(
            f"{by_phase[k]['p50']:8.0f} {by_phase[k]['p95']:8.0f}" for k in ("STARTED", "ENDED", "all")
        )
        print(f"{client:28s} {by_phase['all']['n']:7.0f}  {cells}")
    lag = {"mean_s": float(np.mean(LAGS)), "max_s": float(np.max(LAGS))} if LAGS else {}
    if APPENDS:
        lag["append_p50_ms"] = float(np.percentile(APPENDS, 50))
        lag["append_p95_ms"] = float(np.percentile(APPENDS, 95))
        print(
            f"page AppendSessionMedia round trip: p50 {lag['append_p50_ms']:.0f} ms, p95 {lag['append_p95_ms']:.0f} ms"
        )
    if lag:
        print(
            f"page analysis lag (media time - processed offset): mean {lag['mean_s']:.2f} s, max {lag['max_s']:.2f} s"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {"runs": args.runs, "seconds": args.seconds, "latency_ms": table, "page_lag": lag}, indent=2
        )
    )
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
