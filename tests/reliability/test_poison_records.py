"""No record can poison a table (issue 10, point 4): whatever one record holds, the worst
outcome is that record rejected or quarantined with a reason; every other record, and every
command reading the table, goes on.

Keys Polars would read as patterns (``*``, ``^...$``), NUL characters in keys, one flipped
bit of UTF-8, and a property test throwing hostile records (odd keys, huge numbers, deep
nesting, types changing from line to line) at append -> compact -> scan -> compare -> export.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlake
from runlake.compaction.names import is_panic
from tests.helpers import invoke

TS = "2026-03-20T10:00:00Z"


def sure_lake(root: Path) -> runlake.Lake:
    lake = runlake.Lake(root)
    lake.append_many("runs", [{"model": "sdxl", "user_rating": 4.0, "timestamp": TS}] * 3)
    return lake


@pytest.mark.parametrize("key", ["*", "^.*$", "^($"])
def test_keys_that_look_like_patterns_are_plain_keys(tmp_path: Path, key: str) -> None:
    lake = sure_lake(tmp_path / "lake")
    lake.append("runs", {"model": "sdxl", "user_rating": 5.0, "timestamp": TS,
                         "config": {"loras": {key: 0.8, "detail": 0.3}}, key: "top"})
    for command in (["stats", "runs"], ["query", "SELECT count(*) AS n FROM runs"],
                    ["compare", "--by", "model"], ["compact", "runs"], ["stats", "runs"],
                    ["export", "table", "--out", str(tmp_path / "out")]):
        result = invoke(*command, lake=lake.root)
        assert result.returncode == 0, (command, result.stderr)
    frame = lake.scan("runs").collect()
    assert frame.height == 4
    assert frame[f"record.config.loras.{key}"].drop_nulls().to_list() == [0.8]
    assert frame[f"record.{key}"].drop_nulls().to_list() == ["top"]


def test_a_regex_key_never_takes_another_fields_value(lake: runlake.Lake) -> None:
    lake.append("runs", {"^a$": 1, "a": "text", "timestamp": TS})
    for _ in range(2):  # the fresh tail, then the committed table
        row = lake.scan("runs").collect().row(0, named=True)
        assert (row["record.^a$"], row["record.a"]) == (1, "text")
        lake.compact("runs")


def test_a_nul_in_a_key_neither_breaks_nor_bends_a_table(lake: runlake.Lake) -> None:
    record = {"timestamp": TS, "config": {"a\x00b": 1, "a": 2, "mixed": [1, "x"]}}
    lake.append("runs", record)
    first = lake.compact("runs").tables[0]  # panicked before, and every later one too
    assert (first.records, first.quarantined) == (1, 0)
    lake.append("runs", {"timestamp": TS, "config": {"a": 3}})
    assert lake.compact("runs").records == 1
    frame = lake.scan("runs").collect().sort("record.config.a")
    assert frame["record.config.a"].to_list() == [2, 3]  # was 1: the NUL key's value
    assert not any("\x00" in name for name in frame.columns)
    assert orjson.loads(frame["payload"][0])["record"] == record  # kept, byte for byte


def test_lines_set_aside_next_to_a_nul_key_keep_their_offsets(lake: runlake.Lake) -> None:
    lake.append("runs", {"n": 1, "timestamp": TS})
    lake.append("runs", {"n": 2, "timestamp": TS, "a\x00b": 1})
    segment = lake.paths.segments("runs", "2026-03-20")[0]
    torn_at = segment.stat().st_size
    with segment.open("ab") as handle:
        handle.write(b'{"torn": \n')
    lake.append("runs", {"n": 3, "timestamp": TS})
    result = lake.compact("runs").tables[0]
    assert (result.records, result.quarantined) == (3, 1)
    [entry] = runlake.compaction.read_entries(lake.paths, "runs")
    assert (entry.offset, entry.line) == (torn_at, b'{"torn": ')


def test_one_flipped_bit_of_utf8_is_a_quarantined_line(lake: runlake.Lake) -> None:
    lake.append("runs", {"model": "sdxl", "prompt": "a cat", "timestamp": TS})
    lake.append("runs", {"model": "sd15", "prompt": "a dog, café ☕", "timestamp": TS})
    segment = lake.paths.segments("runs", "2026-03-20")[0]
    data = bytearray(segment.read_bytes())
    data[data.index(b"a cat") + 2] ^= 0x80
    segment.write_bytes(bytes(data))
    assert lake.scan("runs").collect()["model"].to_list() == ["sd15"]  # the tail skips it
    result = lake.compact("runs").tables[0]
    assert (result.records, result.quarantined) == (1, 1)  # was 2 and 0: unreadable table
    [entry] = runlake.compaction.read_entries(lake.paths, "runs")
    assert "UTF-8" in entry.reason
    frame = lake.scan("runs").collect()
    assert frame["prompt"].to_list() == ["a dog, café ☕"]


def test_a_rust_panic_is_known_by_its_name() -> None:
    frame = pl.DataFrame({"r": [{"*": 1, "a": 2}]})
    with pytest.raises(BaseException) as caught:  # a panic is no Exception
        frame.select(pl.col("r").struct.field("*"))
    assert is_panic(caught.value) and not isinstance(caught.value, Exception)


# -- the property: append -> compact -> scan -> compare -> export ---------------------------

HOSTILE_KEYS = st.sampled_from(["*", "^a$", "^($", "a.b", "", "a\x00b", "A", "a", "é", "☕",
                                "model", "config", "record_id", "user_rating", "[]", "$", " "])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(HOSTILE_KEYS, inner, max_size=3), max_leaves=12)
RECORDS = st.fixed_dictionaries(
    {"model": st.sampled_from(["sdxl", "sd15"]), "user_rating": st.integers(1, 5)},
    optional={"config": st.dictionaries(HOSTILE_KEYS, VALUES, max_size=4),
              "extra": VALUES, "deep": st.sampled_from([3, 20, 60, 300])},
)


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return value


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(RECORDS, min_size=1, max_size=6))
def test_whatever_a_record_holds_only_that_record_is_set_aside(
        records: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        lake = runlake.Lake(root)
        accepted: dict[str, dict[str, Any]] = {}
        for drawn in records:
            record = {**drawn, "timestamp": TS}
            if "deep" in record:
                record["deep"] = deep(record["deep"])
            try:
                accepted[lake.append("runs", record, durability="flush")] = record
            except runlake.InvalidRecord as exc:
                assert exc.reason  # rejected at once, with a reason
                assert _unstorable(record)
        if not accepted:
            return
        lake.compact("runs")
        frame = lake.scan("runs").collect()
        quarantined = runlake.compaction.read_entries(lake.paths, "runs")
        assert all(entry.reason for entry in quarantined)
        assert frame.height + len(quarantined) == len(accepted)
        for payload in frame["payload"].to_list():
            doc = orjson.loads(payload)
            assert doc["record"] == orjson.loads(orjson.dumps(accepted[doc["record_id"]]))
        if frame.height:
            assert lake.compare("model", "rating")["n"].sum() == frame.height
            lake.export_dataset("table", Path(root) / "out")


def _unstorable(record: dict[str, Any]) -> bool:
    """What append may refuse: NaN or infinity, an integer beyond 64 bits, nesting beyond
    JSON's writer (254 levels)."""
    text = repr(record)
    huge = any(abs(v) >= 2**63 for v in _ints(record))
    odd = any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(record))
    return huge or odd or text.count("{") > 250


def _leaves(value: Any) -> list[Any]:
    stack, found = [value], []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            found.append(item)
    return found


def _ints(value: Any) -> list[int]:
    return [v for v in _leaves(value) if isinstance(v, int) and not isinstance(v, bool)]
