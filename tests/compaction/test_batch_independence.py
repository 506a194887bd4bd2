"""A record's values never depend on the other records of its batch.

Normalizing a batch ``[a, b, ...]`` gives each line the row it gets when normalized alone:
the same bad-line verdict, the same canonical values (exactly: same value, same type), and
for every leaf column either row holds, the same value. "Same" for a leaf column allows
only the lattice's lossless widenings, since a column's type is shared by the batch:

- Int64 -> Float64 only when the float is exactly the integer (no rounding beyond 2**53);
- anything -> String only as the value's JSON text (a string stays itself): parsing the
  text gives back exactly the value alone (an integer stays that integer, a boolean a
  boolean, a float that float).

Batches mix records shaped like the samples (StableNew learning records, sweeps) with
hostile ones: lists of mixed kinds, ``{}`` vs ``[]`` vs scalars vs null at one key, integers
beyond 2**53 and beyond Int64 next to floats, nested objects vs text.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import orjson
import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runlake.compaction.columns import CANONICAL
from runlake.compaction.normalize import Normalized, normalize_lines
from runlake.testing import sweep_records
from tests.helpers import DATA

EXAMPLES = int(os.environ.get("RUNLAKE_EXAMPLES", "60"))
BIG = [2**53 + 1, -(2**53) - 3, 2**63 - 1, -(2**63), 2**63 + 1, 2**64 - 1, 2**64 + 5, 10**30]

# Keys normalization reads (knobs, variant values, sizes) and a few it does not.
KEYS = ["steps", "seed", "cfg_scale", "sampler_name", "variant_value", "variable_under_test",
        "Size", "model", "denoise", "x", "tags"]
scalars = (st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.sampled_from(BIG)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from(["", "28", "6.5", "euler", "512x768", "CFG Scale", "steps",
                              "2026-03-20T10:00:00Z", "9007199254740993"]))
values = st.recursive(
    scalars | st.just({}) | st.just([]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                 max_size=3),
    max_leaves=8)
configs = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)
hostile = st.fixed_dictionaries({}, optional={
    "base_config": st.fixed_dictionaries({}, optional={"txt2img": configs}) | configs,
    "variant_configs": st.lists(configs, max_size=2) | values,
    "metadata": configs | values,
    "seed": values,
    "primary_steps": values,
    "variant_value": values,
    "variable_under_test": st.sampled_from(["CFG Scale", "steps", "Sampler", "seed"]),
    "stage_events": st.lists(configs, max_size=2),
})


@cache
def sample_records() -> list[dict[str, Any]]:
    stablenew = [orjson.loads(line) for line in
                 (DATA / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    return [*stablenew, *list(sweep_records(2, seed=5))[:6]]


records = st.one_of(hostile, st.integers(0, 12).map(lambda i: sample_records()[i]))


def stored(index: int, record: Any) -> bytes:
    """A stored line as the lake writes it (json, not orjson: integers beyond 64 bits too,
    as another writer may store them)."""
    return json.dumps({"record_id": f"id{index}", "event_time": "2026-03-20T10:00:00Z",
                       "ingested_at": "2026-03-20T10:00:01Z", "record": record},
                      separators=(",", ":")).encode() + b"\n"


def rows(normalized: Normalized) -> dict[int, dict[str, Any]]:
    """Rows by line start, with their columns' types."""
    frame = normalized.frame
    return {int(start): {name: (frame[name][i], frame.schema[name]) for name in frame.columns}
            for i, start in enumerate(normalized.starts.tolist())}


def same_leaf(alone: Any, alone_type: pl.DataType, batch: Any, batch_type: pl.DataType) -> bool:
    """Whether a leaf's value in the batch is its value alone, up to a lossless widening."""
    if alone is None or batch is None:
        return alone is None and batch is None
    if batch_type == pl.Float64 and alone_type == pl.Int64:
        return same_json(alone, batch)
    if batch_type == pl.String and alone_type == pl.String:
        # A list's JSON text may show its integers as floats (its items widened), exactly.
        return bool(alone == batch) or (alone.startswith("[") and same_json(
            json.loads(alone), json.loads(batch)))
    if batch_type == pl.String:
        try:
            return same_json(alone, json.loads(batch))
        except ValueError:
            return False
    return batch_type == alone_type and same_json(alone, batch)


