"""Triton throughput benchmark (``make bench``; on a GPU through ``bench/gpu.sh``).

For each model of the repository: items per second (frames for the face detector, crops for the face models,
mel windows for the laughter ResNet) at request batch sizes 1 to 64 with ``--concurrency`` requests in flight,
each next to the reference measured in the same run, one bare Triton call (batch 1, one request in flight), as
a ratio; the p50/p95 request latency; and the average batch Triton executed, read from its metrics
(``nv_inference_count`` over ``nv_inference_exec_count``), which shows what dynamic batching merged.

Then the queue-delay sweep: one item per request (the live path's smallest requests) at each of ``--delays``
microseconds of ``max_queue_delay_microseconds``, applied by reloading the model with its configuration
changed (Triton in explicit model-control mode). The delay printed as chosen is the smallest whose throughput
is within 5 % of the best, because every microsecond of delay is added to a live request's latency.

With no ``--triton-url`` a local CPU Triton (the bundled binary, ``config.pbtxt``) is started; ``bench/gpu.sh``
starts one on the GPU over ``configs/gpu.pbtxt`` and passes its address.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import pathlib
import re
import statistics
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import tritonclient.grpc as grpcclient  # noqa: E402
from laughter_server.inference.supervisor import TritonProcess  # noqa: E402
from laughter_server.vision.detection import DEFAULT_DETECTOR_INPUT_HW, fitted_input_hw  # noqa: E402

MODELS = ("face_detector", "face_expression", "face_emotion", "face_landmarks", "laughter_resnet")
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64)
DELAYS_US = (0, 250, 500, 1000, 2000)
WITHIN_BEST = 0.95
METRIC_LINE = re.compile(r"^(nv_inference_count|nv_inference_exec_count)\{([^}]*)\}\s+([0-9.eE+-]+)$")
DTYPES = {"TYPE_UINT8": np.uint8, "TYPE_FP32": np.float32}


@dataclass
class Row:
    model: str
    batch: int
    concurrency: int
    delay_us: int
    items_per_s: float
    ratio_to_bare_call: float
    p50_ms: float
    p95_ms: float
    average_executed_batch: float


def inference_counts(metrics_text: str, model: str) -> tuple[float, float]:
    """(items inferred, executions) of ``model`` summed over its versions, from Triton's metrics text."""
    items = executions = 0.0
    for line in metrics_text.splitlines():
        match = METRIC_LINE.match(line.strip())
        if match is None or f'model="{model}"' not in match.group(2):
            continue
        if match.group(1) == "nv_inference_count":
            items += float(match.group(3))
        else:
            executions += float(match.group(3))
    return items, executions


def choose_delay(throughput_by_delay: dict[int, float]) -> int:
    """The smallest delay whose throughput is within 5 % of the best one's."""
    best = max(throughput_by_delay.values())
    return min(delay for delay, rate in throughput_by_delay.items() if rate >= WITHIN_BEST * best)


class Bench:
    def __init__(self, url: str, metrics_url: str) -> None:
        self.url = url
        self.metrics_url = metrics_url
        self.local = threading.local()

    def client(self) -> grpcclient.InferenceServerClient:
        """One client per thread (a client's channel is shared by its calls, not across threads)."""
        if not hasattr(self.local, "client"):
            self.local.client = grpcclient.InferenceServerClient(self.url)
        return self.local.client

    def config(self, model: str) -> dict[str, Any]:
        return self.client().get_model_config(model, as_json=True)["config"]  # type: ignore[no-any-return]

    def counts(self, model: str) -> tuple[float, float]:
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            return inference_counts(response.read().decode(), model)

    def inputs(self, model: str, config: dict[str, Any], batch: int) -> list[grpcclient.InferInput]:
        """A request of ``batch`` random items for ``model`` (its configuration's inputs)."""
        rng = np.random.default_rng(0)
        made = []
        for spec in config["input"]:
            dims = [int(d) for d in spec["dims"]]
            if model == "face_detector":
                # 16:9 frames fitted to the detector's bound, as the server sends them (320x192)
                dims = [*fitted_input_hw((720, 1280), DEFAULT_DETECTOR_INPUT_HW), 3]
            dtype = DTYPES[spec["data_type"]]
            shape = [batch, *dims]
            data = (rng.integers(0, 256, shape) if dtype == np.uint8 else rng.standard_normal(shape)).astype(
                dtype
            )
            tensor = grpcclient.InferInput(spec["name"], shape, spec["data_type"].removeprefix("TYPE_"))
            tensor.set_data_from_numpy(data)
            made.append(tensor)
        return made

    def measure(
        self,
        model: str,
        inputs: list[grpcclient.InferInput],
        concurrency: int,
        seconds: float,
        delay_us: int,
    ) -> Row:
        batch = int(inputs[0].shape()[0])
        self.client().infer(model, inputs)  # warm
        before = self.counts(model)
        stop = time.monotonic() + seconds
        latencies: list[float] = []
        lock = threading.Lock()

        def loop() -> None:
            client = self.client()
            while time.monotonic() < stop:
                started = time.perf_counter()
                client.infer(model, inputs)
                with lock:
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(loop) for _ in range(concurrency)]:
                future.result()
        wall = time.perf_counter() - started
        after = self.counts(model)
        executions = after[1] - before[1]
        quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [latencies[0]] * 19
        return Row(
            model=model,
            batch=batch,
            concurrency=concurrency,
            delay_us=delay_us,
            items_per_s=len(latencies) * batch / wall,
            ratio_to_bare_call=float("nan"),
            p50_ms=statistics.median(latencies) * 1e3,
            p95_ms=quantiles[18] * 1e3,
            average_executed_batch=(after[0] - before[0]) / executions if executions else float("nan"),
        )

    def set_delay(self, model: str, delay_us: int) -> None:
        """Reload ``model`` with ``max_queue_delay_microseconds`` set (explicit model-control mode)."""
        config = self.config(model)
        batching = config.setdefault("dynamic_batching", {})
        batching["max_queue_delay_microseconds"] = str(delay_us)
        self.client().load_model(model, config=json.dumps(config))


