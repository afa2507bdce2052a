"""fuse_events: timed laughter events from synthetic audio scores and face observations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from laughter_server.fusion.events import build_timeline, reference_dbfs, smooth_window_scores
from laughter_server.fusion.fuser import fuse_events
from laughter_server.fusion.rules import DEFAULT_RULES
from laughter_server.fusion.types import EvidenceSource, FaceObservation, LaughterEvent

from tests.unit.fusion.conftest import HOP_S, RIGHT_BOX, make_audio, make_track

DURATION_S = 10.0
FRAME_PERIOD_S = 0.2
FRAME_TIMES_S = np.arange(0.0, DURATION_S, FRAME_PERIOD_S)
TOLERANCE_S = 0.25


def laughing_between(start_s: float, end_s: float) -> Callable[[float], tuple[float, float, float]]:
    """Face levels: very happy inside ``[start_s, end_s)``, neutral outside."""
    return lambda t: (0.9, 0.0, 0.0) if start_s <= t < end_s else (0.05, 0.0, 0.0)


def two_faces(start_s: float = 2.0, end_s: float = 4.0) -> list[FaceObservation]:
    """Face 1 laughs in ``[start_s, end_s)``; face 2 stays neutral the whole time."""
    laughing = make_track(1, FRAME_TIMES_S, laughing_between(start_s, end_s))
    neutral = make_track(2, FRAME_TIMES_S, lambda t: (0.05, 0.0, 0.0), RIGHT_BOX)
    return laughing + neutral


def fuse(audio: object, faces: list[FaceObservation]) -> list[LaughterEvent]:
    """fuse_events with the module's clip length and frame rate."""
    events, _ = fuse_events(audio, faces, FRAME_TIMES_S, DURATION_S, FRAME_PERIOD_S)  # type: ignore[arg-type]
    return events


class TestFuseEvents:
    """fuse_events finds the right spans, face and evidence source."""

    def test_audio_only_event(self) -> None:
        """Audio laughter over 2-4 s gives one audio event there, with no face."""
        (event,) = fuse(make_audio(DURATION_S, [(2.0, 4.0, 0.9)]), [])
        assert event.start_s == pytest.approx(2.0, abs=TOLERANCE_S)
        assert event.end_s == pytest.approx(4.0, abs=TOLERANCE_S)
        assert event.start_s <= event.peak_s <= event.end_s
        assert event.face_id is None
        assert event.evidence.source is EvidenceSource.AUDIO
        assert event.evidence.audio_probability > 0.7
        assert 0.5 <= event.confidence <= 1.0

    def test_two_separate_laughs(self) -> None:
        """Laughs far apart give two events in time order with distinct ids."""
        events = fuse(make_audio(DURATION_S, [(1.0, 2.5, 0.9), (6.0, 8.0, 0.8)]), [])
        assert [(e.start_s, e.end_s) for e in events] == [
            pytest.approx((1.0, 2.5), abs=TOLERANCE_S),
            pytest.approx((6.0, 8.0), abs=TOLERANCE_S),
        ]
        assert len({e.event_id for e in events}) == 2

    def test_no_laughter_no_events(self) -> None:
        """Speech-level audio and neutral faces give no events."""
        assert fuse(make_audio(DURATION_S, [(2.0, 6.0, 0.3)]), two_faces(0.0, 0.0)) == []

    def test_names_the_laughing_face(self) -> None:
        """With two faces, the event names the one that laughs and rests on audio and face."""
        (event,) = fuse(make_audio(DURATION_S, [(2.0, 4.0, 0.9)]), two_faces())
        assert event.face_id == 1
        assert event.evidence.source is EvidenceSource.AUDIO_AND_FACE
        assert event.evidence.face_happy > 0.7
        assert event.evidence.face_coverage == pytest.approx(1.0, abs=0.1)

    def test_names_the_other_face_when_it_laughs(self) -> None:
        """Swapping which face laughs swaps the face id."""
        faces = make_track(1, FRAME_TIMES_S, lambda t: (0.05, 0.0, 0.0)) + make_track(
            2, FRAME_TIMES_S, laughing_between(2.0, 4.0), RIGHT_BOX
        )
        (event,) = fuse(make_audio(DURATION_S, [(2.0, 4.0, 0.9)]), faces)
        assert event.face_id == 2

    def test_no_audio_is_face_only(self) -> None:
        """Without an audio track a laughing face alone makes a face-sourced event."""
        (event,) = fuse(None, two_faces())
        assert event.start_s == pytest.approx(2.0, abs=TOLERANCE_S)
        assert event.end_s == pytest.approx(4.0, abs=TOLERANCE_S)
        assert event.face_id == 1
        assert event.evidence.source is EvidenceSource.FACE
        assert event.evidence.audio_probability == 0.0

    def test_face_over_quiet_audio_makes_no_event(self) -> None:
        """A laughing face over near-silent audio is not laughter."""
        assert fuse(make_audio(DURATION_S, base=0.02), two_faces()) == []

    def test_face_confirms_borderline_audio(self) -> None:
        """A borderline sound (0.42) is an event only when a face laughs with it."""
        audio = make_audio(DURATION_S, [(2.0, 4.0, 0.42)])
        assert fuse(audio, []) == []
        (event,) = fuse(audio, two_faces())
        assert event.face_id == 1
        assert event.evidence.source is EvidenceSource.AUDIO_AND_FACE

    def test_audio_event_without_face_in_view(self) -> None:
        """A laugh while the only face is neutral is still an event, and its evidence shows the calm face."""
        faces = make_track(2, FRAME_TIMES_S, lambda t: (0.05, 0.0, 0.0), RIGHT_BOX)
        (event,) = fuse(make_audio(DURATION_S, [(2.0, 4.0, 0.9)]), faces)
        assert event.start_s == pytest.approx(2.0, abs=TOLERANCE_S)
        assert event.evidence.face_happy < 0.2

    def test_loud_laugh_has_positive_relative_loudness(self) -> None:
        """Loudness is measured against the recording's median active level."""
        (event,) = fuse(make_audio(DURATION_S, [(2.0, 4.0, 0.9)], laugh_dbfs=-15.0, base_dbfs=-30.0), [])
        assert event.evidence.loudness_dbfs == pytest.approx(-15.0, abs=3.0)
        assert event.evidence.relative_loudness_db > 10.0


