"""Cheap checks of an encoded live frame before it reaches the image decoder.

A PNG or JPEG frame is read only as far as its headers (PNG chunk lengths and CRCs, JPEG markers up to the
first scan), so garbage, a frame of the other encoding, or a declared size above the limit or out of
proportion to the bytes sent is refused in microseconds instead of costing the decoder seconds.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"
PNG_BITS_PER_CHANNEL = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
"""Allowed bit depths per PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA)."""
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
MAX_DEFLATE_RATIO = 1100
"""Deflate cannot expand data more than about 1032 times: fewer compressed bytes cannot hold the image."""
JPEG_SOF_HUFFMAN = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7})
JPEG_SOF_ARITHMETIC = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
MIN_JPEG_BYTES_PER_BLOCK = 1 / 16
"""Huffman coding spends at least one bit on each 8x8 block's DC value; half of that leaves a margin."""


class FrameHeaderError(ValueError):
    """The frame's bytes are not a well-formed image of the session's encoding; the message says why."""


@dataclasses.dataclass(frozen=True)
class FrameHeader:
    """What the headers of an encoded frame declare."""

    encoding: str
    width: int
    height: int


def sniff_encoding(data: bytes) -> str | None:
    """``"png"`` or ``"jpeg"`` from the leading signature bytes, None for anything else."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(JPEG_SOI):
        return "jpeg"
    return None


def check_frame_header(data: bytes, encoding: str) -> FrameHeader:
    """Validate the headers of a PNG or JPEG frame of the session's ``encoding`` and return its size."""
    found = sniff_encoding(data)
    if found is None:
        raise FrameHeaderError(
            f"the frame does not start with the {encoding.upper()} signature; send one encoded "
            f"{encoding.upper()} image per frame"
        )
    if found != encoding:
        raise FrameHeaderError(
            f"the frame is {found.upper()} data but the session declared {encoding.upper()} frames; "
            "send the encoding declared in config.video.encoding"
        )
    return _check_png(data) if found == "png" else _check_jpeg(data)


def _check_png(data: bytes) -> FrameHeader:
    position = len(PNG_SIGNATURE)
    width = height = 0
    raw_bytes = 0
    idat_bytes = 0
    first = True
    while True:
        if position + 8 > len(data):
            raise FrameHeaderError("the PNG frame ends before its IEND chunk: it is truncated")
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 8 + length + 4
        if length > 0x7FFFFFFF or end > len(data):
            raise FrameHeaderError(
                "a PNG chunk declares more bytes than the frame holds: it is truncated or corrupt"
            )
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(kind + body) != crc:
            raise FrameHeaderError("a PNG chunk fails its CRC check: the frame is corrupt")
        if first:
            if kind != b"IHDR" or length != 13:
                raise FrameHeaderError("the PNG frame does not begin with a valid IHDR chunk")
            width, height, raw_bytes = _png_ihdr(body)
            first = False
        elif kind == b"IDAT":
            idat_bytes += length
        elif kind == b"IEND":
            break
        position = end
    if idat_bytes == 0:
        raise FrameHeaderError("the PNG frame has no image data (no IDAT chunk)")
    if idat_bytes * MAX_DEFLATE_RATIO < raw_bytes:
        raise FrameHeaderError(
            f"the PNG frame declares {width}x{height} pixels but carries only {idat_bytes} bytes of "
            "image data, too few to hold them: it is corrupt"
        )
    return FrameHeader("png", width, height)


def _png_ihdr(body: bytes) -> tuple[int, int, int]:
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF):
        raise FrameHeaderError(f"the PNG frame declares an impossible size {width}x{height}")
    if depth not in PNG_BITS_PER_CHANNEL.get(colour, ()):
        raise FrameHeaderError(
            f"the PNG frame declares colour type {colour} with bit depth {depth}, which PNG does not allow"
        )
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise FrameHeaderError("the PNG frame declares an unknown compression, filter or interlace method")
    row_bytes = 1 + (width * PNG_CHANNELS[colour] * depth + 7) // 8
    return width, height, height * row_bytes


def _check_jpeg(data: bytes) -> FrameHeader:
    position = 2
    size: tuple[int, int, int] | None = None
    while True:
        if position + 4 > len(data):
            raise FrameHeaderError("the JPEG frame ends before its first scan: it is truncated")
        if data[position] != 0xFF:
            raise FrameHeaderError("the JPEG frame's marker sequence is broken: it is corrupt")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        if marker == 0xD9:
            raise FrameHeaderError("the JPEG frame ends before any image data")
        (length,) = struct.unpack_from(">H", data, position + 2)
        if length < 2 or position + 2 + length > len(data):
            raise FrameHeaderError("a JPEG segment declares more bytes than the frame holds: it is truncated")
        body = data[position + 4 : position + 2 + length]
        if marker in JPEG_SOF_HUFFMAN or marker in JPEG_SOF_ARITHMETIC:
            size = _jpeg_sof(body, huffman=marker in JPEG_SOF_HUFFMAN)
        elif marker == 0xDA:  # start of scan: entropy-coded data follows
            if size is None:
                raise FrameHeaderError("the JPEG frame has a scan before its frame header (SOF)")
            scan_start = position + 2 + length
            break
        position += 2 + length
    width, height, components = size
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    scan_bytes = len(data) - scan_start
    if components and scan_bytes < blocks * MIN_JPEG_BYTES_PER_BLOCK:
        raise FrameHeaderError(
            f"the JPEG frame declares {width}x{height} pixels but carries only {scan_bytes} bytes of "
            "image data, too few to hold them: it is truncated or corrupt"
        )
    return FrameHeader("jpeg", width, height)


def _jpeg_sof(body: bytes, *, huffman: bool) -> tuple[int, int, int]:
    if len(body) < 6:
        raise FrameHeaderError("the JPEG frame header (SOF) is too short")
    precision, height, width, components = struct.unpack_from(">BHHB", body)
    if precision not in (8, 12, 16) or components not in (1, 2, 3, 4) or len(body) != 6 + 3 * components:
        raise FrameHeaderError(
            "the JPEG frame header (SOF) declares an impossible precision or component count"
        )
    if width == 0 or height == 0:
        raise FrameHeaderError(f"the JPEG frame declares an empty size {width}x{height}")
    return width, height, components if huffman else 0
