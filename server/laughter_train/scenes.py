"""Timed evaluation scenes by fold: laughs among other sounds, negatives alone, laughs over speech.

Every scene of a fold is built from that fold's test clips only (``fold_models.grouped_folds``), so the
fold's model, fitted on the other folds, has seen neither the laugh nor the sounds around it. Three kinds:

* ``laughter``: a laugh spliced between stretches of the fold's negatives (``evaluate.build_scenes``);
* ``negative``: scenes of the fold's negatives alone (every detection there is a false event);
* ``over_speech``: a laugh mixed into one of the fold's speech clips at a given SNR (laugh active level
  minus speech active level), the speech running on 2-4 s before and after it.

All are deterministic for a seed (each fold and SNR draws from its own generator).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from laughter_train.dataset import TARGET_SAMPLE_RATE_HERTZ, LabeledClip
from laughter_train.evaluate import (
    EvalFile,
    ScenePart,
    SceneSettings,
    _active_level_dbfs,
    active_span,
    build_scenes,
)
from laughter_train.fold_models import Fold

DEFAULT_SCENE_SETTINGS = SceneSettings()

SPEECH_LABEL = "speech"
OVER_SPEECH_SNR_DB = (0.0, 5.0, 10.0)
"""Laugh-to-speech levels of the laughter-over-speech scenes."""
LEVEL_OFFSETS_DB = (0.0, -10.0, -20.0, -30.0)
"""Gains of the level-robustness copies of the scenes (the whole recording turned down)."""


@dataclasses.dataclass(frozen=True)
class Scene:
    """An evaluation file with where it comes from: its fold, its kind and (for mixes) its SNR."""

    fold: int
    kind: str  # "laughter", "negative" or "over_speech"
    file: EvalFile
    snr_db: float | None = None
    gain_db: float = 0.0

    @property
    def key(self) -> str:
        """Unique name of the scene within a set."""
        snr = "" if self.snr_db is None else f"-snr{self.snr_db:g}"
        gain = "" if self.gain_db == 0.0 else f"-gain{self.gain_db:g}"
        return f"fold{self.fold}-{self.kind}{snr}{gain}-{self.file.name}"


def fold_scenes(
    clips: Sequence[LabeledClip],
    folds: Sequence[Fold],
    settings: SceneSettings = DEFAULT_SCENE_SETTINGS,
    snrs_db: Sequence[float] = OVER_SPEECH_SNR_DB,
) -> list[Scene]:
    """The laughter, negative and over-speech scenes of every fold (see the module docstring)."""
    scenes: list[Scene] = []
    for fold in folds:
        test = [clips[i] for i in fold.test]
        fold_settings = dataclasses.replace(settings, seed=settings.seed + fold.index)
        for item in build_scenes(test, fold_settings):
            scenes.append(Scene(fold.index, "laughter" if item.laughter else "negative", item))
        for snr in snrs_db:
            seed = settings.seed + 1000 * (fold.index + 1) + round(10 * snr)
            for item in over_speech_scenes(test, snr, seed, settings):
                scenes.append(Scene(fold.index, "over_speech", item, snr_db=snr))
    return scenes


def over_speech_scenes(
    clips: Sequence[LabeledClip], snr_db: float, seed: int, settings: SceneSettings = DEFAULT_SCENE_SETTINGS
) -> list[EvalFile]:
    """Each laugh of ``clips`` mixed into speech of ``clips`` at ``snr_db``; none without speech.

    The speech clips, shuffled with ``seed``, are played one after another (looped) as one bed; each scene
    takes the next ``context_s`` + laugh + ``context_s`` of it and adds the laugh, scaled so its active
    level is ``snr_db`` above the bed's, after the first context. The true segment is the laugh's active
    span; the mix is scaled down only if it would clip.
    """
    rng = np.random.default_rng(seed)
    speech = [c for c in clips if c.label == SPEECH_LABEL and _active_level_dbfs(c.samples) is not None]
    laughs = [c for c in clips if c.is_laughter]
    if not speech or not laughs:
        return []
    order = [speech[i] for i in rng.permutation(len(speech))]
    rate = TARGET_SAMPLE_RATE_HERTZ
    cursor = (0, 0)  # (clip index, sample offset) in the speech bed
    scenes: list[EvalFile] = []
    for laugh in laughs:
        before = round(float(rng.uniform(*settings.context_s)) * rate)
        after = round(float(rng.uniform(*settings.context_s)) * rate)
        total = before + len(laugh.samples) + after
        bed, parts, cursor = _take_bed(order, cursor, total, settings.negative_level_dbfs)
        laugh_level = _active_level_dbfs(laugh.samples)
        bed_level = _active_level_dbfs(bed)
        gain_db = 0.0 if laugh_level is None or bed_level is None else bed_level + snr_db - laugh_level
        mix = bed.copy()
        mix[before : before + len(laugh.samples)] += laugh.samples * np.float32(10.0 ** (gain_db / 20.0))
        peak = float(np.max(np.abs(mix)))
        if peak > 0.99:
            mix *= np.float32(0.99 / peak)
        start_s, end_s = active_span(laugh.samples)
        at_s = before / rate
        scenes.append(
            EvalFile(
                name=f"speech-{len(scenes) + 1:03d}",
                samples=mix.astype(np.float32),
                laughter=((at_s + start_s, at_s + end_s),),
                parts=(*parts, ScenePart(laugh.relative_path, at_s, 0.0, laugh.duration_s)),
            )
        )
    return scenes


def _take_bed(
    order: Sequence[LabeledClip], cursor: tuple[int, int], count: int, level_dbfs: float
) -> tuple[npt.NDArray[np.float32], list[ScenePart], tuple[int, int]]:
    """``count`` samples of the looped speech clips from ``cursor``, each piece at ``level_dbfs``."""
    from laughter_train.evaluate import _fade, _scale_to

    rate = TARGET_SAMPLE_RATE_HERTZ
    index, offset = cursor
    pieces: list[npt.NDArray[np.float32]] = []
    parts: list[ScenePart] = []
    position = 0
    while position < count:
        clip = order[index]
        piece = clip.samples[offset : offset + count - position]
        pieces.append(_fade(_scale_to(piece, level_dbfs), round(0.01 * rate)))
        parts.append(ScenePart(clip.relative_path, position / rate, offset / rate, len(piece) / rate))
        position += len(piece)
        offset += len(piece)
        if offset >= len(clip.samples):
            index, offset = (index + 1) % len(order), 0
    return np.concatenate(pieces).astype(np.float32), parts, (index, offset)


def scaled(scene: Scene, gain_db: float) -> Scene:
    """The scene with its whole recording turned up or down by ``gain_db`` (level-robustness copies)."""
    factor = np.float32(10.0 ** (gain_db / 20.0))
    item = dataclasses.replace(scene.file, samples=(scene.file.samples * factor).astype(np.float32))
    return dataclasses.replace(scene, file=item, gain_db=scene.gain_db + gain_db)
