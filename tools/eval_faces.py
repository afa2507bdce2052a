"""Measure the face models on labelled stills and videos: happy-vs-not per crop setting, mouth opening.

Runs the Triton repository's ONNX files in-process with onnxruntime (the same bytes Triton serves) through
the server's own pre- and post-processing (letterbox, CenterFace decoding, crops, landmark geometry)::

    .venv/bin/python tools/eval_faces.py --manifest ../shared/data/dev/manifest.csv
    .venv/bin/python tools/eval_faces.py --manifest ../shared/data/dev/manifest.csv --json build/faces.json
    .venv/bin/python tools/eval_faces.py --manifest ../shared/data/dev/manifest.csv --emotion-version 2
    .venv/bin/python tools/eval_faces.py --manifest ../shared/data/dev/manifest.csv --head HEAD.json

Stills: every face the detector finds takes its image's label (``face-smile`` and ``face-laugh`` are
positive, every other ``face-*`` label negative; a ``talking`` note makes a neutral face class
``talking``). A face counts as happy when its happy probability exceeds the spec's 0.3. Videos: frames
sampled at ``--fps``; the share of face frames scored happy, and the inner-lip opening ratio per video.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from laughter_server.fusion.rules import face_alone_score, face_laugh_score
from laughter_server.vision.crops import crop_faces
from laughter_server.vision.detection import DEFAULT_DETECTOR_INPUT_HW, FaceBox, decode_centerface, letterbox
from laughter_server.vision.emotion import EMOTION_INDEX, HAPPY_INDEX
from laughter_server.vision.emotion_versions import BUILTIN_VERSIONS, MINI_XCEPTION, EmotionVersion
from laughter_server.vision.face_head import FaceHead, load_head
from laughter_server.vision.landmarks import landmark_crops, mouth_geometry, mouth_open_scores
from laughter_train.faces import model_session

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS = REPO_ROOT / "model_repository"
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2)
HAPPY_THRESHOLD = 0.3
POSITIVE_LABELS = ("face-smile", "face-laugh")
DETECTOR_VERSION = "1"
"""The face detector version the default CPU configuration serves (float32; 2 is its int8 quantization)."""
OLD_SETTING = (0.2, False)
"""The crop before this measurement: margin 0.2, no mirror."""
SURPRISE_INDEX = EMOTION_INDEX["surprise"]


def session(name: str, version: str = "1") -> ort.InferenceSession | None:
    """An onnxruntime session over ``model_repository/<name>/<version>/model.onnx`` (None if it is not there)."""
    path = MODELS / name / version / "model.onnx"
    return model_session(path) if path.is_file() else None


class Models:
    """The face models of the repository, run in-process; ``version`` picks the emotion model (1 or 2) and
    ``head`` a trained head over version 2's embedding, ``detector_version`` the face detector."""

    def __init__(
        self,
        version: EmotionVersion = BUILTIN_VERSIONS[MINI_XCEPTION],
        head: FaceHead | None = None,
        detector_version: str = DETECTOR_VERSION,
    ) -> None:
        detector, emotion = session("face_detector", detector_version), session(version.triton_model)
        if detector is None or emotion is None:
            raise SystemExit(
                f"model_repository lacks face_detector or {version.triton_model}; run `make models`"
            )
        self.detector, self.emotion = detector, emotion
        self.version = version
        self.head = head
        self.landmarks = session("face_landmarks")

    def detect(self, image: npt.NDArray[np.uint8]) -> list[FaceBox]:
        batch, transform = letterbox(image[None], DEFAULT_DETECTOR_INPUT_HW)
        heatmap, scale, offset, points = self.detector.run(None, {"images": batch})
        return decode_centerface(heatmap, scale, offset, points, transform)[0]

    def emotions(
        self, image: npt.NDArray[np.uint8], faces: list[FaceBox], margin: float, mirror: bool
    ) -> Any:
        crops, _ = crop_faces(
            image[None], [faces], size=self.version.side_px, margin=margin, channels=self.version.channels
        )
        probabilities = self.score(crops)
        if mirror:
            probabilities = (probabilities + self.score(crops[:, :, ::-1].copy())) / 2
        return probabilities

    def score(self, crops: npt.NDArray[np.uint8]) -> Any:
        """Emotion probabilities of crops (the head's, when there is one)."""
        if self.head is not None:
            probabilities, embedding = self.emotion.run(["probabilities", "embedding"], {"crops": crops})
            return self.head.emotions(probabilities, embedding)
        return self.emotion.run(["probabilities"], {"crops": crops})[0]

    def happy(self, image: npt.NDArray[np.uint8], faces: list[FaceBox], margin: float, mirror: bool) -> Any:
        return self.emotions(image, faces, margin, mirror)[:, HAPPY_INDEX]

    def mouth(self, image: npt.NDArray[np.uint8], faces: list[FaceBox]) -> list[float]:
        """Inner-lip opening ratio per face (empty without the landmark model)."""
        return [ratio for ratio, _ in self.mesh(image, faces)]

    def mesh(self, image: npt.NDArray[np.uint8], faces: list[FaceBox]) -> list[tuple[float, float]]:
        """(opening ratio, mouth_open score) per face."""
        if self.landmarks is None or not faces:
            return []
        crops = landmark_crops(image[None], [faces])
        meshes, presence = self.landmarks.run(["landmarks", "face_presence"], {"crops": crops})
        ratios = [geometry.opening_ratio for geometry in mouth_geometry(meshes)]
        return list(zip(ratios, mouth_open_scores(meshes, presence).tolist(), strict=True))


