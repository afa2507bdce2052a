"""The laughter rule set: thresholds as data, and pure functions that apply them.

Seeded from the product specification:
* a face shows laughter when ``happy > 0.3``, or ``happy > 0.2 and surprise > 0.2``;
* the type follows the balance of happy, surprise, fear and neutral on the laughing face;
and extended with audio cues (duration, loudness relative to the recording, burst rate) so that a type can be
given when no face is visible. Rules are checked in a fixed order and the first that matches wins.

A smile alone is not a laugh: a face counts as laughing on its own only with an open mouth (the face
mesh's inner-lip opening), and a smile without one is at most Mild Amusement or a Polite Laugh, never a
Joyful Laugh. Audio is the other evidence: with sound, a smiling face still lifts a laughing sound.
"""

from __future__ import annotations

import dataclasses

from laughter_server.fusion.types import EventEvidence, EvidenceSource, LaughterType


@dataclasses.dataclass(frozen=True)
class LaughterRules:
    """Every threshold used by fusion and type classification."""

    # Face evidence (product spec seeds).
    face_happy: float = 0.3
    face_happy_with_surprise: float = 0.2
    face_surprise_with_happy: float = 0.2
    # Mouth gate (``mouth_open`` in [0, 1] from the inner-lip opening ratio, 0 at ratio <= 0.08, 1 at >= 0.20;
    # laughter_server.vision.landmarks). On the dev stills the laughing faces opened 0.18-0.32 (mouth_open
    # 0.83-1), 10 of 13 neutral faces stayed under 0.05; in the talking webcam videos the median frame
    # opened 0.007-0.016 but 6-11% of frames passed 0.20 mid-syllable, so the mouth gates the smile and
    # never replaces it (docs/vision-model.md). A face without audio counts in full from this mouth_open
    # on, and in proportion below it: a smile with a closed mouth never counts alone.
    face_alone_mouth_open: float = 1.0
    # Mean mouth_open over an event (ratio 0.14) below which the face only smiles: at most polite.
    laugh_mouth_open: float = 0.5
    # Fusion of the per-time scores.
    face_boost: float = 0.35  # how far a laughing face lifts the audio score toward 1 when audio is present
    enter_threshold: float = 0.5
    exit_threshold: float = 0.35
    min_event_s: float = 0.3
    max_gap_s: float = 0.4
    # An event that lasts this long is ended there (and counted); laughter that goes on starts a new one.
    # It bounds the state an open event holds in a live session.
    max_event_s: float = 300.0
    min_face_coverage: float = 0.3  # share of an event's frames a face must be seen in to be "the" face
    min_face_attribution: float = 0.25  # mean face score a visible face needs for the laugh to be its own
    # How much an event that the audio carried is widened on each side (at most max_gap_s / 2, so widened
    # events never overlap). A 1 s window scores high only once it is mostly laughter (training laughs are
    # whole clips), so audio spans start late and end early: on laughs spliced into other sounds
    # (`laughter-eval` scenes) onsets came a median 0.26 s late without this.
    audio_edge_s: float = 0.2
    # The audio probabilities smoothed over this many consecutive windows (centred, odd; 1 = not smoothed)
    # before fusion, by their median or mean (``audio_smoothing``), so that one window's spike opens no
    # event; a live session then scores ``audio_smooth_windows // 2`` hops later than without.
    audio_smooth_windows: int = 1
    audio_smoothing: str = "median"
    # Type rules, face side.
    joyful_happy: float = 0.5
    surprised_surprise: float = 0.2
    surprised_happy: float = 0.2
    nervous_fear: float = 0.15
    nervous_happy_below: float = 0.5
    polite_happy_below: float = 0.5
    polite_max_s: float = 1.2
    mild_happy_below: float = 0.3
    # Type rules, audio side (loudness relative to the recording's median active level).
    joyful_min_s: float = 1.2
    joyful_loud_db: float = 3.0
    chuckle_max_s: float = 0.8
    chuckle_quiet_db: float = -6.0
    # Between those lengths and levels, the laugh's syllable rate decides (dev laughs: median 4 bursts/s,
    # 10th-90th percentile 1-6): a rapid "ha-ha-ha" is joyful, one or two slow exhalations a chuckle.
    joyful_burst_hertz: float = 5.0
    chuckle_burst_hertz: float = 2.0

    def __post_init__(self) -> None:
        if self.audio_smooth_windows < 1 or self.audio_smooth_windows % 2 == 0:
            raise ValueError("audio_smooth_windows must be an odd number of windows, at least 1")
        if self.audio_smoothing not in AUDIO_SMOOTHINGS:
            raise ValueError(f"audio_smoothing must be one of {', '.join(AUDIO_SMOOTHINGS)}")


AUDIO_SMOOTHINGS = ("median", "mean")
DEFAULT_RULES = LaughterRules()


def face_laugh_score(happy: float, surprise: float, rules: LaughterRules = DEFAULT_RULES) -> float:
    """How strongly a face shows laughter, in [0, 1]; above 0.5 exactly when the spec's face rule holds.

    The spec rule is ``happy > 0.3 or (happy > 0.2 and surprise > 0.2)``; the score maps the happy level
    (or, for the combined rule, the smaller of happy and surprise) linearly so that the rule's threshold
    lands at 0.5 and saturation at twice the threshold.
    """
    single = happy / (2.0 * rules.face_happy)
    combined = 0.0
    if surprise > 0.0:
        combined = (
            min(happy / rules.face_happy_with_surprise, surprise / rules.face_surprise_with_happy) / 2.0
        )
    return float(min(1.0, max(single, combined)))


