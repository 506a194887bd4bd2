"""Importers: existing StableNew logs and WebUI PNGs into the lake's tables."""

from __future__ import annotations

from runlake.importers.dedup import ImportReport
from runlake.importers.images import import_images
from runlake.importers.stablenew import import_stablenew

__all__ = ["ImportReport", "import_images", "import_stablenew"]
