"""The laughter rule set: the spec's face rule, score fusion and type classification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from laughter_server.fusion.rules import (
    DEFAULT_RULES,
    LaughterRules,
    classify_type,
    face_alone_score,
    face_laugh_score,
    fuse_scores,
    is_face_laughing,
)
from laughter_server.fusion.types import EventEvidence, EvidenceSource, LaughterType


def grid_levels() -> list[float]:
    """Emotion levels every 0.01 in [0, 1], plus the rule thresholds and their nearest floats on each side."""
    levels = {round(float(x), 2) for x in np.arange(0.0, 1.0001, 0.01)}
    for threshold in (0.2, 0.3):
        levels |= {threshold, float(np.nextafter(threshold, 0.0)), float(np.nextafter(threshold, 1.0))}
    return sorted(levels)


def spec_rule(happy: float, surprise: float) -> bool:
    """The product specification, written out literally."""
    return happy > 0.3 or (happy > 0.2 and surprise > 0.2)


class TestFaceLaughScore:
    """face_laugh_score is above 0.5 exactly where the spec's face rule holds."""

    def test_matches_spec_rule_on_grid(self) -> None:
        """On a grid of happy x surprise (boundaries included) score > 0.5 iff the spec rule holds."""
        levels = grid_levels()
        mismatches = [
            (happy, surprise)
            for happy in levels
            for surprise in levels
            if (face_laugh_score(happy, surprise) > 0.5) != spec_rule(happy, surprise)
        ]
        assert mismatches == []

    @pytest.mark.parametrize(
        ("happy", "surprise", "expected"),
        [
            (0.3, 0.0, 0.5),  # exactly at the happy threshold: not laughing, score on the boundary
            (0.6, 0.0, 1.0),  # saturation at twice the threshold
            (0.9, 0.9, 1.0),
            (0.0, 0.9, 0.0),  # surprise alone is no laughter
            (0.15, 0.0, 0.25),
            (0.25, 0.2, 0.5),  # combined rule at the surprise boundary
            (0.4, 0.4, 1.0),
        ],
    )
    def test_known_values(self, happy: float, surprise: float, expected: float) -> None:
        """Hand-computed scores at and around the thresholds."""
        assert face_laugh_score(happy, surprise) == pytest.approx(expected)

    def test_stays_in_unit_interval(self) -> None:
        """Scores are within [0, 1] for any pair of probabilities."""
        levels = grid_levels()
        scores = [face_laugh_score(h, s) for h in levels for s in levels]
        assert min(scores) >= 0.0
        assert max(scores) <= 1.0

    def test_follows_custom_thresholds(self) -> None:
        """Moving the happy threshold in LaughterRules moves the 0.5 crossing with it."""
        rules = dataclasses.replace(DEFAULT_RULES, face_happy=0.5)
        assert face_laugh_score(0.45, 0.0, rules) < 0.5 < face_laugh_score(0.55, 0.0, rules)
        assert not is_face_laughing(0.45, 0.0, rules)
        assert is_face_laughing(0.55, 0.0, rules)


class TestIsFaceLaughing:
    """is_face_laughing is the spec rule verbatim."""

    def test_matches_spec_rule_on_grid(self) -> None:
        """Same truth table as the literal spec expression, boundaries included."""
        levels = grid_levels()
        assert all(is_face_laughing(h, s) == spec_rule(h, s) for h in levels for s in levels)


class TestFuseScores:
    """fuse_scores combines audio probability and face score."""

    def test_audio_only_is_the_audio_probability(self) -> None:
        """Without a face the fused score is the audio probability."""
        for probability in (0.0, 0.2, 0.49, 0.51, 1.0):
            assert fuse_scores(probability, None, DEFAULT_RULES) == probability

    def test_face_only_is_the_face_score(self) -> None:
        """Without audio the fused score is the face score; with neither it is 0."""
        assert fuse_scores(None, 0.8, DEFAULT_RULES) == 0.8
        assert fuse_scores(None, 0.1, DEFAULT_RULES) == 0.1
        assert fuse_scores(None, None, DEFAULT_RULES) == 0.0

    @pytest.mark.parametrize("audio_probability", [0.0, 0.02, 0.1, 0.2, 0.3])
    def test_face_never_lifts_silence_or_speech_to_an_event(self, audio_probability: float) -> None:
        """However much a face laughs, near-silent or speech-like audio stays below the enter threshold."""
        for face_score in np.linspace(0.0, 1.0, 21):
            fused = fuse_scores(audio_probability, float(face_score), DEFAULT_RULES)
            assert fused < DEFAULT_RULES.enter_threshold

    def test_laughing_face_lifts_borderline_audio(self) -> None:
        """A borderline sound (0.4) crosses the enter threshold only with a laughing face."""
        assert fuse_scores(0.4, None, DEFAULT_RULES) < DEFAULT_RULES.enter_threshold
        assert fuse_scores(0.4, 0.0, DEFAULT_RULES) < DEFAULT_RULES.enter_threshold
        assert fuse_scores(0.4, 1.0, DEFAULT_RULES) >= DEFAULT_RULES.enter_threshold

    def test_face_only_raises_and_stays_in_range(self) -> None:
        """With both modalities the fused score is in the audio probability and 1, rising with the face."""
        for audio_probability in np.linspace(0.0, 1.0, 11):
            fused = [
                fuse_scores(float(audio_probability), float(f), DEFAULT_RULES) for f in np.linspace(0, 1, 11)
            ]
            assert fused[0] == pytest.approx(audio_probability)
            assert all(audio_probability - 1e-12 <= v <= 1.0 for v in fused)
            assert fused == sorted(fused)

    def test_face_boost_zero_ignores_the_face(self) -> None:
        """With face_boost 0 the face adds nothing to audio."""
        rules = LaughterRules(face_boost=0.0)
        assert fuse_scores(0.45, 1.0, rules) == pytest.approx(0.45)