def face_alone_score(
    happy: float, surprise: float, mouth_open: float | None, rules: LaughterRules = DEFAULT_RULES
) -> float:
    """The face score where the face is the only evidence: the smile score times the mouth gate.

    The gate rises linearly from 0 (closed mouth) to 1 at ``rules.face_alone_mouth_open``; a face whose
    mouth was not measured (``None``) keeps its smile score.
    """
    score = face_laugh_score(happy, surprise, rules)
    if mouth_open is None:
        return score
    return score * float(min(1.0, max(0.0, mouth_open) / rules.face_alone_mouth_open))


def is_face_laughing(happy: float, surprise: float, rules: LaughterRules = DEFAULT_RULES) -> bool:
    """The product spec's face rule, verbatim."""
    return happy > rules.face_happy or (
        happy > rules.face_happy_with_surprise and surprise > rules.face_surprise_with_happy
    )


def fuse_scores(
    audio_probability: float | None,
    face_score: float | None,
    rules: LaughterRules,
    face_alone: float | None = None,
) -> float:
    """One laughter score from the two modalities.

    * audio only: the audio probability;
    * face only (no audio track, or silent audio): ``face_alone`` (the mouth-gated face score,
      ``face_alone_score``), or the face score when it is not given;
    * both: the face lifts the audio score part of the way to 1, so a laughing face can confirm a borderline
      sound but a smile over silence or speech never makes an event by itself.
    """
    if audio_probability is None:
        if face_score is None:
            return 0.0
        return face_score if face_alone is None else face_alone
    if face_score is None:
        return audio_probability
    gate = min(1.0, 2.0 * audio_probability)  # a face alone cannot lift near-silence or clear speech
    return audio_probability + (1.0 - audio_probability) * rules.face_boost * face_score * gate


def classify_type(
    evidence: EventEvidence, duration_s: float, rules: LaughterRules = DEFAULT_RULES
) -> LaughterType:
    """The laughter type of an event from its evidence; first matching rule wins.

    With a face whose mouth stayed closed (mean ``mouth_open`` under ``rules.laugh_mouth_open``): mild
    amusement or polite by happy level, or a soft chuckle when the sound says so; never joyful.
    With a face: surprised, nervous, joyful, then polite or mild amusement by happy level and length.
    Without a face: joyful for long or loud laughs, soft chuckle for short or quiet ones; between those,
    joyful for a rapid burst rate, soft chuckle for a slow one, polite otherwise.
    """
    has_face = evidence.source is not EvidenceSource.AUDIO and evidence.face_coverage > 0.0
    if has_face:
        happy, surprise, fear = evidence.face_happy, evidence.face_surprise, evidence.face_fear
        mouth_open = evidence.face_mouth_open
        if mouth_open is not None and mouth_open < rules.laugh_mouth_open:
            smile_type = (
                LaughterType.MILD_AMUSEMENT if happy < rules.mild_happy_below else LaughterType.POLITE
            )
            if evidence.source is EvidenceSource.FACE:
                return smile_type
            heard = _audio_type(evidence, duration_s, rules, quiet_default=smile_type)
            return smile_type if heard is LaughterType.JOYFUL else heard
        if surprise > rules.surprised_surprise and happy > rules.surprised_happy and surprise >= fear:
            return LaughterType.SURPRISED
        if fear > rules.nervous_fear and happy < rules.nervous_happy_below:
            return LaughterType.NERVOUS
        if happy >= rules.joyful_happy:
            return LaughterType.JOYFUL
        if evidence.source is EvidenceSource.FACE:
            return LaughterType.MILD_AMUSEMENT if happy < rules.mild_happy_below else LaughterType.POLITE
        if happy < rules.mild_happy_below:
            return _audio_type(evidence, duration_s, rules, quiet_default=LaughterType.MILD_AMUSEMENT)
        if happy < rules.polite_happy_below and duration_s <= rules.polite_max_s:
            return LaughterType.POLITE
        return _audio_type(evidence, duration_s, rules, quiet_default=LaughterType.POLITE)
    return _audio_type(evidence, duration_s, rules, quiet_default=LaughterType.POLITE)


def _audio_type(
    evidence: EventEvidence, duration_s: float, rules: LaughterRules, *, quiet_default: LaughterType
) -> LaughterType:
    loud = evidence.relative_loudness_db
    if duration_s >= rules.joyful_min_s or loud >= rules.joyful_loud_db:
        return LaughterType.JOYFUL
    if duration_s <= rules.chuckle_max_s or loud <= rules.chuckle_quiet_db:
        return LaughterType.SOFT_CHUCKLE
    if evidence.burst_rate_hertz >= rules.joyful_burst_hertz:
        return LaughterType.JOYFUL
    if evidence.burst_rate_hertz <= rules.chuckle_burst_hertz:
        return LaughterType.SOFT_CHUCKLE
    return quiet_default
