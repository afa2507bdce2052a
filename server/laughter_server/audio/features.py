"""Window-level audio features for laughter detection.

Frame-level features (10 ms hop) are computed once for the whole clip and then pooled over
windows (``window_s`` long, every ``hop_s``) with cumulative sums, so the cost grows with the
clip length and not with the window overlap.

Per frame: MFCCs and their deltas, log RMS, spectral centroid / flatness / roll-off / flux,
zero-crossing rate, the share of energy above 2 kHz, and a normalised-autocorrelation pitch
tracker (harmonicity, voiced flag, log2 f0). Per window: mean and standard deviation of each
of those, plus laughter-vs-speech cues: the loudness range, the share of envelope modulation
energy at the laugh-syllable rate (3-8 Hz), the dominant modulation frequency, the rate of
envelope bursts and the rate of voiced/unvoiced switches.

Window placement (documented contract):

* A clip of at least ``window_s`` gets windows starting at 0, ``hop_s``, ... until the whole
  clip is covered; the last window is zero-padded at the end when the clip length is not a
  whole number of hops.
* A clip shorter than ``window_s`` (but not empty) is zero-padded on both sides to exactly one
  window, whose centre is the clip's midpoint.
* An empty clip gives no windows.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import librosa
import numpy as np
import numpy.typing as npt
import scipy.fft
import scipy.ndimage
import scipy.signal

from laughter_server.audio.cues import CUE_NAMES, compute_laughter_cues

FloatArray = npt.NDArray[np.float32]

_EPS = 1e-10
_MEL_FLOOR = 1e-8

LEGACY_FEATURE_SET = "mfcc-1"
"""All pooled MFCC, delta and spectral statistics plus the rhythm cues (models 1.0.x)."""
CUES_FEATURE_SET = "laughter-cues-2"
"""``mfcc-1`` without the MFCC/delta columns (they mostly encode the recording chain), plus
the repetition, aspiration and pitch cues of ``audio/cues.py`` (models 1.1.x)."""
FEATURE_SETS = (LEGACY_FEATURE_SET, CUES_FEATURE_SET)


@dataclasses.dataclass(frozen=True)
class FeatureSettings:
    """Every parameter of the feature extraction; stored in the model metadata."""

    sample_rate_hertz: int = 16_000
    window_s: float = 1.0
    hop_s: float = 0.25
    frame_length_samples: int = 512
    frame_hop_samples: int = 160
    fft_size: int = 1024
    mel_bands: int = 40
    mfcc_count: int = 20
    delta_width_frames: int = 9
    min_frequency_hertz: float = 50.0
    max_frequency_hertz: float = 8000.0
    high_band_hertz: float = 2000.0
    pitch_min_hertz: float = 75.0
    pitch_max_hertz: float = 700.0
    voicing_threshold: float = 0.45
    silence_floor_dbfs: float = -60.0
    quiet_full_weight_dbfs: float | None = -40.0
    gate_below_local_max_db: float = 35.0
    modulation_band_hertz: tuple[float, float] = (3.0, 8.0)
    modulation_total_hertz: tuple[float, float] = (1.0, 20.0)
    burst_prominence_db: float = 4.0
    burst_min_distance_s: float = 0.08
    feature_set: str = "laughter-cues-2"

    @property
    def frame_rate_hertz(self) -> float:
        """Frames per second of the frame-level features."""
        return self.sample_rate_hertz / self.frame_hop_samples

    @property
    def frames_per_window(self) -> int:
        """Frames fully inside one window."""
        window_samples = round(self.window_s * self.sample_rate_hertz)
        return (window_samples - self.frame_length_samples) // self.frame_hop_samples + 1

    @property
    def frames_per_hop(self) -> int:
        """Frames between two consecutive window starts."""
        return round(self.hop_s * self.sample_rate_hertz / self.frame_hop_samples)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping of every field."""
        return {
            key: (list(value) if isinstance(value, tuple) else value)
            for key, value in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FeatureSettings:
        """Inverse of ``to_dict`` (tuples restored)."""
        fields = {field.name for field in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {
            key: (tuple(value) if isinstance(value, list) else value)
            for key, value in values.items()
            if key in fields
        }
        kwargs.setdefault("feature_set", LEGACY_FEATURE_SET)  # models saved before the field existed
        kwargs.setdefault("quiet_full_weight_dbfs", None)  # models 1.0.0 and 1.1.0: no quiet-window ramp
        if kwargs["feature_set"] not in FEATURE_SETS:
            raise ValueError("unknown feature set: " + str(kwargs["feature_set"]))
        return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class WindowFeatures:
    """Features of every window of one clip, plus the per-window cues reused downstream."""

    centers_s: npt.NDArray[np.float64]  # (W,), from the start of the clip
    features: FloatArray  # (W, F)
    rms_dbfs: FloatArray  # (W,), mean power of the window in dB full scale
    burst_rate_hertz: FloatArray  # (W,), envelope bursts per second


def feature_names(settings: FeatureSettings = FeatureSettings()) -> list[str]:
    """Column names of the feature matrix of ``settings.feature_set``, in order."""
    names = _legacy_feature_names(settings)
    if settings.feature_set == LEGACY_FEATURE_SET:
        return names
    return [names[index] for index in _kept_legacy_columns(settings)] + list(CUE_NAMES)


@functools.lru_cache(maxsize=8)
def _kept_legacy_columns(settings: FeatureSettings) -> tuple[int, ...]:
    """Columns of the legacy matrix kept by the cues feature set (no MFCC or delta statistics)."""
    names = _legacy_feature_names(settings)
    return tuple(i for i, name in enumerate(names) if not name.startswith(("mfcc", "delta_mfcc")))


def _legacy_feature_names(settings: FeatureSettings) -> list[str]:
    frame_names = _frame_feature_names(settings)
    names = [name + "_mean" for name in frame_names] + [name + "_std" for name in frame_names]
    return [
        *names,
        "f0_voiced_mean",
        "f0_voiced_std",
        "loudness_range_db",
        "modulation_ratio",
        "modulation_peak_hertz",
        "burst_rate_hertz",
        "voicing_switch_rate_hertz",
        "active_fraction",
        *[name + "_p90" for name in _EXTREME_NAMES],
        *[name + "_p10" for name in _EXTREME_NAMES],
    ]


def extract_window_features(
    samples: npt.NDArray[np.floating[Any]],
    window_s: float = 1.0,
    hop_s: float = 0.25,
    settings: FeatureSettings | None = None,
) -> tuple[npt.NDArray[np.float64], FloatArray]:
    """Return ``(centers_s (W,), features (W, F) float32)`` for 16 kHz mono samples.

    ``settings`` wins over ``window_s`` / ``hop_s`` when given.
    """
    if settings is None:
        settings = FeatureSettings(window_s=window_s, hop_s=hop_s)
    result = compute_window_features(samples, settings)
    return result.centers_s, result.features


class FrameCache:
    """The frame-local features of the last clip of a run of overlapping clips that share one 10 ms frame grid
    (the analysis blocks of one stream), by absolute frame index, so the next clip takes the frames it shares
    with this one instead of computing their spectra again.

    Frame-local means computed from one frame's samples alone, row by row (power spectrum, pitch, spectral
    flatness and roll-off, zero crossings), so a frame's values are the same, bit for bit, in every clip that
    holds its samples; only frames wholly inside a clip's own samples are kept (never those reaching into the
    zero padding of its last window). Everything that looks at neighbouring frames, or whose rounding depends
    on the number of rows (the mel energies and centroid, matrix products), is computed per clip, as without
    the cache. One cache serves one stream and one set of feature settings.
    """

    def __init__(self) -> None:
        self._rows: tuple[FeatureSettings | None, int, FloatArray] = (None, 0, np.zeros((0, 0), np.float32))
        self.reused_frames = 0
        """Frames taken from the cache over its life."""

    def take(self, settings: FeatureSettings, first_frame: int, count: int) -> FloatArray:
        """The cached rows of frames ``first_frame, first_frame + 1, ...``: at most ``count``, maybe none."""
        kept_settings, kept_first, values = self._rows  # one read: a concurrent ``keep`` swaps all three
        skip = first_frame - kept_first
        if kept_settings != settings or skip < 0 or skip >= values.shape[0]:
            return values[:0]
        found = values[skip : skip + count]
        self.reused_frames += found.shape[0]
        return found

    def keep(self, settings: FeatureSettings, first_frame: int, values: FloatArray) -> None:
        """Hold ``values`` as the rows of frames ``first_frame, first_frame + 1, ...``."""
        self._rows = (settings, first_frame, values)


def compute_window_features(
    samples: npt.NDArray[np.floating[Any]],
    settings: FeatureSettings,
    cache: FrameCache | None = None,
    start_sample: int = 0,
) -> WindowFeatures:
    """Compute every window's features and cues for one clip (see the module doc for placement).

    With ``cache``, the clip starts ``start_sample`` samples into its stream, and the frames it shares with
    the clip scored before it through the same cache are taken from there (``FrameCache``): the features are
    those computed without it.
    """
    signal = np.asarray(samples, dtype=np.float32).reshape(-1)
    feature_count = len(feature_names(settings))
    if signal.size == 0:
        return WindowFeatures(
            np.zeros(0),
            np.zeros((0, feature_count), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
        )
    padded, offset_s, window_count = pad_for_windows(signal, settings)
    grid = settings.frame_hop_samples
    if cache is not None and (offset_s > 0 or start_sample % grid):  # not on the stream's frame grid
        cache = None
    whole_frames = max(0, (signal.size - settings.frame_length_samples) // grid + 1)
    frames = _frame_features(padded, settings, cache, start_sample // grid, whole_frames)
    starts = np.arange(window_count) * settings.frames_per_hop
    pooled = _pool_windows(frames, starts, settings)
    centers_s = _centers_s(starts, offset_s, settings)
    features = pooled.features
    if settings.feature_set == CUES_FEATURE_SET:
        features = np.concatenate(
            [features[:, _kept_legacy_columns(settings)], _cues(frames, starts, settings)], axis=1
        )
    features = np.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
    return WindowFeatures(centers_s, features, pooled.rms_dbfs, pooled.burst_rate_hertz)


def window_centers_s(
    samples: npt.NDArray[np.floating[Any]], settings: FeatureSettings
) -> npt.NDArray[np.float64]:
    """Clip times of the centres of the windows ``compute_window_features`` places on ``samples`` (none for
    an empty clip), without computing any feature."""
    signal = np.asarray(samples, dtype=np.float32).reshape(-1)
    if signal.size == 0:
        return np.zeros(0)
    _, offset_s, window_count = pad_for_windows(signal, settings)
    return _centers_s(np.arange(window_count) * settings.frames_per_hop, offset_s, settings)


def _centers_s(
    starts: npt.NDArray[np.int64], offset_s: float, settings: FeatureSettings
) -> npt.NDArray[np.float64]:
    """Window centres from their first frames and the clip's left padding (the placement rule)."""
    centers = starts * settings.frame_hop_samples / settings.sample_rate_hertz + settings.window_s / 2
    return (centers - offset_s).astype(np.float64)


def _cues(frames: FloatArray, starts: npt.NDArray[np.int64], settings: FeatureSettings) -> Any:
    """The laughter cues of ``audio/cues.py`` from the frame matrix of ``_frame_features``."""
    names = _frame_feature_names(settings)
    tracks = frames.astype(np.float64)
    return compute_laughter_cues(
        cepstra=tracks[:, : settings.mfcc_count],
        log_rms_db=tracks[:, -3],
        high_band_ratio=tracks[:, names.index("high_band_ratio")],
        voiced=tracks[:, names.index("voiced")],
        active=tracks[:, -2],
        log2_f0=tracks[:, -1],
        starts=starts,
        frames_per_window=settings.frames_per_window,
        frame_rate_hertz=settings.frame_rate_hertz,
    )


def pad_for_windows(signal: FloatArray, settings: FeatureSettings) -> tuple[FloatArray, float, int]:
    """Zero-pad so that whole windows cover the clip; return padded samples, left pad (s), window count.

    The clip must not be empty.
    """
    rate = settings.sample_rate_hertz
    window_samples = round(settings.window_s * rate)
    hop_samples = settings.frames_per_hop * settings.frame_hop_samples
    if signal.size < window_samples:
        left = (window_samples - signal.size) // 2
        right = window_samples - signal.size - left
        return np.pad(signal, (left, right)), left / rate, 1
    window_count = 1 + int(np.ceil((signal.size - window_samples) / hop_samples - 1e-9))
    total = window_samples + (window_count - 1) * hop_samples
    return np.pad(signal, (0, total - signal.size)), 0.0, window_count


def _frame_feature_names(settings: FeatureSettings) -> list[str]:
    mfcc = [f"mfcc{index}" for index in range(settings.mfcc_count)]
    delta = [f"delta_mfcc{index}" for index in range(settings.mfcc_count)]
    return [
        *mfcc,
        *delta,
        "relative_log_rms_db",
        "centroid",
        "flatness_log",
        "rolloff",
        "flux",
        "zcr",
        "high_band_ratio",
        "harmonicity",
        "voiced",
    ]


@functools.lru_cache(maxsize=8)
def _analysis_tables(settings: FeatureSettings) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Window, mel filterbank, autocorrelation of the window, bin frequencies (cached)."""
    window = np.hanning(settings.frame_length_samples + 2)[1:-1].astype(np.float32)
    mel = librosa.filters.mel(
        sr=settings.sample_rate_hertz,
        n_fft=settings.fft_size,
        n_mels=settings.mel_bands,
        fmin=settings.min_frequency_hertz,
        fmax=settings.max_frequency_hertz,
    ).astype(np.float32)
    window_power = np.abs(scipy.fft.rfft(window, n=settings.fft_size)) ** 2
    window_autocorr = scipy.fft.irfft(window_power, n=settings.fft_size).astype(np.float32)
    freqs = np.fft.rfftfreq(settings.fft_size, 1.0 / settings.sample_rate_hertz).astype(np.float32)
    return window, mel, window_autocorr / window_autocorr[0], freqs


_LOCAL_SCALARS = 8  # spectrum total, frame power, flatness, roll-off, zcr, high band, harmonicity, log2 f0


def _frame_local(frames: FloatArray, settings: FeatureSettings) -> FloatArray:
    """The frame-local features ``(T, fft_size // 2 + 1 + 8)``: the power spectrum, then ``_LOCAL_SCALARS`` in
    order. Each row depends on its frame alone, bit for bit, whatever the other rows (numpy's and pocketfft's
    per-row loops); products with the power spectrum (mel energies, centroid) go through BLAS, whose rounding
    depends on the matrix's shape, so ``_frame_features`` computes those over the whole clip."""
    window, _, window_autocorr, freqs = _analysis_tables(settings)
    power = (np.abs(scipy.fft.rfft(frames * window, n=settings.fft_size, axis=1)) ** 2).astype(np.float32)
    total = power.sum(axis=1) + _EPS
    frame_power = np.mean(frames.astype(np.float32) ** 2, axis=1)
    flatness_log = np.mean(np.log(power + _EPS), axis=1) - np.log(np.mean(power, axis=1) + _EPS)
    cumulative = np.cumsum(power, axis=1)
    rolloff = freqs[np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1)] / settings.max_frequency_hertz
    signs = np.signbit(frames)
    zcr = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)
    high_band_ratio = power[:, freqs >= settings.high_band_hertz].sum(axis=1) / total
    harmonicity, log2_f0 = _pitch(power, window_autocorr, settings)
    scalars = (total, frame_power, flatness_log, rolloff, zcr, high_band_ratio, harmonicity, log2_f0)
    return np.concatenate([power, *(np.asarray(v, np.float32)[:, None] for v in scalars)], axis=1)


def _cached_frame_local(
    frames: FloatArray,
    settings: FeatureSettings,
    cache: FrameCache | None,
    first_frame: int,
    whole_frames: int,
) -> FloatArray:
    """``_frame_local`` of every frame, the leading ones shared with the cached clip taken from ``cache``;
    the cache then holds this clip's frames that lie wholly inside its samples (``whole_frames`` of them)."""
    if cache is None:
        return _frame_local(frames, settings)
    reused = cache.take(settings, first_frame, min(whole_frames, frames.shape[0]))
    if reused.shape[0]:
        values = np.concatenate([reused, _frame_local(frames[reused.shape[0] :], settings)])
    else:
        values = _frame_local(frames, settings)
    cache.keep(settings, first_frame, values[:whole_frames].copy())
    return values


def _frame_features(
    padded: FloatArray,
    settings: FeatureSettings,
    cache: FrameCache | None = None,
    first_frame: int = 0,
    whole_frames: int = 0,
) -> FloatArray:
    """Frame-level feature matrix ``(T, K)`` for the padded clip (``cache``: see ``FrameCache``)."""
    frames = librosa.util.frame(
        padded, frame_length=settings.frame_length_samples, hop_length=settings.frame_hop_samples, axis=0
    )  # (T, N)
    local = _cached_frame_local(frames, settings, cache, first_frame, whole_frames)
    _, mel_basis, _, freqs = _analysis_tables(settings)
    bins = settings.fft_size // 2 + 1
    power = local[:, :bins]
    total, frame_power, flatness_log, rolloff, zcr, high_band_ratio, harmonicity, log2_f0 = local[
        :, bins : bins + _LOCAL_SCALARS
    ].T
    mel = power @ mel_basis.T
    centroid = (power @ freqs) / total / settings.max_frequency_hertz
    log_rms_db = 10.0 * np.log10(frame_power + _EPS)
    local_max_db = scipy.ndimage.maximum_filter1d(log_rms_db, size=settings.frames_per_window, mode="nearest")
    is_active = (log_rms_db > local_max_db - settings.gate_below_local_max_db) & (
        log_rms_db > settings.silence_floor_dbfs
    )

    # Level-relative MFCCs: the loudest frame nearby is 0 dB, so a gain change leaves them as they are.
    log_mel = 10.0 * np.log10(mel + _MEL_FLOOR) - local_max_db[:, None]
    mfcc = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=1)[:, : settings.mfcc_count]
    delta = librosa.feature.delta(mfcc, width=settings.delta_width_frames, axis=0, mode="nearest")
    flux = np.concatenate([[0.0], np.mean(np.maximum(np.diff(log_mel, axis=0), 0.0), axis=1)])
    voiced = ((harmonicity >= settings.voicing_threshold) & is_active).astype(np.float32)

    columns = [
        mfcc,
        delta,
        (log_rms_db - local_max_db)[:, None],
        centroid[:, None],
        flatness_log[:, None],
        rolloff[:, None],
        flux[:, None],
        zcr[:, None],
        high_band_ratio[:, None],
        harmonicity[:, None],
        voiced[:, None],
        log_rms_db[:, None],
        is_active[:, None],
        log2_f0[:, None],
    ]
    return np.concatenate([np.asarray(column, dtype=np.float32) for column in columns], axis=1)


def _pitch(
    power: FloatArray, window_autocorr: FloatArray, settings: FeatureSettings
) -> tuple[FloatArray, FloatArray]:
    """Harmonicity (peak of the window-corrected normalised autocorrelation) and log2 f0 per frame."""
    rate = settings.sample_rate_hertz
    lag_min = int(np.floor(rate / settings.pitch_max_hertz))
    lag_max = min(int(np.ceil(rate / settings.pitch_min_hertz)), settings.frame_length_samples // 2)
    autocorr = scipy.fft.irfft(power, n=settings.fft_size, axis=1)[:, : lag_max + 1]
    normalised = autocorr / (autocorr[:, :1] + _EPS) / np.maximum(window_autocorr[: lag_max + 1], 1e-3)
    search = normalised[:, lag_min : lag_max + 1]
    best = np.argmax(search, axis=1)
    harmonicity = np.clip(search[np.arange(search.shape[0]), best], 0.0, 1.0)
    lag = (best + lag_min).astype(np.float32)
    log2_f0 = np.log2(rate / lag)
    return harmonicity.astype(np.float32), log2_f0.astype(np.float32)


@dataclasses.dataclass(frozen=True)
class _Pooled:
    features: FloatArray
    rms_dbfs: FloatArray
    burst_rate_hertz: FloatArray


def _window_sums(values: npt.NDArray[np.float64], starts: npt.NDArray[np.int64], length: int) -> Any:
    cumulative = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)], axis=0)
    return cumulative[starts + length] - cumulative[starts]


def _pool_windows(frames: FloatArray, starts: npt.NDArray[np.int64], settings: FeatureSettings) -> _Pooled:
    """Mean/std of every frame feature over the window's active frames, plus the window-level rhythm cues."""
    length = settings.frames_per_window
    frame_rate = settings.frame_rate_hertz
    base = frames[:, :-3].astype(np.float64)  # the pooled columns (all but log rms, active, log2 f0)
    voiced = base[:, -1]
    log_rms = frames[:, -3].astype(np.float64)
    active = frames[:, -2].astype(np.float64)
    log2_f0 = frames[:, -1].astype(np.float64)

    active_count = _window_sums(active, starts, length)
    safe_active = np.maximum(active_count, 1.0)[:, None]
    mean = _window_sums(base * active[:, None], starts, length) / safe_active
    squares = _window_sums(base * base * active[:, None], starts, length) / safe_active
    std = np.sqrt(np.maximum(squares - mean * mean, 0.0))
    active_fraction = active_count / length

    voiced_count = _window_sums(voiced, starts, length)
    f0_sum = _window_sums(voiced * log2_f0, starts, length)
    f0_square = _window_sums(voiced * log2_f0 * log2_f0, starts, length)
    safe_count = np.maximum(voiced_count, 1.0)
    f0_mean = np.where(voiced_count > 0, f0_sum / safe_count, 0.0)
    f0_std = np.where(voiced_count > 1, np.sqrt(np.maximum(f0_square / safe_count - f0_mean**2, 0.0)), 0.0)
    switches = np.concatenate([[0.0], np.abs(np.diff(voiced))])
    switch_rate = _window_sums(switches, starts, length) / settings.window_s

    envelope = np.maximum(log_rms, settings.silence_floor_dbfs - 20.0)
    envelope = np.convolve(envelope, np.ones(3) / 3.0, mode="same")
    windows = np.lib.stride_tricks.sliding_window_view(envelope, length)[starts]  # (W, L)
    loudness_range = np.percentile(windows, 95, axis=1) - np.percentile(windows, 10, axis=1)
    modulation_ratio, modulation_peak = _modulation(windows, frame_rate, settings)

    peaks, _ = scipy.signal.find_peaks(
        envelope,
        prominence=settings.burst_prominence_db,
        distance=max(1, round(settings.burst_min_distance_s * frame_rate)),
        height=settings.silence_floor_dbfs,
    )
    peak_indicator = np.zeros(envelope.shape[0])
    peak_indicator[peaks] = 1.0
    burst_rate = _window_sums(peak_indicator, starts, length) / settings.window_s

    linear_power = 10.0 ** (log_rms / 10.0)
    rms_dbfs = 10.0 * np.log10(_window_sums(linear_power, starts, length) / length + _EPS)

    extra = np.stack(
        [
            f0_mean,
            f0_std,
            loudness_range,
            modulation_ratio,
            modulation_peak,
            burst_rate,
            switch_rate,
            active_fraction,
        ],
        axis=1,
    )
    extremes = _active_extremes(base[:, _extreme_columns(settings)], active, starts, length)
    features = np.concatenate([mean, std, extra, extremes], axis=1).astype(np.float32)
    return _Pooled(features, rms_dbfs.astype(np.float32), burst_rate.astype(np.float32))


_EXTREME_NAMES = (
    "mfcc1",
    "mfcc2",
    "mfcc3",
    "relative_log_rms_db",
    "centroid",
    "flux",
    "zcr",
    "high_band_ratio",
    "harmonicity",
)


def _extreme_columns(settings: FeatureSettings) -> list[int]:
    names = _frame_feature_names(settings)
    return [names.index(name) for name in _EXTREME_NAMES]


def _active_extremes(
    values: npt.NDArray[np.float64],
    active: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    length: int,
) -> npt.NDArray[np.float64]:
    """Per window, the 90th and 10th percentile of a few frame features over its active frames."""
    windows = np.lib.stride_tricks.sliding_window_view(values, length, axis=0)[starts]  # (W, K, L)
    mask = np.lib.stride_tricks.sliding_window_view(active, length)[starts][:, None, :] > 0
    ordered = np.sort(np.where(mask, windows, np.inf), axis=2)  # inactive frames sort last
    count = np.maximum(mask.sum(axis=2), 1)  # (W, 1)
    high_index = np.minimum((0.9 * (count - 1)).round().astype(int), length - 1)
    low_index = np.minimum((0.1 * (count - 1)).round().astype(int), length - 1)
    high = np.take_along_axis(ordered, np.broadcast_to(high_index[:, :, None], (*ordered.shape[:2], 1)), 2)
    low = np.take_along_axis(ordered, np.broadcast_to(low_index[:, :, None], (*ordered.shape[:2], 1)), 2)
    extremes = np.concatenate([high[:, :, 0], low[:, :, 0]], axis=1)
    return np.where(np.isfinite(extremes), extremes, 0.0)


def _modulation(
    windows: npt.NDArray[np.float64], frame_rate: float, settings: FeatureSettings
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Share of envelope modulation energy in the syllable band, and the dominant modulation frequency."""
    centred = windows - windows.mean(axis=1, keepdims=True)
    taper = np.hanning(windows.shape[1])
    size = 4 * windows.shape[1]
    spectrum = np.abs(np.fft.rfft(centred * taper, n=size, axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1.0 / frame_rate)
    low, high = settings.modulation_band_hertz
    total_low, total_high = settings.modulation_total_hertz
    band = (freqs >= low) & (freqs <= high)
    total_band = (freqs >= total_low) & (freqs <= total_high)
    total = spectrum[:, total_band].sum(axis=1) + _EPS
    ratio = spectrum[:, band].sum(axis=1) / total
    peak = freqs[total_band][np.argmax(spectrum[:, total_band], axis=1)]
    return ratio, peak


def window_level_weights(rms_dbfs: FloatArray, settings: FeatureSettings) -> FloatArray:
    """Weight of each window's laughter probability by its level.

    0 at or below ``silence_floor_dbfs``; when ``quiet_full_weight_dbfs`` is set, rising linearly to 1
    at that level, so faint background (room hiss after speech, say) cannot outvote louder sound: the
    features are level-relative and would otherwise score a -50 dBFS hiss like a loud sound. Without
    it (models 1.0.0 and 1.1.0) the weight steps from 0 to 1 at the floor.
    """
    rms = np.asarray(rms_dbfs, dtype=np.float32)
    floor = np.float32(settings.silence_floor_dbfs)
    if settings.quiet_full_weight_dbfs is None:
        return (rms >= floor).astype(np.float32)
    span = np.float32(max(settings.quiet_full_weight_dbfs - settings.silence_floor_dbfs, 1e-6))
    weights: FloatArray = np.clip((rms - floor) / span, 0.0, 1.0).astype(np.float32)
    weights[rms < floor] = 0.0
    return weights
