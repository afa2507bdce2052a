"""Start the server (and its local Triton), analyse one media file with the ``laughter`` CLI, stop it.

    python tools/demo.py samples/sample.mp4 [--json] [--startup-timeout 180]

The server runs as the ``laughter-server`` script next to this interpreter, on a free loopback port with
metrics off. Readiness is the gRPC health service reporting SERVING; if the server exits first, its output
is printed and the demo fails. The server is stopped with SIGTERM (then killed if it does not stop).
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from laughter import HealthStatus, LaughterClient, LaughterError
from laughter._cli import EXIT_SERVER_FAULT
from laughter._cli import main as laughter_main

SERVER_SCRIPT = pathlib.Path(sys.executable).parent / "laughter-server"
STARTUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.25
OUTPUT_LINES_KEPT = 200
MAX_LINE_CHARS = 2000


def free_port() -> int:
    """A loopback port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """``laughter-server`` as a child process whose output is kept for reporting a failed start."""

    def __init__(self, address: str, web_listen: str = "") -> None:
        self.address = address
        self.output: collections.deque[str] = collections.deque(maxlen=OUTPUT_LINES_KEPT)
        self.process = subprocess.Popen(
            [str(SERVER_SCRIPT), "--listen", address, "--metrics-port", "0"]
            + (["--web-listen", web_listen] if web_listen else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read_output, name="server-output", daemon=True)
        self._reader.start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n")[:MAX_LINE_CHARS])

    def wait_serving(self, timeout_s: float) -> None:
        """Poll grpc.health.v1 until SERVING; raise RuntimeError if the process exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        with LaughterClient(self.address) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"laughter-server exited with code {self.process.returncode} while starting"
                    )
                try:
                    if client.health(timeout_s=2.0) is HealthStatus.SERVING:
                        return
                except LaughterError:
                    pass  # not listening yet, or Triton still loading: poll again
                time.sleep(POLL_INTERVAL_S)
        raise RuntimeError(f"laughter-server was not SERVING within {timeout_s:.0f} s")

    def stop(self) -> int:
        """SIGTERM, wait for the graceful shutdown, kill if it hangs; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5.0)
        return self.process.returncode

    def print_output(self) -> None:
        """Print the server's last output lines to stderr."""
        sys.stderr.write("---- laughter-server output (last lines) ----\n")
        sys.stderr.write("\n".join(self.output) + "\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's arguments."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sample", type=pathlib.Path, help="media file to analyse")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    parser.add_argument("--startup-timeout", type=float, default=STARTUP_TIMEOUT_S, metavar="S")
    parser.add_argument(
        "--web-listen",
        default="",
        metavar="HOST:PORT",
        help="also serve the browser page there; on a terminal the demo then waits for Enter before stopping",
    )
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit code (the CLI's, or 1 when the server failed to start). The server's
    output is printed when it failed to start or answered with a server fault."""
    args = parse_args(argv)
    if not args.sample.is_file():
        sys.stderr.write(f"demo: no such file: {args.sample}\n")
        return 2
    if not SERVER_SCRIPT.is_file():
        sys.stderr.write(f"demo: {SERVER_SCRIPT} not found; run `make setup` first\n")
        return 2
    # SIGTERM to the demo unwinds like Ctrl-C, so the server is always stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    address = f"127.0.0.1:{free_port()}"
    print(f"Starting laughter-server on {address} (it starts a local Triton first) ...", flush=True)
    server = ServerProcess(address, args.web_listen)
    started = time.monotonic()
    try:
        try:
            server.wait_serving(args.startup_timeout)
        except RuntimeError as exc:
            sys.stderr.write(f"demo: {exc}\n")
            server.stop()
            server.print_output()
            return 1
        print(
            f"Server ready after {time.monotonic() - started:.1f} s; analysing {args.sample} ...\n",
            flush=True,
        )
        cli_args = ["analyze", str(args.sample), "--address", address] + (["--json"] if args.json else [])
        code = laughter_main(cli_args)
        if args.web_listen and sys.stdin.isatty():
            input(f"\nThe page is at http://{args.web_listen}/ (Live and File views). Press Enter to stop. ")
    finally:
        stopped = server.stop()
    print(f"\nServer stopped (exit code {stopped}).", flush=True)
    if code == EXIT_SERVER_FAULT:
        server.print_output()
    return code


if __name__ == "__main__":
    sys.exit(run())
