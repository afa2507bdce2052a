"""Triton Python-backend model: run this version's model.onnx with onnxruntime, tensor in, tensor out.

All requests of a dynamic batch whose inputs share their non-batch shape are concatenated along the batch
axis, run through onnxruntime and split back per request. Input and output names come from the model
configuration, and so do three parameters:

* ``intra_op_num_threads``: onnxruntime's intra-op threads (default 1);
* ``run_batch_size``: at most this many items per onnxruntime run (0, the default: the whole batch in one
  run). On a CPU a convolution over a large batch costs more per item than over a small one (its
  activations leave the caches), so the CPU configurations run small pieces of each dynamic batch;
* ``allow_spinning``: whether idle intra-op threads spin-wait for work ("1") or sleep ("0", the default on
  CPU instances: on a host whose cores are shared with the server, spinning threads take CPU time from it);
* ``parallel_runs`` and ``parallel_min_items``: a batch of at least ``parallel_min_items`` items (default 2)
  runs its pieces on ``parallel_runs`` threads at once (default 1: one after another). On a CPU one
  intra-op thread per run wastes no time on synchronising threads over a small input, so a configuration
  can give each piece one thread and still use several cores for a large batch (a whole-file chunk of
  frames), while small batches (live frames) run on one.

The execution provider follows the instance kind (CUDA for ``KIND_GPU``, CPU otherwise).
"""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import triton_python_backend_utils as pb_utils
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

ONNX_FILE_NAME = "model.onnx"
DEFAULT_INTRA_OP_THREADS = 1
WHOLE_BATCH = 0
DEFAULT_PARALLEL_MIN_ITEMS = 2
ORT_ERRORS = (
    ort_state.Fail,
    ort_state.InvalidArgument,
    ort_state.InvalidGraph,
    ort_state.RuntimeException,
    ort_state.NotImplemented,
)


def format_event(event: str, **fields: object) -> str:
    """Render a log line as ``noun.verb key=value ...`` for Triton's text logger."""
    return " ".join([event, *("=".join((key, str(value))) for key, value in fields.items())])


class RequestError(Exception):
    """A request that cannot be served; its message goes back to that request's client only."""


