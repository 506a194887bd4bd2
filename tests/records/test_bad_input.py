"""Bad input gets a LakeError subclass naming the table, the field and the reason; good input of
any shape reads back equal."""

from __future__ import annotations

import decimal
import math
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlake


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (["a", "list"], None, "must be a JSON object"),
        ("text", None, "must be a JSON object"),
        (None, None, "must be a JSON object"),
        ({1: "x"}, "<root>", "key 1 is a int; JSON keys must be strings"),
        ({"cfg": {("a", "b"): 1}}, "cfg", "JSON keys must be strings"),
        ({"cfg": {"txt2img": {"seed": object()}}}, "cfg.txt2img.seed", "not JSON-serializable"),
        ({"blob": b"\x89PNG"}, "blob", "bytes is not JSON-serializable"),
        ({"tags": {"a", "b"}}, "tags", "set is not JSON-serializable"),
        ({"price": decimal.Decimal("1.5")}, "price", "Decimal is not JSON-serializable"),
        ({"seed": 2**70}, "seed", "integer beyond 64 bits"),
        ({"rating": math.nan}, "rating", "nan is not valid JSON"),
        ({"m": {"scores": [1.0, math.inf]}}, "m.scores[1]", "inf is not valid JSON"),
        ({"x": -math.inf, "y": None}, "x", "-inf is not valid JSON"),
        ({"timestamp": "yesterday"}, "timestamp", "unparseable timestamp 'yesterday'"),
        ({"timestamp": "2026-13-45T99:00:00"}, "timestamp", "unparseable timestamp"),
        ({"timestamp": [2026, 3, 20]}, "timestamp", "expected ISO-8601 text"),
        ({"timestamp": 1e20}, "timestamp", "out of range"),
        ({"timestamp": True}, "timestamp", "expected ISO-8601 text"),
        ({"record_id": ""}, "record_id", "non-empty string"),
        ({"record_id": 17}, "record_id", "non-empty string"),
    ],
)
def test_bad_records_name_table_field_and_reason(
    lake: runlake.Lake, record: object, field: str | None, reason: str
) -> None:
    with pytest.raises(runlake.InvalidRecord) as caught:
        lake.append("runs", record)
    error = caught.value
    assert isinstance(error, runlake.LakeError)
    assert error.table == "runs"
    assert error.field == field
    assert reason in error.reason
    assert "table 'runs'" in str(error)
    assert list(lake.read_raw("runs")) == []


def test_record_larger_than_the_limit(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path, max_record_bytes=1000)
    lake.append("runs", {"x": "y" * 800})
    with pytest.raises(runlake.InvalidRecord, match=r"over the 1000-byte limit"):
        lake.append("runs", {"x": "y" * 1000})
    assert len(list(lake.read_raw("runs"))) == 1


def test_default_limit_is_16_mib(lake: runlake.Lake) -> None:
    with pytest.raises(runlake.InvalidRecord, match="16777216-byte limit"):
        lake.append("runs", {"x": "y" * (16 * 1024 * 1024)})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k not in ("record_id", "timestamp")), json_values,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(records=st.lists(json_objects, min_size=1, max_size=5))
def test_any_json_object_reads_back_equal(records: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        lake = runlake.Lake(root)
        first = lake.append("t", records[0], durability="flush")
        lake.append_many("t", records[1:])
        got = {r.record_id: r.record for r in lake.read_raw("t", strict=True)}
    assert got[first] == records[0]
    assert len(got) == len(records)
    assert sorted(map(orjson.dumps, got.values())) == sorted(map(orjson.dumps, records))
