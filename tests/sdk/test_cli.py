"""The ``laughter`` command: arguments, output and exit codes."""

from __future__ import annotations

import io
import json
import pathlib
import sys
from typing import Any

import laughter
import pytest
from laughter._cli import main
from laughter._cli_stream import update_line
from laughter._convert import event_from_proto


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run the command in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


class TestCliArguments:
    """Usage, help and local errors, without a server."""

    def test_help_has_examples(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help exits 0 and shows examples and exit codes."""
        assert main(["--help"]) == 0
        text = capsys.readouterr().out
        assert "laughter analyze samples/sample.mp4" in text
        assert "exit codes" in text

    def test_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown flag exits 2."""
        assert main(["analyze", "x.mp4", "--bogus"]) == 2
        assert "unrecognized arguments" in capsys.readouterr().err

    def test_missing_command(self) -> None:
        """No command is a usage error."""
        assert main([]) == 2

    def test_negative_fps(self) -> None:
        """A non-positive frame rate is refused by the parser."""
        assert main(["analyze", "x.mp4", "--fps", "0"]) == 2

    def test_missing_file(self, tmp_path: pathlib.Path, closed_address: str) -> None:
        """A missing file exits 2 with one line naming the file, no traceback."""
        code, out, err = run_cli("analyze", str(tmp_path / "absent.mp4"), "--address", closed_address)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1
        assert "absent.mp4" in err
        assert "Traceback" not in err

    def test_bad_env_timeout(self, monkeypatch: pytest.MonkeyPatch, sample_path: pathlib.Path) -> None:
        """An invalid LAUGHTER_TIMEOUT_S is a usage error."""
        monkeypatch.setenv("LAUGHTER_TIMEOUT_S", "soon")
        code, _, err = run_cli("analyze", str(sample_path))
        assert code == 2
        assert "soon" in err

    def test_closed_port(self, closed_address: str, sample_path: pathlib.Path) -> None:
        """An unreachable server exits 4 and names the address."""
        code, _, err = run_cli("analyze", str(sample_path), "--address", closed_address, "--timeout", "5")
        assert code == 4
        assert closed_address in err
        assert "UNAVAILABLE" in err

    def test_address_from_env(self, monkeypatch: pytest.MonkeyPatch, closed_address: str) -> None:
        """LAUGHTER_ADDRESS is used when --address is absent."""
        monkeypatch.setenv("LAUGHTER_ADDRESS", closed_address)
        code, _, err = run_cli("health")
        assert code == 4
        assert closed_address in err


class TestCliAgainstScriptedServer:
    """Output and exit codes over a real transport (the scripted in-process server)."""

    def test_table(self, scripted_server: tuple[str, Any], sample_path: pathlib.Path) -> None:
        """analyze prints the events table and the summary."""
        code, out, _ = run_cli("analyze", str(sample_path), "--address", scripted_server[0], "--plain")
        assert code == 0
        assert "Laughter events" in out
        assert "Joyful Laugh" in out
        assert "audio+face" in out
        assert "laughs per minute" in out
        assert "95% CI 1.50 to 12.25, poisson-exact" in out
        assert "face_emotion" in out

    def test_table_without_rich(
        self, scripted_server: tuple[str, Any], sample_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without rich installed the same content prints as plain text."""
        monkeypatch.setitem(sys.modules, "rich", None)
        monkeypatch.setitem(sys.modules, "rich.console", None)
        code, out, _ = run_cli("analyze", str(sample_path), "--address", scripted_server[0])
        assert code == 0
        assert "Laughter events\n===============" in out

    def test_json(self, scripted_server: tuple[str, Any], sample_path: pathlib.Path) -> None:
        """--json prints the result's to_dict()."""
        code, out, _ = run_cli("analyze", str(sample_path), "--address", scripted_server[0], "--json")
        assert code == 0
        data = json.loads(out)
        assert [event["event_id"] for event in data["events"]] == ["evt-0001", "evt-0002"]
        assert data["summary"]["dominant_laughter_type"] == "Soft Chuckle"

    def test_rejected_file(self, scripted_server: tuple[str, Any], test_data: pathlib.Path) -> None:
        """A file the server rejects exits 3 with the server's message and reason."""
        code, _, err = run_cli("analyze", str(test_data / "random.bin"), "--address", scripted_server[0])
        assert code == 3
        assert err == "laughter: error: media cannot be decoded [INVALID_ARGUMENT MEDIA_UNDECODABLE]\n"

    def test_health_and_models(self, scripted_server: tuple[str, Any]) -> None:
        """health prints the status and exits 0 when serving; models lists names and versions."""
        code, out, _ = run_cli("health", "--address", scripted_server[0])
        assert (code, out) == (0, f"{scripted_server[0]}: serving\n")
        code, out, _ = run_cli("models", "--address", scripted_server[0], "--json")
        assert code == 0
        assert json.loads(out)[0]["sha256"] == "ab" * 32


class TestStreamCommands:
    """``stream`` and ``live`` without a server: usage and local errors."""

    def test_help_lists_them(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The top-level help names both commands and shows their examples."""
        assert main(["--help"]) == 0
        text = capsys.readouterr().out
        assert "laughter stream samples/sample.mp4" in text
        assert "laughter live --camera 0" in text

    def test_no_camera(self, closed_address: str) -> None:
        """live with no camera at the index exits 2 with one line naming it, before any call."""
        code, out, err = run_cli("live", "--camera", "7", "--address", closed_address)
        assert code == 2
        assert out == ""
        assert "camera 7 cannot be opened" in err
        assert "Traceback" not in err

    def test_missing_file(self, tmp_path: pathlib.Path, closed_address: str) -> None:
        """stream of a missing file exits 2."""
        code, _, err = run_cli("stream", str(tmp_path / "absent.mp4"), "--address", closed_address)
        assert code == 2
        assert "absent.mp4" in err

    def test_undecodable_file(self, test_data: pathlib.Path, closed_address: str) -> None:
        """stream of a file PyAV cannot open exits 2 (a local problem)."""
        code, _, err = run_cli("stream", str(test_data / "random.bin"), "--address", closed_address)
        assert code == 2
        assert "cannot be decoded" in err

    def test_json_and_jsonl_conflict(self, sample_path: pathlib.Path, closed_address: str) -> None:
        """--json with --jsonl is a usage error."""
        code, out, _ = run_cli("stream", str(sample_path), "--json", "--jsonl", "--address", closed_address)
        assert (code, out) == (2, "")

    def test_server_down(self, sample_path: pathlib.Path, closed_address: str) -> None:
        """stream to a closed port exits 4 and names the address."""
        code, _, err = run_cli("stream", str(sample_path), "--address", closed_address, "--timeout", "5")
        assert code == 4
        assert closed_address in err


class TestUpdateLines:
    """The text lines ``stream`` prints for updates."""

    def test_event_lines(self, result_proto: Any) -> None:
        """Started and ended events give aligned lines with type, confidence and face; ONGOING none."""
        event = event_from_proto(result_proto.events[0])
        started = update_line(laughter.EventUpdate(phase=laughter.EventPhase.STARTED, event=event))
        ended = update_line(laughter.EventUpdate(phase=laughter.EventPhase.ENDED, event=event))
        ongoing = update_line(laughter.EventUpdate(phase=laughter.EventPhase.ONGOING, event=event))
        assert started == "   1.25 s         laughter started  Joyful Laugh, confidence 0.88, face 0"
        assert ended == "   1.25-   3.50 s laughter ended    Joyful Laugh, confidence 0.88, face 0 (2.25 s)"
        assert started.index("laughter") == ended.index("laughter")
        assert ongoing == ""

    def test_warning_line(self) -> None:
        """A warning line shows reason, field and message."""
        warning = laughter.SessionWarning(
            reason="CHUNK_INVALID", field="chunk.frame.data", message="not a JPEG", code="OK"
        )
        assert update_line(warning) == "warning: CHUNK_INVALID chunk.frame.data: not a JPEG"