def face_evidence(
    source: EvidenceSource = EvidenceSource.FACE,
    *,
    happy: float = 0.0,
    surprise: float = 0.0,
    fear: float = 0.0,
    loudness_db: float = 0.0,
    coverage: float = 1.0,
    burst_rate_hertz: float = 4.0,
) -> EventEvidence:
    """Evidence with a face seen over the whole event (audio, where there is some, at 4 bursts/s)."""
    return EventEvidence(
        source=source,
        audio_probability=0.8 if source is not EvidenceSource.FACE else 0.0,
        face_happy=happy,
        face_surprise=surprise,
        face_fear=fear,
        face_neutral=max(0.0, 1.0 - happy - surprise - fear),
        face_coverage=coverage,
        relative_loudness_db=loudness_db,
        burst_rate_hertz=burst_rate_hertz if source is not EvidenceSource.FACE else 0.0,
    )


def audio_evidence(loudness_db: float, burst_rate_hertz: float = 4.0) -> EventEvidence:
    """Evidence from audio alone (4 bursts/s: a typical laugh's syllable rate)."""
    return EventEvidence(
        source=EvidenceSource.AUDIO,
        audio_probability=0.8,
        relative_loudness_db=loudness_db,
        burst_rate_hertz=burst_rate_hertz,
    )


BOTH = EvidenceSource.AUDIO_AND_FACE
CLASSIFY_TABLE = [
    # (evidence, duration_s, expected type, why)
    (face_evidence(happy=0.4, surprise=0.4), 1.0, LaughterType.SURPRISED, "surprise and happy both high"),
    (
        face_evidence(BOTH, happy=0.3, surprise=0.5, fear=0.2),
        2.0,
        LaughterType.SURPRISED,
        "surprise over fear",
    ),
    (face_evidence(happy=0.3, fear=0.3), 1.0, LaughterType.NERVOUS, "fear with moderate happy"),
    (
        face_evidence(BOTH, happy=0.25, surprise=0.25, fear=0.4),
        1.0,
        LaughterType.NERVOUS,
        "fear beats surprise",
    ),
    (face_evidence(happy=0.8), 0.5, LaughterType.JOYFUL, "very happy face, even short"),
    (
        face_evidence(BOTH, happy=0.6, loudness_db=-10.0),
        0.5,
        LaughterType.JOYFUL,
        "happy face beats quiet audio",
    ),
    (face_evidence(happy=0.4), 2.0, LaughterType.POLITE, "face only, moderate happy"),
    (face_evidence(happy=0.2), 2.0, LaughterType.MILD_AMUSEMENT, "face only, low happy"),
    (face_evidence(BOTH, happy=0.2), 1.0, LaughterType.MILD_AMUSEMENT, "low happy, mid audio"),
    (face_evidence(BOTH, happy=0.2), 0.5, LaughterType.SOFT_CHUCKLE, "low happy, short audio"),
    (face_evidence(BOTH, happy=0.2), 2.0, LaughterType.JOYFUL, "low happy, long audio"),
    (face_evidence(BOTH, happy=0.4), 1.0, LaughterType.POLITE, "moderate happy, short-ish"),
    (face_evidence(BOTH, happy=0.4), 2.0, LaughterType.JOYFUL, "moderate happy, long audio"),
    (
        face_evidence(BOTH, happy=0.4, loudness_db=-10.0),
        1.0,
        LaughterType.POLITE,
        "moderate happy beats quiet",
    ),
    (audio_evidence(0.0), 2.0, LaughterType.JOYFUL, "audio only, long"),
    (audio_evidence(4.0), 1.0, LaughterType.JOYFUL, "audio only, loud"),
    (audio_evidence(0.0), 0.5, LaughterType.SOFT_CHUCKLE, "audio only, short"),
    (audio_evidence(-8.0), 1.0, LaughterType.SOFT_CHUCKLE, "audio only, quiet"),
    (audio_evidence(0.0), 1.0, LaughterType.POLITE, "audio only, medium length and level"),
    (audio_evidence(0.0, 6.0), 1.0, LaughterType.JOYFUL, "audio only, medium, rapid bursts"),
    (audio_evidence(0.0, 1.5), 1.0, LaughterType.SOFT_CHUCKLE, "audio only, medium, slow bursts"),
    (audio_evidence(0.0, 1.5), 2.0, LaughterType.JOYFUL, "long beats slow bursts"),
    (audio_evidence(-8.0, 6.0), 1.0, LaughterType.SOFT_CHUCKLE, "quiet beats rapid bursts"),
]


