"""``laughter-worker``: a Celery worker that analyses the files of batch jobs on laughter servers.

Run any number, on any host that sees the files at the paths they were submitted with::

    laughter-worker --broker redis://queue:6379/0 --server 10.0.0.5:50051,10.0.0.6:50051 --concurrency 4

Flags fall back to ``LAUGHTER_BROKER_URL`` and ``LAUGHTER_SERVER``; TLS and the deadline come from the SDK's
``LAUGHTER_TLS``, ``LAUGHTER_CA_FILE``, ``LAUGHTER_CERT_FILE``, ``LAUGHTER_KEY_FILE`` and
``LAUGHTER_TIMEOUT_S`` (a file's deadline; default 1800 s).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from laughter._argtypes import positive_float, positive_int
from laughter._config import ClientOptions
from laughter._exceptions import LaughterError
from laughter.batch import tasks
from laughter.batch.app import DEFAULT_QUEUE, DEFAULT_VISIBILITY_TIMEOUT_S, broker_url, make_app

__all__ = ["build_parser", "main"]

SERVER_ENV = "LAUGHTER_SERVER"
DEFAULT_SERVER = "127.0.0.1:50051"
DEFAULT_FILE_TIMEOUT_S = 1800.0
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="laughter-worker",
        description="Analyse the files of laughter batch jobs (a Celery worker on the Redis broker).",
    )
    parser.add_argument(
        "--broker", default=None, metavar="URL", help="Redis URL (default: $LAUGHTER_BROKER_URL)"
    )
    parser.add_argument(
        "--server",
        default=None,
        metavar="ADDR[,ADDR...]",
        help=f"laughter servers, files spread over them (default: ${SERVER_ENV} or {DEFAULT_SERVER})",
    )
    parser.add_argument("--token-file", default=None, metavar="FILE", help="file holding the bearer token")
    parser.add_argument(
        "--concurrency", type=positive_int, default=2, metavar="N", help="files at a time (default 2)"
    )
    parser.add_argument(
        "--queue", default=DEFAULT_QUEUE, help=f"queue to take files from (default {DEFAULT_QUEUE})"
    )
    parser.add_argument(
        "--pool",
        choices=("threads", "prefork", "solo"),
        default="threads",
        help="Celery pool (default threads: the work is waiting on the server)",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=positive_float,
        default=DEFAULT_VISIBILITY_TIMEOUT_S,
        metavar="S",
        help="seconds after which a file a lost worker held is delivered again; must exceed the longest file"
        f" (default {DEFAULT_VISIBILITY_TIMEOUT_S:.0f})",
    )
    parser.add_argument(
        "--max-retries", type=int, default=8, metavar="N", help="retries after UNAVAILABLE etc. (default 8)"
    )
    parser.add_argument(
        "--retry-backoff", type=positive_float, default=2.0, metavar="S", help="first retry delay bound"
    )
    parser.add_argument(
        "--retry-backoff-max", type=positive_float, default=120.0, metavar="S", help="retry delay cap"
    )
    parser.add_argument("--loglevel", default="INFO", help="Celery log level (default INFO)")
    return parser


def _servers(flag: str | None) -> list[str]:
    text = flag or os.environ.get(SERVER_ENV) or DEFAULT_SERVER
    return [item.strip() for item in text.split(",") if item.strip()]


def _token(path: str | None) -> str | None:
    if path is None:
        return None
    with open(path, encoding="utf-8") as file:
        return file.read().strip() or None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        token = _token(args.token_file)
    except OSError as exc:
        sys.stderr.write(
            f"laughter-worker: error: cannot read --token-file {args.token_file}: {exc.strerror}\n"
        )
        return EXIT_USAGE
    if args.retry_backoff_max >= args.visibility_timeout:
        sys.stderr.write("laughter-worker: error: --retry-backoff-max must be below --visibility-timeout\n")
        return EXIT_USAGE
    url = broker_url(args.broker)
    try:
        client_options = ClientOptions.from_env(
            auth_token=token,
            timeout_s=float(os.environ.get("LAUGHTER_TIMEOUT_S") or DEFAULT_FILE_TIMEOUT_S),
        )
        tasks.RUNTIME = tasks.WorkerRuntime(
            servers=_servers(args.server),
            client_options=client_options,
            broker_url=url,
            max_retries=max(0, args.max_retries),
            backoff_s=args.retry_backoff,
            backoff_max_s=args.retry_backoff_max,
        )
        app = make_app(url, visibility_timeout_s=args.visibility_timeout)
    except (ValueError, LaughterError) as exc:
        sys.stderr.write(f"laughter-worker: error: {exc}\n")
        return EXIT_USAGE
    tasks.register_task(app)
    app.worker_main(
        [
            "worker",
            f"--pool={args.pool}",
            f"--concurrency={args.concurrency}",
            f"--queues={args.queue}",
            f"--loglevel={args.loglevel}",
            f"--hostname=laughter-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
