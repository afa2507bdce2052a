"""The stacked audio models against the real Triton: the ResNet served by Triton scores what the in-process
ONNX file scores, an analysis with 1.5.0 sends windows to it (1.5.1 to its int8 version 2, served by the int8
configuration), and without the version it needs the analysis falls back to the cues model with a notice."""

from __future__ import annotations

import asyncio
import io
import json
import pathlib
import urllib.request
from collections.abc import Iterator

import grpc
import numpy as np
import onnxruntime as ort
import pytest
import soundfile
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, summary_pb2
from laughter_server.inference.laughter_model import BatchedLaughterModel, TritonLaughterModel
from laughter_server.inference.supervisor import TritonProcess

from tests.conftest import REPO, TRITON_START_TIMEOUT_S, ServerThread, make_settings, wait_serving

pytestmark = pytest.mark.integration

MODELS = REPO / "server" / "laughter_server" / "models" / "audio"
STACKED = MODELS / "laughter-audio-1.5.0.skops"
STACKED_INT8 = MODELS / "laughter-audio-1.5.1.skops"
FIXTURE = REPO / "tests" / "fixtures" / "resnet_frontend.npz"
CLIPS = ("audio/speech/codec2-examples__raw_cross.wav", "audio/laughter/btanks-data__sounds_laugh01.wav")
Stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub


def wav_of(dev_data: pathlib.Path) -> bytes:
    """Speech then a laugh, as one 16 kHz wav."""
    samples = np.concatenate([soundfile.read(dev_data / c, dtype="float32")[0] for c in CLIPS])
    out = io.BytesIO()
    soundfile.write(out, samples, 16000, format="WAV", subtype="PCM_16")
    return out.getvalue()


def analyze(address: str, content: bytes) -> summary_pb2.AnalysisResult:
    with grpc.insecure_channel(address) as channel:
        request = laughter_service_pb2.AnalyzeMediaRequest(content=content, filename="talk-and-laugh.wav")
        return Stub(channel).AnalyzeMedia(request, timeout=300).result


def resnet_requests(triton: TritonProcess, version: str = "1") -> int:
    """Successful inference requests Triton has served for laughter_resnet ``version``."""
    url = f"{triton.http_url}/v2/models/laughter_resnet/versions/{version}/stats"
    with urllib.request.urlopen(url, timeout=10) as reply:
        stats = json.loads(reply.read())
    return int(stats["model_stats"][0]["inference_stats"]["success"]["count"])


def analyze_with(triton: TritonProcess, model: pathlib.Path, content: bytes) -> summary_pb2.AnalysisResult:
    """``content`` analysed by a server over ``triton`` with audio model ``model``."""
    server = ServerThread(make_settings(triton_url=triton.grpc_url, audio_model=str(model))).start()
    try:
        wait_serving(server.address)
        return analyze(server.address, content)
    finally:
        server.stop()


def onnx_scores(version: str, windows: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(REPO / f"model_repository/laughter_resnet/{version}/model.onnx"))
    scores: np.ndarray = session.run(["probability"], {"melspec": windows})[0][:, 0]
    return scores


async def triton_scores(triton: TritonProcess, windows: np.ndarray, version: str = "1") -> np.ndarray:
    """The windows scored one request each through the micro-batcher, as analyses send them."""
    model = BatchedLaughterModel(TritonLaughterModel(triton.grpc_url))
    try:
        assert await model.is_ready(version)
        parts = await asyncio.gather(*(model.score(windows[i : i + 1], version) for i in range(len(windows))))
        return np.concatenate(parts)
    finally:
        await model.close()


class TestTritonResnet:
    def test_triton_scores_as_the_onnx_file(self, triton: TritonProcess) -> None:
        """laughter_resnet through Triton and the micro-batcher gives the in-process onnxruntime outputs."""
        with np.load(FIXTURE) as data:
            windows = data["features"]
        expected = onnx_scores("1", windows)
        assert np.allclose(asyncio.run(triton_scores(triton, windows)), expected, atol=1e-5)
        assert float(expected.max()) > 0.5  # the dev laugh: the model finds laughter in it


class TestStackedAnalysis:
    def test_analysis_with_the_stack_uses_the_resnet(
        self, triton: TritonProcess, dev_data: pathlib.Path
    ) -> None:
        """An analysis with 1.5.0 reports that version, sends windows to laughter_resnet and has no notice."""
        before = resnet_requests(triton)
        result = analyze_with(triton, STACKED, wav_of(dev_data))
        assert resnet_requests(triton) > before
        versions = {m.name: m.version for m in result.summary.models}
        assert versions["laughter-audio"] == "1.5.0"
        codes = {n.code for n in result.summary.notices}
        assert summary_pb2.NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE not in codes
        assert len(result.events) >= 1