class TestClassifyType:
    """classify_type gives each laughter type for the evidence that should produce it."""

    @pytest.mark.parametrize(
        ("evidence", "duration_s", "expected"),
        [row[:3] for row in CLASSIFY_TABLE],
        ids=[row[3] for row in CLASSIFY_TABLE],
    )
    def test_table(self, evidence: EventEvidence, duration_s: float, expected: LaughterType) -> None:
        """One row per type and path (face, audio and face, audio only)."""
        assert classify_type(evidence, duration_s) is expected

    def test_table_covers_every_type_but_none(self) -> None:
        """Every laughter type except NONE is reachable from the table."""
        assert {row[2] for row in CLASSIFY_TABLE} == set(LaughterType) - {LaughterType.NONE}

    def test_audio_source_ignores_face_fields(self) -> None:
        """With AUDIO evidence, face levels do not change the type."""
        evidence = dataclasses.replace(audio_evidence(0.0), face_happy=0.9, face_coverage=1.0)
        assert classify_type(evidence, 1.0) is LaughterType.POLITE

    def test_face_not_seen_falls_back_to_audio(self) -> None:
        """A face source with zero coverage is classified from audio cues."""
        evidence = face_evidence(BOTH, happy=0.9, coverage=0.0)
        assert classify_type(evidence, 0.5) is LaughterType.SOFT_CHUCKLE


class TestMouthGate:
    """A smile alone is not a laugh: a face by itself needs an open mouth, and a closed one caps the type."""

    def test_face_alone_needs_an_open_mouth(self) -> None:
        """A full smile scores 0 with a closed mouth, half at half open, in full when open."""
        assert face_alone_score(0.9, 0.0, 0.0) == 0.0
        assert face_alone_score(0.9, 0.0, 0.5) == pytest.approx(0.5)
        assert face_alone_score(0.9, 0.0, 1.0) == pytest.approx(face_laugh_score(0.9, 0.0))
        assert face_alone_score(0.9, 0.0, None) == pytest.approx(face_laugh_score(0.9, 0.0))

    def test_fusion_uses_the_gated_score_only_without_audio(self) -> None:
        """Without audio the mouth-gated score decides; with audio the smile still lifts the sound."""
        assert fuse_scores(None, 1.0, DEFAULT_RULES, 0.0) == 0.0
        assert fuse_scores(0.45, 1.0, DEFAULT_RULES, 0.0) == pytest.approx(
            fuse_scores(0.45, 1.0, DEFAULT_RULES)
        )

    @pytest.mark.parametrize(
        ("evidence", "duration_s", "expected"),
        [
            (face_evidence(happy=0.9), 2.0, LaughterType.POLITE),
            (face_evidence(happy=0.2), 2.0, LaughterType.MILD_AMUSEMENT),
            (face_evidence(happy=0.4, surprise=0.4), 1.0, LaughterType.POLITE),
            (face_evidence(BOTH, happy=0.9, loudness_db=6.0), 2.0, LaughterType.POLITE),
            (face_evidence(BOTH, happy=0.2), 2.0, LaughterType.MILD_AMUSEMENT),
            (face_evidence(BOTH, happy=0.9), 0.5, LaughterType.SOFT_CHUCKLE),
        ],
        ids=["big smile", "faint smile", "surprised smile", "long loud sound", "faint, long", "short sound"],
    )
    def test_closed_mouth_is_never_joyful(
        self, evidence: EventEvidence, duration_s: float, expected: LaughterType
    ) -> None:
        """With a closed mouth: mild amusement, polite, or a chuckle the sound gives; never joyful."""
        closed = dataclasses.replace(evidence, face_mouth_open=0.1)
        assert classify_type(closed, duration_s) is expected

    def test_open_mouth_keeps_the_face_rules(self) -> None:
        """With the mouth open the face's own rules apply (a big smile is joyful)."""
        evidence = dataclasses.replace(face_evidence(happy=0.9), face_mouth_open=0.9)
        assert classify_type(evidence, 2.0) is LaughterType.JOYFUL
