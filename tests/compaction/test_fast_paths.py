"""The decoder's fast paths change speed, never meaning: kind masks by numpy match the regex
reading they replaced, a subset of lines is exactly those lines with the kinds of those
lines, and records of different shapes normalize the same in one batch as apart."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlake
from runlake.compaction.columns import CANONICAL
from runlake.compaction.decode import _Lines, index_lines
from runlake.compaction.kinds import NUMBER, Kinds, kind_masks
from runlake.compaction.normalize import normalize_lines
from runlake.records.envelope import Enveloper
from runlake.testing import sweep_records
from tests.helpers import DATA, run_python

EXAMPLES = int(os.environ.get("RUNLAKE_EXAMPLES", "60"))
# Keys normalization reads, spelled as tools do, plus keys that are hard to find in bytes.
KEYS = ["steps", "cfg_scale", "sampler_name", "variant_value", "variable_under_test", "seed",
        "Size", "primary_steps", "model", 'we"ird', "back\\slash", "ü", "", "steps "]
scalars = (st.none() | st.booleans() | st.integers(-(2**53), 2**53)  # exact as floats too
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from(["", " ", "28", "6.5", "euler", "DPM++ 2M Karras", "512x768",
                              "CFG Scale", "steps", '"steps": 3', "2026-03-20T10:00:00Z",
                              'a\\"b', "ü∑"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
                      max_leaves=10)
# What the grouping fast path is for: a key's value changes kind between lines (number,
# text, boolean, null). Objects against scalars and lists of mixed items take the slow path
# line by line: test_batch_independence.py.
flat_records = st.dictionaries(st.sampled_from(KEYS), scalars, max_size=5)
records = st.fixed_dictionaries({}, optional={
    "base_config": st.fixed_dictionaries({}, optional={"txt2img": flat_records}),
    "variant_configs": st.lists(flat_records, max_size=2),
    "metadata": flat_records,
    "primary_steps": scalars,
    "variant_value": scalars,
    "variable_under_test": st.sampled_from(["CFG Scale", "steps", "Sampler", "seed"]),
})


# -- kind masks ---------------------------------------------------------------------------

_KIND = {ord('"'): 1, ord("{"): 2, ord("["): 4, ord("t"): 8, ord("f"): 8, ord("n"): 0}


@cache
def _pattern(key: str) -> re.Pattern[bytes]:
    return re.compile(re.escape(orjson.dumps(key)) + rb"\s*:\s*(.)", re.DOTALL)


def regex_masks(blob: bytes, starts: np.ndarray, key: str) -> list[int]:
    """The reading kind_masks replaced: a regex over the bytes, one match at a time."""
    masks = [0] * len(starts)
    for match in _pattern(key).finditer(blob):
        line = int(np.searchsorted(starts, match.start(), side="right")) - 1
        masks[line] |= _KIND.get(match.group(1)[0], NUMBER)
    return masks


separators = st.sampled_from([(",", ":"), (", ", ": "), (",", " :\t"), (" ,\r", ":\x0c ")])


@settings(max_examples=EXAMPLES * 3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(values, separators), min_size=1, max_size=8))
def test_kind_masks_match_the_regex_reading(lines: list[tuple[Any, tuple[str, str]]]) -> None:
    blob = b"".join(json.dumps({"v": v}, separators=sep, ensure_ascii=bool(i % 2)).encode()
                    + b"\n" for i, (v, sep) in enumerate(lines))
    starts, _ = index_lines(blob)
    for key in KEYS:
        assert kind_masks(blob, starts, key).tolist() == regex_masks(blob, starts, key), key


# -- subsets ------------------------------------------------------------------------------

@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=30).map(lambda b: b.replace(b"\n", b"x")),
                min_size=1, max_size=12),
       st.booleans(), st.data())
def test_a_subset_holds_exactly_the_chosen_lines(
    pieces: list[bytes], torn_tail: bool, data: st.DataObject
) -> None:
    blob = b"\n".join(pieces) + (b"" if torn_tail else b"\n")  # empty pieces: blank lines
    starts, ends = index_lines(blob)
    lines = _Lines(blob, starts, ends, np.arange(len(starts)), Kinds(blob, starts))
    every = [blob[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    chosen = np.asarray(sorted(data.draw(st.sets(st.integers(0, max(len(starts) - 1, 0)))))
                        if len(starts) else [], dtype=np.int64)
    part = lines.subset(chosen)
    got = [bytes(part.blob[s:e]) for s, e in zip(part.starts.tolist(), part.ends.tolist(),
                                                 strict=True)]
    assert got == [every[i] for i in chosen.tolist()]
    assert part.at.tolist() == chosen.tolist()
    assert [bytes(part.blob[s:e]) for s, e in zip(*index_lines(part.blob), strict=True)] == got


@settings(max_examples=EXAMPLES * 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=8), st.data())
def test_kinds_of_a_subset_are_the_kinds_of_its_lines(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    # The masks are computed once on the whole blob and served to subsets by position.
    enveloper = Enveloper("runs")
    blob = b"".join(enveloper.envelope(r, default_id=f"id{i}").line for i, r in enumerate(batch))
    starts, ends = index_lines(blob)
    lines = _Lines(blob, starts, ends, np.arange(len(starts)), Kinds(blob, starts))
    chosen = np.asarray(sorted(data.draw(st.sets(st.integers(0, len(starts) - 1), min_size=1))),
                        dtype=np.int64)
    part = lines.subset(chosen)
    for key in KEYS:
        assert part.kinds.of(key, part.at).tolist() == \
            kind_masks(part.blob, part.starts, key).tolist(), key


# -- normalization ------------------------------------------------------------------------

def rendered(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The canonical columns as text (leaf columns depend on the batch by design: a list of
    nulls alone is no column, next to a list of booleans it is one), so a column read as
    int alone and as float or JSON text together (the type lattice) compares equal."""
    def text(value: Any) -> Any:
        if isinstance(value, bool):  # alone a Boolean column; with numbers, JSON text
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return None if value is None else str(value)
    knobs = [c for c in CANONICAL if c != "ingested_at"]
    return [{k: text(v) for k, v in row.items() if v is not None}
            for row in frame.select(knobs).rows(named=True)]


