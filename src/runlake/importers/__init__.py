"""Importers: StableNew's logs and documents, and folders of generated images, into the
lake's tables.

Modules, in the order an import goes through them:

- ``images``: ``import_images``: a folder of images into ``runs`` (a review StableNew
  embedded also into ``ratings``); parallel reading, progress, a reason per rejected file.
- ``reading``: one file -> ``ImageRead`` (its generation and identity, or why it has none);
  what worker processes run.
- ``containers``: PNG text chunks, JPEG and WebP EXIF and the image size, read without
  decoding a pixel (our own bounded readers; damaged files and bombs get a reason).
- ``detect``: which tool wrote the metadata (by its keys) -> a ``Generation``.
- ``a1111`` (A1111/Forge/SD.Next/Civitai/Image-Saver/Fooocus-a1111/StableNew infotext),
  ``comfyui`` (API and UI graphs), ``invokeai``, ``novelai``, ``fooocus``: one reader per
  tool family.
- ``generation``: ``Generation`` and ``Pass``, the canonical form every reader returns.
- ``identity``: record ids that survive a metadata rewrite (generation metadata + size; the
  image content only where metadata cannot tell images apart).
- ``stablenew``: ``import_stablenew``: learning records, job history (every schema
  version), queue jobs, image metadata dumps and review sidecars.
- ``dedup``: deterministic record ids and ``OnceWriter``, which appends each id once (ids
  the lake's fresh view already holds are skipped); ``ImportReport``.

Producers, above the learning hooks: imports ``runlake.learning`` (the record shapes),
``runlake.records`` (the infotext, the vocabulary, table names) and ``runlake.append``; no
Pillow (the image readers are our own). What it needs of a lake it names with a Protocol
(``dedup.ImportTarget``), so it never imports the facade. JSON Lines ingest (``runlake
append``) lives in ``runlake.append.ingest``: it is the raw zone's own input and checks no
ids. See ``docs/importers.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runlake.importers.dedup import ImportReport
    from runlake.importers.images import import_images
    from runlake.importers.stablenew import import_stablenew

# Loaded on first use, so a worker process reading images imports only the readers (not the
# learning hooks and the raw zone the importing side needs).
_LAZY = {"ImportReport": "runlake.importers.dedup", "import_images": "runlake.importers.images",
         "import_stablenew": "runlake.importers.stablenew"}

__all__ = ["ImportReport", "import_images", "import_stablenew"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
