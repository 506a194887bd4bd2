"""Schema drift across compaction cycles: new keys, renamed knobs, type changes.

Each case appends one batch of records per cycle and compacts after each; the table must
stay readable by plain Polars after every cycle, and end with the stated column type and
values (in append order). No case may fail a compaction or lose a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
import pytest
from deltalake import DeltaTable

import runlake

TIME = "2026-03-20T10:00:00Z"


@dataclass(frozen=True)
class Drift:
    name: str
    cycles: list[list[dict[str, Any]]]
    column: str
    dtype: pl.DataType
    values: list[Any]
    absent: tuple[str, ...] = ()  # columns that must not exist


def config(**knobs: Any) -> dict[str, Any]:
    return {"base_config": {"txt2img": knobs}}


CASES = [
    Drift("new top-level key", [[{}], [{"extra": 1}]], "record.extra", pl.Int64(), [None, 1]),
    Drift("new nested config key", [[config(steps=20)], [config(steps=20, hr_scale=1.5)]],
          "config.txt2img.hr_scale", pl.Float64(), [None, 1.5]),
    Drift("int then float", [[config(hr_scale=2)], [config(hr_scale=1.5)]],
          "config.txt2img.hr_scale", pl.Float64(), [2.0, 1.5]),
    Drift("float then int", [[config(hr_scale=1.5)], [config(hr_scale=2)]],
          "config.txt2img.hr_scale", pl.Float64(), [1.5, 2.0]),
    Drift("number then text", [[config(hr_scale=2)], [config(hr_scale="auto")]],
          "config.txt2img.hr_scale", pl.String(), ["2", "auto"]),
    Drift("text then number", [[config(hr_scale="auto")], [config(hr_scale=2.5)]],
          "config.txt2img.hr_scale", pl.String(), ["auto", "2.5"]),
    Drift("bool then text", [[config(enable_hr=True)], [config(enable_hr="yes")]],
          "config.txt2img.enable_hr", pl.String(), ["true", "yes"]),
    Drift("bool then number", [[config(enable_hr=True)], [config(enable_hr=1)]],
          "config.txt2img.enable_hr", pl.String(), ["true", "1"]),
    Drift("number then bool", [[config(enable_hr=1)], [config(enable_hr=False)]],
          "config.txt2img.enable_hr", pl.String(), ["1", "false"]),
    Drift("scalar then object", [[config(sampler="Euler")], [config(sampler={"name": "UniPC"})]],
          "config.txt2img.sampler.name", pl.String(), [None, "UniPC"]),
    Drift("object then scalar", [[config(sampler={"name": "UniPC"})], [config(sampler="Euler")]],
          "config.txt2img.sampler", pl.String(), [None, "Euler"]),
    Drift("list then scalar", [[config(tags=["a", "b"])], [config(tags="c")]],
          "config.txt2img.tags", pl.String(), ['["a","b"]', "c"]),
    Drift("knob as text then number", [[config(steps="28")], [config(steps=30)]],
          "steps", pl.Int64(), [28, 30]),
    Drift("one knob under three names",
          [[config(sampler_name="Euler")], [config(sampler="DPM++ 2M")],
           [{"base_config": {"Sampler": "UniPC"}}]],
          "sampler", pl.String(), ["Euler", "DPM++ 2M", "UniPC"]),
    Drift("keys differing in case share a column",
          [[{"base_config": {"Sampler": "A"}}], [{"base_config": {"sampler": "b"}}]],
          "config.Sampler", pl.String(), ["A", "b"], absent=("config.sampler",)),
    Drift("key disappears", [[{"x": 1}], [{}]], "record.x", pl.Int64(), [1, None]),
    Drift("null first, value later", [[{"x": None}], [{"x": 5}]], "record.x", pl.Int64(),
          [None, 5]),
    # Beyond Int64 an integer is its exact decimal text (a float would round it).
    Drift("integer beyond 64 bits", [[config(seed=2**64 - 1)], [config(seed=5)]],
          "config.txt2img.seed", pl.String(), [str(2**64 - 1), "5"]),
    Drift("canonical knob drops what does not fit", [[config(seed=2**64 - 1)], [config(seed=5)]],
          "seed", pl.Int64(), [None, 5]),
    Drift("mixed types in one batch",
          [[{"metadata": {"variant_value": 6.0}}, {"metadata": {"variant_value": "x"}}],
           [{"metadata": {"variant_value": 7.5}}]],
          "variant_value", pl.String(), ["6", "x", "7.5"]),
    Drift("mixed types in one batch, raw leaf",
          [[{"metadata": {"variant_value": 6.5}}, {"metadata": {"variant_value": "x"}}],
           [{"metadata": {"variant_value": 7.5}}]],
          "metadata.variant_value", pl.String(), ["6.5", "x", "7.5"]),
    Drift("rating int then float",
          [[{"metadata": {"user_rating": 3}}], [{"metadata": {"user_rating": 3.5}}]],
          "metadata.user_rating", pl.Float64(), [3.0, 3.5]),
    Drift("ISO-looking text then other text",
          [[{"created": "2026-03-20T09:00:00"}], [{"created": "yesterday"}]],
          "record.created", pl.String(), ["2026-03-20T09:00:00", "yesterday"]),
    Drift("epoch seconds then ISO text as the record's timestamp",
          [[{"timestamp": 1774000800}], [{"timestamp": "2026-03-20T09:00:00+00:00"}]],
          "record.timestamp", pl.String(), ["1774000800", "2026-03-20T09:00:00+00:00"]),
    Drift("deeper nesting appears",
          [[config(hires=None)], [config(hires={"upscaler": {"name": "Latent"}})]],
          "config.txt2img.hires.upscaler.name", pl.String(), [None, "Latent"]),
    Drift("empty config then a real one", [[{"base_config": {}}], [config(steps=3)]],
          "steps", pl.Int64(), [None, 3]),
    Drift("a list of objects appears (kept in payload only)",
          [[{"stage_events": []}], [{"stage_events": [{"phase": "start"}]}]],
          "record_kind", pl.String(), [None, None], absent=("record.stage_events",)),
    Drift("unparseable knob then a number", [[config(steps="many")], [config(steps=30)]],
          "config.txt2img.steps", pl.String(), ["many", "30"]),
    Drift("widening with several files in the partition",
          [[config(hr_scale=2)], [config(hr_scale=3)], [config(hr_scale=1.5)]],
          "config.txt2img.hr_scale", pl.Float64(), [2.0, 3.0, 1.5]),
    Drift("new subscore", [[{"rating": 4}], [{"rating": 3, "subscores": {"hands": "2"}}]],
          "subscore_hands", pl.Float64(), [None, 2.0]),
]


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_drift(lake: runlake.Lake, case: Drift) -> None:
    root = str(lake.root / "tables" / "runs")
    appended: list[dict[str, Any]] = []
    for cycle, records in enumerate(case.cycles):
        batch = [{"timestamp": TIME, **r, "record_id": f"c{cycle}-{i}"}
                 for i, r in enumerate(records)]
        lake.append_many("runs", batch)
        appended += batch
        result = lake.compact("runs")
        assert (result.records, result.quarantined) == (len(batch), 0)
        assert pl.scan_delta(root).collect().height == len(appended)  # readable every cycle
    table = pl.scan_delta(root).collect().sort("record_id")
    assert table.schema[case.column] == case.dtype
    assert table[case.column].to_list() == case.values
    for column in case.absent:
        assert column not in table.columns
    stored = [orjson.loads(p)["record"] for p in table["payload"]]
    assert stored == [orjson.loads(orjson.dumps(r)) for r in appended]  # nothing lost


def test_widening_keeps_older_versions_readable(lake: runlake.Lake) -> None:
    root = str(lake.root / "tables" / "runs")
    lake.append("runs", config(hr_scale=2))
    lake.compact("runs")
    lake.append("runs", config(hr_scale=1.5))
    result = lake.compact("runs").tables[0]
    assert result.rewritten == 1
    old = pl.scan_delta(root, version=0).collect()
    assert old.schema["config.txt2img.hr_scale"] == pl.Int64
    assert old["config.txt2img.hr_scale"].to_list() == [2]
    assert DeltaTable(root).schema().to_arrow().field("config.txt2img.hr_scale").type \
        is not None
