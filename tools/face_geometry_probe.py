"""Mouth geometry of the labelled stills beside the expression model's happy score (runtime venv).

Each face of every still in a face manifest or label folder goes through the shipped detector, the
expression model (face emotion version 2) and the face mesh, in-process with onnxruntime, as
``laughter-train faces`` runs them. For each face it prints the happy probability, the mouth width over the
distance between the outer eye corners, the corner lift (how far the mouth corners sit above the centre of
the lips, over the mouth width) and the inner-lip opening ratio, then, per label, the range of each figure
and the smiles the expression model misses (happy at most 0.3)::

    .venv/bin/python tools/face_geometry_probe.py ../shared/data/dev/manifest.csv

It answers whether a smile the expression model calls neutral could be told apart by its shape.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from laughter_server.vision.emotion import HAPPY_INDEX
from laughter_server.vision.landmarks import LOWER_INNER_LIP, UPPER_INNER_LIP, landmark_crops, mouth_geometry
from laughter_train.faces import (
    HAPPY_THRESHOLD,
    STILL_SUFFIXES,
    FaceModelRunner,
    load_face_items,
    model_session,
    read_rgb,
)

REPOSITORY = Path(__file__).resolve().parents[1] / "model_repository"
LEFT_EYE_OUTER, RIGHT_EYE_OUTER = 33, 263
LEFT_MOUTH_OUTER, RIGHT_MOUTH_OUTER = 61, 291
FIGURES = ("happy", "width_over_eyes", "corner_lift", "opening")


def face_rows(source: Path) -> list[tuple[str, str, dict[str, float]]]:
    """(file name, label, figures) of every face found in the stills of ``source``."""
    runner = FaceModelRunner(REPOSITORY)
    mesh = model_session(REPOSITORY / "face_landmarks" / "1" / "model.onnx")
    rows = []
    for item in load_face_items([source]):
        if item.path.suffix.lower() not in STILL_SUFFIXES:
            continue
        image = read_rgb(item.path)
        faces = runner.faces(image)
        if not faces:
            continue
        _, probabilities = runner.embed(image, faces)
        landmarks, _ = mesh.run(
            ["landmarks", "face_presence"], {"crops": landmark_crops(image[None], [faces])}
        )
        for index, geometry in enumerate(mouth_geometry(landmarks)):
            points = landmarks[index, :, :2].astype(np.float64)
            width = float(np.linalg.norm(points[LEFT_MOUTH_OUTER] - points[RIGHT_MOUTH_OUTER]))
            eyes = float(np.linalg.norm(points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]))
            centre_y = (points[UPPER_INNER_LIP, 1] + points[LOWER_INNER_LIP, 1]) / 2.0
            corners_y = (points[LEFT_MOUTH_OUTER, 1] + points[RIGHT_MOUTH_OUTER, 1]) / 2.0
            figures = {
                "happy": float(probabilities[index][HAPPY_INDEX]),
                "width_over_eyes": width / eyes if eyes > 0 else 0.0,
                "corner_lift": float(centre_y - corners_y) / width if width > 0 else 0.0,
                "opening": geometry.opening_ratio,
            }
            rows.append((item.path.name, item.label, figures))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = face_rows(Path(args[0]))
    for name, label, figures in sorted(rows, key=lambda r: (r[1], r[0])):
        print(f"{label:8} {name[:40]:40} " + " ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    print()
    for label in sorted({r[1] for r in rows}):
        values = [r[2] for r in rows if r[1] == label]
        ranges = ", ".join(
            f"{k} {min(v[k] for v in values):.3f}..{max(v[k] for v in values):.3f}" for k in FIGURES
        )
        print(f"{label} ({len(values)} faces): {ranges}")
    missed = [r for r in rows if r[1] == "happy" and r[2]["happy"] <= HAPPY_THRESHOLD]
    print(f"smiles scored happy <= {HAPPY_THRESHOLD:g}: {len(missed)}")
    for name, _, figures in missed:
        print(f"  {name}: " + ", ".join(f"{k} {figures[k]:.3f}" for k in FIGURES[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