@pytest.fixture(name="triton_without_resnet")
def fixture_triton_without_resnet(tmp_path: pathlib.Path) -> Iterator[TritonProcess]:
    """A real Triton over a repository holding the face models but not laughter_resnet."""
    repository = tmp_path / "repository"
    repository.mkdir()
    for model in ("face_detector", "face_emotion", "face_expression", "face_landmarks"):
        (repository / model).symlink_to(REPO / "model_repository" / model, target_is_directory=True)
    process = TritonProcess(repository)
    process.start()
    try:
        process.wait_ready(TRITON_START_TIMEOUT_S)
        yield process
    finally:
        process.stop()


class TestFallback:
    def test_without_the_resnet_the_cues_model_scores_with_a_notice(
        self, triton_without_resnet: TritonProcess, dev_data: pathlib.Path
    ) -> None:
        """With laughter_resnet absent from Triton, 1.5.0 analyses still succeed, scored by the cues model
        (the same events as 1.4.0), and carry NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE."""
        content = wav_of(dev_data)
        results = {}
        for model in ("laughter-audio-1.5.0.skops", "laughter-audio-1.4.0.skops"):
            settings = make_settings(
                triton_url=triton_without_resnet.grpc_url, audio_model=str(MODELS / model)
            )
            server = ServerThread(settings).start()
            try:
                wait_serving(server.address)
                results[model] = analyze(server.address, content)
            finally:
                server.stop()
        stacked, cues = results["laughter-audio-1.5.0.skops"], results["laughter-audio-1.4.0.skops"]
        notices = {n.code: n.message for n in stacked.summary.notices}
        assert summary_pb2.NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE in notices
        assert "cues model alone" in notices[summary_pb2.NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE]
        assert summary_pb2.NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE not in {
            n.code for n in cues.summary.notices
        }
        spans = [
            [(e.start_offset.ToTimedelta(), e.end_offset.ToTimedelta()) for e in r.events]
            for r in (stacked, cues)
        ]
        assert spans[0] == spans[1]
        assert len(spans[0]) >= 1


class TestInt8Stack:
    def test_the_int8_configuration_serves_both_versions_and_1_5_1_uses_version_2(
        self, dev_data: pathlib.Path
    ) -> None:
        """Under ``--model-config-name=int8`` Triton scores version 2 as 2/model.onnx does (close to version 1,
        not equal) and version 1 as before; an analysis with 1.5.1 sends its windows to version 2 only, names
        1.5.1 and carries no fallback notice."""
        triton = TritonProcess(REPO / "model_repository", model_config_name="int8")
        triton.start()
        try:
            triton.wait_ready(TRITON_START_TIMEOUT_S)
            with np.load(FIXTURE) as data:
                windows = data["features"]
            int8 = asyncio.run(triton_scores(triton, windows, "2"))
            assert np.allclose(int8, onnx_scores("2", windows), atol=1e-5)
            fp32 = asyncio.run(triton_scores(triton, windows, "1"))
            assert np.allclose(fp32, onnx_scores("1", windows), atol=1e-5)
            assert 0 < float(np.max(np.abs(int8 - fp32))) < 0.2
            before = {version: resnet_requests(triton, version) for version in ("1", "2")}
            result = analyze_with(triton, STACKED_INT8, wav_of(dev_data))
            after = {version: resnet_requests(triton, version) for version in ("1", "2")}
        finally:
            triton.stop()
        assert after["2"] > before["2"]
        assert after["1"] == before["1"]
        assert {m.name: m.version for m in result.summary.models}["laughter-audio"] == "1.5.1"
        codes = {n.code for n in result.summary.notices}
        assert summary_pb2.NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE not in codes
        assert len(result.events) >= 1

    def test_1_5_1_over_the_default_configuration_falls_back_with_a_notice(
        self, triton: TritonProcess, dev_data: pathlib.Path
    ) -> None:
        """The default configuration serves version 1 only: 1.5.1 scores with its cues model, says which
        version and configuration it needs, and sends nothing to version 1."""
        before = resnet_requests(triton)
        result = analyze_with(triton, STACKED_INT8, wav_of(dev_data))
        assert resnet_requests(triton) == before
        notices = {n.code: n.message for n in result.summary.notices}
        assert (
            "--triton-model-config-name int8"
            in notices[summary_pb2.NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE]
        )
