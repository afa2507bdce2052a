"""Loading the repository's scripts (tools/, bench/), which are not a package, as modules for tests."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_script(relative: str) -> types.ModuleType:
    """The script at ``REPO / relative`` as a module named after its file (registered in ``sys.modules``, as
    dataclasses look their module up there)."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
