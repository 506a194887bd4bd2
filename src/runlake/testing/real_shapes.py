"""Test images in the shapes real files showed: files written by the tools themselves (found in
public repositories, listed in ``docs/importers.md``) that the generators of
:mod:`runlake.testing.images`, built from the formats' public code, did not foresee.

Each writer names the real file whose layout it reproduces (repository and path); the values
are made up. The real files are never copied here: only their structure (which container,
which EXIF tag and character code, which JSON keys, which graph nodes).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from PIL import Image

from runlake.testing.images import infotext, pixels

_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_IMAGE_DESCRIPTION = 0x010E
_DOCUMENT_NAME = 0x010D
_MAKE = 0x010F
_SOFTWARE = 0x0131
_ARTIST = 0x013B


def exif_image(*, ifd0: Mapping[int, str | bytes] | None = None,
               user_comment: bytes | None = None, fmt: str = "JPEG") -> bytes:
    """A JPEG or WebP whose EXIF holds ``ifd0`` tags and, in the Exif IFD, a UserComment of
    these exact bytes (character code included)."""
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    if user_comment is not None:
        exif.get_ifd(_EXIF_IFD)[_USER_COMMENT] = user_comment
    buffer = io.BytesIO()
    pixels().save(buffer, fmt, quality=90, exif=exif)
    return buffer.getvalue()


# --------------------------------------------------------------------------- infotexts

# SD.Next before its "App" key (vladmandic/automatic html/logo-bg-0.jpg, 2023): "Sampler:
# Default" (the pipeline's own scheduler), "Latent sampler", "Parser", an 8-digit model hash.
SDNEXT_2023 = infotext(
    "photo of a cute robot with a dark background", "",
    [("Steps", 20), ("Sampler", "Default"), ("Latent sampler", "Default"), ("CFG scale", 6),
     ("Seed", 3693352615), ("Size", "1024x1024"), ("Model hash", "4b64ace6"),
     ("Model", "sdxl_sdxl-base-0.9"), ("Version", "0a083c2"), ("Parser", "Full parser")])

# Forge Classic and Forge Neo (enslo/sd-metadata samples/png/forge-classic.png, forge-neo.png)
# write "Version: classic" / "Version: neo" instead of Forge's "f2.0.1v1.10.1-...".
FORGE_CLASSIC = infotext(
    "a red fox in the snow", "lowres",
    [("Steps", 20), ("Sampler", "DPM++ 2M"), ("Schedule type", "Karras"), ("CFG scale", 6),
     ("Seed", 1239240392), ("Size", "1024x1024"), ("Model hash", "45a21ea00a"),
     ("Model", "waiIllustriousSDXL_v160"), ("RNG", "CPU"), ("Version", "classic")])
FORGE_NEO = FORGE_CLASSIC.replace("Version: classic", "Version: neo-2.28")

# ComfyUI-SaveImageWithMetaData with civitai_sampler on (enslo/sd-metadata
# samples/webp/comfyui-saveimagewithmetadata.webp): an A1111-style infotext without a
# Version, the Civitai label ("Euler a" for euler_ancestral + normal), the model file name
# with its extension, and a "Hashes" JSON.
COMFY_SAVE_WITH_METADATA = infotext(
    "a red fox in the snow", "lowres",
    [("Steps", 20), ("Sampler", "Euler a"), ("CFG scale", 5.0), ("Seed", 827555711811618),
     ("Clip skip", 2), ("Size", "1024x1024"), ("Model", "waiIllustriousSDXL_v160.safetensors"),
     ("Model hash", "45a21ea00a")]) + ', Hashes: {"model": "45a21ea00a"}'


def infotext_webp(text: str) -> bytes:
    """A WebP with ``text`` as its Exif UserComment (``UNICODE\\0`` + UTF-16-BE, piexif)."""
    return exif_image(user_comment=b"UNICODE\0" + text.encode("utf-16-be"), fmt="WEBP")
