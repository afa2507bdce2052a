"""``laughter``: analyse media files, stream a file or a camera, check the server's health, list its models.

Exit codes: 0 success; 1 server fault; 2 usage, local file or camera error; 3 the server rejected the
request (in a batch: some files failed); 4 the server is unavailable, not serving, or the deadline passed;
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from laughter._argtypes import non_negative_int, positive_float, positive_int
from laughter._cli_batch import run_analyze
from laughter._cli_results import add_results_commands, run_results, run_stats
from laughter._cli_stream import add_stream_commands, run_live, run_stream
from laughter._client import LaughterClient
from laughter._config import DEFAULT_ADDRESS, ClientOptions
from laughter._exceptions import (
    AlreadyExistsError,
    ApiError,
    ConfigurationError,
    FailedPreconditionError,
    InvalidArgumentError,
    LaughterError,
    MediaFileError,
    MediaSourceError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    TransportError,
)
from laughter._render import model_table, print_tables
from laughter._retry import RetryPolicy
from laughter._types import HealthStatus
from laughter.batch.cli import add_batch_commands, run_batch

EXIT_OK = 0
EXIT_SERVER_FAULT = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERRUPTED = 130
CONTROL_TIMEOUT_S = 10.0
REJECTED_ERRORS = (
    InvalidArgumentError,
    ResourceExhaustedError,
    FailedPreconditionError,
    NotFoundError,
    AlreadyExistsError,
    PermissionDeniedError,
)

EPILOG = """\
examples:
  laughter analyze samples/sample.mp4
  laughter analyze clip.webm --fps 10 --json > result.json
  laughter analyze talk.wav --no-video --address 10.0.0.5:50051 --timeout 600
  laughter analyze clip.mp4 --server 10.0.0.5:50051,10.0.0.6:50051
  laughter analyze clips/*.mp4 --jobs 8 --out results.jsonl    # progress bar, then one row per file
  laughter analyze a.mp4 b.wav --csv > results.csv
  laughter analyze clip.mp4 --tls --ca ca.pem --token "$TOKEN" --address laughter.example.com:443
  laughter analyze clip.mp4 --ca ca.pem --cert client.pem --key client.key   # mutual TLS
  laughter health
  laughter models --json
  laughter stream samples/sample.mp4                 # live events, then the summary
  laughter stream clip.mp4 --realtime --jsonl        # one JSON line per update, at the clip's pace
  laughter live --camera 0 --audio-wav room.wav      # until Ctrl-C, then the summary
  laughter batch submit archive/ --broker redis://queue:6379/0   # background job for laughter-worker

The server address comes from --address (or --server; a comma-separated list or dns:///NAME:PORT
balances over several servers), else LAUGHTER_ADDRESS, else {default}; the token from --token,
else LAUGHTER_AUTH_TOKEN. Idempotent calls are retried on UNAVAILABLE (--retries, default 3).
exit codes: 0 ok, 1 server fault, 2 usage, local file or camera error, 3 request rejected by the server
(several files: some failed), 4 server unavailable, not serving or deadline exceeded.
"""


def _add_connection_flags(common: argparse.ArgumentParser) -> None:
    group = common.add_argument_group("connection")
    group.add_argument("--tls", action="store_true", help="connect with TLS (system roots unless --ca)")
    group.add_argument(
        "--ca", default=None, metavar="FILE", help="PEM CA certificates of the server (implies --tls)"
    )
    group.add_argument("--cert", default=None, metavar="FILE", help="PEM client certificate, for mutual TLS")
    group.add_argument("--key", default=None, metavar="FILE", help="PEM private key of --cert")
    group.add_argument(
        "--token", default=None, metavar="TOKEN", help="bearer token (default: $LAUGHTER_AUTH_TOKEN)"
    )
    group.add_argument(
        "--retries",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="retries of a call on UNAVAILABLE (default 3)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``laughter`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--address",
        "--server",
        dest="address",
        default=None,
        metavar="HOST:PORT[,HOST:PORT...]",
        help="server address; several comma-separated, or dns:///NAME:PORT, are balanced round robin over "
        f"the healthy ones (default: $LAUGHTER_ADDRESS or {DEFAULT_ADDRESS})",
    )
    common.add_argument(
        "--timeout", type=positive_float, default=None, metavar="S", help="deadline of the call in seconds"
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of tables")
    common.add_argument("--plain", action="store_true", help="plain text tables even when rich is installed")
    _add_connection_flags(common)

    parser = argparse.ArgumentParser(
        prog="laughter",
        description="Find and classify laughter in video and audio with a laughter.v1 server.",
        epilog=EPILOG.format(default=DEFAULT_ADDRESS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyze = commands.add_parser(
        "analyze",
        parents=[common],
        help="analyse media files: one prints its events and summary, several run as a batch",
        epilog=EPILOG.format(default=DEFAULT_ADDRESS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument(
        "files", nargs="+", metavar="FILE", help="video or audio files (any format FFmpeg reads)"
    )
    analyze.add_argument(
        "--jobs",
        type=positive_int,
        default=8,
        metavar="N",
        help="files analysed at the same time (default 8)",
    )
    analyze.add_argument(
        "--out", default=None, metavar="FILE", help="write one JSON line per file (result or error) here"
    )
    formats = analyze.add_mutually_exclusive_group()
    formats.add_argument("--jsonl", action="store_true", help="print one JSON line per file as it finishes")
    formats.add_argument("--csv", action="store_true", help="print one CSV row per file")
    analyze.add_argument(
        "--fps",
        type=positive_float,
        default=None,
        metavar="F",
        help="video frames analysed per second (default 5)",
    )
    analyze.add_argument("--no-video", action="store_true", help="analyse the audio only")
    analyze.add_argument("--no-audio", action="store_true", help="analyse the faces only")
    analyze.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="T",
        help="laughter score that starts an event, [0, 1)",
    )
    analyze.add_argument(
        "--face-samples", action="store_true", help="include per-frame face samples (with --json)"
    )
    analyze.add_argument(
        "--client-id", default="", help="owner of the stored results when the server checks no tokens"
    )
    analyze.add_argument(
        "--fresh", action="store_true", help="analyse again even when the server has a cached result"
    )
    add_stream_commands(commands, common)
    add_results_commands(commands, common)
    add_batch_commands(commands, common)
    commands.add_parser("health", parents=[common], help="print the server's serving status")
    commands.add_parser("models", parents=[common], help="list the server's models and versions")
    return parser


def _run_health(args: argparse.Namespace, client_options: ClientOptions, out: TextIO) -> int:
    with LaughterClient(options=client_options) as client:
        status = client.health(timeout_s=args.timeout or CONTROL_TIMEOUT_S)
    if args.json:
        out.write(json.dumps({"address": client.address, "status": status.value}) + "\n")
    else:
        out.write(f"{client.address}: {status.value}\n")
    return EXIT_OK if status is HealthStatus.SERVING else EXIT_UNAVAILABLE


def _run_models(args: argparse.Namespace, client_options: ClientOptions, out: TextIO) -> int:
    with LaughterClient(options=client_options) as client:
        models = client.list_models(timeout_s=args.timeout or CONTROL_TIMEOUT_S)
    if args.json:
        json.dump([model.to_dict() for model in models], out, indent=2)
        out.write("\n")
    else:
        print_tables([model_table(models)], out, use_rich=not args.plain)
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, ClientOptions, TextIO], int]] = {
    "health": _run_health,
    "models": _run_models,
    "stream": run_stream,
    "live": run_live,
    "results": run_results,
    "stats": run_stats,
}


def describe_error(error: LaughterError) -> str:
    """One line for the terminal: the server's message, then code, reason and the offending fields."""
    text = error.message
    if isinstance(error, ApiError):
        tags = [error.code] + ([error.reason] if error.reason else [])
        text += " [" + " ".join(tags) + "]"
        for violation in error.field_violations:
            described = violation.description and violation.description != error.message
            text += (
                f"; {violation.field}: {violation.description}" if described else f"; field {violation.field}"
            )
        if error.retry_after_s is not None:
            text += f"; retry after {error.retry_after_s:.1f} s"
    return text


def exit_code_for(error: LaughterError) -> int:
    """The process exit code for an SDK error."""
    if isinstance(error, MediaFileError | MediaSourceError | MissingDependencyError | ConfigurationError):
        return EXIT_USAGE
    if isinstance(error, REJECTED_ERRORS):
        return EXIT_REJECTED
    if isinstance(error, TransportError):
        return EXIT_UNAVAILABLE
    return EXIT_SERVER_FAULT


def client_options_from(args: argparse.Namespace) -> ClientOptions:
    """The client options of the command line: flags first, then ``LAUGHTER_*`` variables, then defaults."""
    return ClientOptions.from_env(
        address=args.address,
        timeout_s=args.timeout,
        auth_token=args.token,
        tls=True if args.tls else None,
        root_certificates=args.ca,
        certificate_chain=args.cert,
        private_key=args.key,
        retry=None if args.retries is None else RetryPolicy(max_attempts=args.retries + 1),
    )


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line and return its exit code (argparse's usage errors return 2)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) and usage errors (2) from argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        client_options = client_options_from(args)
    except ValueError as exc:  # a bad address, LAUGHTER_TIMEOUT_S that is not a positive number, --cert alone
        err.write(f"laughter: error: {exc}\n")
        return EXIT_USAGE
    try:
        if args.command == "analyze":
            return run_analyze(args, client_options, out, err)
        if args.command == "batch":
            return run_batch(args, client_options, out, err)
        return COMMANDS[args.command](args, client_options, out)
    except LaughterError as exc:
        prefix = ""
        if isinstance(exc, TransportError) and not exc.reason:
            prefix = f"no answer from the server at {client_options.address}: "
        err.write(f"laughter: error: {prefix}{describe_error(exc)}\n")
        return exit_code_for(exc)
    except KeyboardInterrupt:
        err.write("laughter: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
