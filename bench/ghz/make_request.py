"""Writes the request data of the ghz scenarios in bench/ghz/README.md.

* ``analyze_media.bin`` (default folder bench/out/ghz/, not committed): one serialized AnalyzeMediaRequest
  holding samples/sample.mp4, for ``ghz --binary-file``.
* ``streaming_analyze.json`` (default bench/ghz/, committed): a StreamingAnalyze call as a JSON array for
  ``ghz --data-file``: the session config, then the sample's first second as live chunks (5 JPEG frames at
  the server's default 5 Hz analysis rate and ten 100 ms PCM16 16 kHz mono audio chunks, in capture order).
  The file is deterministic; rerunning the script rewrites it unchanged.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from google.protobuf import json_format  # noqa: E402
from laughter.v1 import laughter_service_pb2  # noqa: E402

from tests.integration.media_chunks import load_chunks, media_chunk, session_config  # noqa: E402

SAMPLE = REPO / "samples" / "sample.mp4"
STREAM_S = 1.0
FRAME_RATE_HERTZ = 5
JPEG_QUALITY = 70


def analyze_media_request(path: pathlib.Path) -> laughter_service_pb2.AnalyzeMediaRequest:
    """The whole file, with its name as the decoder hint."""
    return laughter_service_pb2.AnalyzeMediaRequest(content=path.read_bytes(), filename=path.name)


def streaming_requests(path: pathlib.Path) -> list[laughter_service_pb2.StreamingAnalyzeRequest]:
    """The config, then the first STREAM_S seconds of ``path`` as frames at FRAME_RATE_HERTZ and audio."""
    requests = [laughter_service_pb2.StreamingAnalyzeRequest(config=session_config(block=True))]
    requests[0].config.client_id = "ghz"
    next_frame_s = 0.0
    for chunk in load_chunks(path, max_s=STREAM_S, jpeg_quality=JPEG_QUALITY):
        if chunk.kind == "frame":
            if chunk.offset_s + 1e-6 < next_frame_s:
                continue
            next_frame_s += 1.0 / FRAME_RATE_HERTZ
        requests.append(laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(chunk)))
    return requests


def main() -> None:
    """Write both files and say where."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--media", type=pathlib.Path, default=SAMPLE, help="media file (default the sample)")
    parser.add_argument("--bin-dir", type=pathlib.Path, default=REPO / "bench" / "out" / "ghz")
    parser.add_argument("--json-dir", type=pathlib.Path, default=REPO / "bench" / "ghz")
    args = parser.parse_args()
    args.bin_dir.mkdir(parents=True, exist_ok=True)
    args.json_dir.mkdir(parents=True, exist_ok=True)
    binary = args.bin_dir / "analyze_media.bin"
    binary.write_bytes(analyze_media_request(args.media).SerializeToString())
    stream = [json_format.MessageToDict(r) for r in streaming_requests(args.media)]
    streaming = args.json_dir / "streaming_analyze.json"
    streaming.write_text(json.dumps(stream, indent=1) + "\n")
    print(f"wrote {binary} ({binary.stat().st_size} bytes)")
    print(f"wrote {streaming} ({len(stream)} messages, {streaming.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
