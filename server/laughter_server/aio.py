"""asyncio helpers the server's background loops share."""

from __future__ import annotations

import asyncio
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""What stops a server (and ``--workers``' parent): each drains first."""


def handle_stop_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM/SIGINT, then unblock both (a worker starts with them blocked, and one that
    arrived meanwhile is delivered now)."""
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


async def wait_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``event``; True when it is set.

    A loop that is stopped by cancelling its task waits with this rather than ``asyncio.wait_for``: on Python
    3.11, ``wait_for`` returns normally when the event is set in the same loop step as the cancellation
    arrives, so the cancellation is lost and the loop runs on (a server whose Triton failed as it was told to
    stop then never finished stopping). ``asyncio.timeout`` waits in the task itself and lets it through.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
