"""A stacked audio model for tests: the shipped cues model (1.4.0) with a combiner fitted on synthetic scores."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import skops.io
from laughter_server.audio.stack import combiner_features
from sklearn.linear_model import LogisticRegression

MODELS = Path(__file__).resolve().parents[1] / "server" / "laughter_server" / "models" / "audio"
BASE = "laughter-audio-1.4.0"


def write_stacked_model(
    folder: Path, *, cascade_threshold: float = 0.3, version: str = "9.9.0", second_version: str | None = None
) -> Path:
    """Write ``laughter-audio-<version>`` (+ the cues model it stacks on) into ``folder``; returns its .skops.
    ``second_version``: the ResNet version its metadata names (none: the field is absent, meaning 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".skops", ".json"):
        shutil.copy(MODELS / (BASE + suffix), folder / (BASE + suffix))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    cues = np.clip(0.3 + 0.4 * labels + rng.normal(0, 0.15, 400), 0.01, 0.99)
    second = np.clip(0.2 + 0.6 * labels + rng.normal(0, 0.15, 400), 0.01, 0.99)
    combiner = LogisticRegression().fit(combiner_features(cues, second), labels)
    raw = skops.io.dumps(combiner)
    model_path = folder / f"laughter-audio-{version}.skops"
    model_path.write_bytes(raw)
    base_meta = json.loads((MODELS / (BASE + ".json")).read_text())
    metadata = {
        "name": "laughter-audio",
        "version": version,
        "kind": "stacked",
        "artifact_sha256": hashlib.sha256(raw).hexdigest(),
        "base_model": {
            "file": BASE + ".skops",
            "sha256": hashlib.sha256((MODELS / (BASE + ".skops")).read_bytes()).hexdigest(),
        },
        "second_model": {
            "triton_model": "laughter_resnet",
            "sha256": "",
            **({} if second_version is None else {"version": second_version}),
        },
        "feature_settings": base_meta["feature_settings"],
        "cascade_threshold": cascade_threshold,
        "clip_aggregate": "top_half_mean",
        "operating_threshold": 0.6,
        "clip_threshold": 0.55,
    }
    (folder / f"laughter-audio-{version}.json").write_text(json.dumps(metadata))
    return model_path
