"""The serving package stands alone: it never imports the training package or matplotlib."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import subprocess
import sys
import tomllib

REPO = pathlib.Path(__file__).resolve().parents[2]
SKIPPED = ("laughter_server.__main__",)
"""``python -m laughter_server`` starts the server when imported."""

IMPORT_ALL = """
import importlib, json, pkgutil, sys
import laughter_server
imported = []
for info in pkgutil.walk_packages(laughter_server.__path__, "laughter_server."):
    if info.name not in SKIPPED:
        importlib.import_module(info.name)
        imported.append(info.name)
print(json.dumps({"imported": imported, "modules": sorted(sys.modules)}))
"""


def test_no_training_code_or_matplotlib_in_the_server() -> None:
    """Importing every laughter_server module in a fresh interpreter loads no laughter_train or matplotlib."""
    assert importlib.util.find_spec("matplotlib") is not None, (
        "matplotlib is needed to check that the server does not import it: pip install -e '.[dev]'"
    )
    script = "SKIPPED = " + repr(SKIPPED) + "\n" + IMPORT_ALL
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False, timeout=240
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert {"laughter_server.audio.detector", "laughter_server.audio.ensemble", "laughter_server.cli"} <= set(
        report["imported"]
    )
    assert len(report["imported"]) >= 30
    leaked = [name for name in report["modules"] if name.split(".")[0] in ("laughter_train", "matplotlib")]
    assert leaked == []


def test_matplotlib_only_in_the_train_and_dev_extras() -> None:
    """The server's runtime dependencies leave matplotlib out; the train extra brings it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [dep for dep in project["dependencies"] if dep.lower().startswith("matplotlib")]
    for extra in ("train", "dev"):
        assert any(dep.startswith("matplotlib") for dep in project["optional-dependencies"][extra]), extra
    assert project["scripts"]["laughter-train"] == "laughter_train.cli:main"
    assert project["scripts"]["laughter-eval"] == "laughter_train.cli:eval_main"
