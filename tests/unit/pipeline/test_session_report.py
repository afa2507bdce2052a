"""A live session reports its end to ``on_summary`` exactly once, whoever reads its updates: when its summary
is computed (before the summary goes out), or, cut off by a cancellation, with a summary without findings;
and a session whose client went away (``SessionRegistry.detach``) gives up its id and slot, finishes the
media it received and reports it."""

from __future__ import annotations

import asyncio
import pathlib

import numpy as np
from laughter_server.fusion.types import Notice
from laughter_server.media.live_input import AudioInput
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.registry import SessionRegistry
from laughter_server.pipeline.session import LiveSession, SessionLimits, SessionSpec, SummaryUpdate

from tests.unit.pipeline.fake_faces import FakeFaceModels

MODEL = (
    pathlib.Path(__file__).resolve().parents[3]
    / "server/laughter_server/models/audio/laughter-audio-1.4.0.skops"
)


def spec(session_id: str = "s1") -> SessionSpec:
    return SessionSpec(
        session_id=session_id,
        client_id="unit",
        video=None,
        audio=AudioInput("s16le", 16000, 1),
        options=AnalysisOptions(use_video=False),
    )


def noise(seconds: float) -> bytes:
    rng = np.random.default_rng(1)
    return (rng.normal(0, 3000, int(seconds * 16000))).astype(np.int16).tobytes()


async def push(session: LiveSession, seconds: float) -> None:
    data = noise(seconds)
    step = 3200
    for i in range(0, len(data), step):
        await session.push_audio(data[i : i + step], i / 2 / 16000)


class TestReport:
    """on_summary is told once."""

    async def test_reported_before_the_summary_goes_out(self) -> None:
        """The report comes when the summary is computed, once, and the summary read afterwards is the
        reported one."""
        reports: list[SummaryUpdate | None] = []
        session = LiveSession(
            spec(),
            FakeFaceModels(),
            AudioStage.load(MODEL),
            SessionLimits(),
            lambda s: reports.append(s._final),
        )
        session.start()
        await push(session, 2.0)
        session.end_input()
        updates = [u async for u in session.updates()]
        assert len(reports) == 1
        assert reports[0] is updates[-1]
        assert session.result is not None
        assert session.result.duration_s > 1.9
        await session.cancel()
        assert len(reports) == 1

    async def test_cancelled_reports_a_summary_without_findings(self) -> None:
        """Cut off before its summary, the session still reports one (MEDIA_DROPPED)."""
        reported: list[LiveSession] = []
        session = LiveSession(
            spec(), FakeFaceModels(), AudioStage.load(MODEL), SessionLimits(), reported.append
        )
        session.start()
        await push(session, 1.0)
        await asyncio.sleep(0.05)  # the workers start
        await session.cancel()
        assert reported == [session]
        assert session.result is not None
        assert Notice.MEDIA_DROPPED in session.result.summary.notices


class TestDetach:
    """A session whose client left."""

    async def test_detached_session_finishes_and_frees_its_slot(self) -> None:
        """The id and the slot are free at once; the media received is analysed and reported."""
        reported: list[LiveSession] = []
        registry = SessionRegistry(FakeFaceModels(), AudioStage.load(MODEL), SessionLimits(), max_sessions=1)  # type: ignore[arg-type]
        session = registry.open(spec(), on_summary=reported.append)
        await push(session, 3.0)
        registry.detach(session)
        finishing = registry._detached[session]
        assert len(registry) == 0
        again = registry.open(spec(), on_summary=lambda s: None)  # the same id, the one slot
        async with asyncio.timeout(60):
            await finishing
        assert session not in registry._detached
        assert reported == [session]
        assert session.result is not None
        assert session.result.duration_s > 2.9
        again.end_input()
        await again.wait_finished()
        await registry.retire(again, cancel=False)
        await registry.drain(1.0)

    async def test_detached_beyond_the_limit_are_cut_off(self) -> None:
        """With max_sessions detached sessions finishing, the next one is cut off at once: it reports a
        summary without findings."""
        reported: list[LiveSession] = []
        registry = SessionRegistry(FakeFaceModels(), AudioStage.load(MODEL), SessionLimits(), max_sessions=1)  # type: ignore[arg-type]
        first = registry.open(spec("a"), on_summary=reported.append)
        await push(first, 3.0)
        registry.detach(first)
        second = registry.open(spec("b"), on_summary=reported.append)
        await push(second, 3.0)
        await asyncio.sleep(0.05)  # the workers start
        registry.detach(second)
        async with asyncio.timeout(60):
            await asyncio.gather(*registry._detached.values())
        assert sorted(reported, key=lambda s: s.spec.session_id) == [first, second]
        assert first.result is not None
        assert second.result is not None
        assert first.result.duration_s > 2.9
        assert Notice.MEDIA_DROPPED in second.result.summary.notices
        assert Notice.MEDIA_DROPPED not in first.result.summary.notices
