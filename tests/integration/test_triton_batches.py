"""Every model of model_repository/ served by the real Triton: a request larger than the model's CPU
``run_batch_size`` (run in pieces by model.py, several at once where the configuration sets ``parallel_runs``)
is answered with what onnxruntime gives for the whole batch in one run, in the order of the items."""

from __future__ import annotations

import grpc
import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as triton_grpc
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, model_pb2
from laughter_server.inference.supervisor import TritonProcess
from tritonclient.utils import np_to_triton_dtype

from tests.conftest import REPO, SAMPLE, ServerThread, make_settings

pytestmark = pytest.mark.integration

MODELS = ("face_detector", "face_emotion", "face_expression", "face_landmarks", "laughter_resnet")
BATCH = 7  # not a multiple of any configured piece size
SHA256SUMS = (REPO / "model_repository" / "SHA256SUMS").read_text()
DETECTOR_INPUT = (160, 224, 3)  # the detector takes any frame size; a small one keeps the test quick


def parameters_of(client: triton_grpc.InferenceServerClient, model: str) -> dict[str, int]:
    """The integer parameters of the configuration Triton loaded for ``model``."""
    parameters = client.get_model_config(model, as_json=True)["config"].get("parameters", {})
    assert "run_batch_size" in parameters, f"{model}: the CPU configuration sets no run_batch_size"
    return {key: int(value["string_value"]) for key, value in parameters.items()}


def random_inputs(
    session: ort.InferenceSession, rng: np.random.Generator, batch: int
) -> dict[str, np.ndarray]:
    feeds = {}
    for tensor in session.get_inputs():
        dims = tensor.shape[1:]
        shape = [batch, *(dims if all(isinstance(d, int) for d in dims) else DETECTOR_INPUT)]
        if tensor.type == "tensor(uint8)":
            feeds[tensor.name] = rng.integers(0, 256, shape, dtype=np.uint8)
        else:
            feeds[tensor.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def served_versions(client: triton_grpc.InferenceServerClient, model: str) -> list[str]:
    return sorted(str(version) for version in client.get_model_metadata(model).versions)


def served_version(client: triton_grpc.InferenceServerClient, model: str) -> str:
    (version,) = served_versions(client, model)  # the model's configuration serves one version
    return version


def assert_pieces_answer_as_one_run(
    client: triton_grpc.InferenceServerClient, model: str, version: str | None = None
) -> None:
    """``version``: the one to ask for (none: the one version served)."""
    parameters = parameters_of(client, model)
    # a batch large enough for the parallel pieces where the configuration runs them
    batch = max(BATCH, parameters.get("parallel_min_items", 0) + 1)
    assert 1 <= parameters["run_batch_size"] < batch
    version = version or served_version(client, model)
    session = ort.InferenceSession(str(REPO / "model_repository" / model / version / "model.onnx"))
    feeds = random_inputs(session, np.random.default_rng(7), batch)
    names = [output.name for output in session.get_outputs()]
    expected = session.run(names, feeds)
    inputs = []
    for name, array in feeds.items():
        infer_input = triton_grpc.InferInput(name, list(array.shape), np_to_triton_dtype(array.dtype))
        infer_input.set_data_from_numpy(array)
        inputs.append(infer_input)
    reply = client.infer(
        model, inputs, model_version=version, outputs=[triton_grpc.InferRequestedOutput(n) for n in names]
    )
    for name, want in zip(names, expected, strict=True):
        got = reply.as_numpy(name)
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"{model} {name}")
    # the items differ, so a piece answered out of order would show
    assert not np.allclose(expected[0][0], expected[0][1])


@pytest.mark.parametrize("model", MODELS)
def test_pieces_answer_as_one_run(triton: TritonProcess, model: str) -> None:
    client = triton_grpc.InferenceServerClient(triton.grpc_url)
    try:
        assert_pieces_answer_as_one_run(client, model)
        assert served_version(client, model) == "1"  # the detector's int8 version 2 needs configs/int8.pbtxt
    finally:
        client.close()


def test_int8_configuration_serves_the_int8_detector() -> None:
    """``--model-config-name=int8``: the detector's configs/int8.pbtxt serves version 2 (int8) and answers as
    that file does; the ResNet's serves versions 1 and 2, each answering as its own file; the models without
    that file keep their config.pbtxt."""
    triton = TritonProcess(REPO / "model_repository", model_config_name="int8")
    triton.start()
    try:
        triton.wait_ready(120)
        client = triton_grpc.InferenceServerClient(triton.grpc_url)
        try:
            assert served_version(client, "face_detector") == "2"
            assert_pieces_answer_as_one_run(client, "face_detector")
            assert_pieces_answer_as_one_run(client, "face_emotion")
            assert served_versions(client, "laughter_resnet") == ["1", "2"]
            for version in ("1", "2"):
                assert_pieces_answer_as_one_run(client, "laughter_resnet", version)
        finally:
            client.close()
        assert_server_reports_the_int8_detector(triton)
    finally:
        triton.stop()


def assert_server_reports_the_int8_detector(triton: TritonProcess) -> None:
    """A server over that Triton lists version 2 with its own checksum, and a result names it too."""
    int8_sha256 = next(
        line.split()[0] for line in SHA256SUMS.splitlines() if line.endswith("face_detector/2/model.onnx")
    )
    server = ServerThread(make_settings(triton_url=triton.grpc_url)).start()
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            listed = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=30).models
            result = stub.AnalyzeMedia(
                laughter_service_pb2.AnalyzeMediaRequest(content=SAMPLE.read_bytes(), fresh=True), timeout=300
            ).result
    finally:
        server.stop()
    (detector,) = [m for m in listed if m.role == model_pb2.MODEL_ROLE_FACE_DETECTOR]
    assert (detector.version, detector.sha256) == ("2", int8_sha256)
    assert result.events
    assert result.summary.faces
    (used,) = [m for m in result.summary.models if m.role == model_pb2.MODEL_ROLE_FACE_DETECTOR]
    assert (used.version, used.sha256) == ("2", int8_sha256)