def same_json(left: Any, right: Any) -> bool:
    """JSON values equal: booleans only to booleans, numbers exactly (an integer to a float
    only when the float is that integer: no rounding)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return bool(left == right)  # Python compares int and float exactly
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(v, right[k])
                                                   for k, v in left.items())
    return type(left) is type(right) and bool(left == right)


def differences(lines: list[bytes]) -> list[str]:
    """How each line's row in the batch differs from its row alone (empty: none)."""
    together = normalize_lines(b"".join(lines))
    batch_rows = rows(together)
    batch_bad = {b.offset: b.reason for b in together.bad}
    found: list[str] = []
    base = 0
    for index, line in enumerate(lines):
        alone = normalize_lines(line)
        where = f"line {index}"
        alone_bad = {b.offset: b.reason for b in alone.bad}
        if alone_bad.get(0) != batch_bad.get(base):
            found.append(f"{where}: bad alone {alone_bad.get(0)!r}, "
                         f"in the batch {batch_bad.get(base)!r}")
        if (0 in rows(alone)) != (base in batch_rows):
            found.append(f"{where}: a row alone {0 in rows(alone)}, in the batch "
                         f"{base in batch_rows}")
        if 0 in rows(alone) and base in batch_rows:
            found += [f"{where}: {d}" for d in row_differences(rows(alone)[0], batch_rows[base])]
        base += len(line)
    return found


def row_differences(alone: dict[str, Any], batch: dict[str, Any]) -> list[str]:
    found = []
    for name in sorted(set(alone) | set(batch)):
        a, a_type = alone.get(name, (None, pl.Null()))
        b, b_type = batch.get(name, (None, pl.Null()))
        if name in CANONICAL or name.startswith("subscore_"):
            if name != "payload" and (a != b or type(a) is not type(b)):
                found.append(f"canonical {name}: alone {a!r}, in the batch {b!r}")
        elif not same_leaf(a, a_type, b, b_type):
            found.append(f"column {name}: alone {a!r} ({a_type}), in the batch {b!r} ({b_type})")
    return found


# The cases found in review, as they were reported.
@example([{"variant_configs": [{"steps": 1}]}, {"variant_configs": [{"x": False}, {"x": 0}]}])
@example([{"variant_value": {"steps": None}}, {"variant_value": False},
          {"tags": [False, []]}])
@example([{"variant_value": []}, {"variant_value": {}}, {"tags": [1, "a", {}]}])
@example([{"seed": 9007199254740993}, {"seed": 1.5}])
@example([{"seed": 2**64 + 5}, {"seed": 1.5}, {"seed": 7}])
@example([{"variant_configs": [{"seed": 2**53 + 1}, {"seed": 0.5}]}, {"seed": "x"}])
@example([{"variant_configs": [{"seed": 2**53 + 1}]}, {"base_config": {"seed": 0.5}}])
@example([{"seed": [None, None]}, {"seed": [9007199254740992.0]}])  # pyarrow: invalid lists
@example([{"base_config": {}, "metadata": False}, {"metadata": 0}])  # a metadata that is no object
@example([{"metadata": False}, {"metadata": ""}])
@example([{"base_config": 1}, {"base_config": "a"}, {"base_config": True}])
@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(records, min_size=2, max_size=5))
def test_a_record_normalizes_the_same_alone_and_in_a_batch(batch: list[Any]) -> None:
    lines = [stored(index, record) for index, record in enumerate(batch)]
    assert differences(lines) == []


def test_big_integers_stay_exact_beside_floats() -> None:
    lines = [stored(0, {"seed": 2**53 + 1, "metadata": {"n": 2**63 - 1}}),
             stored(1, {"seed": 0.5, "metadata": {"n": 2.5}}),
             stored(2, {"seed": 2**64 + 5})]
    frame = normalize_lines(b"".join(lines)).frame
    assert frame["seed"].to_list() == [2**53 + 1, None, None]  # beyond Int64: no seed
    seeds = [None if v is None else json.loads(v) for v in frame["record.seed"].cast(pl.String)]
    assert seeds == [2**53 + 1, 0.5, 2**64 + 5]
    texts = frame["metadata.n"].cast(pl.String).to_list()
    assert [json.loads(t) for t in texts[:2]] == [2**63 - 1, 2.5]
