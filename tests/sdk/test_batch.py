"""Batch analysis: results as files finish, a bounded number in flight, failures per file; over a scripted
transport, then against the real server (30 files with bad ones; a server restarted mid-batch)."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import laughter
import pytest
from google.rpc import code_pb2
from laughter import AsyncLaughterClient, ClientOptions, FileResult, LaughterClient, RetryPolicy
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from laughter_server.inference.supervisor import find_free_ports

from tests.conftest import ServerThread, make_settings, wait_serving
from tests.sdk.conftest import build_result_proto, rich_status

MP4_HEADER = b"\0\0\0\x20ftypisom"
ANALYSIS_TIMEOUT_S = 240.0


class SlowServicer(laughter_service_pb2_grpc.LaughterAnalysisServiceServicer):
    """Answers after the delay written in the media (``b"delay=0.2"``), counting calls in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0

    def AnalyzeMedia(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self._lock:
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(float(request.content.split(b"delay=")[1]))
        finally:
            with self._lock:
                self.in_flight -= 1
        if request.content[4:8] != b"ftyp":
            context.abort_with_status(
                rich_status(code_pb2.INVALID_ARGUMENT, "cannot decode", "MEDIA_UNDECODABLE")
            )
        return laughter_service_pb2.AnalyzeMediaResponse(result=build_result_proto())


@pytest.fixture(name="slow")
def fixture_slow() -> Iterator[tuple[str, SlowServicer]]:
    """An in-process server with a fresh SlowServicer and room for 16 calls at once."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    servicer = SlowServicer()
    laughter_service_pb2_grpc.add_LaughterAnalysisServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(grace=None)


def write_media(folder: pathlib.Path, name: str, delay_s: float, *, valid: bool = True) -> pathlib.Path:
    path = folder / name
    path.write_bytes((MP4_HEADER if valid else b"garbage!garbage!") + b"delay=" + str(delay_s).encode())
    return path


class TestAnalyzeFilesScripted:
    """analyze_files over a real transport with a scripted server."""

    def test_completion_order_and_errors(
        self, slow: tuple[str, SlowServicer], tmp_path: pathlib.Path
    ) -> None:
        """Results come as files finish; local and server failures are per file and the batch goes on."""
        address, _ = slow
        paths = [
            write_media(tmp_path, "slow.mp4", 0.6),
            write_media(tmp_path, "fast.mp4", 0.0),
            write_media(tmp_path, "bad.bin", 0.0, valid=False),
            tmp_path / "absent.mp4",
            tmp_path,
        ]
        with LaughterClient(address) as client:
            items = list(client.analyze_files(paths, concurrency=5))
        by_name = {pathlib.Path(item.path).name: item for item in items}
        assert len(items) == 5
        assert items[-1].path == str(paths[0]), "the slow file finishes last"
        assert by_name["fast.mp4"].is_ok
        assert by_name["fast.mp4"].result is not None
        assert by_name["fast.mp4"].attempts == 1
        assert isinstance(by_name["bad.bin"].error, laughter.InvalidMediaError)
        assert by_name["bad.bin"].error.reason == "MEDIA_UNDECODABLE"
        assert isinstance(by_name["absent.mp4"].error, laughter.MediaFileNotFoundError)
        assert by_name["absent.mp4"].attempts == 0
        assert isinstance(by_name[tmp_path.name].error, laughter.MediaIsADirectoryError)
        assert by_name["slow.mp4"].elapsed_s >= 0.6

    def test_bounded_in_flight(self, slow: tuple[str, SlowServicer], tmp_path: pathlib.Path) -> None:
        """No more than ``concurrency`` calls are in flight, and the window is used."""
        address, servicer = slow
        paths = [write_media(tmp_path, f"clip{i}.mp4", 0.15) for i in range(9)]
        with LaughterClient(address) as client:
            items = list(client.analyze_files(iter(paths), concurrency=3))
        assert all(item.is_ok for item in items)
        assert servicer.max_in_flight == 3

    def test_leaving_early_cancels_the_rest(
        self, slow: tuple[str, SlowServicer], tmp_path: pathlib.Path
    ) -> None:
        """Closing the iterator after one result starts no further files."""
        address, servicer = slow
        paths = [write_media(tmp_path, f"clip{i}.mp4", 0.1) for i in range(20)]
        with LaughterClient(address) as client:
            batch = client.analyze_files(paths, concurrency=2)
            first = next(batch)
            batch.close()  # type: ignore[attr-defined]
            time.sleep(0.3)
        assert first.is_ok
        assert servicer.calls <= 4

    async def test_async_batch(self, slow: tuple[str, SlowServicer], tmp_path: pathlib.Path) -> None:
        """The async client yields the same per-file outcomes, bounded the same way."""
        address, servicer = slow
        paths = [write_media(tmp_path, f"clip{i}.mp4", 0.1) for i in range(6)]
        paths.append(write_media(tmp_path, "bad.bin", 0.0, valid=False))
        async with AsyncLaughterClient(address) as client:
            items = [item async for item in client.analyze_files(paths, concurrency=2)]
        assert len(items) == 7
        assert sum(item.is_ok for item in items) == 6
        assert servicer.max_in_flight == 2

    def test_concurrency_must_be_positive(self, slow: tuple[str, SlowServicer]) -> None:
        """A window of zero is refused when the call is made."""
        with LaughterClient(slow[0]) as client, pytest.raises(ValueError, match="concurrency"):
            client.analyze_files([], concurrency=0)


class TestFileResult:
    """FileResult's JSON record."""

    def test_error_record(self) -> None:
        """A failed file's record carries the server's code, reason and message."""
        error = laughter.InvalidMediaError(
            "cannot decode", code="INVALID_ARGUMENT", reason="MEDIA_UNDECODABLE"
        )
        record = json.loads(json.dumps(FileResult("a.bin", None, error, 0.25, 1).to_dict()))
        assert record["ok"] is False
        assert record["error"]["code"] == "INVALID_ARGUMENT"
        assert record["error"]["reason"] == "MEDIA_UNDECODABLE"
        assert record["error"]["message"] == "cannot decode"
        assert record["error"]["type"] == "InvalidMediaError"
        assert "result" not in record


def build_batch(folder: pathlib.Path, sample: pathlib.Path, data: pathlib.Path) -> dict[str, str]:
    """30 paths in ``folder`` and what each should give: "sample", a fixture's name, or an error kind."""
    expected: dict[str, str] = {}
    for index in range(4):
        expected[str(shutil.copy(sample, folder / f"sample_{index}.mp4"))] = "sample"
    for name, count in (
        ("audio_only.wav", 6),
        ("video_no_audio.mp4", 6),
        ("silence.wav", 6),
        ("no_faces.mp4", 3),
    ):
        for index in range(count):
            path = folder / f"{index}_{name}"
            shutil.copy(data / name, path)
            expected[str(path)] = name
    (folder / "random.bin").write_bytes(bytes(range(256)) * 64)
    expected[str(folder / "random.bin")] = "MEDIA_UNDECODABLE"
    expected[str(shutil.copy(data / "image.jpg", folder / "image.jpg"))] = "MEDIA_IS_STILL_IMAGE"
    expected[str(shutil.copy(data / "empty.bin", folder / "empty.bin"))] = "MEDIA_EMPTY"
    expected[str(folder / "absent.mp4")] = "missing"
    (folder / "subfolder").mkdir()
    expected[str(folder / "subfolder")] = "directory"
    return expected


@pytest.mark.integration
class TestBatchWithServer:
    """analyze_files against the real server."""

    def test_thirty_files(
        self, server_address: str, tmp_path: pathlib.Path, sample_path: pathlib.Path, test_data: pathlib.Path
    ) -> None:
        """30 files with five bad ones: every good file is analysed, every bad one has its own error."""
        expected = build_batch(tmp_path, sample_path, test_data)
        assert len(expected) == 30
        with LaughterClient(server_address) as client:
            items = list(client.analyze_files(expected, concurrency=8, timeout_s=ANALYSIS_TIMEOUT_S))
        assert sorted(item.path for item in items) == sorted(expected)
        sample_counts = set()
        for item in items:
            kind = expected[item.path]
            if kind == "missing":
                assert isinstance(item.error, laughter.MediaFileNotFoundError)
            elif kind == "directory":
                assert isinstance(item.error, laughter.MediaIsADirectoryError)
            elif kind.startswith("MEDIA_"):
                assert isinstance(item.error, laughter.InvalidMediaError), item
                assert item.error.reason == kind
                assert item.error.message
            else:
                assert item.result is not None, item.error
                media = item.result.summary.media
                if kind == "sample":
                    sample_counts.add(len(item.result.events))
                    assert media.has_video
                    assert media.has_audio
                elif kind == "audio_only.wav":
                    assert item.result.events
                    assert not media.has_video
                elif kind == "silence.wav":
                    assert not item.result.events
                elif kind == "no_faces.mp4":
                    assert media.faces_detected == 0
        assert len(sample_counts) == 1, "copies of one file give the same events"
        assert sample_counts.pop() > 0

    async def test_async_batch(
        self, server_address: str, tmp_path: pathlib.Path, test_data: pathlib.Path
    ) -> None:
        """The async client analyses a small batch with a bad file."""
        paths = [shutil.copy(test_data / "audio_only.wav", tmp_path / f"{i}.wav") for i in range(3)]
        paths.append(shutil.copy(test_data / "random.bin", tmp_path / "random.bin"))
        async with AsyncLaughterClient(server_address) as client:
            items = [
                item
                async for item in client.analyze_files(paths, concurrency=4, timeout_s=ANALYSIS_TIMEOUT_S)
            ]
        assert sum(item.is_ok for item in items) == 3
        assert [item.error.reason for item in items if isinstance(item.error, laughter.ApiError)] == [
            "MEDIA_UNDECODABLE"
        ]

    def test_deadline_expires_mid_batch(
        self, server_address: str, tmp_path: pathlib.Path, sample_path: pathlib.Path, test_data: pathlib.Path
    ) -> None:
        """Files whose analysis outlives the deadline get a per-file DeadlineExceededError; the rest succeed."""
        quick = [shutil.copy(test_data / "silence.wav", tmp_path / f"quiet-{i}.wav") for i in range(2)]
        slow = []
        for i in range(2):  # bytes of their own after the last box: the server's result cache cannot answer
            path = tmp_path / f"long-{i}.mp4"
            path.write_bytes(sample_path.read_bytes() + b"\0\0\0\x10free" + os.urandom(8))
            slow.append(path)
        with LaughterClient(server_address) as client:
            items = list(client.analyze_files([*slow, *quick], concurrency=4, timeout_s=1.0))
        by_path = {item.path: item for item in items}
        for path in slow:
            assert isinstance(by_path[str(path)].error, laughter.DeadlineExceededError), by_path[str(path)]
        for path in quick:
            assert by_path[str(path)].is_ok, by_path[str(path)].error

    def test_server_restarted_mid_batch(
        self, triton: Any, tmp_path: pathlib.Path, test_data: pathlib.Path
    ) -> None:
        """A server stopped and started again on the same port: every file succeeds, after retries."""
        port = find_free_ports(1)[0]
        settings = make_settings(triton_url=triton.grpc_url)
        listen = f"127.0.0.1:{port}"
        server = ServerThread(settings, listen=listen).start()
        wait_serving(server.address)
        names = ("audio_only.wav", "silence.wav", "video_no_audio.mp4")
        paths = [shutil.copy(test_data / names[i % 3], tmp_path / f"{i}_{names[i % 3]}") for i in range(12)]
        options = ClientOptions(
            address=listen,
            timeout_s=ANALYSIS_TIMEOUT_S,
            retry=RetryPolicy(max_attempts=30, initial_backoff_s=0.2, max_backoff_s=1.0),
        )
        restarted: list[ServerThread] = []

        def restart() -> None:
            server.stop()
            time.sleep(1.0)
            restarted.append(ServerThread(settings, listen=listen).start())

        items = []
        restarter = threading.Thread(target=restart)
        try:
            with LaughterClient(options=options) as client:
                # fresh: copies of one file would otherwise be answered from the results cache in
                # milliseconds, and the batch could end before the server goes down; the restart runs
                # beside the loop, so that files are started while the server is down
                for item in client.analyze_files(paths, concurrency=2, fresh=True):
                    items.append(item)
                    if len(items) == 2:
                        restarter.start()
        finally:
            restarter.join(timeout=60)
            for running in restarted:
                running.stop()
        assert restarted, "the server was started again"
        assert [item.error for item in items if not item.is_ok] == []
        assert len(items) == 12
        assert sum(item.attempts for item in items) > len(items), "at least one call was retried"
