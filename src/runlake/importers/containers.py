"""The metadata of an image file, read without decoding a pixel: PNG text chunks, JPEG and WebP
EXIF, the image's size; and, only when identity needs it, a hash of its image data.

Our own small readers, not Pillow: they read the chunks before the image data (a PNG's IDAT
is seeked over, never read), bound every length they are given, and say what is wrong with
a damaged file in one sentence (:class:`Damaged`) instead of raising whatever a decoder
raises. A zTXt bomb (a small chunk inflating to gigabytes) stops at :data:`MAX_TEXT_CHUNK`.

Every format gives the same :class:`ImageMeta`: ``texts`` maps a key to its text, with the
keys the tools use in PNG text chunks (``parameters``, ``prompt``, ``workflow``,
``invokeai_metadata``, ``Comment``, ...); JPEG and WebP EXIF fields are mapped onto those
keys (``UserComment`` -> ``parameters``, image-saver's ``Make``/``Model`` -> ``workflow``/
``prompt``), so one detector reads every container.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 4 << 20  # one text chunk, inflated (Pillow's own limit is 1 MiB)
MAX_TEXT_TOTAL = 64 << 20  # all text of one file (Pillow: MAX_TEXT_MEMORY)
# Pillow refuses to open an image of more than twice Image.MAX_IMAGE_PIXELS (89,478,485):
# such a header is a decompression bomb for every tool that decodes it.
MAX_PIXELS = 2 * 89_478_485
_MAX_SEGMENT = 1 << 26  # a JPEG/WebP metadata segment we are willing to read
_HASH_BLOCK = 1 << 20

# Extensions looked at (lower case) and the formats read; other image extensions are
# reported as unsupported, by the format their bytes show.
SUPPORTED_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jfif", ".webp")
OTHER_IMAGE_EXTENSIONS = (".gif", ".avif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".jxl")


class Damaged(Exception):
    """The file is not a readable image of the format its bytes claim; ``str`` says why."""


class Unsupported(Exception):
    """An image in a format we do not read; ``str`` names the format."""


@dataclass
class ImageMeta:
    """What a file's metadata says: its format, size and texts by key."""

    format: str
    width: int = 0
    height: int = 0
    texts: dict[str, str] = field(default_factory=dict)


