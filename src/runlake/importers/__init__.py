"""Importers: existing StableNew logs and A1111/Forge PNGs into the lake's tables.

Modules, in the order an import goes through them:

- ``stablenew``: ``import_stablenew``: a ``learning_records.jsonl`` into ``runs`` (and
  ``ratings`` for lines that are a person's rating).
- ``images``: ``import_images``: the infotext in each PNG's ``parameters`` chunk into ``runs``.
- ``dedup``: deterministic record ids and ``OnceWriter``, which appends each id once (ids the
  lake's fresh view already holds are skipped); ``ImportReport``.

Producers, above the learning hooks: imports ``runlake.learning`` (the record shapes),
``runlake.records`` (the infotext, table names), ``runlake.append`` and Pillow. What it needs
of a lake it names with a Protocol (``dedup.ImportTarget``), so it never imports the facade.
JSON Lines ingest (``runlake append``) lives in ``runlake.append.ingest``: it is the raw zone's
own input and checks no ids. See ``docs/learning.md``.
"""

from __future__ import annotations

from runlake.importers.dedup import ImportReport
from runlake.importers.images import import_images
from runlake.importers.stablenew import import_stablenew

__all__ = ["ImportReport", "import_images", "import_stablenew"]
