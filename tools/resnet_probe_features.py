"""Write real dev-clip windows for ``tools/export_resnet.py --features`` (run with the runtime venv).

Takes the first clips of a few classes from a manifest, decodes them to 16 kHz as the server does, and
writes the ResNet front end's windows (every 0.25 s) to an npz file (array ``features``, ``[N, 44, 128]``)::

    .venv/bin/python tools/resnet_probe_features.py ../shared/data/dev/manifest.csv build/resnet-probe.npz
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from laughter_server.audio import resnet_frontend
from laughter_server.media.decode import decode_audio

CLASSES = ("laughter", "speech", "music", "scream", "cheering")
CLIPS_PER_CLASS = 2
HOP_8K = 2000  # 0.25 s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifest", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    taken: dict[str, int] = {}
    windows = []
    with args.manifest.open(newline="") as handle:
        for row in csv.DictReader(handle):
            label = row["label"]
            if label not in CLASSES or taken.get(label, 0) >= CLIPS_PER_CLASS:
                continue
            taken[label] = taken.get(label, 0) + 1
            clip = decode_audio((args.manifest.parent / row["file"]).read_bytes())
            block = resnet_frontend.resample_block(clip.samples)
            starts = np.arange(0, max(1, block.size - resnet_frontend.SAMPLE_RATE_HERTZ + 1), HOP_8K)
            windows.append(resnet_frontend.window_features(block, starts))
    features = np.concatenate(windows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, features=features)
    print(
        f"{len(features)} windows from {sum(taken.values())} clips ({', '.join(sorted(taken))}) -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
