"""LearningRecord: knobs from the effective config, JSON round trip, the runs table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlake
from runlake import LearningRecord, RandomizerPlan

UTC = dt.timezone.utc

json_leaves = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
configs = st.dictionaries(st.text(max_size=10), json_values, max_size=4)
optional_text = st.none() | st.text(min_size=1, max_size=20)

records = st.builds(
    LearningRecord,
    run_id=st.text(min_size=1, max_size=40),
    timestamp=st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    base_config=st.dictionaries(st.sampled_from(["txt2img", "img2img", "upscale"]), configs),
    variant_configs=st.lists(configs, max_size=3),
    randomizer_mode=optional_text,
    randomizer_plan_size=st.none() | st.integers(0, 10_000),
    primary_model=optional_text,
    primary_sampler=optional_text,
    primary_scheduler=optional_text,
    primary_steps=st.none() | st.integers(1, 500),
    primary_cfg_scale=st.none() | st.floats(0, 30, allow_nan=False),
    metadata=configs,
    stage_plan=st.lists(st.sampled_from(["txt2img", "img2img", "upscale"]), max_size=3),
    stage_events=st.lists(configs, max_size=3),
    outputs=st.lists(configs, max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(records)
def test_json_round_trip_is_equal(record: LearningRecord) -> None:
    assert LearningRecord.from_json(record.to_json()) == record


def test_primary_knobs_come_from_the_effective_config() -> None:
    base = {"txt2img": {"model": "sdxl.safetensors", "sampler_name": "euler_ancestral",
                        "scheduler": "karras", "steps": 30, "cfg_scale": 7}}
    record = LearningRecord.from_pipeline_context(
        base, [{"txt2img": {"cfg_scale": 8.5, "steps": "40"}}, {"txt2img": {"steps": 99}}],
        RandomizerPlan("sweep", 12), {"experiment_name": "cfg"})
    assert (record.primary_model, record.primary_sampler, record.primary_scheduler,
            record.primary_steps, record.primary_cfg_scale) == (
        "sdxl", "Euler a", "Karras", 40, 8.5)  # canonical values (records.vocabulary)
    assert (record.randomizer_mode, record.randomizer_plan_size) == ("sweep", 12)
    assert record.metadata == {"experiment_name": "cfg"}
    assert record.base_config == base  # the base is kept as given, the variant separately
    assert record.variant_configs[0] == {"txt2img": {"cfg_scale": 8.5, "steps": "40"}}


def test_absent_knobs_stay_none_never_zero() -> None:
    record = LearningRecord.from_pipeline_context({"txt2img": {"prompt": "a fox",
                                                               "sampler_name": "",
                                                               "steps": "many"}})
    assert (record.primary_model, record.primary_sampler, record.primary_scheduler,
            record.primary_steps, record.primary_cfg_scale) == (None, None, None, None, None)
    assert (record.randomizer_mode, record.randomizer_plan_size) == (None, None)


@pytest.mark.parametrize(("config", "expected"), [
    ({"txt2img": {"sampler": "DPM++ 2M", "cfg scale": "6.5"}}, ("DPM++ 2M", 6.5)),
    ({"img2img": {"sampler_name": "UniPC", "cfg_scale": 5}}, ("UniPC", 5.0)),
    ({"sampler_name": "Euler", "cfg_scale": 4.0, "stage": "txt2img"}, ("Euler", 4.0)),
    ({"txt2img": {"cfg_scale": True}}, (None, None)),
    ({"txt2img": {"sampler_name": "dpmpp_2m", "cfg_scale": 0, "steps": 0}}, ("DPM++ 2M", None)),
])
def test_knob_spellings_and_flat_configs(config: dict[str, Any],
                                         expected: tuple[Any, Any]) -> None:
    record = LearningRecord.from_pipeline_context(config)
    assert (record.primary_sampler, record.primary_cfg_scale) == expected


def test_from_pipeline_context_copies_its_inputs() -> None:
    base: dict[str, Any] = {"txt2img": {"steps": 20}}
    record = LearningRecord.from_pipeline_context(base)
    base["txt2img"]["steps"] = 99
    assert record.base_config == {"txt2img": {"steps": 20}}


def test_new_records_get_distinct_ids_and_utc_timestamps() -> None:
    first = LearningRecord.from_pipeline_context({})
    second = LearningRecord.from_pipeline_context({})
    assert first.run_id != second.run_id
    assert first.timestamp.endswith("Z")
    dt.datetime.fromisoformat(first.timestamp[:-1])


@pytest.mark.parametrize(("text", "field"), [
    ('{"timestamp": "2026-03-20T14:00:11Z"}', "run_id"),
    ('{"run_id": "r", "timestamp": "t", "primary_steps": "28"}', "primary_steps"),
    ('{"run_id": "r", "timestamp": "t", "stage_plan": {}}', "stage_plan"),
    ('{"run_id": 5, "timestamp": "t"}', "run_id"),
])
def test_from_json_names_the_bad_field(text: str, field: str) -> None:
    with pytest.raises(runlake.InvalidRecord) as info:
        LearningRecord.from_json(text)
    assert info.value.field == field


def test_from_json_rejects_non_objects() -> None:
    for text in ("[1, 2]", "{not json"):
        with pytest.raises(runlake.InvalidRecord):
            LearningRecord.from_json(text)


def test_unknown_keys_are_ignored() -> None:
    record = LearningRecord.from_json('{"run_id": "r", "timestamp": "2026-03-20T14:00:11",'
                                      ' "sidecar_priors": {}}')
    assert record == LearningRecord("r", "2026-03-20T14:00:11")


def test_failsafe_writer_stores_it_in_runs_at_its_event_time(lake: runlake.Lake) -> None:
    record = LearningRecord.from_pipeline_context(
        {"txt2img": {"model": "sdxl", "steps": 30}}, timestamp="2026-03-20T23:30:00-02:00")
    writer = runlake.LearningRecordWriter(lake)
    record_id = writer.write(record)
    assert writer.failures == 0
    (stored,) = lake.read_raw("runs")
    assert stored.record_id == record_id
    assert stored.event_time == dt.datetime(2026, 3, 21, 1, 30, tzinfo=UTC)
    assert lake.partitions("runs") == ["2026-03-21"]
    assert LearningRecord.from_dict(stored.record) == record


def test_failsafe_writer_spills_a_record_it_cannot_store(lake: runlake.Lake) -> None:
    record = LearningRecord("r1", "not a time")
    writer = runlake.LearningRecordWriter(lake)
    assert writer.write(record) is not None  # never raises
    assert writer.failures == 1 and writer.spilled == 1
    assert list(lake.read_raw("runs")) == []


def test_primary_knobs_use_the_same_aliases_as_compaction() -> None:
    # A diffusers-style config names its knobs differently; the record and the table's
    # canonical columns must read them alike.
    record = LearningRecord.from_pipeline_context(
        {"txt2img": {"num_inference_steps": 30, "guidance_scale": 7.5, "Sampler": "Euler a"}})
    assert (record.primary_steps, record.primary_cfg_scale, record.primary_sampler) == (
        30, 7.5, "Euler a")


def test_a1111_api_shapes_handed_to_the_writer_keep_their_model(tmp_path: Path) -> None:
    # A pipeline that records the A1111 API's own request, response info or stage-keyed
    # dicts: the fresh scan and the compacted table both find the model and the knobs.
    lake = runlake.Lake(tmp_path / "lake")
    writer = runlake.LearningRecordWriter(lake)
    writer.write({"prompt": "a fox", "steps": 25, "sampler_name": "DPM++ 2M",
                  "scheduler": "Karras", "seed": -1, "override_settings": {
                      "sd_model_checkpoint": "SDXL/juggernautXL_v9.safetensors [1a2b3c4d5e]"}})
    writer.write({"sd_model_name": "juggernautXL_v9", "sd_model_hash": "1a2b3c4d5e",
                  "sampler_name": "DPM++ 2M", "steps": 25, "seed": 42, "all_seeds": [42]})
    writer.write({"txt2img": {"steps": 25, "sampler_name": "dpmpp_2m", "scheduler": "karras",
                              "override_settings": {"sd_model_checkpoint":
                                                    "juggernautXL_v9.ckpt"}}})
    expected = {("juggernautXL_v9", "DPM++ 2M", 25)}
    for compacted in (False, True):
        if compacted:
            lake.compact()
        frame = lake.scan("runs").collect()
        assert set(frame.select("model", "sampler", "steps").iter_rows()) == expected
        assert frame["model_hash"].to_list().count("1a2b3c4d5e") == 2
        assert sorted(frame["seed"].to_list(), key=str) == [42, None, None]
    lake.close()