def test_an_empty_record_beside_lines_for_the_forgiving_path_is_a_record() -> None:
    # The Polars path turned every empty object into null, the record itself included, so
    # an empty record next to a list of mixed items was quarantined as "record is missing".
    enveloper = Enveloper("runs")
    lines = [enveloper.envelope(r, default_id=f"id{i}").line
             for i, r in enumerate([{}, {"variant_value": [False, []]}])]
    normalized = normalize_lines(b"".join(lines))
    assert normalized.bad == []
    assert normalized.frame["record_id"].to_list() == ["id0", "id1"]


def test_samples_and_sweeps_mixed_in_one_batch_normalize_as_apart(samples: Path) -> None:
    enveloper = Enveloper("runs")
    stablenew = [orjson.loads(line) for line in
                 (DATA / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    sweep = list(sweep_records(4, seed=3))[:len(stablenew) * 3]
    mixed = [r for pair in zip(stablenew * 3, sweep, strict=True) for r in pair]
    lines = [enveloper.envelope(r, default_id=f"m{i}").line for i, r in enumerate(mixed)]
    together = normalize_lines(b"".join(lines))
    odd = normalize_lines(b"".join(lines[0::2])).frame
    even = normalize_lines(b"".join(lines[1::2])).frame
    assert together.bad == []
    rows = rendered(together.frame)
    assert rows[0::2] == rendered(odd)
    assert rows[1::2] == rendered(even)


def test_compaction_of_mixed_records_loads_no_pandas(tmp_path: Path) -> None:
    # pa.array() and pa.table() check for a pandas object first, importing pandas (0.3 s).
    lake = runlake.Lake(tmp_path / "lake")
    stablenew = [orjson.loads(line) for line in
                 (DATA / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    records = [*stablenew, *list(sweep_records(4, seed=1))[:10]] * 3
    lake.append_many("runs", records)
    lake.close()
    code = """
import sys, runlake
result = runlake.Lake(sys.argv[1]).compact()
print(result.records, result.quarantined, "pandas" in sys.modules)
"""
    done = run_python(code, str(lake.root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(records)), "0", "False"]
