"""``laughter analyze FILES...``: progress, JSON lines, the final table and exit codes of a batch."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import shutil

import pytest
from laughter._cli import main

from tests.sdk.conftest import ScriptedServicer

MP4_HEADER = b"\0\0\0\x20ftypisom" + b"\0" * 32


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run the command in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(name="clips")
def fixture_clips(tmp_path: pathlib.Path) -> list[str]:
    """Two files the scripted server accepts and one it rejects."""
    paths = []
    for name, content in (("a.mp4", MP4_HEADER), ("b.mp4", MP4_HEADER), ("bad.bin", b"not media at all")):
        (tmp_path / name).write_bytes(content)
        paths.append(str(tmp_path / name))
    return paths


class TestBatchCommand:
    """Several files over a real transport (the scripted server)."""

    def test_table_progress_and_out(
        self, scripted_server: tuple[str, ScriptedServicer], clips: list[str], tmp_path: pathlib.Path
    ) -> None:
        """Exit 3 when a file fails; one JSON line per file; a counter on stderr; a final table."""
        out_file = tmp_path / "results.jsonl"
        code, out, err = run_cli(
            "analyze",
            *clips,
            "--address",
            scripted_server[0],
            "--jobs",
            "2",
            "--out",
            str(out_file),
            "--plain",
        )
        assert code == 3
        records = [json.loads(line) for line in out_file.read_text().splitlines()]
        assert sorted(pathlib.Path(r["path"]).name for r in records) == ["a.mp4", "b.mp4", "bad.bin"]
        bad = next(r for r in records if r["path"].endswith("bad.bin"))
        assert bad["ok"] is False
        assert bad["error"]["reason"] == "MEDIA_UNDECODABLE"
        assert bad["error"]["message"] == "media cannot be decoded"
        assert all(r["result"]["events"] for r in records if r["ok"])
        assert "[3/3]" in err
        assert "1 of 3 files failed" in err
        assert "Batch: 2 of 3 files analysed, 1 failed" in out
        assert "Soft Chuckle" in out
        assert "MEDIA_UNDECODABLE" in out
        assert out.index("a.mp4") < out.index("b.mp4") < out.index("bad.bin"), "rows in the order given"

    def test_all_ok_exits_zero(self, scripted_server: tuple[str, ScriptedServicer], clips: list[str]) -> None:
        """Every file analysed: exit 0."""
        code, _, err = run_cli("analyze", *clips[:2], "--address", scripted_server[0])
        assert code == 0
        assert "failed" not in err

    def test_csv(self, scripted_server: tuple[str, ScriptedServicer], clips: list[str]) -> None:
        """--csv prints a header and one row per file, errors included."""
        code, out, _ = run_cli("analyze", *clips, "--address", scripted_server[0], "--csv")
        assert code == 3
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [pathlib.Path(row["file"]).name for row in rows] == ["a.mp4", "b.mp4", "bad.bin"]
        assert rows[0]["events"] == "2"
        assert rows[0]["dominant_type"] == "Soft Chuckle"
        assert rows[2]["error_code"] == "INVALID_ARGUMENT"
        assert rows[2]["ok"] == "False"

    def test_jsonl_to_stdout(self, scripted_server: tuple[str, ScriptedServicer], clips: list[str]) -> None:
        """--jsonl prints one record per file, even for a single file."""
        code, out, _ = run_cli("analyze", clips[0], "--address", scripted_server[0], "--jsonl")
        assert code == 0
        (record,) = [json.loads(line) for line in out.splitlines()]
        assert record["ok"] is True

    def test_single_file_with_out(
        self, scripted_server: tuple[str, ScriptedServicer], clips: list[str], tmp_path: pathlib.Path
    ) -> None:
        """One file keeps today's tables, and --out still gets its record."""
        out_file = tmp_path / "one.jsonl"
        code, out, _ = run_cli(
            "analyze", clips[0], "--address", scripted_server[0], "--out", str(out_file), "--plain"
        )
        assert code == 0
        assert "Laughter events" in out
        assert json.loads(out_file.read_text())["ok"] is True

    def test_server_down(self, closed_address: str, clips: list[str]) -> None:
        """Every file unreachable: exit 4, each file's error in the table."""
        code, out, _ = run_cli("analyze", *clips, "--address", closed_address, "--retries", "0", "--plain")
        assert code == 4
        assert out.count("UNAVAILABLE") == 3

    def test_missing_and_directory(
        self, scripted_server: tuple[str, ScriptedServicer], clips: list[str], tmp_path: pathlib.Path
    ) -> None:
        """Local failures in a batch are per file: exit 3 and no traceback."""
        code, out, err = run_cli(
            "analyze", clips[0], str(tmp_path / "absent.mp4"), str(tmp_path), "--address", scripted_server[0]
        )
        assert code == 3
        assert "media file not found" in out
        assert "directory" in out
        assert "Traceback" not in err

    def test_usage(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--jobs 0 and --cert without --key are usage errors; --help shows the batch flags and examples."""
        assert main(["analyze", "a.mp4", "--jobs", "0"]) == 2
        assert run_cli("models", "--cert", "c.pem")[0] == 2
        assert main(["analyze", "--help"]) == 0
        text = capsys.readouterr().out
        for flag in ("--jobs", "--out", "--csv", "--jsonl", "--tls", "--ca", "--token", "--retries"):
            assert flag in text
        assert "--jobs 8 --out results.jsonl" in text


@pytest.mark.integration
class TestBatchCommandWithServer:
    """The batch command against the real server."""

    def test_batch(self, server_address: str, test_data: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """Three good files and a still image: exit 3, the image rejected with MEDIA_IS_STILL_IMAGE."""
        paths = [str(shutil.copy(test_data / "audio_only.wav", tmp_path / f"{i}.wav")) for i in range(3)]
        paths.append(str(test_data / "image.jpg"))
        out_file = tmp_path / "results.jsonl"
        code, out, _ = run_cli(
            "analyze", *paths, "--address", server_address, "--jobs", "4", "--out", str(out_file)
        )
        assert code == 3
        records = [json.loads(line) for line in out_file.read_text().splitlines()]
        assert sum(r["ok"] for r in records) == 3
        assert [r["error"]["reason"] for r in records if not r["ok"]] == ["MEDIA_IS_STILL_IMAGE"]
        assert "image.jpg" in out
