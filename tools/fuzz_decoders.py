"""Coverage-guided fuzzing of the media decoders with atheris (libFuzzer), for ``make fuzz``.

The target is tests/fuzz/decoder_target.py: ``probe_media`` then ``iter_video_frames`` / ``iter_audio`` as
AnalyzeMedia runs them, and the live-frame header checks and frame / PCM decoders. Any exception other than
the documented ones (LaughterError for whole files, ChunkError / FrameHeaderError for live chunks) is a crash;
libFuzzer's ``-timeout`` bounds the work per input and ``-rss_limit_mb`` its memory. New inputs go to
build/fuzz-corpus (seeded from tests/fuzz/corpus), crashes to build/fuzz-crashes.

    .venv/bin/python tools/fuzz_decoders.py -max_total_time=600
    .venv/bin/python tools/fuzz_decoders.py build/fuzz-crashes/crash-...   # replay one input
"""

from __future__ import annotations

import pathlib
import shutil
import sys

import atheris

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

with atheris.instrument_imports(include=["laughter_server"]):
    from laughter_server.media import decode, frame_header, live_input  # noqa: F401

from tests.fuzz.decoder_target import CORPUS, INPUT_TIMEOUT_S, decode_live, decode_whole_file  # noqa: E402

WORK_CORPUS = REPO / "build" / "fuzz-corpus"
CRASHES = REPO / "build" / "fuzz-crashes"
DEFAULT_FLAGS = (
    f"-timeout={int(INPUT_TIMEOUT_S)}",
    "-rss_limit_mb=4096",
    "-max_len=65536",
    f"-artifact_prefix={CRASHES}/",
)


def one_input(data: bytes) -> None:
    """libFuzzer's entry point: every decoder on ``data``."""
    decode_whole_file(data)
    decode_live(data)


def main() -> None:
    args = sys.argv[1:]
    replay = any(pathlib.Path(a).is_file() for a in args if not a.startswith("-"))
    CRASHES.mkdir(parents=True, exist_ok=True)
    if not replay:
        WORK_CORPUS.mkdir(parents=True, exist_ok=True)
        for seed in CORPUS.iterdir():
            shutil.copy(seed, WORK_CORPUS / seed.name)
        args += [str(WORK_CORPUS)]
    atheris.Setup([sys.argv[0], *DEFAULT_FLAGS, *args], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
