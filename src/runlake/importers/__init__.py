"""Importers: existing StableNew logs and WebUI PNGs into the lake's tables."""

from __future__ import annotations

from runlake.importers.a1111 import Infotext, format_infotext, parse_infotext
from runlake.importers.dedup import ImportReport
from runlake.importers.images import import_images
from runlake.importers.stablenew import import_stablenew

__all__ = [
    "ImportReport",
    "Infotext",
    "format_infotext",
    "import_images",
    "import_stablenew",
    "parse_infotext",
]
