"""The stacked audio model (1.5.0) against the real Triton: the ResNet served by Triton scores what the
in-process ONNX file scores, an analysis with 1.5.0 sends windows to it, and without it the analysis falls
back to the cues model with a notice."""

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


def resnet_requests(triton: TritonProcess) -> int:
    """Successful inference requests Triton has served for laughter_resnet."""
    with urllib.request.urlopen(triton.http_url + "/v2/models/laughter_resnet/stats", timeout=10) as reply:
        stats = json.loads(reply.read())
    return int(stats["model_stats"][0]["inference_stats"]["success"]["count"])


class TestTritonResnet:
    def test_triton_scores_as_the_onnx_file(self, triton: TritonProcess) -> None:
        """laughter_resnet through Triton and the micro-batcher gives the in-process onnxruntime outputs."""
        with np.load(FIXTURE) as data:
            windows = data["features"]
        session = ort.InferenceSession(str(REPO / "model_repository/laughter_resnet/1/model.onnx"))
        expected = session.run(["probability"], {"melspec": windows})[0][:, 0]

        async def score() -> np.ndarray:
            model = BatchedLaughterModel(TritonLaughterModel(triton.grpc_url))
            try:
                assert await model.is_ready()
                parts = await asyncio.gather(*(model.score(windows[i : i + 1]) for i in range(len(windows))))
                return np.concatenate(parts)
            finally:
                await model.close()

        assert np.allclose(asyncio.run(score()), expected, atol=1e-5)
        assert float(expected.max()) > 0.5  # the dev laugh: the model finds laughter in it


class TestStackedAnalysis:
    def test_analysis_with_the_stack_uses_the_resnet(
        self, triton: TritonProcess, dev_data: pathlib.Path
    ) -> None:
        """An analysis with 1.5.0 reports that version, sends windows to laughter_resnet and has no notice."""
        server = ServerThread(make_settings(triton_url=triton.grpc_url, audio_model=str(STACKED))).start()
        try:
            wait_serving(server.address)
            before = resnet_requests(triton)
            result = analyze(server.address, wav_of(dev_data))
        finally:
            server.stop()
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
