"""``laughter results list|show|delete`` and ``laughter stats``: stored results and analytics as tables, and
with ``--plot`` a chart of laughter over time and the emotion distribution (matplotlib, the ``cli`` extra)."""

from __future__ import annotations

import argparse
import datetime
import json
import re
from typing import TextIO

from laughter._client import LaughterClient
from laughter._config import ClientOptions
from laughter._exceptions import ConfigurationError, MissingDependencyError
from laughter._render import Table, print_tables, result_tables
from laughter._results import Analytics

EXIT_OK = 0
EXIT_USAGE = 2
SINCE = re.compile(r"^([0-9]+)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str) -> datetime.timedelta:
    """``30m``, ``24h``, ``7d``."""
    match = SINCE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError("use a number and m, h or d, e.g. 24h")
    return datetime.timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def add_results_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``results`` and ``stats`` to the command's subparsers."""
    results = commands.add_parser("results", parents=[common], help="list, show or delete stored results")
    results.add_argument("action", choices=("list", "show", "delete"))
    results.add_argument("ids", nargs="*", metavar="RESULT_ID", help="ids for show and delete")
    results.add_argument("--client-id", default="", help="the owner when the server checks no tokens")
    results.add_argument("--since", type=parse_since, help="only results of the last 30m, 24h, 7d, ...")
    results.add_argument("--page-size", type=int, default=50)
    results.add_argument("--all", action="store_true", help="with delete: every result of the caller")
    stats = commands.add_parser("stats", parents=[common], help="analytics over the stored results")
    stats.add_argument("--since", type=parse_since, default=datetime.timedelta(hours=24), help="default 24h")
    stats.add_argument("--client-id", default="", help="the owner when the server checks no tokens")
    stats.add_argument("--plot", metavar="PNG", help="write a chart of laughter over time and the emotions")


def _start(since: datetime.timedelta | None) -> datetime.datetime | None:
    return None if since is None else datetime.datetime.now(datetime.UTC) - since


def run_results(args: argparse.Namespace, client_options: ClientOptions, out: TextIO) -> int:
    with LaughterClient(options=client_options) as client:
        if args.action == "list":
            page = client.list_results(
                client_id=args.client_id, since=_start(args.since), page_size=args.page_size
            )
            if args.json:
                json.dump([r.to_dict() for r in page.results], out, indent=2, default=str)
                out.write("\n")
                return EXIT_OK
            rows = tuple(
                (
                    r.result_id,
                    r.created.strftime("%Y-%m-%d %H:%M:%S"),
                    r.kind,
                    r.client_id or "-",
                    str(r.event_count),
                    "yes" if r.result.summary.laughter_detected else "no",
                    r.audio_model_version,
                )
                for r in page.results
            )
            headers = ("result id", "stored (UTC)", "kind", "client", "events", "laughter", "audio model")
            print_tables([Table("Results", headers, rows, "no stored results")], out, use_rich=not args.plain)
            return EXIT_OK
        if args.action == "show":
            for result_id in args.ids:
                stored = client.get_result(result_id, client_id=args.client_id)
                if args.json:
                    json.dump(stored.to_dict(), out, indent=2, default=str)
                    out.write("\n")
                else:
                    print_tables(result_tables(stored.result, result_id), out, use_rich=not args.plain)
            return EXIT_OK
        if bool(args.ids) == args.all:
            raise ConfigurationError("give result ids, or --all, to delete")
        deleted = client.delete_results(args.ids, all_results=args.all, client_id=args.client_id)
        out.write(f"deleted {deleted} result(s)\n")
        return EXIT_OK


def stats_tables(figures: Analytics) -> list[Table]:
    """The analytics as tables."""
    totals = Table(
        "Stored results",
        (),
        (
            ("results", str(figures.result_count)),
            ("events", str(figures.event_count)),
            ("media", f"{figures.media_duration_s / 60:.1f} min"),
        ),
    )
    emotions = Table(
        "Emotions", ("emotion", "mean score"), tuple((n, f"{v:.3f}") for n, v in figures.emotions)
    )
    types = Table(
        "Laughter types",
        ("type", "events", "total s", "mean s"),
        tuple(
            (t.laughter_type, str(t.event_count), f"{t.total_s:.1f}", f"{t.mean_s:.2f}")
            for t in figures.laughter_types
        ),
    )
    buckets = Table(
        "Over time",
        ("from (UTC)", "results", "events", "laughs/min", "confidence"),
        tuple(
            (
                b.start.strftime("%Y-%m-%d %H:%M"),
                str(b.result_count),
                str(b.event_count),
                f"{b.laughs_per_minute:.2f}",
                f"{b.mean_confidence:.2f}",
            )
            for b in figures.buckets
        ),
    )
    versions = Table(
        "Audio model versions",
        ("version", "results", "detection rate", "confidence", "events/min", "proc/media s p50", "p95"),
        tuple(
            (
                v.audio_model_version,
                str(v.result_count),
                f"{v.detection_rate:.2f}",
                f"{v.mean_confidence:.2f}",
                f"{v.events_per_minute:.2f}",
                f"{v.processing_per_media_second_p50:.3f}",
                f"{v.processing_per_media_second_p95:.3f}",
            )
            for v in figures.model_versions
        ),
    )
    return [totals, emotions, types, buckets, versions]


def plot(figures: Analytics, path: str) -> None:
    """A PNG: laughs per minute over time, and the mean emotion scores."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError("--plot needs matplotlib: pip install 'laughter-client[cli]'") from None
    fig, (over_time, emotions) = plt.subplots(1, 2, figsize=(11, 4))
    over_time.plot(
        [b.start for b in figures.buckets], [b.laughs_per_minute for b in figures.buckets], marker="o"
    )
    over_time.set_title("Laughs per minute")
    over_time.tick_params(axis="x", labelrotation=30)
    emotions.bar([n for n, _ in figures.emotions], [v for _, v in figures.emotions])
    emotions.set_title("Mean emotion scores")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_stats(args: argparse.Namespace, client_options: ClientOptions, out: TextIO) -> int:
    with LaughterClient(options=client_options) as client:
        figures = client.analytics(client_id=args.client_id, since=_start(args.since))
    if args.json:
        json.dump(figures.to_dict(), out, indent=2, default=str)
        out.write("\n")
    else:
        print_tables(stats_tables(figures), out, use_rich=not args.plain)
    if args.plot:
        plot(figures, args.plot)
        out.write(f"wrote {args.plot}\n")
    return EXIT_OK
