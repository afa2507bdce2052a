"""The SDK's store-facing arguments and results calls against the real server: ``client_id`` owns what an
analysis stores, ``fresh=True`` bypasses the content cache (one message and the piecewise upload alike,
sync and asyncio), the asyncio client reads, lists, aggregates and deletes stored results, and the CLI's
``analyze --client-id/--fresh``."""

from __future__ import annotations

import asyncio
import io
import json
import pathlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import laughter
import pytest
from laughter import AsyncLaughterClient, ClientOptions, LaughterClient
from laughter._cli import main

pytestmark = pytest.mark.integration

AUDIO_ONLY = laughter.AnalysisOptions(disable_video=True)
TIMEOUT_S = 240.0
STORE_WAIT_S = 60.0
T = TypeVar("T")


def owner() -> str:
    """A client id of this test alone, so no other test's cached result can answer."""
    return "sdk-" + uuid.uuid4().hex[:12]


def wait_for(read: Callable[[], T]) -> T:
    """``read()`` once the background write has landed (NotFoundError until then)."""
    end = time.monotonic() + STORE_WAIT_S
    while True:
        try:
            return read()
        except laughter.NotFoundError:
            if time.monotonic() > end:
                raise
        time.sleep(0.05)


async def await_for(read: Callable[[], Awaitable[T]]) -> T:
    end = time.monotonic() + STORE_WAIT_S
    while True:
        try:
            return await read()
        except laughter.NotFoundError:
            if time.monotonic() > end:
                raise
        await asyncio.sleep(0.05)


class TestSyncStoreArguments:
    """``client_id`` and ``fresh`` of the blocking client's analyze calls."""

    def test_client_id_owns_and_fresh_bypasses_the_cache(
        self, server_address: str, sample_path: pathlib.Path
    ) -> None:
        """The result belongs to its client_id only; a repeat is the cached result, fresh=True analyses
        again, and another client_id never gets the first one's cached result."""
        alice, bob = owner(), owner()
        data = sample_path.read_bytes()
        with LaughterClient(server_address) as client:

            def analyze(client_id: str, fresh: bool = False) -> laughter.AnalysisResult:
                return client.analyze_bytes(
                    data,
                    filename=sample_path.name,
                    options=AUDIO_ONLY,
                    client_id=client_id,
                    fresh=fresh,
                    timeout_s=TIMEOUT_S,
                )

            first = analyze(alice)
            assert not first.cached
            stored = wait_for(lambda: client.get_result(first.result_id, client_id=alice))
            assert stored.client_id == alice
            assert stored.result.events == first.events
            for other in (bob, ""):
                with pytest.raises(laughter.NotFoundError):
                    client.get_result(first.result_id, client_id=other)
            assert [r.result_id for r in client.list_results(client_id=alice).results] == [first.result_id]
            assert client.list_results(client_id=bob).results == ()

            again = analyze(alice)
            assert again.cached
            assert again.result_id == first.result_id
            assert again.events == first.events

            fresh = analyze(alice, fresh=True)
            assert not fresh.cached
            assert fresh.result_id != first.result_id
            wait_for(lambda: client.get_result(fresh.result_id, client_id=alice))

            theirs = analyze(bob)
            assert not theirs.cached
            assert theirs.result_id not in (first.result_id, fresh.result_id)
            assert client.delete_results([first.result_id], client_id=bob) == 0
            assert client.get_result(first.result_id, client_id=alice).result_id == first.result_id

    def test_upload_carries_them(self, server_address: str, sample_path: pathlib.Path) -> None:
        """A file sent in pieces (AnalyzeMediaUpload) is owned by its client_id and honours fresh."""
        carol = owner()
        pieces = ClientOptions(upload_threshold_bytes=64 * 1024, upload_chunk_bytes=256 * 1024)
        with LaughterClient(server_address, options=pieces) as client:
            first = client.analyze_file(sample_path, options=AUDIO_ONLY, client_id=carol, timeout_s=TIMEOUT_S)
            assert not first.cached
            assert wait_for(lambda: client.get_result(first.result_id, client_id=carol)).client_id == carol
            again = client.analyze_file(sample_path, options=AUDIO_ONLY, client_id=carol, timeout_s=TIMEOUT_S)
            assert again.cached
            assert again.result_id == first.result_id
            fresh = client.analyze_file(
                sample_path, options=AUDIO_ONLY, client_id=carol, fresh=True, timeout_s=TIMEOUT_S
            )
            assert not fresh.cached
            assert fresh.result_id != first.result_id


