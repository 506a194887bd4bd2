"""The metadata readers of PNG, JPEG and WebP: text in every chunk kind, EXIF in either byte
order and IFD, no pixel decoded, and a one-sentence reason for every damaged file or bomb."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from runlake.importers.containers import (
    MAX_TEXT_CHUNK,
    Damaged,
    Unsupported,
    content_digest,
    read_meta,
)
from runlake.testing import images


def meta(data: bytes) -> dict[str, str]:
    return read_meta(io.BytesIO(data)).texts


@pytest.mark.parametrize("kind", ["text", "itxt", "ztxt", "itxt_zip"])
def test_every_png_text_chunk_kind(kind: str) -> None:
    data = images.png_bytes(images.pixels(), [(kind, "parameters", "a fox ☄" if "itxt" in kind
                                               else "a fox")])
    assert meta(data) == {"parameters": "a fox ☄" if "itxt" in kind else "a fox"}


def test_text_after_the_image_data_is_found_when_none_came_before() -> None:
    plain = images.png_bytes(images.pixels(), [])
    end = plain.rindex(b"IEND") - 4
    late = plain[:end] + images.png_chunk(b"tEXt", b"parameters\0late") + plain[end:]
    assert meta(late) == {"parameters": "late"}


def test_size_format_and_no_decoding() -> None:
    found = read_meta(io.BytesIO(images.pixel_bomb_png(4000, 3000)))
    assert (found.format, found.width, found.height) == ("PNG", 4000, 3000)  # IDAT is junk


@pytest.mark.parametrize(("data", "reason"), [
    (images.pixel_bomb_png(), "900,000,000 pixels"),
    (images.ztxt_bomb_png(), "a zTXt bomb"),
    (images.png_bytes(images.pixels(), [("text", "parameters", "x")])[:60], "truncated"),
    (b"\x89PNG\r\n\x1a\n garbage", "truncated"),
    (b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIHDR", "broken chunk header"),
    (b"\x89PNG\r\n\x1a\n", "truncated before its IEND"),
    (b"\xff\xd8\xff\xe1\x00", "broken JPEG segment"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8X\x0a", "truncated"),
])
def test_damaged_files_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(Damaged, match=reason):
        read_meta(io.BytesIO(data))


def test_a_text_chunk_with_a_bad_crc_is_damaged() -> None:
    data = bytearray(images.png_bytes(images.pixels(), [("text", "parameters", "a fox")]))
    at = data.index(b"a fox")
    data[at] = ord("b")
    with pytest.raises(Damaged, match="CRC"):
        read_meta(io.BytesIO(bytes(data)))


def test_a_compressed_chunk_just_under_the_limit_is_read() -> None:
    text = "a" * (MAX_TEXT_CHUNK - 10)
    data = images.pixel_bomb_png(1, 1, [images.png_chunk(
        b"zTXt", b"parameters\0\0" + zlib.compress(text.encode(), 9))])
    assert meta(data)["parameters"] == text


@pytest.mark.parametrize(("head", "name"), [
    (b"GIF89a", "GIF"), (b"BM", "BMP"), (b"II*\0", "TIFF"),
    (b"\0\0\0\x1cftypavif", "AVIF"), (b"hello", "unknown (not an image)"),
])
def test_other_formats_are_named(head: str, name: str) -> None:
    with pytest.raises(Unsupported, match=name.replace("(", r"\(").replace(")", r"\)")):
        read_meta(io.BytesIO(head + b"\0" * 32))


def test_a_real_gif_is_unsupported() -> None:
    buffer = io.BytesIO()
    images.pixels().save(buffer, "GIF", comment=b"parameters here")
    with pytest.raises(Unsupported, match="GIF"):
        read_meta(buffer)


def test_exif_user_comment_in_little_endian_tiff() -> None:
    # A writer that follows the TIFF byte order (exiftool on an "II" file): UTF-16-LE.
    text = "a fox\nSteps: 20, Sampler: Euler, CFG scale: 7"
    value = b"UNICODE\0" + text.encode("utf-16-le")
    tiff = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack(
        "<HHII", 0x8769, 4, 1, 26) + struct.pack("<I", 0)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x9286, 7, len(value), 44) + \
        struct.pack("<I", 0) + value
    buffer = io.BytesIO()
    images.pixels().save(buffer, "JPEG", exif=b"Exif\0\0" + tiff)
    assert meta(buffer.getvalue())["parameters"] == text


def test_jpeg_and_webp_sizes() -> None:
    image = images.pixels((40, 30))
    jpeg = images.a1111_jpeg("x", image=image)
    assert (read_meta(io.BytesIO(jpeg)).width, read_meta(io.BytesIO(jpeg)).height) == (40, 30)
    for lossless in (False, True):
        webp = images.a1111_webp("x", image=image, lossless=lossless)
        found = read_meta(io.BytesIO(webp))
        assert (found.format, found.width, found.height) == ("WEBP", 40, 30)
        assert found.texts == {"parameters": "x"}
    buffer = io.BytesIO()
    image.save(buffer, "WEBP")  # a plain VP8 WebP without VP8X or EXIF
    assert read_meta(io.BytesIO(buffer.getvalue())).width == 40


def test_content_digest_survives_a_recompression_not_a_pixel_change() -> None:
    image = images.pixels((64, 64), noise=True)
    fast = images.png_bytes(image, [("text", "parameters", "x")], compress_level=4)
    slow = images.png_bytes(image, [("itxt", "parameters", "x")], compress_level=9)
    assert fast[fast.index(b"IDAT"):] != slow[slow.index(b"IDAT"):]  # other bytes
    digests = {content_digest(io.BytesIO(d), read_meta(io.BytesIO(d))) for d in (fast, slow)}
    assert len(digests) == 1
    image.putpixel((0, 0), (1, 2, 3))
    other = images.png_bytes(image, [])
    assert content_digest(io.BytesIO(other), read_meta(io.BytesIO(other))) not in digests


def test_reading_never_decodes_pixels() -> None:
    # The image data is not a valid zlib stream at all: metadata reading cannot notice.
    data = images.pixel_bomb_png(64, 48, [images.png_chunk(b"tEXt", b"parameters\0a fox")])
    broken = data.replace(data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8],
                          b"\xde\xad" * 4, 1)
    assert meta(broken) == {"parameters": "a fox"}
    with pytest.raises(Damaged, match="does not inflate"):
        content_digest(io.BytesIO(broken), read_meta(io.BytesIO(broken)))
    with Image.open(io.BytesIO(broken)) as image, pytest.raises(Exception):  # noqa: B017
        image.load()  # a decoder does fail on it
