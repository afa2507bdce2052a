"""The results store on SQLite and PostgreSQL: round trip, ownership, pages, filters, deletion, retention,
the cache lookup, and exact analytics over a known set of results."""

from __future__ import annotations

import datetime

import pytest
from laughter.v1 import analysis_pb2, model_pb2, results_pb2
from laughter_server.errors import InvalidOptionError
from laughter_server.store import analytics
from laughter_server.store.database import ResultStore
from laughter_server.store.records import Record

A = "tenant:a"
B = "tenant:b"
DAY = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def make(
    result_id: str,
    *,
    owner: str = A,
    at: str = "10:00",
    client: str = "web",
    kind: int = results_pb2.RESULT_KIND_WHOLE_FILE,
    version: str = "1.4.0",
    confidence: float = 0.5,
    media_s: float = 60.0,
    processing_s: float = 6.0,
    events: tuple[tuple[int, float, float], ...] = (),
    emotions: dict[str, float] | None = None,
    stages: dict[str, float] | None = None,
    cache_key: str | None = None,
) -> Record:
    """A stored result with the given figures (events: type, duration in seconds, confidence)."""
    hour, minute = (int(x) for x in at.split(":"))
    stored = results_pb2.StoredResult(
        result_id=result_id,
        client_id=client,
        kind=kind,
        event_count=len(events),
        audio_model_version=version,  # type: ignore[arg-type]
    )
    stored.create_time.FromDatetime(DAY.replace(hour=hour, minute=minute))
    summary = stored.result.summary
    summary.result_id = result_id
    summary.laughter_detected = bool(events)
    summary.overall_confidence = confidence
    summary.durations.event_count = len(events)
    summary.media.media_duration.FromMilliseconds(round(media_s * 1000))
    summary.processing_duration.FromMilliseconds(round(processing_s * 1000))
    summary.models.add(name="laughter-audio", version=version, role=model_pb2.MODEL_ROLE_AUDIO_LAUGHTER)
    start = 0.0
    for index, (kind_value, duration_s, event_confidence) in enumerate(events):
        event = stored.result.events.add(
            event_id=f"{result_id}-{index}",
            laughter_type=kind_value,
            confidence=event_confidence,  # type: ignore[arg-type]
        )
        event.start_offset.FromMilliseconds(round(start * 1000))
        event.end_offset.FromMilliseconds(round((start + duration_s) * 1000))
        start += duration_s + 1.0
    if emotions is not None:
        for name in EMOTIONS:
            summary.emotion_breakdown.add(emotion=EMOTIONS.index(name) + 1, score=emotions.get(name, 0.0))  # type: ignore[arg-type]
    for stage, seconds in (stages or {}).items():
        summary.stage_timings.add(stage=stage).duration.FromMilliseconds(round(seconds * 1000))
    return Record(owner, cache_key, stored)


JOYFUL, NERVOUS, POLITE = (
    analysis_pb2.LAUGHTER_TYPE_JOYFUL,
    analysis_pb2.LAUGHTER_TYPE_NERVOUS,
    analysis_pb2.LAUGHTER_TYPE_POLITE,
)
KNOWN = [
    make(
        "r1",
        at="10:00",
        confidence=0.8,
        media_s=60,
        processing_s=6,
        events=((JOYFUL, 2.0, 0.9), (POLITE, 1.0, 0.7)),
        emotions={"happy": 0.6, "neutral": 0.4},
        stages={"decode": 1.0, "detect_laughter": 2.0},
    ),
    make(
        "r2",
        at="10:30",
        confidence=0.6,
        media_s=120,
        processing_s=24,
        events=((JOYFUL, 4.0, 0.8),),
        stages={"decode": 3.0},
    ),
    make(
        "r3",
        at="12:10",
        client="cam",
        kind=results_pb2.RESULT_KIND_SESSION,
        version="1.1.0",
        confidence=0.9,
        media_s=30,
        processing_s=15,
        emotions={"happy": 0.2, "neutral": 0.8},
        stages={"decode": 0.5},
    ),
    make(
        "r4",
        at="12:20",
        confidence=0.7,
        media_s=60,
        processing_s=24,
        events=((NERVOUS, 3.0, 0.5),),
        stages={"decode": 2.0},
    ),
    make("b1", owner=B, at="11:00", media_s=600, processing_s=600, events=((POLITE, 9.0, 0.9),)),
]


