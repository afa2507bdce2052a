"""bench/bench_triton.py (the throughput benchmark bench/gpu.sh runs on a GPU) against the local CPU Triton: the
executed batch it reads from Triton's metrics, and the queue-delay sweep's reload and restore."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

from tests.scripts import load_script

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "bench_triton.py"


def load_bench() -> Any:
    return load_script("bench/bench_triton.py")


def test_metrics_and_delay_choice() -> None:
    """Counts are summed over a model's versions and no other model's; the chosen delay is the smallest within
    5 % of the best throughput."""
    bench = load_bench()
    text = "\n".join(
        [
            "# HELP nv_inference_count Number of inferences performed",
            'nv_inference_count{model="face_emotion",version="1"} 96',
            'nv_inference_count{model="face_emotion",version="2"} 4',
            'nv_inference_count{model="face_emotion_big",version="1"} 1000',
            'nv_inference_exec_count{model="face_emotion",version="1"} 10',
            'nv_inference_exec_count{model="face_emotion",version="2"} 2',
            'nv_inference_request_success{model="face_emotion",version="1"} 50',
        ]
    )
    assert bench.inference_counts(text, "face_emotion") == (100.0, 12.0)
    assert bench.choose_delay({0: 900.0, 500: 980.0, 1000: 1000.0, 2000: 1010.0}) == 500
    assert bench.choose_delay({0: 1000.0, 1000: 400.0}) == 0


def test_against_the_local_triton(tmp_path: pathlib.Path) -> None:
    """Four crops per request with eight in flight execute as batches of at least four; one request in flight
    executes one crop at a time; the sweep measures each delay and the model is back at its configured one."""
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--models",
            "face_emotion",
            "--batch-sizes",
            "4",
            "--delays",
            "0,2000",
            "--seconds",
            "0.5",
            "--json-out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    rows = {(r["batch"], r["concurrency"], r["delay_us"]): r for r in figures["rows"]}
    assert set(rows) == {(1, 1, 1000), (4, 8, 1000), (1, 8, 0), (1, 8, 2000)}
    assert rows[(1, 1, 1000)]["average_executed_batch"] == 1.0
    assert 4.0 <= rows[(4, 8, 1000)]["average_executed_batch"] <= 64.0
    assert all(r["items_per_s"] > 0 and r["p95_ms"] >= r["p50_ms"] for r in figures["rows"])
    assert figures["delays"]["face_emotion"]["configured_us"] == 1000
    assert figures["delays"]["face_emotion"]["restored_us"] == 1000
    assert figures["delays"]["face_emotion"]["chosen_us"] in (0, 2000)
    assert "| face_emotion | 4 | 8 | 1000 |" in done.stdout
