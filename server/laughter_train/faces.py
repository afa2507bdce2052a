"""``laughter-train faces``: a face head (scikit-learn logistic regression) over the expression model's embedding.

Data (``--data``, repeatable):

* a folder with one subfolder per label, holding stills (``.jpg``, ``.jpeg``, ``.png``) or videos (every
  sampled frame takes the folder's label);
* a manifest CSV with ``file,label`` columns (``source_package``, ``start_s``, ``end_s`` and ``group``
  optional; ``file`` relative to the manifest). A video row with ``start_s``/``end_s`` labels only that
  time range; a video row without them, the whole video. Rows whose label is not a face label are skipped.

Labels are emotion names (angry, disgust, fear, happy, sad, surprise, neutral) or these aliases: ``smile``,
``laugh``, ``laughing``, ``face-smile``, ``face-laugh`` → happy; ``face-neutral``, ``talking`` → neutral;
``crying`` → sad; ``grimace``, ``grimacing`` → disgust.

Each face goes through the server's own pre-processing (letterbox, CenterFace decoding, the 112x112 RGB
crop of face emotion version 2) and the model repository's ONNX files, run in-process with onnxruntime.
Stills use every face found, video frames the highest-scoring face. The cross-validation group of an item
is its manifest ``group``, else its source package and file stem without trailing digits (frames of one
recording, e.g. ``franck_01829`` and ``franck_04117``, stay in one fold).
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from laughter_server.vision.crops import crop_faces
from laughter_server.vision.detection import DEFAULT_DETECTOR_INPUT_HW, FaceBox, decode_centerface, letterbox
from laughter_server.vision.emotion import EMOTION_INDEX, EMOTIONS, HAPPY_INDEX
from laughter_server.vision.emotion_versions import BUILTIN_VERSIONS, EXPRESSION_NET
from laughter_server.vision.face_head import FaceHead, head_features, save_head

from laughter_train.dataset import TrainingDataError, check_not_reserved

STILL_SUFFIXES = (".jpg", ".jpeg", ".png")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov")
LABEL_ALIASES = {
    "smile": "happy",
    "laugh": "happy",
    "laughing": "happy",
    "face-smile": "happy",
    "face-laugh": "happy",
    "face-neutral": "neutral",
    "talking": "neutral",
    "crying": "sad",
    "grimace": "disgust",
    "grimacing": "disgust",
}
HAPPY_THRESHOLD = 0.3
"""A face counts as happy when its happy probability exceeds the spec's 0.3."""
MAX_FOLDS = 5


@dataclasses.dataclass(frozen=True)
class FaceItem:
    """One labelled still or video (or time range of one)."""

    path: Path
    label: str
    group: str
    start_s: float | None = None
    end_s: float | None = None


@dataclasses.dataclass(frozen=True)
class FaceSamples:
    """Embeddings of every face used, with labels, groups and the base model's probabilities."""

    embeddings: npt.NDArray[np.float32]
    probabilities: npt.NDArray[np.float32]
    labels: tuple[str, ...]
    groups: tuple[str, ...]


def canonical_label(label: str) -> str | None:
    """The emotion a label names, or None when it is not a face label."""
    name = LABEL_ALIASES.get(label.strip().lower(), label.strip().lower())
    return name if name in EMOTION_INDEX else None


def default_group(source: str, path: Path) -> str:
    stem = re.sub(r"[_-]?\d+$", "", path.stem) or path.stem
    return f"{source}/{stem}" if source else stem