def aggregate(store: ResultStore, owner: str = A, **filters: object) -> results_pb2.GetAnalyticsResponse:
    scope = analytics.Scope(owner, results_pb2.ResultFilter(**filters))  # type: ignore[arg-type]
    with store.engine.connect() as connection:
        return analytics.analytics(connection, scope, 3_600_000)


def ts(at: str) -> object:
    from google.protobuf import timestamp_pb2

    hour, minute = (int(x) for x in at.split(":"))
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(DAY.replace(hour=hour, minute=minute))
    return value


class TestRecords:
    """Writing and reading results back, only by their owner."""

    def test_round_trip(self, store: ResultStore) -> None:
        """A stored result reads back identical."""
        record = KNOWN[0]
        store.insert([record])
        assert store.get(A, "r1") == record.stored

    def test_other_owner_reads_nothing(self, store: ResultStore) -> None:
        """Another owner's id reads as missing, exactly like an unknown id."""
        store.insert(KNOWN)
        assert store.get(B, "r1") is None
        assert store.get(A, "b1") is None
        assert store.get(A, "nope") is None

    def test_retried_write_replaces(self, store: ResultStore) -> None:
        """Writing the same result twice (a retry) keeps one copy, with its events once."""
        store.insert([KNOWN[0]])
        store.insert([KNOWN[0]])
        assert aggregate(store).event_count == 2
        assert aggregate(store).result_count == 1

    def test_migrations_twice(self, store: ResultStore) -> None:
        """Applying the migrations again changes nothing."""
        store.insert([KNOWN[0]])
        store.migrate()
        assert store.get(A, "r1") is not None


