"""What a stored record is: its id, its envelope, its knobs, the table names, the infotext.

Modules, in the order a record meets them:

- ``ids``: time-ordered unique record ids (``new_id``).
- ``envelope``: a record -> one stored JSON line (validation, record id, event time).
- ``tables``: the table names the code refers to (``runs``, ``ratings``, ``jobs``), once.
- ``ratings``: the rating scale (1-5 unless declared otherwise), shared by the ratings
  table's contract and ``compare``'s bounded intervals.
- ``knobs``: the canonical knobs and every name and place their values are found under
  (data that compaction's normalization and the producers' records both read).
- ``vocabulary``: every tool's spelling of a sampler, scheduler or model -> one canonical
  value, as tables with their sources, and the lookups (``sampler_pair``, ``split_model``).
- ``infotext``: the A1111/Forge "infotext" (parameters text), parsed and written; shared by
  the offline backend (which writes it) and the PNG importer (which reads it).

Owns the meaning of a record, shared by producers, the raw zone and compaction. Imports
``runlake.errors`` and ``orjson``; never Polars, Arrow or Delta Lake (it is on the recording
path).
"""

from __future__ import annotations

from runlake.records.envelope import (
    DEFAULT_MAX_RECORD_BYTES,
    Envelope,
    Enveloper,
    format_time,
    utc_now_text,
)
from runlake.records.ids import new_id
from runlake.records.infotext import Infotext, format_infotext, parse_infotext, split_sampler
from runlake.records.ratings import (
    DEFAULT_RATING_SCALE,
    RATING,
    RateBy,
    Scale,
    check_rating,
    check_scale,
    format_scale,
    parse_scale,
    rating_record,
)
from runlake.records.tables import (
    DERIVED_TABLES,
    JOBS_TABLE,
    RATED_RUNS_VIEW,
    RATINGS_TABLE,
    RUNS_TABLE,
)

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "DEFAULT_RATING_SCALE",
    "DERIVED_TABLES",
    "JOBS_TABLE",
    "RATED_RUNS_VIEW",
    "RATING",
    "RATINGS_TABLE",
    "RUNS_TABLE",
    "Envelope",
    "Enveloper",
    "Infotext",
    "RateBy",
    "Scale",
    "check_rating",
    "check_scale",
    "format_infotext",
    "format_scale",
    "format_time",
    "new_id",
    "parse_infotext",
    "parse_scale",
    "rating_record",
    "split_sampler",
    "utc_now_text",
]
