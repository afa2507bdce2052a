"""Training augmentation and window labelling.

Every example keeps the laughter component it contains (``None`` for negatives), so each
window can be labelled by how much audible laughter it holds: at least
``positive_fraction`` of its frames -> positive, none -> negative, in between -> left out.

Augmentations (all cheap, all seeded): laughter mixed into background clips (speech, music,
noise, ...) at several SNRs and at a random offset; negatives mixed with other negatives (so a
mixture alone is not a laughter cue); random gain; speed change (pitch and tempo together,
by polyphase resampling); telephone band limiting (down to 8 kHz and back); random crops.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.signal
from laughter_server.audio.features import FeatureSettings, compute_window_features, pad_for_windows

from laughter_train.dataset import TARGET_SAMPLE_RATE_HERTZ, LabeledClip

FloatArray = npt.NDArray[np.float32]


@dataclasses.dataclass(frozen=True)
class AugmentSettings:
    """How many copies to make and how.

    The defaults (recipe of models 1.2.0 to 1.4.0) only vary the laughs: four speed copies (pitch and tempo
    together, 0.85-1.15) and one telephone-band copy of each, at a random gain. Mixing laughs into
    other sounds (``mixes_per_positive``) and copies of negatives (``augment_negatives``) stay
    available; in grouped cross-validation both lowered ROC AUC on the dev set.
    """

    mixes_per_positive: int = 0
    snrs_db: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0)
    speed_factors: tuple[float, ...] = (0.85, 0.93, 1.07, 1.15)
    gain_range_db: tuple[float, float] = (-18.0, 6.0)
    telephone_probability: float = 0.0
    telephone_copy_of_positives: bool = True
    augment_negatives: bool = False
    negative_mix_probability: float = 0.35
    context_range_s: tuple[float, float] = (1.0, 3.0)
    crop_range_s: tuple[float, float] = (1.5, 4.0)
    max_windows_per_example: int = 40
    positive_fraction: float = 0.3
    negative_fraction: float = 0.02
    activity_below_peak_db: float = 30.0
    activity_floor_dbfs: float = -55.0


MIX_AUGMENT = AugmentSettings(mixes_per_positive=4, augment_negatives=True, telephone_probability=0.25)
"""``laughter-train audio --augment mix``: the laugh copies plus laughs mixed into other clips at
0/5/10/20 dB SNR, speed-changed crops of the negatives, negatives mixed with each other, and a
telephone band on a quarter of the copies."""


@dataclasses.dataclass(frozen=True)
class TrainingExample:
    """A mixture and the laughter it contains (aligned, or ``None``)."""

    samples: FloatArray
    laughter: FloatArray | None
    group: str
    source_label: str


def build_examples(
    clips: Sequence[LabeledClip],
    rng: np.random.Generator,
    settings: AugmentSettings,
    is_augmented: bool = True,
) -> list[TrainingExample]:
    """Original clips plus, when ``is_augmented``, their augmented copies (same CV group as the source)."""
    examples = [
        TrainingExample(c.samples, c.samples if c.is_laughter else None, c.group, c.label) for c in clips
    ]
    if not is_augmented:
        return examples
    backgrounds = [c for c in clips if not c.is_laughter and c.duration_s >= 1.0]
    for clip in clips:
        examples.extend(
            _finish(example, rng, settings) for example in _augment_clip(clip, backgrounds, rng, settings)
        )
    return examples


def label_windows(
    example: TrainingExample,
    feature_settings: FeatureSettings,
    settings: AugmentSettings,
    rng: np.random.Generator,
) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    """Features and 0/1 labels of the windows kept for training (ambiguous ones dropped, long ones capped)."""
    windows = compute_window_features(example.samples, feature_settings)
    count = windows.features.shape[0]
    if example.laughter is None:
        labels = np.zeros(count, np.int8)
        keep = np.ones(count, bool)
    else:
        fraction = laughter_fraction(example.laughter, feature_settings, settings)
        labels = (fraction >= settings.positive_fraction).astype(np.int8)
        keep = (fraction >= settings.positive_fraction) | (fraction <= settings.negative_fraction)
    indices = np.flatnonzero(keep)
    if indices.size > settings.max_windows_per_example:
        indices = np.sort(rng.choice(indices, settings.max_windows_per_example, replace=False))
    return windows.features[indices], labels[indices]


def laughter_fraction(
    laughter: FloatArray, feature_settings: FeatureSettings, settings: AugmentSettings
) -> npt.NDArray[np.float64]:
    """Per window, the share of frames where the laughter component is audible."""
    padded, _, window_count = pad_for_windows(laughter.astype(np.float32), feature_settings)
    hop = feature_settings.frame_hop_samples
    frame_count = (padded.size - feature_settings.frame_length_samples) // hop + 1
    frames = np.lib.stride_tricks.sliding_window_view(padded, feature_settings.frame_length_samples)[::hop]
    power_db = 10.0 * np.log10(np.mean(frames[:frame_count] ** 2, axis=1) + 1e-10)
    floor = max(float(power_db.max()) - settings.activity_below_peak_db, settings.activity_floor_dbfs)
    active = (power_db > floor).astype(np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(active)])
    starts = np.arange(window_count) * feature_settings.frames_per_hop
    length = feature_settings.frames_per_window
    return np.asarray((cumulative[starts + length] - cumulative[starts]) / length)


def _augment_clip(
    clip: LabeledClip, backgrounds: Sequence[LabeledClip], rng: np.random.Generator, settings: AugmentSettings
) -> list[TrainingExample]:
    out: list[TrainingExample] = []
    pool = [b for b in backgrounds if b.group != clip.group] or list(backgrounds)
    if clip.is_laughter:
        for index in range(settings.mixes_per_positive):
            background = pool[int(rng.integers(len(pool)))]
            snr_db = settings.snrs_db[index % len(settings.snrs_db)]
            out.append(_mix(clip.samples, background.samples, snr_db, clip.group, clip.label, rng, settings))
        for factor in settings.speed_factors:
            stretched = change_speed(clip.samples, factor)
            out.append(TrainingExample(stretched, stretched, clip.group, clip.label))
        if settings.telephone_copy_of_positives:
            narrow = band_limit_telephone(clip.samples)
            out.append(TrainingExample(narrow, narrow, clip.group, clip.label))
        if clip.duration_s > settings.crop_range_s[1]:
            cropped = _crop(clip.samples, rng, settings.crop_range_s)
            out.append(TrainingExample(cropped, cropped, clip.group, clip.label))
        return out
    if not settings.augment_negatives:
        return out
    factor = settings.speed_factors[int(rng.integers(len(settings.speed_factors)))]
    out.append(
        TrainingExample(
            change_speed(_crop(clip.samples, rng, (4.0, 10.0)), factor), None, clip.group, clip.label
        )
    )
    if pool and rng.random() < settings.negative_mix_probability:
        other = pool[int(rng.integers(len(pool)))]
        snr_db = float(rng.choice(settings.snrs_db))
        mixed = _mix(clip.samples, other.samples, snr_db, clip.group, clip.label, rng, settings)
        out.append(dataclasses.replace(mixed, laughter=None))
    return out


def _mix(
    foreground: FloatArray,
    background: FloatArray,
    snr_db: float,
    group: str,
    label: str,
    rng: np.random.Generator,
    settings: AugmentSettings,
) -> TrainingExample:
    """Place ``foreground`` at a random offset inside a background crop, at ``snr_db``."""
    rate = TARGET_SAMPLE_RATE_HERTZ
    context = int(rng.uniform(*settings.context_range_s) * rate)
    length = foreground.size + context
    bed = _tile(background, length, rng)
    offset = int(rng.integers(0, context + 1))
    placed = np.zeros(length, np.float32)
    placed[offset : offset + foreground.size] = foreground
    fg_power = float(np.mean(foreground**2)) + 1e-10
    bg_power = float(np.mean(bed**2)) + 1e-10
    bed = bed * np.float32(np.sqrt(fg_power / bg_power / (10.0 ** (snr_db / 10.0))))
    return TrainingExample((placed + bed).astype(np.float32), placed, group, label)


def _tile(samples: FloatArray, length: int, rng: np.random.Generator) -> FloatArray:
    repeats = int(np.ceil(length / max(samples.size, 1))) + 1
    tiled = np.tile(samples, repeats)
    start = int(rng.integers(0, max(tiled.size - length, 0) + 1))
    return tiled[start : start + length]


def _crop(samples: FloatArray, rng: np.random.Generator, range_s: tuple[float, float]) -> FloatArray:
    length = int(rng.uniform(*range_s) * TARGET_SAMPLE_RATE_HERTZ)
    if samples.size <= length:
        return samples
    start = int(rng.integers(0, samples.size - length + 1))
    return samples[start : start + length]


def change_speed(samples: FloatArray, factor: float) -> FloatArray:
    """Play ``factor`` times faster (pitch and tempo together) by polyphase resampling."""
    up, down = 20, round(20 * factor)
    resampled: FloatArray = scipy.signal.resample_poly(samples, up, down).astype(np.float32)
    return resampled


def band_limit_telephone(samples: FloatArray) -> FloatArray:
    """Remove everything above 4 kHz (down to 8 kHz and back up)."""
    down = scipy.signal.resample_poly(samples, 1, 2)
    restored: FloatArray = scipy.signal.resample_poly(down, 2, 1)[: samples.size].astype(np.float32)
    return restored


def _finish(example: TrainingExample, rng: np.random.Generator, settings: AugmentSettings) -> TrainingExample:
    """Random gain and, sometimes, telephone band limiting; the laughter component follows the same gain."""
    gain = np.float32(10.0 ** (rng.uniform(*settings.gain_range_db) / 20.0))
    mixture = example.samples * gain
    laughter = None if example.laughter is None else example.laughter * gain
    if rng.random() < settings.telephone_probability:
        mixture = band_limit_telephone(mixture)
    peak = float(np.max(np.abs(mixture))) if mixture.size else 0.0
    if peak > 1.0:
        mixture = mixture / np.float32(peak)
        laughter = None if laughter is None else laughter / np.float32(peak)
    return dataclasses.replace(
        example,
        samples=mixture.astype(np.float32),
        laughter=None if laughter is None else laughter.astype(np.float32),
    )