class TestMigrations:
    """Upgrading a store that holds results keeps them."""

    def test_payloads_moved(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """A result written under revision 0002 (payload inside results) reads back after 0003."""
        import sqlalchemy as sa
        from laughter_server.store.database import engine_url
        from laughter_server.store.records import payload_row, rows

        old = ResultStore(engine_url("", str(tmp_path)))
        old.migrate("0002")
        record = KNOWN[0]
        row = {**rows(record)[0], "payload": payload_row(record)["payload"]}
        del row["per_media_s"]  # added by 0004
        with old.engine.begin() as connection:
            columns = ", ".join(row)
            connection.execute(
                sa.text(f"INSERT INTO results ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row
            )
        old.migrate()
        assert old.get(A, "r1") == record.stored
        old.close()

    def test_scoped_rows_filled_from_0003(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """Results with events and stages written under 0003 aggregate, after 0004, exactly as results
        written under the newest schema (the copied filter columns and per_media_s are filled in)."""
        import sqlalchemy as sa
        from laughter_server.store.database import engine_url
        from laughter_server.store.records import payload_row, rows

        old = ResultStore(engine_url("", str(tmp_path / "old")))
        old.migrate("0003")
        with old.engine.begin() as connection:
            for record in KNOWN:
                result_row, event_rows, stage_rows = rows(record)
                tables = (
                    ("results", [{k: v for k, v in result_row.items() if k != "per_media_s"}]),
                    ("result_payloads", [payload_row(record)]),
                    ("result_events", [{k: r[k] for k in _BASE_EVENT} for r in event_rows]),
                    (
                        "result_stages",
                        [{k: r[k] for k in ("result_id", "stage", "seconds")} for r in stage_rows],
                    ),
                )
                for table, values in tables:
                    for value in values:
                        names = ", ".join(value)
                        marks = ", ".join(":" + c for c in value)
                        connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), value)
        old.migrate()
        new = ResultStore(engine_url("", str(tmp_path / "new")))
        new.migrate()
        new.insert(KNOWN)
        for filters in ({}, {"filter_client_id": "cam"}, {"audio_model_version": "1.1.0"}):
            assert aggregate(old, **filters) == aggregate(new, **filters)
        assert aggregate(old).model_versions[1].processing_per_media_second_p95 == pytest.approx(0.38)
        old.close()
        new.close()


_BASE_EVENT = ("result_id", "idx", "laughter_type", "duration_s", "confidence", "hour_of_day")


class TestPlannerStatistics:
    """SQLite's planner statistics follow the store's growth (without them an owner holding most rows is
    read through its index, one lookup per row)."""

    def test_refreshed_as_the_results_grow(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """After the first 1,000 results the statistics count them; a few more do not trigger a refresh."""
        import sqlalchemy as sa
        from laughter_server.store.database import engine_url

        store = ResultStore(engine_url("", str(tmp_path)))
        store.migrate()

        def counted() -> int:
            query = sa.text("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_results_owner_created'")
            with store.engine.connect() as connection:
                stat = connection.execute(query).scalar_one_or_none()
            return 0 if stat is None else int(stat.split()[0])

        assert counted() == 0
        store.insert([make(f"g{i}") for i in range(999)])
        assert counted() == 0
        store.insert([make("g999"), make("g1000")])
        assert counted() == 1001
        store.insert([make(f"h{i}") for i in range(10)])
        assert counted() == 1001
        store.close()


class TestListing:
    """Pages, newest first, and the filters."""

    def test_pages(self, store: ResultStore) -> None:
        """Pages of two walk every result of the owner once, newest first, events left out."""
        store.insert(KNOWN)
        seen, token = [], ""
        for _ in range(3):
            page, token = store.list(A, [], 2, token)
            seen += [r.result_id for r in page]
            assert all(not r.result.events for r in page)
            if not token:
                break
        assert seen == ["r4", "r3", "r2", "r1"]
        assert token == ""

    def test_bad_token(self, store: ResultStore) -> None:
        """A token the server did not make is refused with the field named."""
        with pytest.raises(InvalidOptionError) as caught:
            store.list(A, [], 2, "not-a-token")
        assert caught.value.field == "page_token"

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"kind": results_pb2.RESULT_KIND_SESSION}, ["r3"]),
            ({"laughter": results_pb2.LAUGHTER_FILTER_NOT_DETECTED}, ["r3"]),
            ({"laughter": results_pb2.LAUGHTER_FILTER_DETECTED}, ["r4", "r2", "r1"]),
            ({"filter_client_id": "cam"}, ["r3"]),
            ({"audio_model_version": "1.4.0"}, ["r4", "r2", "r1"]),
            ({"laughter_type": JOYFUL}, ["r2", "r1"]),
            ({"laughter_type": NERVOUS}, ["r4"]),
            ({"laughter_type": analysis_pb2.LAUGHTER_TYPE_SURPRISED}, []),
        ],
    )
    def test_filters(self, store: ResultStore, filters: dict[str, object], expected: list[str]) -> None:
        """Each filter keeps exactly the matching results."""
        store.insert(KNOWN)
        where = analytics.filters(A, results_pb2.ResultFilter(**filters))[1:]  # type: ignore[arg-type]
        page, _ = store.list(A, where, 50, "")
        assert [r.result_id for r in page] == expected

    def test_shadow_only_on_request(self, store: ResultStore) -> None:
        """Shadow results are left out unless the filter asks for them."""
        store.insert([*KNOWN, make("s1", at="13:00", kind=results_pb2.RESULT_KIND_SHADOW)])
        page, _ = store.list(A, analytics.filters(A, results_pb2.ResultFilter())[1:], 50, "")
        assert "s1" not in [r.result_id for r in page]
        assert aggregate(store).result_count == 4
        assert aggregate(store, kind=results_pb2.RESULT_KIND_SHADOW).result_count == 1

    def test_time_range(self, store: ResultStore) -> None:
        """start_time is inclusive, end_time exclusive."""
        store.insert(KNOWN)
        message = results_pb2.ResultFilter(start_time=ts("10:30"), end_time=ts("12:20"))  # type: ignore[arg-type]
        page, _ = store.list(A, analytics.filters(A, message)[1:], 50, "")
        assert [r.result_id for r in page] == ["r3", "r2"]


class TestDeletion:
    """Deleting by id or all, only the owner's; retention."""

    def test_delete_ids_only_own(self, store: ResultStore) -> None:
        """Ids of another owner are ignored."""
        store.insert(KNOWN)
        assert store.delete(B, ["r1", "r2"]) == 0
        assert store.delete(A, ["r1", "b1"]) == 1
        assert store.get(A, "r1") is None
        assert store.get(B, "b1") is not None
        assert aggregate(store).event_count == 2

    def test_delete_all(self, store: ResultStore) -> None:
        """all=true deletes every result of the owner and nothing of others."""
        store.insert(KNOWN)
        assert store.delete(A, [], everything=True) == 4
        assert aggregate(store).result_count == 0
        assert aggregate(store, B).result_count == 1

    def test_expire(self, store: ResultStore) -> None:
        """Results older than the cut-off go, of every owner."""
        store.insert(KNOWN)
        cutoff = int(DAY.replace(hour=11).timestamp() * 1000)
        assert store.expire(cutoff) == 2
        page, _ = store.list(A, [], 50, "")
        assert [r.result_id for r in page] == ["r4", "r3"]
        assert store.get(B, "b1") is not None


