"""The ``--workers`` launcher's pure parts: the worker command line, the port reservation, the setting."""

from __future__ import annotations

import os
import pathlib
import socket

import pytest
from laughter_server.config import load_settings
from laughter_server.errors import InvalidOptionError
from laughter_server.inference.supervisor import find_free_ports
from laughter_server.workers import WorkerPool, available_cores, reserve_port


class TestWorkerCommand:
    def test_parent_flags_then_overrides(self, tmp_path: pathlib.Path) -> None:
        """The worker gets the parent's flags, the shared Triton, no metrics port of its own, one process."""
        pool = WorkerPool(
            ["--listen", "127.0.0.1:5000", "--web-listen", "127.0.0.1:8080"], "127.0.0.1:9", 2, tmp_path
        )
        command = pool.command(0)
        assert command[1:4] == ["-m", "laughter_server.workers", "0"]
        settings = load_settings(command[4:], {})
        assert (settings.triton_url, settings.metrics_port, settings.workers) == ("127.0.0.1:9", 0, 1)
        assert settings.web_listen == "127.0.0.1:8080"  # worker 0 serves the web port

    def test_only_worker_zero_serves_the_web_port(self, tmp_path: pathlib.Path) -> None:
        pool = WorkerPool(["--web-listen", "127.0.0.1:8080"], "127.0.0.1:9", 3, tmp_path)
        assert load_settings(pool.command(2)[4:], {}).web_listen == ""


class TestReservePort:
    def test_port_zero_refused(self) -> None:
        with pytest.raises(InvalidOptionError, match="fixed port"):
            reserve_port("127.0.0.1:0")

    def test_port_in_use_refused(self) -> None:
        (port,) = find_free_ports(1)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", port))
            taken.listen(1)
            with pytest.raises(InvalidOptionError, match="in use"):
                reserve_port(f"127.0.0.1:{port}")

    def test_workers_can_still_bind(self) -> None:
        """The reservation (bound, not listening) leaves the port to SO_REUSEPORT listeners."""
        (port,) = find_free_ports(1)
        reserved = reserve_port(f"127.0.0.1:{port}")
        try:
            with socket.socket() as worker:
                worker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                worker.bind(("127.0.0.1", port))
                worker.listen(1)
        finally:
            reserved.close()


class TestSetting:
    def test_default_is_every_core(self) -> None:
        assert load_settings([], {}).workers == 0
        assert available_cores() >= 1

    def test_cgroup_quota_caps_the_cores(self, tmp_path: pathlib.Path) -> None:
        """A container limited to 1.5 CPUs gets 2 workers at most; no quota leaves the affinity."""
        cpu_max = tmp_path / "cpu.max"
        cpu_max.write_text("150000 100000\n")
        assert available_cores(cpu_max) == min(2, len(os.sched_getaffinity(0)))
        cpu_max.write_text("max 100000\n")
        assert available_cores(cpu_max) == len(os.sched_getaffinity(0))
        assert available_cores(tmp_path / "absent") == len(os.sched_getaffinity(0))

    @pytest.mark.parametrize("value", ["-1", "257"])
    def test_range(self, value: str) -> None:
        with pytest.raises(InvalidOptionError, match="workers"):
            load_settings(["--workers", value], {})
