"""Stream a media file to a live session with the asyncio client; print laughs as they end, then the summary.

    pip install 'laughter-client[media]'
    LAUGHTER_ADDRESS=127.0.0.1:50051 python stream_async.py samples/sample.mp4

Exits 1 when the session fails, 2 on a usage error.
"""

from __future__ import annotations

import asyncio
import sys

import laughter
from laughter.sources import file_source


async def stream(path: str) -> int:
    """Stream ``path`` and print the ended events and the summary; returns the number of events."""
    events = 0
    async with laughter.AsyncLaughterClient(options=laughter.ClientOptions.from_env()) as client:
        async for update in client.stream(file_source(path)):
            if isinstance(update, laughter.EventUpdate) and update.phase is laughter.EventPhase.ENDED:
                events += 1
                event = update.event
                print(f"laugh {event.start_s:.2f}-{event.end_s:.2f} s {event.laughter_type.value}")
            elif isinstance(update, laughter.AnalysisSummary):
                print(
                    f"summary: {update.durations.event_count} events, {update.durations.laughs_per_minute:.2f}/min"
                )
    return events


def main(argv: list[str]) -> int:
    """Stream ``argv[0]`` to the server named by LAUGHTER_ADDRESS."""
    if len(argv) != 1:
        sys.stderr.write("usage: stream_async.py FILE\n")
        return 2
    try:
        asyncio.run(stream(argv[0]))
    except laughter.LaughterError as exc:
        sys.stderr.write(f"session failed: {exc!r}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