class TestBuildTimeline:
    """build_timeline puts both modalities on one grid."""

    def test_grid_and_nan_without_faces(self) -> None:
        """The grid covers the duration; the face row is NaN where no face is visible."""
        timeline = build_timeline(make_audio(DURATION_S, [(2.0, 4.0, 0.9)]), [], DURATION_S, FRAME_PERIOD_S)
        assert timeline.times_s[0] == 0.0
        assert timeline.times_s[-1] == pytest.approx(DURATION_S - 0.1)
        assert np.isnan(timeline.face).all()
        assert timeline.audio is not None
        np.testing.assert_allclose(timeline.fused, timeline.audio)

    def test_face_row_is_the_best_face(self) -> None:
        """With two faces the face row holds the higher score."""
        timeline = build_timeline(None, two_faces(), DURATION_S, FRAME_PERIOD_S, DEFAULT_RULES)
        inside = (timeline.times_s > 2.2) & (timeline.times_s < 3.8)
        assert timeline.audio is None
        assert np.all(timeline.face[inside] == 1.0)
        assert np.all(timeline.face[timeline.times_s > 4.5] < 0.5)


class TestReferenceDbfs:
    """reference_dbfs is the median of the non-silent windows."""

    def test_ignores_silent_windows(self) -> None:
        """Windows below -50 dBFS do not pull the reference down."""
        audio = make_audio(DURATION_S, [(0.0, 6.0, 0.1)], laugh_dbfs=-80.0, base_dbfs=-25.0)
        assert reference_dbfs(audio) == pytest.approx(-25.0)

    def test_all_silent(self) -> None:
        """Only silence gives the floor level."""
        audio = make_audio(DURATION_S, base_dbfs=-90.0)
        assert reference_dbfs(audio) == -50.0


class TestAudioEdges:
    """Events carried by audio are widened by audio_edge_s; face-carried ones and lone spikes are not."""

    def test_audio_event_widened_on_both_sides(self) -> None:
        """Windows high over 2.2-3.8 s (a 2-4 s laugh as the detector sees it) give an event near 2-4 s,
        0.2 s wider on each side than without the edge."""
        audio = make_audio(DURATION_S, [(2.0, 4.0, 0.9)])
        (plain,), _ = fuse_events(
            audio,
            [],
            FRAME_TIMES_S,
            DURATION_S,
            FRAME_PERIOD_S,
            dataclasses.replace(DEFAULT_RULES, audio_edge_s=0.0),
        )
        (event,) = fuse(audio, [])
        assert event.start_s == pytest.approx(plain.start_s - 0.2, abs=1e-6)
        assert event.end_s == pytest.approx(plain.end_s + 0.2, abs=1e-6)
        assert abs(event.start_s - 2.0) < abs(plain.start_s - 2.0)

    def test_face_only_event_not_widened(self) -> None:
        """Without audio the face timing stands as it is."""
        faces = two_faces(2.0, 4.0)
        (plain,), _ = fuse_events(
            None,
            faces,
            FRAME_TIMES_S,
            DURATION_S,
            FRAME_PERIOD_S,
            dataclasses.replace(DEFAULT_RULES, audio_edge_s=0.0),
        )
        (event,), _ = fuse_events(None, faces, FRAME_TIMES_S, DURATION_S, FRAME_PERIOD_S)
        assert (event.start_s, event.end_s) == (plain.start_s, plain.end_s)

    def test_lone_high_window_stays_below_the_minimum_duration(self) -> None:
        """One window over the threshold is too short for an event; widening comes after that check."""
        audio = make_audio(DURATION_S)
        probabilities = audio.probabilities.copy()
        probabilities[np.argmin(np.abs(audio.centers_s - 5.0))] = 0.6
        assert fuse(dataclasses.replace(audio, probabilities=probabilities), []) == []

    def test_widened_events_stay_inside_the_media(self) -> None:
        """An audio laugh at the very start is not widened before 0 s."""
        (event,) = fuse(make_audio(DURATION_S, [(0.0, 2.0, 0.9)]), [])
        assert event.start_s >= 0.0