class TestCacheLookup:
    """The cache lookup is by owner and key."""

    def test_lookup(self, store: ResultStore) -> None:
        """The owner's result with the key is found; another owner's is not."""
        store.insert([make("c1", cache_key="k" * 64), make("c2", owner=B, cache_key="j" * 64)])
        found = store.cached(A, "k" * 64)
        assert found is not None
        assert found.result_id == "c1"
        assert store.cached(B, "k" * 64) is None
        assert store.cached(A, "j" * 64) is None


class TestAnalytics:
    """Every aggregate over the known results, exactly."""

    def test_totals_and_emotions(self, store: ResultStore) -> None:
        """Counts, media time, and mean emotions over the results with faces."""
        store.insert(KNOWN)
        reply = aggregate(store)
        assert (reply.result_count, reply.event_count, reply.media_duration.seconds) == (4, 4, 270)
        means = {analysis_pb2.Emotion.Name(e.emotion): e.mean_score for e in reply.emotions}
        assert means["EMOTION_HAPPY"] == pytest.approx(0.4)
        assert means["EMOTION_NEUTRAL"] == pytest.approx(0.6)
        assert means["EMOTION_ANGRY"] == 0.0
        assert len(means) == 7

    def test_laughter_types(self, store: ResultStore) -> None:
        """Counts and durations per type, most events first."""
        store.insert(KNOWN)
        types = [
            (
                t.laughter_type,
                t.event_count,
                t.total_duration.ToMilliseconds(),
                t.mean_duration.ToMilliseconds(),
            )
            for t in aggregate(store).laughter_types
        ]
        assert types == [(JOYFUL, 2, 6000, 3000), (NERVOUS, 1, 3000, 3000), (POLITE, 1, 1000, 1000)]

    def test_buckets_and_hours(self, store: ResultStore) -> None:
        """Laughs per minute and confidence per hour bucket; events by hour of day."""
        store.insert(KNOWN)
        reply = aggregate(store)
        buckets = [
            (b.start_time.ToDatetime(tzinfo=datetime.UTC).hour, b.result_count, b.event_count)
            for b in reply.buckets
        ]
        assert buckets == [(10, 2, 3), (12, 2, 1)]
        assert reply.buckets[0].laughs_per_minute == pytest.approx(1.0)
        assert reply.buckets[1].laughs_per_minute == pytest.approx(60 / 90)
        assert reply.buckets[0].mean_confidence == pytest.approx(0.7)
        assert reply.buckets[1].mean_confidence == pytest.approx(0.8)
        assert [(h.hour, h.event_count) for h in reply.hours] == [(10, 3), (12, 1)]

    def test_laughter_types_per_bucket(self, store: ResultStore) -> None:
        """Each bucket counts its own events per type (the types over time), most events first."""
        store.insert(KNOWN)
        per_bucket = [
            [(t.laughter_type, t.event_count, t.total_duration.ToMilliseconds()) for t in b.laughter_types]
            for b in aggregate(store).buckets
        ]
        assert per_bucket == [[(JOYFUL, 2, 6000), (POLITE, 1, 1000)], [(NERVOUS, 1, 3000)]]
        daily = aggregate(store, start_time=ts("12:00"))
        assert [[t.laughter_type for t in b.laughter_types] for b in daily.buckets] == [[NERVOUS]]

    def test_model_versions(self, store: ResultStore) -> None:
        """Side by side per audio model version, with p50/p95 of processing per media second."""
        store.insert(KNOWN)
        old, new = aggregate(store).model_versions
        assert (old.audio_model_version, old.result_count, old.detection_rate) == ("1.1.0", 1, 0.0)
        assert old.processing_per_media_second_p50 == pytest.approx(0.5)
        assert old.processing_per_media_second_p95 == pytest.approx(0.5)
        assert (new.audio_model_version, new.result_count, new.detection_rate) == ("1.4.0", 3, 1.0)
        assert new.mean_confidence == pytest.approx(0.7)
        assert new.events_per_minute == pytest.approx(1.0)
        assert new.processing_per_media_second_p50 == pytest.approx(0.2)
        assert new.processing_per_media_second_p95 == pytest.approx(0.38)
        stages = {s.stage: s.mean_seconds for s in new.stages}
        assert stages == {"decode": pytest.approx(2.0), "detect_laughter": pytest.approx(2.0)}

    def test_filtered(self, store: ResultStore) -> None:
        """A time range narrows every aggregate."""
        store.insert(KNOWN)
        reply = aggregate(store, start_time=ts("10:00"), end_time=ts("11:00"))
        assert (reply.result_count, reply.event_count) == (2, 3)
        assert [v.audio_model_version for v in reply.model_versions] == ["1.4.0"]

    @pytest.mark.parametrize(
        ("filters", "types", "hours", "stages"),
        [
            ({"filter_client_id": "cam"}, [], [], {("1.1.0", "decode"): 0.5}),
            (
                {"filter_client_id": "web", "laughter": results_pb2.LAUGHTER_FILTER_DETECTED},
                [(JOYFUL, 2), (NERVOUS, 1), (POLITE, 1)],
                [(10, 3), (12, 1)],
                {("1.4.0", "decode"): 2.0, ("1.4.0", "detect_laughter"): 2.0},
            ),
            ({"audio_model_version": "1.1.0"}, [], [], {("1.1.0", "decode"): 0.5}),
            (
                {"laughter_type": POLITE},
                [(JOYFUL, 1), (POLITE, 1)],
                [(10, 2)],
                {("1.4.0", "decode"): 1.0, ("1.4.0", "detect_laughter"): 2.0},
            ),
            ({"kind": results_pb2.RESULT_KIND_SESSION}, [], [], {("1.1.0", "decode"): 0.5}),
            (
                {"start_time": "12:00"},
                [(NERVOUS, 1)],
                [(12, 1)],
                {("1.1.0", "decode"): 0.5, ("1.4.0", "decode"): 2.0},
            ),
        ],
    )
    def test_event_and_stage_rows_follow_the_filter(
        self,
        store: ResultStore,
        filters: dict[str, object],
        types: list[tuple[int, int]],
        hours: list[tuple[int, int]],
        stages: dict[tuple[str, str], float],
    ) -> None:
        """Laughter types, hours and stage means count only the events and stages of the matching results
        (those rows carry their result's filter columns)."""
        store.insert(
            [
                *KNOWN,
                make("s1", at="12:30", kind=results_pb2.RESULT_KIND_SHADOW, events=((POLITE, 1.0, 0.5),)),
            ]
        )
        if "start_time" in filters:
            filters = {**filters, "start_time": ts(str(filters["start_time"]))}
        reply = aggregate(store, **filters)
        assert [(t.laughter_type, t.event_count) for t in reply.laughter_types] == types
        assert [(h.hour, h.event_count) for h in reply.hours] == hours
        means = {
            (v.audio_model_version, s.stage): s.mean_seconds for v in reply.model_versions for s in v.stages
        }
        assert means == pytest.approx(stages)

    def test_percentiles_interpolate(self, store: ResultStore) -> None:
        """p50 and p95 interpolate linearly between the two nearest ratios (PostgreSQL's percentile_cont),
        and a result without media time has no ratio."""
        ratios = (0.1, 0.4, 0.2, 0.3, 1.0)
        store.insert(
            [make(f"p{i}", media_s=100.0, processing_s=100.0 * r) for i, r in enumerate(ratios)]
            + [make("zero", media_s=0.0, processing_s=5.0)]
        )
        (version,) = aggregate(store).model_versions
        assert version.result_count == 6
        assert version.processing_per_media_second_p50 == pytest.approx(0.3)
        assert version.processing_per_media_second_p95 == pytest.approx(0.4 + 0.8 * (1.0 - 0.4))

    def test_empty(self, store: ResultStore) -> None:
        """No results: zeros and empty lists."""
        reply = aggregate(store)
        assert reply.result_count == 0
        assert not reply.emotions
        assert not reply.buckets
        assert not reply.model_versions
