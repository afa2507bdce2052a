"""Short distinct clips for batch jobs: the first seconds of samples/sample.mp4, stream-copied (no
re-encoding) into MP4s whose container title differs, so each has its own content sha256 (and the server's
content cache does not answer one from another) while the media analysed is the same."""

from __future__ import annotations

import pathlib

import av

REPO = pathlib.Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "sample.mp4"


def make_clips(
    folder: pathlib.Path, count: int, *, seconds: float = 3.0, tag: str = "clip"
) -> list[pathlib.Path]:
    """``count`` MP4s of the sample's first ``seconds`` in ``folder``, titled ``{tag} {n}``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"{tag}-{number:03d}.mp4"
        with av.open(str(SAMPLE)) as source, av.open(str(path), "w", format="mp4") as target:
            target.metadata["title"] = f"{tag} {number}"
            streams = {stream.index: target.add_stream_from_template(stream) for stream in source.streams}
            for packet in source.demux():
                if packet.dts is None or packet.pts is None or packet.time_base is None:
                    continue
                if float(packet.pts * packet.time_base) >= seconds:
                    continue
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
        paths.append(path)
    return paths