def table(rows: list[Row]) -> str:
    lines = [
        "| model | batch | in flight | delay us | items/s | x bare call | p50 ms | p95 ms | executed batch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.batch} | {r.concurrency} | {r.delay_us} | {r.items_per_s:,.0f} | "
            f"{r.ratio_to_bare_call:.2f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.average_executed_batch:.1f} |"
        )
    return "\n".join(lines)


def run(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    rows: list[Row] = []
    sweeps: dict[str, dict[str, Any]] = {}
    for model in args.models:
        config = bench.config(model)
        max_batch = int(config.get("max_batch_size", 1))
        configured = int(config.get("dynamic_batching", {}).get("max_queue_delay_microseconds", 0))
        single = bench.inputs(model, config, 1)
        bare = bench.measure(model, single, 1, args.seconds, configured)
        bare.ratio_to_bare_call = 1.0
        rows.append(bare)
        for batch in [b for b in args.batch_sizes if b <= max_batch]:
            row = bench.measure(
                model, bench.inputs(model, config, batch), args.concurrency, args.seconds, configured
            )
            row.ratio_to_bare_call = row.items_per_s / bare.items_per_s
            rows.append(row)
        if args.delays:
            swept: dict[int, Row] = {}
            try:
                for delay in args.delays:
                    bench.set_delay(model, delay)
                    swept[delay] = bench.measure(model, single, args.concurrency, args.seconds, delay)
                    swept[delay].ratio_to_bare_call = swept[delay].items_per_s / bare.items_per_s
            finally:
                bench.set_delay(model, configured)
            rows.extend(swept.values())
            chosen = choose_delay({delay: row.items_per_s for delay, row in swept.items()})
            restored = int(bench.config(model)["dynamic_batching"]["max_queue_delay_microseconds"])
            sweeps[model] = {"configured_us": configured, "chosen_us": chosen, "restored_us": restored}
        print(table([r for r in rows if r.model == model]), flush=True)
        if model in sweeps:
            print(
                f"{model}: queue delay chosen {sweeps[model]['chosen_us']} us "
                f"(configured {sweeps[model]['configured_us']} us)\n",
                flush=True,
            )
    return {"rows": [asdict(r) for r in rows], "delays": sweeps}


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triton-url", default="", help="host:port of a running Triton's gRPC endpoint")
    parser.add_argument("--metrics-url", default="", help="its metrics URL (default: port 8002 of its host)")
    parser.add_argument("--models", type=lambda s: tuple(s.split(",")), default=MODELS)
    parser.add_argument("--batch-sizes", type=ints, default=BATCH_SIZES)
    parser.add_argument(
        "--delays", type=ints, default=DELAYS_US, help="queue delays to sweep, us ('' for none)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--json-out", type=pathlib.Path, help="write the figures here as JSON")
    args = parser.parse_args()

    triton: TritonProcess | None = None
    url, metrics_url = args.triton_url, args.metrics_url
    if not url:
        triton = ExplicitTriton(REPO / "model_repository")
        triton.start()
        triton.wait_ready(120)
        url, metrics_url = triton.grpc_url, f"http://{triton.host}:{triton.metrics_port}/metrics"
    metrics_url = metrics_url or f"http://{url.rsplit(':', 1)[0]}:8002/metrics"
    try:
        figures = run(Bench(url, metrics_url), args)
    finally:
        if triton is not None:
            triton.stop()
    figures["triton"] = "local CPU (config.pbtxt)" if triton is not None else url
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=1))


class ExplicitTriton(TritonProcess):
    """The local Triton with every model loaded and reloadable with a changed configuration."""

    def command(self, install: Any, backends: pathlib.Path) -> list[str]:
        return [*super().command(install, backends), "--model-control-mode=explicit", "--load-model=*"]


if __name__ == "__main__":
    main()
