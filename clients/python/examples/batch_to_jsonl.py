"""Analyse every file of a folder, eight at a time, and write one JSON line per file.

    LAUGHTER_ADDRESS=127.0.0.1:50051 python batch_to_jsonl.py clips/ results.jsonl

Each line is ``FileResult.to_dict()``: the result, or the error with the server's code, reason and message.
Exits 1 when any file failed, 2 on a usage error.
"""

from __future__ import annotations

import json
import pathlib
import sys

import laughter

CONCURRENCY = 8


def main(argv: list[str]) -> int:
    """Analyse the files in ``argv[0]`` and write their records to ``argv[1]``."""
    if len(argv) != 2 or not pathlib.Path(argv[0]).is_dir():
        sys.stderr.write("usage: batch_to_jsonl.py FOLDER OUT.jsonl\n")
        return 2
    paths = sorted(path for path in pathlib.Path(argv[0]).iterdir() if path.is_file())
    failed = 0
    with (
        laughter.LaughterClient(options=laughter.ClientOptions.from_env()) as client,
        open(argv[1], "w", encoding="utf-8") as out,
    ):
        for done, item in enumerate(client.analyze_files(paths, concurrency=CONCURRENCY), start=1):
            out.write(json.dumps(item.to_dict()) + "\n")
            failed += not item.is_ok
            state = "ok" if item.is_ok else f"failed: {item.error}"
            print(f"[{done}/{len(paths)}] {item.path} {state} ({item.elapsed_s:.1f} s)")
    print(f"{len(paths) - failed} of {len(paths)} files analysed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