class TestAsyncResults:
    """The asyncio client: the same store arguments and every results call."""

    async def test_round_trip(self, server_address: str, sample_path: pathlib.Path) -> None:
        """analyze_file with client_id/fresh, then get_result, list_results, analytics, performance_stats
        and delete_results, each scoped to the client_id."""
        dave, erin = owner(), owner()
        async with AsyncLaughterClient(server_address) as client:
            first = await client.analyze_file(
                sample_path, options=AUDIO_ONLY, client_id=dave, timeout_s=TIMEOUT_S
            )
            stored = await await_for(lambda: client.get_result(first.result_id, client_id=dave))
            assert (stored.result_id, stored.kind, stored.client_id) == (first.result_id, "whole_file", dave)
            assert stored.result.events == first.events
            with pytest.raises(laughter.NotFoundError):
                await client.get_result(first.result_id, client_id=erin)
            cached = await client.analyze_file(
                sample_path, options=AUDIO_ONLY, client_id=dave, timeout_s=TIMEOUT_S
            )
            assert cached.cached
            assert cached.result_id == first.result_id
            fresh = await client.analyze_file(
                sample_path, options=AUDIO_ONLY, client_id=dave, fresh=True, timeout_s=TIMEOUT_S
            )
            assert not fresh.cached
            await await_for(lambda: client.get_result(fresh.result_id, client_id=dave))

            page = await client.list_results(client_id=dave, page_size=1)
            assert [r.result_id for r in page.results] == [fresh.result_id]
            assert page.next_page_token
            rest = await client.list_results(client_id=dave, page_token=page.next_page_token)
            assert [r.result_id for r in rest.results] == [first.result_id]
            assert (await client.list_results(client_id=erin)).results == ()
            assert first.events, "the sample's audio holds laughter"
            present = {e.laughter_type for e in first.events} | {e.laughter_type for e in fresh.events}
            kind = first.events[0].laughter_type
            by_type = await client.list_results(client_id=dave, laughter_type=kind)
            assert {r.result_id for r in by_type.results} == {first.result_id, fresh.result_id}
            absent = [
                t for t in laughter.LaughterType if t not in present and t is not laughter.LaughterType.NONE
            ]
            if absent:
                assert (await client.list_results(client_id=dave, laughter_type=absent[0])).results == ()
                assert (await client.analytics(client_id=dave, laughter_type=absent[0])).result_count == 0

            figures = await client.analytics(client_id=dave)
            assert figures.result_count == 2
            assert figures.event_count == len(first.events) + len(fresh.events)
            assert [v.audio_model_version for v in figures.model_versions] == [stored.audio_model_version]
            assert (await client.analytics(client_id=erin)).result_count == 0

            performance = await client.performance_stats(hours=1, client_id=dave)
            assert performance.result_count == 2
            assert performance.media_duration_s == pytest.approx(2 * first.summary.media.duration_s, abs=0.01)
            assert performance.processing_duration_s > 0
            assert performance.model_versions[0].processing_per_media_second_p95 > 0
            with pytest.raises(laughter.InvalidArgumentError):
                await client.performance_stats(hours=9000, client_id=dave)

            assert await client.delete_results([first.result_id], client_id=erin) == 0
            assert await client.delete_results([first.result_id], client_id=dave) == 1
            with pytest.raises(laughter.NotFoundError):
                await client.get_result(first.result_id, client_id=dave)
            assert await client.delete_results(all_results=True, client_id=dave) == 1
            assert (await client.list_results(client_id=dave)).results == ()

    async def test_streamed_session_names_its_stored_result(self, server_address: str) -> None:
        """A live session through the SDK: SessionStarted.result_id is the summary's, and reads back."""
        import numpy as np

        gina = owner()
        tone = (np.sin(np.arange(3 * 16_000) * 0.05) * 3000).astype(np.int16).tobytes()
        chunks = [laughter.AudioChunk(tone[i : i + 3200], i / 32_000) for i in range(0, len(tone), 3200)]
        options = laughter.SessionOptions(video_encoding=None, client_id=gina)
        updates = []
        async with AsyncLaughterClient(server_address) as client:
            async for update in client.stream(chunks, config=options, timeout_s=TIMEOUT_S):
                updates.append(update)
            started, summary = updates[0], updates[-1]
            assert isinstance(started, laughter.SessionStarted)
            assert isinstance(summary, laughter.AnalysisSummary)
            assert started.result_id
            assert summary.result_id == started.result_id
            stored = await await_for(lambda: client.get_result(started.result_id, client_id=gina))
        assert stored.kind == "session"
        assert stored.result.summary.media.duration_s == pytest.approx(3.0, abs=0.1)


class TestCliStoreArguments:
    """``laughter analyze --client-id --fresh``."""

    def _analyze(self, server_address: str, sample_path: pathlib.Path, *extra: str) -> dict[str, object]:
        out, err = io.StringIO(), io.StringIO()
        argv = ["analyze", str(sample_path), "--no-video", "--json", "--address", server_address, *extra]
        assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
        result: dict[str, object] = json.loads(out.getvalue())
        return result

    def test_client_id_and_fresh(self, server_address: str, sample_path: pathlib.Path) -> None:
        """The result is stored under --client-id (listed for it only); a repeat is cached, --fresh is
        not."""
        frank = owner()
        first = self._analyze(server_address, sample_path, "--client-id", frank)
        assert first["cached"] is False
        with LaughterClient(server_address) as client:
            wait_for(lambda: client.get_result(str(first["result_id"]), client_id=frank))
            with pytest.raises(laughter.NotFoundError):
                client.get_result(str(first["result_id"]))
        again = self._analyze(server_address, sample_path, "--client-id", frank)
        assert again["cached"] is True
        assert again["result_id"] == first["result_id"]
        fresh = self._analyze(server_address, sample_path, "--client-id", frank, "--fresh")
        assert fresh["cached"] is False
        assert fresh["result_id"] != first["result_id"]

        def cli(*argv: str) -> str:
            out = io.StringIO()
            assert main([*argv, "--address", server_address, "--plain"], stdout=out) == 0, argv
            return out.getvalue()

        with LaughterClient(server_address) as client:
            wait_for(lambda: client.get_result(str(fresh["result_id"]), client_id=frank))
        assert cli("results", "delete", str(first["result_id"])) == "deleted 0 result(s)\n"  # not ours
        assert (
            cli("results", "delete", str(first["result_id"]), "--client-id", frank) == "deleted 1 result(s)\n"
        )
        listed = cli("results", "list", "--client-id", frank)
        assert str(fresh["result_id"]) in listed
        assert str(first["result_id"]) not in listed
        assert cli("results", "delete", "--all", "--client-id", frank) == "deleted 1 result(s)\n"