def read_meta(stream: BinaryIO) -> ImageMeta:
    """The metadata of the image in ``stream`` (read from its start)."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    if head.startswith(PNG_SIGNATURE):
        return _png(stream)
    if head.startswith(b"\xff\xd8"):
        return _jpeg(stream)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(stream)
    raise Unsupported(_format_name(head))


def content_digest(stream: BinaryIO, meta: ImageMeta) -> str:
    """SHA-256 of the image data (what a metadata rewrite re-encodes but does not change):
    a PNG's inflated IDAT stream, a JPEG's scan data, a WebP's bitstream. Read on demand
    only (see ``importers.identity``): for a PNG it costs a full inflate."""
    if meta.width * meta.height > MAX_PIXELS:
        raise Damaged(_bomb(meta.width, meta.height))
    stream.seek(0)
    if meta.format == "PNG":
        return _png_pixels_digest(stream, meta)
    if meta.format == "JPEG":
        return _jpeg_scan_digest(stream)
    return _webp_bitstream_digest(stream)


# -- PNG ------------------------------------------------------------------------------------


def _png(stream: BinaryIO) -> ImageMeta:
    meta = ImageMeta("PNG")
    stream.seek(len(PNG_SIGNATURE))
    total = 0
    seen_data = False
    for kind, length in _png_chunks(stream):
        if kind == b"IHDR":
            meta.width, meta.height = struct.unpack(">II", _read(stream, 8, "IHDR"))
            if meta.width * meta.height > MAX_PIXELS:
                raise Damaged(_bomb(meta.width, meta.height))
            stream.seek(length - 8 + 4, 1)
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            data = _read(stream, length, kind.decode())
            _check_crc(kind, data, stream)
            key, text = _png_text(kind, data)
            total += len(text)
            if total > MAX_TEXT_TOTAL:
                raise Damaged(f"its text chunks hold more than {MAX_TEXT_TOTAL >> 20} MiB")
            meta.texts.setdefault(key, text)
        elif kind == b"IDAT":
            # Every tool writes its text before the image data; text after it is looked for
            # (by seeking over the data) only when none came before.
            if meta.texts and not seen_data:
                return meta
            seen_data = True
            stream.seek(length + 4, 1)
        elif kind == b"IEND":
            break
        else:
            stream.seek(length + 4, 1)
    if not meta.width:
        raise Damaged("a PNG without an IHDR header chunk")
    return meta


def _png_chunks(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    while True:
        header = stream.read(8)
        if not header:
            raise Damaged("truncated before its IEND chunk")
        if len(header) < 8:
            raise Damaged("truncated in a chunk header")
        length, kind = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF or not kind.isalpha():
            raise Damaged(f"a broken chunk header ({kind!r}, length {length})")
        yield kind, length


def _png_text(kind: bytes, data: bytes) -> tuple[str, str]:
    key, sep, rest = data.partition(b"\0")
    if not sep or not 1 <= len(key) <= 79:
        raise Damaged(f"a {kind.decode()} chunk without a keyword")
    name = key.decode("latin-1")
    if kind == b"tEXt":
        return name, rest.decode("latin-1")
    if kind == b"zTXt":
        return name, _inflate(rest[1:], name).decode("latin-1")
    if len(rest) < 2:
        raise Damaged(f"an iTXt chunk {name!r} cut short")
    compressed = rest[0] == 1
    _, _, rest = rest[2:].partition(b"\0")  # language tag
    _, _, text = rest.partition(b"\0")  # translated keyword
    raw = _inflate(text, name) if compressed else text
    try:
        return name, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Damaged(f"the iTXt chunk {name!r} is not UTF-8") from exc


def _inflate(data: bytes, name: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_CHUNK + 1)
    except zlib.error as exc:
        raise Damaged(f"the compressed text chunk {name!r} does not inflate ({exc})") from exc
    if len(out) > MAX_TEXT_CHUNK or inflater.unconsumed_tail:
        raise Damaged(f"the compressed text chunk {name!r} inflates past "
                      f"{MAX_TEXT_CHUNK >> 20} MiB (a zTXt bomb?)")
    return out


def _check_crc(kind: bytes, data: bytes, stream: BinaryIO) -> None:
    stored = stream.read(4)
    if len(stored) < 4:
        raise Damaged(f"truncated in its {kind.decode()} chunk")
    if struct.unpack(">I", stored)[0] != zlib.crc32(data, zlib.crc32(kind)):
        raise Damaged(f"a {kind.decode()} chunk fails its CRC check")


def _png_pixels_digest(stream: BinaryIO, meta: ImageMeta) -> str:
    digest = hashlib.sha256()
    inflater = zlib.decompressobj()
    limit = _png_data_bound(meta)
    produced = 0
    stream.seek(len(PNG_SIGNATURE))
    for kind, length in _png_chunks(stream):
        if kind == b"IEND":
            break
        if kind != b"IDAT":
            stream.seek(length + 4, 1)
            continue
        remaining = length
        while remaining:
            block = _read(stream, min(remaining, _HASH_BLOCK), "IDAT")
            remaining -= len(block)
            try:
                out = inflater.decompress(block, limit - produced + 1)
            except zlib.error as exc:
                raise Damaged(f"its image data does not inflate ({exc})") from exc
            produced += len(out)
            if produced > limit or inflater.unconsumed_tail:
                raise Damaged("its image data inflates past what its header allows")
            digest.update(out)
        stream.seek(4, 1)
    return digest.hexdigest()


def _png_data_bound(meta: ImageMeta) -> int:
    # 16 bits x 4 channels, one filter byte per row, room for interlacing's extra rows.
    return meta.height * (meta.width * 8 + 1) * 2 + (1 << 16)


# -- JPEG -----------------------------------------------------------------------------------


def _jpeg(stream: BinaryIO) -> ImageMeta:
    meta = ImageMeta("JPEG")
    stream.seek(2)
    for marker, length in _jpeg_segments(stream):
        if marker == 0xDA:  # start of scan: the image data follows
            break
        data = _read(stream, length, f"segment 0x{marker:02X}")
        if marker == 0xE1 and data.startswith(b"Exif\0\0"):
            _exif(data[6:], meta.texts)
        elif marker == 0xFE:
            meta.texts.setdefault("comment", data.decode("utf-8", "replace"))
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and len(data) >= 5:
            meta.height, meta.width = struct.unpack(">HH", data[1:5])
    if not meta.width:
        raise Damaged("a JPEG without a frame header before its image data")
    return meta


def _jpeg_segments(stream: BinaryIO) -> Iterator[tuple[int, int]]:
    while True:
        byte = stream.read(1)
        while byte == b"\xff":  # fill bytes
            byte = stream.read(1)
        if not byte:
            raise Damaged("truncated before its image data")
        marker = byte[0]
        if marker in (0x01, *range(0xD0, 0xD8)):
            continue
        size = stream.read(2)
        if len(size) < 2 or struct.unpack(">H", size)[0] < 2:
            raise Damaged(f"a broken JPEG segment 0x{marker:02X}")
        yield marker, struct.unpack(">H", size)[0] - 2


def _jpeg_scan_digest(stream: BinaryIO) -> str:
    stream.seek(2)
    for marker, length in _jpeg_segments(stream):
        if marker == 0xDA:
            stream.seek(length, 1)
            return _digest_rest(stream)
        stream.seek(length, 1)
    raise Damaged("a JPEG without image data")  # pragma: no cover - the loop raises first


# -- WebP -----------------------------------------------------------------------------------


def _webp(stream: BinaryIO) -> ImageMeta:
    meta = ImageMeta("WEBP")
    for kind, data in _riff_chunks(stream, keep=(b"VP8X", b"VP8 ", b"VP8L", b"EXIF")):
        if kind == b"VP8X" and len(data) >= 10:
            meta.width = int.from_bytes(data[4:7], "little") + 1
            meta.height = int.from_bytes(data[7:10], "little") + 1
        elif kind == b"VP8 " and len(data) >= 10 and not meta.width:
            width, height = struct.unpack("<HH", data[6:10])
            meta.width, meta.height = width & 0x3FFF, height & 0x3FFF
        elif kind == b"VP8L" and len(data) >= 5 and not meta.width:
            bits = int.from_bytes(data[1:5], "little")
            meta.width, meta.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"EXIF":
            _exif(data[6:] if data.startswith(b"Exif\0\0") else data, meta.texts)
    if not meta.width:
        raise Damaged("a WebP without an image")
    return meta


def _riff_chunks(stream: BinaryIO, *, keep: tuple[bytes, ...]) -> Iterator[tuple[bytes, bytes]]:
    stream.seek(12)
    while True:
        header = stream.read(8)
        if not header:
            return
        if len(header) < 8:
            raise Damaged("truncated in a WebP chunk header")
        kind, length = struct.unpack("<4sI", header)
        if kind in keep:
            yield kind, _read(stream, min(length, _MAX_SEGMENT), kind.decode("latin-1"))
            stream.seek(length - min(length, _MAX_SEGMENT) + (length & 1), 1)
        else:
            stream.seek(length + (length & 1), 1)


def _webp_bitstream_digest(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for _, data in _riff_chunks(stream, keep=(b"VP8 ", b"VP8L", b"ALPH")):
        digest.update(data)
    return digest.hexdigest()


# -- EXIF (TIFF structure) ------------------------------------------------------------------

_USER_COMMENT = 0x9286
_EXIF_POINTER = 0x8769
# IFD0 tags the tools use, as the PNG text keys the detector knows: Fooocus writes its text
# to IFD0 UserComment, its scheme to MakerNote and its version to Software; StableNew writes
# the parameters to ImageDescription; ComfyUI-Image-Saver and ComfyUI's own WebP writer put
# "workflow:{...}" in Make and "prompt:{...}" in Model, "Save Image Extended" writes
# "Prompt: {...}" to Make and "Workflow: {...}" to ImageDescription (seen in real files).
# NovelAI's WebP holds its PNG's text keys as one JSON object in UserComment.
_IFD0_TAGS = {0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model",
              0x0131: "Software", 0x927C: "MakerNote", _USER_COMMENT: "UserComment"}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}


def _exif(tiff: bytes, texts: dict[str, str]) -> None:
    if tiff[:4] not in (b"II*\0", b"MM\0*"):
        raise Damaged("its EXIF block has no TIFF header")
    order = "<" if tiff[:2] == b"II" else ">"
    found: dict[str, bytes] = {}
    pointer = _ifd(tiff, order, _offset(tiff, order, 4), found, _IFD0_TAGS)
    if pointer is not None:
        _ifd(tiff, order, pointer, found, {_USER_COMMENT: "UserComment"})
    for name, raw in found.items():
        text = _user_comment(raw) if name == "UserComment" else _ascii(raw)
        if text:
            _exif_text(name, text, texts)
    if texts.get("Software") == "StableNew" and "ImageDescription" in texts:
        # StableNew's JPEGs keep the parameters in ImageDescription (write_jpg_metadata)
        texts.setdefault("parameters", texts["ImageDescription"])


def _exif_text(name: str, text: str, texts: dict[str, str]) -> None:
    graph = _GRAPH_PREFIX.match(text) if name in _GRAPH_TAGS else None
    if name == "UserComment" and text.startswith("SNMETA:"):
        texts.update({k: v for k, v in _stablenew_kv(text).items() if k not in texts})
    elif name == "UserComment" and (keys := _png_keys(text)) is not None:
        texts.update(keys)  # its Software ("NovelAI") wins over IFD0's (the model)
    elif name == "UserComment":
        texts.setdefault("parameters", text)
    elif graph is not None:
        texts.setdefault(graph.group(1).lower(), text[graph.end():])
    elif name == "MakerNote" and text in ("fooocus", "a1111"):
        texts.setdefault("fooocus_scheme", text)
    elif name in ("Software", "ImageDescription"):
        texts.setdefault(name, text)


_GRAPH_TAGS = ("Make", "Model", "ImageDescription")
_GRAPH_PREFIX = re.compile(r"(prompt|workflow)\s*:\s*(?=\{)", re.IGNORECASE)


def _png_keys(text: str) -> dict[str, str] | None:
    """NovelAI's WebP UserComment: ``{"Comment": "<json>", "Software": "NovelAI", ...}``,
    the keys its PNG holds as text chunks (string values; NUL padding dropped)."""
    if not text.startswith("{") or '"Comment"' not in text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()) \
            or not {"Comment", "Software"} <= data.keys():
        return None
    return {str(k): v.strip("\0") for k, v in data.items()}


def _stablenew_kv(text: str) -> dict[str, str]:
    """StableNew's JPEG metadata: ``SNMETA:`` + base64 of its key/value JSON."""
    try:
        data = json.loads(base64.b64decode(text[len("SNMETA:"):], validate=True))
    except (ValueError, binascii.Error):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def _ifd(tiff: bytes, order: str, offset: int, found: dict[str, bytes],
         wanted: dict[int, str]) -> int | None:
    """Read one IFD's wanted tags into ``found``; the Exif IFD's offset if it points to one."""
    if offset + 2 > len(tiff):
        raise Damaged("its EXIF IFD lies outside the EXIF block")
    (count,) = struct.unpack(order + "H", tiff[offset:offset + 2])
    pointer = None
    for index in range(count):
        at = offset + 2 + 12 * index
        if at + 12 > len(tiff):
            raise Damaged("its EXIF IFD is cut short")
        tag, kind, number = struct.unpack(order + "HHI", tiff[at:at + 8])
        if tag == _EXIF_POINTER:
            pointer = _offset(tiff, order, at + 8)
        elif tag in wanted:
            size = _TYPE_SIZES.get(kind, 1) * number
            start = at + 8 if size <= 4 else _offset(tiff, order, at + 8)
            if start + size > len(tiff):
                raise Damaged(f"its EXIF tag 0x{tag:04X} points outside the EXIF block")
            found.setdefault(wanted[tag], tiff[start:start + size])
    return pointer


