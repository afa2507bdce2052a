"""Labelled audio clips for training and evaluation, and the fingerprint of such a set.

Two layouts are accepted:

* a folder with one subfolder per label (``laughter/`` holds the positives, every other
  subfolder is a negative class); the cross-validation group of a file is the part of its
  name before ``__`` (the source package), or the file stem when there is no ``__``;
* a manifest CSV with at least ``file,label,source_package`` columns; ``file`` is relative to
  the manifest's folder (or to the data folder). Rows that are not audio files are skipped.

Files from a reserved source (``reserved.py``: the manifest's ``source_package``, or the file name
part before ``__``) are refused, in either layout.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.signal
import soundfile
from laughter_server.errors import LaughterError

from laughter_train.reserved import RESERVED_LIST_PATH, reserved_entry_for, source_of_file_name

POSITIVE_LABEL = "laughter"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
TARGET_SAMPLE_RATE_HERTZ = 16_000


class TrainingDataError(LaughterError):
    """The training or evaluation data is missing, unreadable or not laid out as documented."""

    reason = "TRAINING_DATA_INVALID"


class ReservedSourceError(TrainingDataError):
    """A data file comes from a source on the reserved list, which is never trained, tuned or tested on."""

    reason = "TRAINING_DATA_RESERVED"


def check_not_reserved(relative: str, source_package: str, where: str) -> None:
    """Raise ReservedSourceError naming the file when its source package or its name prefix is reserved."""
    for source in (source_package, source_of_file_name(relative) or ""):
        entry = reserved_entry_for(source)
        if entry is not None:
            raise ReservedSourceError(
                where
                + ": "
                + relative
                + " comes from the reserved source '"
                + source.strip()
                + "' (entry '"
                + entry
                + "' of "
                + RESERVED_LIST_PATH.name
                + "); remove it from the data"
            )


@dataclasses.dataclass(frozen=True)
class LabeledClip:
    """One labelled clip: 16 kHz mono samples, its label, its CV group and its path relative to the set."""

    relative_path: str
    label: str
    group: str
    samples: npt.NDArray[np.float32]
    file_sha256: str

    @property
    def is_laughter(self) -> bool:
        """True for the positive class."""
        return self.label == POSITIVE_LABEL

    @property
    def duration_s(self) -> float:
        """Length of the clip in seconds."""
        return len(self.samples) / TARGET_SAMPLE_RATE_HERTZ


def load_labeled_clips(data: Path | Sequence[Path], manifest: Path | None = None) -> list[LabeledClip]:
    """Load every audio clip of one or more sets, sorted by path.

    ``data`` is a label-folder tree or a manifest CSV (or, with ``manifest``, the folder that the
    manifest's paths are relative to); a sequence of those loads several sets together, which
    must not share a relative path. Together they need both laughter and negative clips.
    """
    sources = [data] if isinstance(data, Path) else list(data)
    if manifest is not None and len(sources) != 1:
        raise TrainingDataError("--manifest goes with exactly one --data folder; pass CSV files as --data")
    clips: list[LabeledClip] = []
    seen: dict[str, Path] = {}
    for source in sources:
        for clip in _load_set(source, manifest):
            if clip.relative_path in seen:
                raise TrainingDataError(
                    "two data sets hold "
                    + clip.relative_path
                    + " ("
                    + str(seen[clip.relative_path])
                    + " and "
                    + str(source)
                    + "); rename one of them"
                )
            seen[clip.relative_path] = source
            clips.append(clip)
    labels = {clip.is_laughter for clip in clips}
    if labels != {True, False}:
        raise TrainingDataError("the data needs both '" + POSITIVE_LABEL + "' clips and negative clips")
    return sorted(clips, key=lambda clip: clip.relative_path)


def _load_set(data_dir: Path, manifest: Path | None) -> list[LabeledClip]:
    if manifest is None and data_dir.is_file() and data_dir.suffix.lower() == ".csv":
        manifest, data_dir = data_dir, data_dir.parent
    entries = _manifest_entries(manifest, data_dir) if manifest is not None else _folder_entries(data_dir)
    if not entries:
        raise TrainingDataError("no audio files found under " + str(manifest or data_dir))
    return [read_labeled_clip(path, relative, label, group) for path, relative, label, group in entries]


def fingerprint_clips(clips: Sequence[LabeledClip]) -> str:
    """sha256 over the sorted (relative path, file sha256, label) triples."""
    digest = hashlib.sha256()
    for relative, file_sha, label in sorted((c.relative_path, c.file_sha256, c.label) for c in clips):
        digest.update((relative + "\t" + file_sha + "\t" + label + "\n").encode())
    return digest.hexdigest()


SILENT_PEAK_DBFS = -55.0
"""A laughter clip whose peak stays below this level is refused as silent (it would teach nothing)."""


def check_label(raw: str, where: str) -> str:
    """The label as used for training, or TrainingDataError when it is empty or a misspelt positive.

    Labels are case-sensitive class names; ``laughter`` is the positive class and every other
    label a negative class. A label that reads like laughter but is not exactly ``laughter``
    (``Laughter``, ``laughs``, ``laugh``...) would silently become a negative class, so it is refused.
    """
    label = raw.strip()
    if not label:
        raise TrainingDataError(where + ": empty label")
    if label != POSITIVE_LABEL and label.lower().startswith(("laugh", "laught")):
        raise TrainingDataError(
            where
            + ": label '"
            + label
            + "' looks like laughter; the positive class is spelt '"
            + POSITIVE_LABEL
            + "'"
        )
    return label


def group_of_file_name(name: str) -> str:
    """CV group of a file in the folder layout: the name part before ``__``, else the stem."""
    stem = Path(name).stem
    return stem.split("__", 1)[0] if "__" in stem else stem


def _folder_entries(data_dir: Path) -> list[tuple[Path, str, str, str]]:
    if not data_dir.is_dir():
        raise TrainingDataError("data folder not found: " + str(data_dir))
    entries = []
    for label_dir in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        for path in sorted(label_dir.iterdir()):
            if path.suffix.lower() in AUDIO_SUFFIXES:
                relative = path.relative_to(data_dir).as_posix()
                check_not_reserved(relative, "", "data folder " + str(data_dir))
                label = check_label(label_dir.name, "folder " + str(label_dir))
                entries.append((path, relative, label, group_of_file_name(path.name)))
    return entries


def _manifest_entries(manifest: Path, data_dir: Path) -> list[tuple[Path, str, str, str]]:
    if not manifest.is_file():
        raise TrainingDataError("manifest not found: " + str(manifest))
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"file", "label", "source_package"} - set(reader.fieldnames or [])
        if missing:
            raise TrainingDataError(
                "manifest " + str(manifest) + " lacks column(s): " + ", ".join(sorted(missing))
            )
        rows = list(reader)
    entries = []
    for line, row in enumerate(rows, start=2):
        relative = (row["file"] or "").strip()
        where = "manifest " + str(manifest) + " line " + str(line)
        check_not_reserved(relative, row["source_package"] or "", where)
        if Path(relative).suffix.lower() not in AUDIO_SUFFIXES:
            continue
        candidates = [manifest.parent / relative, data_dir / relative, data_dir / Path(relative).name]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise TrainingDataError("manifest " + str(manifest) + " lists a missing audio file: " + relative)
        label = check_label(row["label"] or "", where)
        entries.append((path, relative, label, (row["source_package"] or "").strip() or relative))
    return entries


def read_labeled_clip(path: Path, relative: str, label: str, group: str) -> LabeledClip:
    """Read one audio file as 16 kHz mono float32 with its label and group.

    Raises TrainingDataError naming ``relative`` when the file is not readable audio, or when a
    laughter clip is silent.
    """
    raw = path.read_bytes()
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise TrainingDataError("cannot read audio file " + relative + ": " + str(error)) from error
    mono = samples.mean(axis=1)
    if rate != TARGET_SAMPLE_RATE_HERTZ:
        divisor = np.gcd(int(rate), TARGET_SAMPLE_RATE_HERTZ)
        mono = scipy.signal.resample_poly(mono, TARGET_SAMPLE_RATE_HERTZ // divisor, int(rate) // divisor)
    clipped = np.clip(mono, -1.0, 1.0).astype(np.float32)
    peak = float(np.max(np.abs(clipped))) if clipped.size else 0.0
    if label == POSITIVE_LABEL and peak < 10.0 ** (SILENT_PEAK_DBFS / 20.0):
        raise TrainingDataError(
            "laughter clip " + relative + " is silent (peak below " + str(SILENT_PEAK_DBFS) + " dBFS); "
            "remove it or relabel it"
        )
    return LabeledClip(relative, label, group, clipped, hashlib.sha256(raw).hexdigest())
