"""The live session's outbox: a slow reader gets coalesced progress and ongoing updates, and face samples
beyond the limit are skipped and counted, so what waits for the client stays bounded."""

from __future__ import annotations

from laughter_server.fusion.fuser import EventUpdate
from laughter_server.fusion.types import (
    BoundingBox,
    EventEvidence,
    EventPhase,
    EvidenceSource,
    FaceObservation,
    LaughterEvent,
    LaughterType,
)
from laughter_server.pipeline.session import FaceSampleUpdate, ProgressUpdate, _Outbox


def progress(frames: int) -> ProgressUpdate:
    return ProgressUpdate(0.0, frames, frames, 0, {}, 0, 0.0, 0)


def event(event_id: str, phase: EventPhase, end_s: float) -> EventUpdate:
    laugh = LaughterEvent(
        event_id, 1.0, end_s, 1.5, 0.8, LaughterType.JOYFUL, None, EventEvidence(EvidenceSource.AUDIO)
    )
    return EventUpdate(phase, laugh)


def sample() -> FaceSampleUpdate:
    return FaceSampleUpdate(FaceObservation(0.0, 0, BoundingBox(0, 0, 1, 1), 0.9, (0.0,) * 7))


class TestOutbox:
    """_Outbox bounds what waits for a client that does not read."""

    async def test_progress_and_ongoing_coalesce(self) -> None:
        """Consecutive progress updates keep the newest; so do consecutive ongoing updates of one event."""
        box = _Outbox(max_queued=8)
        for frames in range(100):
            box.put(progress(frames))
        box.put(event("evt-0001", EventPhase.STARTED, 2.0))
        for k in range(50):
            box.put(event("evt-0001", EventPhase.ONGOING, 2.0 + k))
        box.put(event("evt-0001", EventPhase.ENDED, 60.0))
        assert len(box) == 4
        first = await box.get()
        assert isinstance(first, ProgressUpdate)
        assert first.frames_received == 99
        phases = []
        for _ in range(3):
            update = await box.get()
            assert isinstance(update, EventUpdate)
            phases.append((update.phase, update.event.end_s))
        assert phases == [(EventPhase.STARTED, 2.0), (EventPhase.ONGOING, 51.0), (EventPhase.ENDED, 60.0)]

    async def test_face_samples_beyond_the_limit_are_counted(self) -> None:
        """Face samples past max_queued waiting updates are skipped and counted; events never are."""
        box = _Outbox(max_queued=5)
        for _ in range(20):
            box.put(sample())
        box.put(event("evt-0002", EventPhase.ENDED, 3.0))
        assert box.skipped_face_samples == 20 - 6
        assert len(box) == 7