def _offset(tiff: bytes, order: str, at: int) -> int:
    if at + 4 > len(tiff):
        raise Damaged("its EXIF block is cut short")
    value: int = struct.unpack(order + "I", tiff[at:at + 4])[0]
    return value


def _user_comment(raw: bytes) -> str:
    """EXIF 2.3 UserComment: an 8-byte character code, then the text. A1111 (piexif) writes
    ``UNICODE\\0`` + UTF-16 big-endian whatever the TIFF byte order; other writers follow the
    byte order, so both are tried. Fooocus writes plain text with no code at all."""
    code, body = raw[:8], raw[8:]
    if code == b"UNICODE\0":
        return _utf16(body)
    if code == b"ASCII\0\0\0":  # NovelAI writes UTF-8 behind this code: a superset
        return body.decode("utf-8", "replace").rstrip("\0")
    if code == b"JIS\0\0\0\0\0":
        return body.decode("shift_jis", "replace").rstrip("\0")
    if code == b"\0" * 8:
        return body.decode("utf-8", "replace").rstrip("\0")
    return raw.decode("utf-8", "replace").rstrip("\0")


def _utf16(body: bytes) -> str:
    big = body.decode("utf-16-be", "replace")
    little = body.decode("utf-16-le", "replace")
    return (big if _readable(big) >= _readable(little) else little).rstrip("\0")