def read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def still_class(row: dict[str, str]) -> str:
    label = row["label"].removeprefix("face-")
    return "talking" if label == "neutral" and "talking" in row.get("notes", "") else label


def auc(scores: list[float], positive: list[bool]) -> float:
    """ROC AUC by ranks (ties count half)."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return float(wins / (len(pos) * len(neg)))


def evaluate_stills(models: Models, rows: list[dict[str, str]], root: Path) -> dict[str, Any]:
    faces_per_image = []
    for row in rows:
        image = read_rgb(root / row["file"])
        faces_per_image.append((row, image, models.detect(image)))
    settings: dict[str, Any] = {}
    for margin in MARGINS:
        for mirror in (False, True):
            scores: list[float] = []
            classes: list[str] = []
            for row, image, faces in faces_per_image:
                if faces:
                    scores.extend(float(v) for v in models.happy(image, faces, margin, mirror))
                    classes.extend([still_class(row)] * len(faces))
            positive = [c in ("smile", "laugh") for c in classes]
            said = [s > HAPPY_THRESHOLD for s in scores]
            per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for c, s, p in zip(classes, said, positive, strict=True):
                per_class[c][0] += int(s != p)
                per_class[c][1] += 1
            settings[f"margin={margin:.2f} mirror={'yes' if mirror else 'no'}"] = {
                "faces": len(scores),
                "correct": sum(s == p for s, p in zip(said, positive, strict=True)),
                "auc": round(auc(scores, positive), 3),
                "errors_per_class": {c: f"{e}/{n}" for c, (e, n) in sorted(per_class.items())},
            }
    mouth: dict[str, list[float]] = defaultdict(list)
    gate: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, image, faces in faces_per_image:
        mouth[still_class(row)].extend(round(v, 3) for v in models.mouth(image, faces))
        if faces and models.landmarks is not None:
            shares = gate_shares(models, [(0.0, image, [face]) for face in faces])
            gate[still_class(row)][0] += shares["laughing_new_crop_mouth_gate"]
            gate[still_class(row)][1] += shares["frames"]
    return {
        "settings": settings,
        "mouth_opening_per_class": dict(mouth),
        "laughing_alone_per_class": {c: f"{k}/{n}" for c, (k, n) in sorted(gate.items())},
    }


def video_frames(path: Path, fps: float) -> list[tuple[float, npt.NDArray[np.uint8]]]:
    capture = cv2.VideoCapture(str(path))
    native = capture.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(native / fps))
    frames: list[tuple[float, npt.NDArray[np.uint8]]] = []
    index = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append((index / native, np.ascontiguousarray(bgr[:, :, ::-1])))
        index += 1
    capture.release()
    return frames


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    p = np.percentile(values, [10, 50, 90, 99])
    return {
        "p10": round(float(p[0]), 3),
        "p50": round(float(p[1]), 3),
        "p90": round(float(p[2]), 3),
        "p99": round(float(p[3]), 3),
    }


def evaluate_videos(models: Models, rows: list[dict[str, str]], root: Path, fps: float) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for row in rows:
        frames = [(t, image, models.detect(image)) for t, image in video_frames(root / row["file"], fps)]
        with_face = [(t, image, faces[:1]) for t, image, faces in frames if faces]
        entry: dict[str, Any] = {"frames": len(frames), "frames_with_face": len(with_face), "happy_share": {}}
        for margin in MARGINS:
            for mirror in (False, True):
                happy = [
                    float(models.happy(image, faces, margin, mirror)[0]) for _, image, faces in with_face
                ]
                key = f"margin={margin:.2f} mirror={'yes' if mirror else 'no'}"
                entry["happy_share"][key] = round(float(np.mean(np.array(happy) > HAPPY_THRESHOLD)), 3)
        entry["face_alone"] = gate_shares(models, with_face)
        if row["file"].endswith("franck.mp4"):  # the stills labelled laughing are frames 3979-4117 (25 fps)
            inside = [f for f in with_face if 157.0 <= f[0] <= 170.0]
            outside = [f for f in with_face if not 157.0 <= f[0] <= 170.0]
            entry["face_alone_157_170s"] = gate_shares(models, inside)
            entry["face_alone_elsewhere"] = gate_shares(models, outside)
        ratios = [r for _, image, faces in with_face for r in models.mouth(image, faces[:1])]
        if ratios:
            entry["mouth_opening"] = percentiles(ratios)
            entry["mouth_opening_by_second"] = [
                [round(t, 1), round(r, 3)] for (t, _, _), r in zip(with_face, ratios, strict=True)
            ]
        report[Path(row["file"]).name] = entry
    return report


def gate_shares(models: Models, frames: list[tuple[float, Any, list[FaceBox]]]) -> dict[str, Any]:
    """Per frame (first face): is the face laughing by itself, with the old crop and smile rule, with the
    shipped crop and smile rule, and with the shipped crop and the mouth gate (score above 0.5)."""
    old, smile, gated = [], [], []
    for _, image, faces in frames:
        p_old = models.emotions(image, faces, *OLD_SETTING)[0]
        p_new = models.emotions(image, faces, models.version.margin, models.version.mirror)[0]
        mouth = models.mesh(image, faces)
        old.append(face_laugh_score(float(p_old[HAPPY_INDEX]), float(p_old[SURPRISE_INDEX])) > 0.5)
        smile.append(face_laugh_score(float(p_new[HAPPY_INDEX]), float(p_new[SURPRISE_INDEX])) > 0.5)
        mouth_open = mouth[0][1] if mouth else None
        gated.append(
            face_alone_score(float(p_new[HAPPY_INDEX]), float(p_new[SURPRISE_INDEX]), mouth_open) > 0.5
        )
    return {
        "frames": len(frames),
        "laughing_old_crop": int(np.sum(old)),
        "laughing_new_crop": int(np.sum(smile)),
        "laughing_new_crop_mouth_gate": int(np.sum(gated)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True, help="manifest.csv of the dev set")
    parser.add_argument("--fps", type=float, default=2.0, help="video frames per second to analyse")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--no-videos", action="store_true")
    parser.add_argument(
        "--emotion-version",
        choices=sorted(BUILTIN_VERSIONS),
        default=MINI_XCEPTION,
        help="1: mini-Xception (face_emotion); 2: face-api's expression net (face_expression)",
    )
    parser.add_argument(
        "--head", type=Path, help="a trained face head (face_emotion-<version>.json) over version 2"
    )
    parser.add_argument(
        "--detector-version",
        choices=("1", "2"),
        default=DETECTOR_VERSION,
        help="face detector: 1, float32 (what the default CPU configuration serves), or 2, its int8 version",
    )
    args = parser.parse_args(argv)
    root = args.manifest.parent
    with args.manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    head = load_head(args.head) if args.head else None
    models = Models(BUILTIN_VERSIONS["2" if head else args.emotion_version], head, args.detector_version)
    stills = [r for r in rows if r["label"].startswith("face-")]
    videos = [r for r in rows if r["label"] == "video-face"]
    report: dict[str, Any] = {"stills": evaluate_stills(models, stills, root)}
    if not args.no_videos:
        report["videos"] = evaluate_videos(models, videos, root, args.fps)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    summary = {
        "stills": report["stills"]["settings"],
        "mouth_gate_stills": report["stills"]["laughing_alone_per_class"],
        "videos": {k: v["happy_share"] for k, v in report.get("videos", {}).items()},
        "face_alone_videos": {
            k: {key: value for key, value in v.items() if key.startswith("face_alone")}
            for k, v in report.get("videos", {}).items()
        },
    }
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