def _optional_float(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None


def load_face_items(sources: Sequence[Path]) -> list[FaceItem]:
    """Labelled items of every folder or manifest in ``sources``; refuses reserved sources."""
    items: list[FaceItem] = []
    for source in sources:
        if source.is_dir():
            for label_dir in sorted(p for p in source.iterdir() if p.is_dir()):
                label = canonical_label(label_dir.name)
                if label is None:
                    raise TrainingDataError(f"{label_dir}: {label_dir.name!r} is not a face label")
                for path in sorted(label_dir.iterdir()):
                    if path.suffix.lower() in STILL_SUFFIXES + VIDEO_SUFFIXES:
                        check_not_reserved(path.name, "", str(source))
                        items.append(FaceItem(path, label, default_group("", path)))
        elif source.is_file():
            with source.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            if rows and not {"file", "label"} <= set(rows[0]):
                raise TrainingDataError(f"{source}: a face manifest needs file and label columns")
            for row in rows:
                label = canonical_label(row["label"])
                path = source.parent / row["file"]
                if label is None or path.suffix.lower() not in STILL_SUFFIXES + VIDEO_SUFFIXES:
                    continue
                package = row.get("source_package", "") or ""
                check_not_reserved(row["file"], package, str(source))
                if not path.is_file():
                    raise TrainingDataError(f"{source}: {row['file']} does not exist")
                start, end = _optional_float(row.get("start_s")), _optional_float(row.get("end_s"))
                if (start is None) != (end is None) or (
                    start is not None and end is not None and end <= start
                ):
                    raise TrainingDataError(f"{source}: {row['file']} needs start_s < end_s, or neither")
                group = row.get("group") or default_group(package, path)
                items.append(FaceItem(path, label, group, start, end))
        else:
            raise TrainingDataError(f"{source} is neither a folder nor a manifest CSV")
    if not items:
        raise TrainingDataError("no labelled face stills or videos found in " + ", ".join(map(str, sources)))
    return items


def model_session(path: Path) -> ort.InferenceSession:
    """A one-thread CPU onnxruntime session over a model repository's ONNX file; raises TrainingDataError
    when the file is missing."""
    if not path.is_file():
        raise TrainingDataError(f"{path} is missing: the model repository must hold the shipped face models")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class FaceModelRunner:
    """The shipped detector and expression model, in-process, with the server's pre-processing."""

    def __init__(self, model_repository: Path) -> None:
        self.version = BUILTIN_VERSIONS[EXPRESSION_NET]
        self.detector = model_session(model_repository / "face_detector" / "1" / "model.onnx")
        self.expression = model_session(model_repository / self.version.triton_model / "1" / "model.onnx")

    def faces(self, image: npt.NDArray[np.uint8]) -> list[FaceBox]:
        batch, transform = letterbox(image[None], DEFAULT_DETECTOR_INPUT_HW)
        heatmap, scale, offset, points = self.detector.run(None, {"images": batch})
        return decode_centerface(heatmap, scale, offset, points, transform)[0]

    def embed(self, image: npt.NDArray[np.uint8], faces: list[FaceBox]) -> tuple[Any, Any]:
        """(embeddings, probabilities) of ``faces`` in ``image``, as face emotion version 2 crops them."""
        version = self.version
        crops, _ = crop_faces(image[None], [faces], version.side_px, version.margin, version.channels)
        probabilities, embedding = self.expression.run(["probabilities", "embedding"], {"crops": crops})
        return embedding, probabilities


def read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise TrainingDataError(f"cannot read the image {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def video_frames(item: FaceItem, fps: float) -> list[npt.NDArray[np.uint8]]:
    """RGB frames of the item's time range (or whole video), ``fps`` per second."""
    capture = cv2.VideoCapture(str(item.path))
    if not capture.isOpened():
        raise TrainingDataError(f"cannot open the video {item.path}")
    native = capture.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(native / fps))
    frames, index = [], 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        t_s = index / native
        inside = item.start_s is None or (item.start_s <= t_s <= (item.end_s or t_s))
        if index % step == 0 and inside:
            frames.append(np.ascontiguousarray(bgr[:, :, ::-1]))
        index += 1
    capture.release()
    return frames


def collect_samples(items: Sequence[FaceItem], runner: FaceModelRunner, fps: float = 2.0) -> FaceSamples:
    """Run the shipped models over every item; items where no face is found contribute nothing."""
    embeddings, probabilities, labels, groups = [], [], [], []
    for item in items:
        if item.path.suffix.lower() in STILL_SUFFIXES:
            image = read_rgb(item.path)
            found = [(image, runner.faces(image))]
        else:
            found = [(frame, runner.faces(frame)[:1]) for frame in video_frames(item, fps)]
        for image, faces in found:
            if not faces:
                continue
            embedding, probability = runner.embed(image, faces)
            embeddings.append(embedding)
            probabilities.append(probability)
            labels.extend([item.label] * len(faces))
            groups.extend([item.group] * len(faces))
    if not labels:
        raise TrainingDataError("the detector found no face in the training data")
    return FaceSamples(
        np.concatenate(embeddings).astype(np.float32),
        np.concatenate(probabilities).astype(np.float32),
        tuple(labels),
        tuple(groups),
    )


FEATURE_KINDS = ("scores", "embedding")
DEFAULT_FEATURES = "scores"
"""Grouped CV on the dev stills (39 faces, 22 groups): 36/39 right and AUC 0.971 over the scores, 33/39 and
0.883 over the embedding (docs/vision-model.md, section 5): 39 faces are too few for 256 weights."""


def fit_head(
    samples: FaceSamples,
    rows: npt.NDArray[np.intp],
    version: str,
    features: str = DEFAULT_FEATURES,
    c: float = 1.0,
) -> FaceHead:
    """Standardise and fit a class-balanced logistic regression on ``rows`` of ``samples``."""
    from sklearn.linear_model import LogisticRegression

    embeddings = head_features(features, samples.probabilities[rows], samples.embeddings[rows])
    labels = [samples.labels[i] for i in rows]

    classes = tuple(sorted(set(labels), key=EMOTIONS.index))
    if len(classes) < 2:
        raise TrainingDataError("a face head needs faces of at least two labels; found only " + classes[0])
    mean = embeddings.astype(np.float64).mean(axis=0)
    scale = embeddings.astype(np.float64).std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit((embeddings - mean) / scale, list(labels))
    order = [list(model.classes_).index(name) for name in classes] if len(classes) > 2 else [0]
    coef = np.asarray(model.coef_, dtype=np.float64)[order]
    intercept = np.asarray(model.intercept_, dtype=np.float64)[order]
    if len(classes) == 2 and list(model.classes_) != list(classes):  # sklearn's positive class is classes_[1]
        coef, intercept = -coef, -intercept
    return FaceHead(
        version=version,
        classes=classes,
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        features=features,
    )


def _auc(scores: npt.NDArray[np.float64], positive: npt.NDArray[np.bool_]) -> float:
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def happy_figures(happy: npt.NDArray[np.float64], labels: Sequence[str]) -> dict[str, Any]:
    """Happy-vs-not accuracy and AUC, and per label the faces scored happy (false positives off happy)."""
    positive = np.array([label == "happy" for label in labels])
    said = happy > HAPPY_THRESHOLD
    per_label = {
        label: f"{int(said[[lab == label for lab in labels]].sum())}/{count}"
        for label, count in sorted(Counter(labels).items())
    }
    return {
        "faces": len(labels),
        "happy_vs_not_accuracy": round(float(np.mean(said == positive)), 4),
        "happy_vs_not_auc": round(_auc(happy, positive), 4),
        "scored_happy_per_label": per_label,
    }


def cross_validate(samples: FaceSamples, features: str = DEFAULT_FEATURES, c: float = 1.0) -> dict[str, Any]:
    """Grouped K-fold (no group in two folds): the head's out-of-fold figures next to the base model's."""
    from sklearn.model_selection import GroupKFold

    groups = np.array(samples.groups)
    labels = np.array(samples.labels)
    folds = min(MAX_FOLDS, len(set(samples.groups)))
    if folds < 2:
        raise TrainingDataError(
            "cross-validation needs faces from at least two groups (sources or recordings)"
        )
    happy = np.zeros(len(labels))
    predicted = np.empty(len(labels), dtype=object)
    fallback_folds = 0
    for train, test in GroupKFold(n_splits=folds).split(samples.embeddings, labels, groups):
        if len(set(labels[train])) < 2:  # no head can be fitted: the fold is scored by version 2 alone
            fallback_folds += 1
            happy[test] = samples.probabilities[test, HAPPY_INDEX]
            predicted[test] = labels[train][0]
            continue
        head = fit_head(samples, train, "cv", features, c)
        scores = head.emotions(samples.probabilities[test], samples.embeddings[test])
        happy[test] = scores[:, HAPPY_INDEX]
        predicted[test] = [EMOTIONS[i] for i in scores.argmax(axis=1)]
    base_predicted = [EMOTIONS[i] for i in samples.probabilities.argmax(axis=1)]
    return {
        "folds": folds,
        "groups": len(set(samples.groups)),
        "folds_scored_by_version_2_alone": fallback_folds,
        "features": features,
        "head": {
            **happy_figures(happy, samples.labels),
            "label_accuracy": round(float(np.mean(predicted == labels)), 4),
        },
        "base_version_2": {
            **happy_figures(samples.probabilities[:, HAPPY_INDEX].astype(np.float64), samples.labels),
            "label_accuracy": round(float(np.mean(np.array(base_predicted) == labels)), 4),
        },
    }


def train_face_head(
    sources: Sequence[Path],
    out_dir: Path,
    version: str,
    model_repository: Path,
    fps: float = 2.0,
    features: str = DEFAULT_FEATURES,
) -> tuple[Path, dict[str, Any]]:
    """Collect, cross-validate, fit on everything and write ``face_emotion-<version>.json``."""
    if version in BUILTIN_VERSIONS:
        raise TrainingDataError(
            f"version {version} is a built-in face emotion version; choose another, e.g. 2.1.0"
        )
    items = load_face_items(sources)
    samples = collect_samples(items, FaceModelRunner(model_repository), fps)
    figures = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "items": len(items),
        "faces_per_label": dict(sorted(Counter(samples.labels).items())),
        "cross_validation": cross_validate(samples, features),
    }
    head = fit_head(samples, np.arange(len(samples.labels)), version, features)
    return save_head(head, out_dir, figures), figures
