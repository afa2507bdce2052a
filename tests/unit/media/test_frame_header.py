"""Live frames: header checks refuse garbage, mislabelled and oversized frames before the image decoder."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.media.frame_header import (
    PNG_SIGNATURE,
    FrameHeaderError,
    check_frame_header,
    sniff_encoding,
)
from laughter_server.media.live_input import ChunkError, VideoInput


def picture(width: int = 64, height: int = 48) -> npt.NDArray[np.uint8]:
    """A noisy BGR picture (noise keeps the encoders from compressing it to nothing)."""
    return np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)


def encode(extension: str, image: npt.NDArray[np.uint8], *params: int) -> bytes:
    """An encoded image from OpenCV."""
    ok, buffer = cv2.imencode(extension, image, list(params))
    assert ok
    return bytes(buffer.tobytes())


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_ihdr(width: int, height: int, depth: int = 8, colour: int = 2, idat: bytes = b"x") -> bytes:
    """A PNG made of a hand-written IHDR, one IDAT and IEND (valid CRCs)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def jpeg_with_sof(width: int, height: int, scan_bytes: int) -> bytes:
    """A JPEG made of SOI, a baseline SOF for three components, SOS and ``scan_bytes`` of scan data."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sos = b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xc0"
        + struct.pack(">H", len(sof) + 2)
        + sof
        + b"\xff\xda"
        + struct.pack(">H", len(sos) + 2)
        + sos
        + b"\x00" * scan_bytes
        + b"\xff\xd9"
    )


class TestWellFormed:
    """Real encoder output passes the checks and decodes."""

    @pytest.mark.parametrize(
        ("encoding", "extension", "params"),
        [
            ("png", ".png", ()),
            ("jpeg", ".jpg", ()),
            ("jpeg", ".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_OPTIMIZE, 1)),
        ],
    )
    def test_encoder_output_decodes(self, encoding: str, extension: str, params: tuple[int, ...]) -> None:
        """A 64x48 picture: the header gives its size and the frame decodes to RGB."""
        data = encode(extension, picture(), *params)
        header = check_frame_header(data, encoding)
        assert (header.width, header.height) == (64, 48)
        assert VideoInput(encoding).decode(data).shape == (48, 64, 3)

    @pytest.mark.parametrize(("encoding", "extension"), [("png", ".png"), ("jpeg", ".jpg")])
    def test_flat_picture_at_the_side_limit(self, encoding: str, extension: str) -> None:
        """A one-colour 4096x4096 picture compresses very well and is still accepted."""
        data = encode(extension, np.zeros((4096, 4096, 3), dtype=np.uint8))
        assert check_frame_header(data, encoding).width == 4096


class TestRefused:
    """Garbage and mislabelled frames are refused from their headers with a message saying why."""

    def test_signature_then_random_bytes(self) -> None:
        """The reported case: a PNG signature followed by 3,000 random bytes."""
        data = PNG_SIGNATURE + np.random.default_rng(0).bytes(3000)
        with pytest.raises(ChunkError) as caught:
            VideoInput("png").decode(data)
        assert caught.value.reason == "CHUNK_INVALID"
        assert "PNG" in caught.value.message

    def test_jpeg_in_a_png_session_and_back(self) -> None:
        """The bytes' signature must match the session's declared encoding."""
        jpeg, png = encode(".jpg", picture()), encode(".png", picture())
        with pytest.raises(ChunkError, match="JPEG data but the session declared PNG"):
            VideoInput("png").decode(jpeg)
        with pytest.raises(ChunkError, match="PNG data but the session declared JPEG"):
            VideoInput("jpeg").decode(png)
        assert sniff_encoding(b"GIF89a") is None

    def test_bad_crc(self) -> None:
        """One flipped byte inside the IHDR fails its CRC."""
        data = bytearray(encode(".png", picture()))
        data[20] ^= 0xFF
        with pytest.raises(FrameHeaderError, match="CRC"):
            check_frame_header(bytes(data), "png")

    def test_truncated_png(self) -> None:
        """Half a PNG ends before IEND."""
        data = encode(".png", picture())
        with pytest.raises(FrameHeaderError, match="truncated"):
            check_frame_header(data[: len(data) // 2], "png")

    @pytest.mark.parametrize(("depth", "colour"), [(16, 3), (4, 2), (8, 5)])
    def test_impossible_png_depth_or_colour(self, depth: int, colour: int) -> None:
        """Bit depth and colour type combinations PNG does not define."""
        with pytest.raises(FrameHeaderError, match="colour type"):
            check_frame_header(png_with_ihdr(16, 16, depth, colour), "png")

    def test_png_declared_size_out_of_proportion(self) -> None:
        """4000x4000 RGB cannot fit in one byte of compressed data."""
        with pytest.raises(FrameHeaderError, match="too few"):
            check_frame_header(png_with_ihdr(4000, 4000), "png")

    def test_jpeg_declared_size_out_of_proportion(self) -> None:
        """A 4000x4000 JPEG with 100 bytes of scan data is refused; with enough it passes the check."""
        with pytest.raises(FrameHeaderError, match="too few"):
            check_frame_header(jpeg_with_sof(4000, 4000, 100), "jpeg")
        assert check_frame_header(jpeg_with_sof(4000, 4000, 20_000), "jpeg").height == 4000

    def test_jpeg_garbage_after_soi(self) -> None:
        """SOI then random bytes: the marker walk stops at once."""
        data = b"\xff\xd8\xff" + np.random.default_rng(2).bytes(3000)
        with pytest.raises(FrameHeaderError):
            check_frame_header(data, "jpeg")

    @pytest.mark.parametrize("encoding", ["png", "jpeg"])
    def test_declared_side_above_the_limit(self, encoding: str) -> None:
        """A header declaring 5000 px is FRAME_TOO_LARGE without decoding."""
        data = (
            png_with_ihdr(5000, 10, idat=bytes(200)) if encoding == "png" else jpeg_with_sof(5000, 10, 1000)
        )
        with pytest.raises(ChunkError) as caught:
            VideoInput(encoding).decode(data)
        assert caught.value.reason == "FRAME_TOO_LARGE"

    def test_size_other_than_declared_by_the_session(self) -> None:
        """A 64x48 frame in a session that declared 32x32 is refused before decoding."""
        with pytest.raises(ChunkError, match="declared 32x32"):
            VideoInput("png", 32, 32).decode(encode(".png", picture()))