class TritonPythonModel:
    """Serves one ONNX file; the same code serves the face detector and the emotion classifier."""

    def initialize(self, args: dict[str, str]) -> None:
        """Load model.onnx with the provider of this instance's kind and the configured thread count."""
        config = json.loads(args["model_config"])
        self._model_name = config["name"]
        self._input_names = [tensor["name"] for tensor in config["input"]]
        self._input_dtypes = {
            tensor["name"]: pb_utils.triton_string_to_numpy(tensor["data_type"]) for tensor in config["input"]
        }
        self._output_names = [tensor["name"] for tensor in config["output"]]
        parameters = config.get("parameters", {})

        def parameter(key: str, default: object) -> str:
            return str(parameters.get(key, {}).get("string_value", default))

        threads = int(parameter("intra_op_num_threads", DEFAULT_INTRA_OP_THREADS))
        self._run_batch_size = int(parameter("run_batch_size", WHOLE_BATCH))
        parallel_runs = max(1, int(parameter("parallel_runs", 1)))
        self._parallel_min_items = int(parameter("parallel_min_items", DEFAULT_PARALLEL_MIN_ITEMS))
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(parallel_runs, thread_name_prefix="run")
            if parallel_runs > 1
            else None
        )
        on_gpu = args["model_instance_kind"] == "GPU"
        spinning = parameter("allow_spinning", "1" if on_gpu else "0")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
        if on_gpu:
            device_id = int(args["model_instance_device_id"])
            providers: list[Any] = [
                ("CUDAExecutionProvider", {"device_id": device_id}),
                "CPUExecutionProvider",
            ]
        else:
            providers = ["CPUExecutionProvider"]
        model_path = Path(args["model_repository"]) / args["model_version"] / ONNX_FILE_NAME
        self._session = ort.InferenceSession(str(model_path), options, providers=providers)
        self._logger = pb_utils.Logger
        self._logger.log_info(
            format_event(
                "model.loaded",
                name=self._model_name,
                providers=",".join(self._session.get_providers()),
                intra_op_threads=threads,
                run_batch_size=self._run_batch_size,
                allow_spinning=spinning,
                parallel_runs=parallel_runs,
                parallel_min_items=self._parallel_min_items,
            )
        )

    def execute(self, requests: list[Any]) -> list[Any]:
        """Answer every request: group by input shape, run each group once, split the outputs back."""
        responses: list[Any] = [None] * len(requests)
        groups: dict[tuple[tuple[int, ...], ...], list[tuple[int, dict[str, npt.NDArray[Any]]]]] = {}
        for index, request in enumerate(requests):
            try:
                inputs = self._read_inputs(request)
            except RequestError as error:
                responses[index] = pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error)))
                continue
            key = tuple(inputs[name].shape[1:] for name in self._input_names)
            groups.setdefault(key, []).append((index, inputs))
        for members in groups.values():
            self._run_group(members, responses)
        return responses

    def _read_inputs(self, request: Any) -> dict[str, npt.NDArray[Any]]:
        inputs: dict[str, npt.NDArray[Any]] = {}
        for name in self._input_names:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                raise RequestError(f"{self._model_name}: missing input '{name}'")
            array = tensor.as_numpy()
            if array.dtype != self._input_dtypes[name] or array.ndim < 1:
                expected = np.dtype(self._input_dtypes[name]).name
                raise RequestError(
                    f"{self._model_name}: input '{name}' must be {expected} with a batch axis, "
                    f"got {array.dtype.name} {list(array.shape)}"
                )
            inputs[name] = array
        return inputs

    def _run_group(
        self, members: list[tuple[int, dict[str, npt.NDArray[Any]]]], responses: list[Any]
    ) -> None:
        sizes = [inputs[self._input_names[0]].shape[0] for _, inputs in members]
        feeds = {
            name: np.concatenate([inputs[name] for _, inputs in members], axis=0)
            for name in self._input_names
        }
        try:
            outputs = self._run(feeds, sum(sizes))
        except ORT_ERRORS as error:
            shapes = {name: list(array.shape) for name, array in feeds.items()}
            self._logger.log_error(
                format_event("model.failed", name=self._model_name, shapes=shapes, error=error)
            )
            message = f"{self._model_name}: inference failed for input shapes {shapes}"
            for index, _ in members:
                responses[index] = pb_utils.InferenceResponse(error=pb_utils.TritonError(message))
            return
        bounds = np.cumsum([0, *sizes])
        for position, (index, _) in enumerate(members):
            start, stop = int(bounds[position]), int(bounds[position + 1])
            tensors = [
                pb_utils.Tensor(name, np.ascontiguousarray(output[start:stop]))
                for name, output in zip(self._output_names, outputs, strict=True)
            ]
            responses[index] = pb_utils.InferenceResponse(output_tensors=tensors)

    def _run(self, feeds: dict[str, npt.NDArray[Any]], total: int) -> list[npt.NDArray[Any]]:
        """Run ``feeds`` in pieces of at most ``run_batch_size`` items, several at once for a batch of at
        least ``parallel_min_items``; the outputs joined along the batch axis in the items' order."""
        step = self._run_batch_size
        if step <= 0 or total <= step:
            return list(self._session.run(self._output_names, feeds))

        def run_piece(start: int) -> list[npt.NDArray[Any]]:
            piece = {name: array[start : start + step] for name, array in feeds.items()}
            return list(self._session.run(self._output_names, piece))

        starts = range(0, total, step)
        if self._pool is not None and total >= self._parallel_min_items:
            pieces = list(self._pool.map(run_piece, starts))  # onnxruntime runs without the GIL
        else:
            pieces = [run_piece(start) for start in starts]
        return [np.concatenate(parts, axis=0) for parts in zip(*pieces, strict=True)]

    def finalize(self) -> None:
        """Stop the run threads and release the onnxruntime session."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._session = None