class TestSmoothedAudio:
    """``audio_smooth_windows``: the window probabilities smoothed before fusion."""

    def test_a_median_takes_out_one_windows_spike_and_keeps_a_plateau(self) -> None:
        """The median of 3 drops a lone window to its neighbours' level and keeps three high windows."""
        audio = make_audio(DURATION_S)
        probabilities = audio.probabilities.copy()
        probabilities[10] = 0.9
        probabilities[40:43] = 0.8
        smoothed = smooth_window_scores(dataclasses.replace(audio, probabilities=probabilities), 3, "median")
        assert smoothed.probabilities[10] == pytest.approx(0.05)
        assert smoothed.probabilities[41] == pytest.approx(0.8)
        assert smoothed.probabilities[40] == pytest.approx(0.8)  # (0.05, 0.8, 0.8)
        assert smoothed.probabilities[39] == pytest.approx(0.05)
        assert np.array_equal(smoothed.rms_dbfs, audio.rms_dbfs)

    def test_a_mean_spreads_and_the_ends_average_what_is_there(self) -> None:
        """The mean of 3 spreads a spike over its neighbours; the first window averages itself and the next."""
        audio = make_audio(2.0, base=0.0)
        probabilities = audio.probabilities.copy()
        probabilities[0], probabilities[5] = 0.6, 0.9
        smoothed = smooth_window_scores(dataclasses.replace(audio, probabilities=probabilities), 3, "mean")
        assert smoothed.probabilities[0] == pytest.approx(0.3)
        assert smoothed.probabilities[4:7] == pytest.approx([0.3, 0.3, 0.3])
        assert smoothed.probabilities[7] == pytest.approx(0.0)

    def test_windows_across_a_gap_are_not_mixed(self) -> None:
        """Windows more than a hop apart belong to separate runs: each is smoothed on its own."""
        audio = make_audio(2.0, base=0.1)
        gap = 0.9 * HOP_S * 10
        centers = np.where(np.arange(audio.count) >= 6, audio.centers_s + gap, audio.centers_s)
        probabilities = np.where(np.arange(audio.count) >= 6, 0.9, 0.1).astype(np.float32)
        smoothed = smooth_window_scores(
            dataclasses.replace(audio, centers_s=centers, probabilities=probabilities), 3, "median"
        )
        assert np.allclose(smoothed.probabilities, probabilities)

    def test_a_spike_that_opens_an_event_opens_none_once_smoothed(self) -> None:
        """Four high windows (0.4 s) make a short event; smoothed by the median of 9 they make none, while a
        2 s laugh keeps its event at the same place."""
        audio = make_audio(DURATION_S, [(6.0, 8.0, 0.9)])
        probabilities = audio.probabilities.copy()
        near = np.argmin(np.abs(audio.centers_s - 3.0))
        probabilities[near : near + 4] = 0.9
        spiky = dataclasses.replace(audio, probabilities=probabilities)
        plain, _ = fuse_events(spiky, [], FRAME_TIMES_S, DURATION_S, FRAME_PERIOD_S)
        assert len(plain) == 2
        rules = dataclasses.replace(DEFAULT_RULES, audio_smooth_windows=9)
        (event,), _ = fuse_events(spiky, [], FRAME_TIMES_S, DURATION_S, FRAME_PERIOD_S, rules)
        assert (event.start_s, event.end_s) == pytest.approx((plain[1].start_s, plain[1].end_s), abs=0.11)

    @pytest.mark.parametrize(
        "settings", [{"audio_smooth_windows": 2}, {"audio_smooth_windows": 0}, {"audio_smoothing": "max"}]
    )
    def test_settings_are_checked(self, settings: dict[str, object]) -> None:
        """An even or empty window count, or an unknown kind, is refused when the rules are made."""
        with pytest.raises(ValueError, match="audio_smooth"):
            dataclasses.replace(DEFAULT_RULES, **settings)  # type: ignore[arg-type]