def _readable(text: str) -> int:
    return sum(char.isascii() and (char.isprintable() or char in "\n\r\t") for char in text)


def _ascii(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\0").strip()


# -- shared ---------------------------------------------------------------------------------


def _read(stream: BinaryIO, length: int, what: str) -> bytes:
    if length > _MAX_SEGMENT + MAX_TEXT_TOTAL:
        raise Damaged(f"its {what} claims {length} bytes")
    data = stream.read(length)
    if len(data) < length:
        raise Damaged(f"truncated in its {what}")
    return data


def _digest_rest(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := stream.read(_HASH_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def _bomb(width: int, height: int) -> str:
    return (f"its header claims {width}x{height} = {width * height:,} pixels, over the "
            f"{MAX_PIXELS:,}-pixel limit (a decompression bomb?)")


def _format_name(head: bytes) -> str:
    signatures = ((b"GIF8", "GIF"), (b"BM", "BMP"), (b"II*\0", "TIFF"), (b"MM\0*", "TIFF"),
                  (b"\xff\x0a", "JPEG XL"), (b"\0\0\0\x0cJXL ", "JPEG XL"))
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("latin-1").strip()
        return {"avif": "AVIF", "avis": "AVIF", "heic": "HEIC", "heix": "HEIC",
                "mif1": "HEIF"}.get(brand, f"ISO media ({brand})")
    return "unknown (not an image)"
