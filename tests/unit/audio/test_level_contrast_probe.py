"""tools/level_contrast_probe.py: frame contrast tells steady noise from modulated sound at any level."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.scripts import load_script

RATE = 16_000


def load_tool() -> Any:
    return load_script("tools/level_contrast_probe.py")


def bursts(seconds: float, gain_db: float, seed: int = 3) -> np.ndarray:
    """Noise switched on and off at 5 Hz (laugh-like bursts), scaled by ``gain_db``."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    envelope = (np.sin(2 * np.pi * 5 * t) > 0).astype(np.float64) + 0.01
    return (rng.standard_normal(t.size) * 0.1 * envelope * 10 ** (gain_db / 20)).astype(np.float32)


def hiss(seconds: float, gain_db: float, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * RATE)) * 0.1 * 10 ** (gain_db / 20)).astype(np.float32)


@pytest.mark.parametrize("gain_db", [0.0, -30.0])
def test_bursts_stand_out_from_hiss_at_any_level(gain_db: float) -> None:
    tool = load_tool()
    modulated = tool.contrast_db(tool.frame_levels_db(bursts(3.0, gain_db)))
    steady = tool.contrast_db(tool.frame_levels_db(hiss(3.0, gain_db)))
    assert modulated > 30.0  # the bursts' on/off ratio is 40 dB
    assert steady < 3.0


def test_level_scales_every_window_alike() -> None:
    tool = load_tool()
    loud, quiet = tool.window_levels_db(bursts(4.0, 0.0)), tool.window_levels_db(bursts(4.0, -30.0))
    assert loud.size == quiet.size == 13  # 1 s windows every 0.25 s over 4 s
    np.testing.assert_allclose(loud - quiet, 30.0, atol=1e-3)
    assert tool.contrast_db(loud) == pytest.approx(tool.contrast_db(quiet), abs=1e-3)


def test_too_few_levels_have_no_contrast() -> None:
    tool = load_tool()
    assert np.isnan(tool.contrast_db(tool.frame_levels_db(hiss(0.1, 0.0))))
