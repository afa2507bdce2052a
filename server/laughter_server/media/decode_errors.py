"""Plain words for what is wrong with media that FFmpeg (through PyAV) refused.

Clients read these in error messages, so they say what is wrong with the file, never which exception the
decoder raised.
"""

from __future__ import annotations

import av.error

FFMPEG_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (av.error.EOFError, "the file ends before its header is complete: it is truncated"),
    (
        av.error.InvalidDataError,
        "the data is not a recognised container, or its contents are corrupt",
    ),
    (
        av.error.PatchWelcomeError,
        "the file uses a feature of its format that the decoder does not support",
    ),
    (av.error.DecoderNotFoundError, "there is no decoder for the file's codec on this server"),
    (av.error.DemuxerNotFoundError, "the data is not a container format this server can read"),
    (av.error.BugError, "the decoder met data it cannot handle: the file is probably corrupt"),
    (av.error.MemoryError, "the file declares sizes too large to decode: it is probably corrupt"),
    (av.error.ExitError, "the decoder gave up on the file: it is probably corrupt"),
    (UnicodeDecodeError, "the file's metadata is not valid text: the file is probably corrupt"),
    (ValueError, "the file declares values its format does not allow: it is probably corrupt"),
    (EOFError, "the file ends early: it is truncated"),
)
"""Most specific first: the first row whose type matches the exception gives the words."""

DEFAULT_WORDS = "the file is corrupt or in a format the decoder does not support"
CORRUPT_STREAM_WORDS = "the stream's data is corrupt or truncated"


def describe_decode_error(error: BaseException, *, decoding: bool = False) -> str:
    """What the decoder's refusal means for the file, in words a person can act on.

    ``decoding`` is set once the container has opened: invalid data then means a damaged stream.
    """
    if decoding and isinstance(error, av.error.InvalidDataError | av.error.EOFError):
        return CORRUPT_STREAM_WORDS
    for kind, words in FFMPEG_WORDS:
        if isinstance(error, kind):
            return words
    return DEFAULT_WORDS
