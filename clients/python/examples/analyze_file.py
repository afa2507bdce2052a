"""Analyse one media file and print its laughter events and summary.

    LAUGHTER_ADDRESS=127.0.0.1:50051 python analyze_file.py samples/sample.mp4

Exits 1 when the analysis fails (the error is printed), 2 on a usage error.
"""

from __future__ import annotations

import sys

import laughter


def main(argv: list[str]) -> int:
    """Analyse ``argv[0]`` with the server named by LAUGHTER_ADDRESS."""
    if len(argv) != 1:
        sys.stderr.write("usage: analyze_file.py FILE\n")
        return 2
    try:
        with laughter.LaughterClient(options=laughter.ClientOptions.from_env()) as client:
            result = client.analyze_file(argv[0])
    except laughter.LaughterError as exc:
        sys.stderr.write(f"analysis failed: {exc!r}\n")
        return 1
    for event in result.events:
        print(
            f"{event.start_s:6.2f}-{event.end_s:6.2f} s  {event.laughter_type.value:16s} {event.confidence:.2f}"
        )
    summary = result.summary
    print(f"{summary.durations.event_count} events, dominant type {summary.dominant_laughter_type.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
