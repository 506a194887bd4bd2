"""Normalization: stored lines -> canonical knob columns, leaf columns and the payload.

Expected values are written out by hand from the sample files, not computed.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runlake.compaction.decode import Decoder
from runlake.compaction.normalize import normalize_lines
from runlake.records.envelope import Enveloper

UTC = timezone.utc
CANONICAL_ORDER = [
    "record_id", "event_time", "date", "ingested_at", "model", "model_hash", "sampler",
    "scheduler", "steps", "cfg_scale", "seed", "width", "height", "denoising_strength",
    "clip_skip", "stage", "prompt", "negative_prompt", "experiment_id", "experiment_name",
    "variable_under_test",
    "variant_index", "variant_value", "variant_value_num", "rating", "status", "duration",
    "run_id", "image_path", "record_kind", "payload",
]


def lines_of(*records: dict[str, Any], table: str = "runs") -> bytes:
    """Records as the lake stores them: one envelope line each."""
    enveloper = Enveloper(table)
    return b"".join(enveloper.envelope(r).line for r in records)


def one(record: dict[str, Any]) -> dict[str, Any]:
    frame = normalize_lines(lines_of(record)).frame
    assert frame.height == 1
    return frame.row(0, named=True)


def sample_rows(samples: Path) -> list[dict[str, Any]]:
    records = [orjson.loads(line) for line in
               (samples / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    normalized = normalize_lines(lines_of(*records))
    assert normalized.bad == []
    return normalized.frame.rows(named=True)


KNOBS = ("model", "sampler", "scheduler", "steps", "cfg_scale", "seed", "width", "height",
         "denoising_strength", "clip_skip", "stage", "prompt", "negative_prompt")

SAMPLE_EXPECTED: list[dict[str, Any]] = [
    # 1-4: a CFG sweep whose knob lives in base_config as "cfg scale"; primary_* are
    # StableNew's placeholders (0.0, "", 0), i.e. absent.
    {"model": None, "sampler": None, "scheduler": None, "steps": None, "cfg_scale": 6.0,
     "seed": None, "width": None, "height": None, "denoising_strength": None,
     "clip_skip": None, "stage": "txt2img", "prompt": "portrait of a woman, studio light",
     "negative_prompt": None, "experiment_id": "CFG sweep juggernaut",
     "experiment_name": "CFG sweep juggernaut", "variable_under_test": "CFG Scale",
     "variant_index": None, "variant_value": "6", "variant_value_num": 6.0, "rating": 3.0,
     "subscore_anatomy": 3.0, "subscore_composition": 3.0, "subscore_prompt_adherence": 4.0,
     "status": None, "duration": None, "run_id": "5f0c1a2e-0000-4000-8000-000000000000",
     "image_path": "output/learning_CFG_sweep_juggernaut/txt2img/00000.png",
     "record_kind": "learning_experiment_rating",
     "event_time": datetime(2026, 3, 20, 14, 0, 11, tzinfo=UTC), "date": "2026-03-20"},
    {"cfg_scale": 7.5, "variant_value": "7.5", "variant_value_num": 7.5, "rating": 4.0,
     "subscore_anatomy": 3.0, "subscore_composition": 4.0, "subscore_prompt_adherence": 5.0,
     "steps": None, "model": None},
    {"cfg_scale": 7.5, "rating": 5.0, "subscore_anatomy": 5.0},
    {"cfg_scale": 9.0, "variant_value": "9", "rating": 2.0, "subscore_prompt_adherence": 2.0},
    # 5: review feedback; the variant overrides prompt and negative prompt; the sampler is a
    # legacy name with the scheduler fused in; steps arrive as the string "28".
    {"model": "juggernautXL_v9", "sampler": "DPM++ 2M", "scheduler": "Karras",
     "steps": 28, "cfg_scale": 6.5, "seed": None, "width": None, "height": None,
     "stage": "review", "prompt": "portrait, detailed hands",
     "negative_prompt": "bad hands, malformed fingers", "experiment_id": None,
     "experiment_name": None, "variable_under_test": None, "variant_value": None,
     "variant_value_num": None, "rating": 3.2, "subscore_anatomy": 5.0,
     "subscore_composition": 4.0, "subscore_prompt_adherence": 3.0,
     "image_path": "output/a.png", "record_kind": "review_tab_feedback",
     "event_time": datetime(2026, 3, 21, 9, 15, 2, 481000, tzinfo=UTC), "date": "2026-03-21"},
    # 6: staged curation; a flat base config with width/height and an empty negative prompt
    # (absent), the variant names sampler/scheduler/steps; variant_value is text; the
    # decision score stored as user_rating is not a rating.
    {"model": "realisticVision_v51", "sampler": "DPM++ 2M",
     "scheduler": "Karras", "steps": 28, "cfg_scale": 6.5, "width": 832, "height": 1216,
     "stage": "txt2img", "prompt": "a lighthouse at dusk", "negative_prompt": None,
     "experiment_name": "curation:lighthouse",
     "variable_under_test": "staged_curation_decision", "variant_value": "advanced_to_refine",
     "variant_value_num": None, "rating": None, "record_kind": "staged_curation_event",
     "image_path": "output/curation/lighthouse/0003.png",
     "event_time": datetime(2026, 3, 22, 17, 40, tzinfo=UTC), "date": "2026-03-22"},
    # 7: stage dicts (txt2img, upscale, pipeline); the first variant overrides CFG 7 -> 8.5;
    # "Automatic" with Euler a is what A1111 runs for it, Uniform; the model loses its
    # extension.
    {"model": "sd_xl_base_1.0", "sampler": "Euler a", "scheduler": "Uniform",
     "steps": 30, "cfg_scale": 8.5, "seed": 1234567890, "width": 1024, "height": 1024,
     "denoising_strength": 0.45, "clip_skip": 2, "stage": None,
     "prompt": "a red fox in the snow", "negative_prompt": "lowres", "rating": None,
     "experiment_id": None, "image_path": "output/fox/0001_up.png", "record_kind": None,
     "run_id": "d3a4c9e1-0000-4000-8000-000000000030", "date": "2026-03-23"},
]


@pytest.mark.parametrize("index", range(len(SAMPLE_EXPECTED)))
def test_sample_records_normalize_to_the_expected_knobs(samples: Path, index: int) -> None:
    row = sample_rows(samples)[index]
    for column, expected in SAMPLE_EXPECTED[index].items():
        assert row[column] == expected, column


def test_sample_config_leaves_are_reachable_by_path(samples: Path) -> None:
    rows = sample_rows(samples)
    assert rows[0]["config.cfg scale"] == 6.0
    fox = rows[6]
    assert fox["config.txt2img.hr_scale"] == 1.5
    assert fox["config.txt2img.cfg_scale"] == 8.5  # the variant's value
    assert fox["config.txt2img.vae"] == ""  # leaves keep values as recorded
    assert fox["config.upscale.upscaling_resize"] == 2.0
    assert fox["config.pipeline.upscale_enabled"] is True
    assert rows[5]["config.reason_tags"] == '["composition_good","lighting_good"]'
    assert rows[0]["record.primary_cfg_scale"] == 0.0  # the raw field, not the knob
    assert rows[0]["metadata.rating_details.technical_quality"] == 4


def sample_lines(samples: Path) -> bytes:
    return lines_of(*[orjson.loads(x) for x in
                      (samples / "stablenew_learning_records.jsonl").read_bytes().splitlines()])


def test_columns_come_in_canonical_order_then_subscores_then_leaves(samples: Path) -> None:
    columns = normalize_lines(sample_lines(samples)).frame.columns
    assert columns[:len(CANONICAL_ORDER)] == CANONICAL_ORDER
    rest = columns[len(CANONICAL_ORDER):]
    subscores = [c for c in rest if c.startswith("subscore_")]
    assert rest[:len(subscores)] == subscores
    assert all(c.startswith(("config.", "metadata.", "record.")) for c in rest[len(subscores):])


def test_payload_is_the_stored_line_exactly(samples: Path) -> None:
    blob = sample_lines(samples)
    normalized = normalize_lines(blob)
    assert normalized.frame["payload"].to_list() == blob.decode().splitlines()
    starts = normalized.starts.tolist()
    lengths = normalized.lengths.tolist()
    assert [blob[s:s + n] for s, n in zip(starts, lengths, strict=True)] == blob.splitlines()


def test_canonical_types_are_fixed() -> None:
    schema = normalize_lines(lines_of({"model": "m"})).frame.schema
    assert schema["steps"] == pl.Int64
    assert schema["cfg_scale"] == pl.Float64
    assert schema["event_time"] == pl.Datetime("us", "UTC")
    assert schema["variant_value"] == pl.String
    assert schema["payload"] == pl.String


@pytest.mark.parametrize(("record", "expected"), [
    # A1111 infotext names, numbers as text, the size as one "WxH" value.
    ({"base_config": {"Steps": "28", "Sampler": "DPM++ 2M Karras", "CFG scale": "7",
                      "Seed": "42", "Size": "512x768", "Model": "v1-5-pruned-emaonly"}},
     {"steps": 28, "sampler": "DPM++ 2M", "scheduler": "Karras", "cfg_scale": 7.0,
      "seed": 42, "width": 512, "height": 768, "model": "v1-5-pruned-emaonly"}),
    # "Schedule type" names the scheduler; a fused name then keeps only its sampler part.
    ({"base_config": {"Sampler": "DPM++ SDE Karras", "Schedule type": "Exponential"}},
     {"sampler": "DPM++ SDE", "scheduler": "Exponential"}),
    ({"base_config": {"sampler": "Euler a"}}, {"sampler": "Euler a", "scheduler": None}),
    ({"base_config": {"sampler_name": "DDIM"}}, {"sampler": "DDIM", "scheduler": None}),
    # A knob only in variable_under_test + variant_value.
    ({"metadata": {"variable_under_test": "CFG Scale", "variant_value": 6.0}},
     {"cfg_scale": 6.0, "variant_value": "6", "variant_value_num": 6.0}),
    ({"metadata": {"variable_under_test": "steps", "variant_value": "35"}},
     {"steps": 35, "variant_value": "35", "variant_value_num": 35.0}),
    ({"metadata": {"variable_under_test": "Sampler", "variant_value": "UniPC"}},
     {"sampler": "UniPC", "variant_value_num": None}),
    # The config beats the experiment's value; primary_* placeholders are absent.
    ({"base_config": {"cfg_scale": 5}, "primary_cfg_scale": 0.0, "primary_steps": 0,
      "primary_model": "", "metadata": {"variable_under_test": "cfg", "variant_value": 9}},
     {"cfg_scale": 5.0, "steps": None, "model": None}),
    ({"primary_cfg_scale": 6.5, "primary_steps": "30", "primary_sampler": "Euler"},
     {"cfg_scale": 6.5, "steps": 30, "sampler": "Euler"}),
    # A flat record (what `lake.append("runs", {...})` users write).
    ({"model": "sdxl", "steps": 30, "cfg_scale": "7.5", "seed": 7},
     {"model": "sdxl", "steps": 30, "cfg_scale": 7.5, "seed": 7}),
    # Absent is null, never 0 or "".
    ({"base_config": {"prompt": "", "negative_prompt": "   ", "steps": None}},
     {"prompt": None, "negative_prompt": None, "steps": None}),
    # What does not fit a knob's type is null there (the payload keeps it).
    ({"base_config": {"steps": "many", "cfg_scale": True, "width": 512.5, "seed": 1e30}},
     {"steps": None, "cfg_scale": None, "width": None, "seed": None}),
    ({"base_config": {"steps": 30.0, "width": "1024"}}, {"steps": 30, "width": 1024}),
    # img2img stage dicts, and a denoising strength.
    ({"base_config": {"img2img": {"denoising_strength": "0.4", "steps": 12}}},
     {"denoising_strength": 0.4, "steps": 12}),
    # Durations: seconds, or milliseconds; status from metadata or a job event's name.
    ({"metadata": {"duration_s": 4.25, "status": "completed"}},
     {"duration": 4.25, "status": "completed"}),
    ({"duration_ms": 1500, "event": "failed"}, {"duration": 1.5, "status": "failed"}),
    # Ratings records: top-level fields and subscores; the learning context of a job.
    ({"rating": 4, "subscores": {"anatomy": "3"}, "experiment_id": "e1", "variant_index": 2},
     {"rating": 4.0, "subscore_anatomy": 3.0, "experiment_id": "e1", "variant_index": 2}),
    ({"learning_context": {"experiment_id": "e2", "variant_index": "1",
                           "variable_under_test": "cfg_scale", "variant_value": 7.5}},
     {"experiment_id": "e2", "variant_index": 1, "cfg_scale": 7.5}),
])
def test_knob_shapes(record: dict[str, Any], expected: dict[str, Any]) -> None:
    row = one(record)
    for column, value in expected.items():
        assert row[column] == value, column


def test_bad_lines_are_reported_with_offset_and_reason() -> None:
    good = lines_of({"model": "a"}, {"model": "b"})
    first, second = good.splitlines(keepends=True)
    blob = (first + b'{"record_id": "x", "event_t\n' + b"[1, 2]\n" + b"\xff\xfe\n"
            + b'{"record_id": "", "event_time": "2026-03-20T00:00:00Z", "record": {}}\n'
            + b'{"record_id": "y", "event_time": "yesterday", "record": {}}\n'
            + b'{"record_id": "z", "event_time": "2026-03-20T00:00:00Z", "record": 5}\n'
            + b"   \n" + second)
    normalized = normalize_lines(blob)
    assert normalized.frame["model"].to_list() == ["a", "b"]
    reasons = {blob[b.offset:b.offset + b.length]: b.reason for b in normalized.bad}
    assert len(reasons) == 7
    assert reasons[b'{"record_id": "x", "event_t'].startswith("not valid JSON")
    assert reasons[b"[1, 2]"].startswith("not a JSON object")
    assert reasons[b"\xff\xfe"].startswith("not valid JSON")
    assert "record_id" in reasons[b'{"record_id": "", "event_time": "2026-03-20T00:00:00Z", '
                                  b'"record": {}}']
    assert "event_time" in reasons[b'{"record_id": "y", "event_time": "yesterday", '
                                   b'"record": {}}']
    assert "record" in reasons[b'{"record_id": "z", "event_time": "2026-03-20T00:00:00Z", '
                               b'"record": 5}']
    assert reasons[b"   "].startswith("not valid JSON")


def test_an_unusable_time_in_an_otherwise_clean_batch_is_rejected_alone() -> None:
    blob = lines_of({"model": "a"}) + (
        b'{"record_id":"t","event_time":"2026-13-45T99:00:00.000000Z","ingested_at":'
        b'"2026-03-20T00:00:00.000000Z","record":{"model":"b"}}\n')
    normalized = normalize_lines(blob)
    assert normalized.frame["model"].to_list() == ["a"]
    assert [b.reason for b in normalized.bad] == [
        "unusable event_time 2026-13-45T99:00:00.000000Z"]


def test_fast_and_slow_paths_agree() -> None:
    """A conflicting value sends the whole batch down the Polars path; the canonical values
    of the other records must not change."""
    records = [{"base_config": {"txt2img": {"steps": 20 + i, "cfg_scale": 7.5, "seed": i}},
                "metadata": {"variant_value": 1.5, "user_rating": 3}} for i in range(5)]
    enveloper = Enveloper("runs")
    lines = [enveloper.envelope(r, default_id=f"id{i}").line for i, r in enumerate(records)]
    odd = enveloper.envelope({"metadata": {"variant_value": "text"}}, default_id="odd").line
    fast = normalize_lines(b"".join(lines)).frame
    slow = normalize_lines(b"".join(lines) + odd).frame
    columns = ["record_id", "steps", "cfg_scale", "seed", "rating", "variant_value_num",
               "event_time", "date"]
    assert slow.head(5).select(columns).equals(fast.select(columns))
    assert slow["variant_value"].to_list() == ["1.5"] * 5 + ["text"]


def test_a_list_of_lines_works_like_a_blob() -> None:
    blob = lines_of({"model": "a"}, {"model": "b"})
    as_list = normalize_lines(blob.splitlines()).frame
    assert as_list.drop("payload").equals(normalize_lines(blob).frame.drop("payload"))


def test_lists_of_objects_are_not_columns_but_lists_of_values_are() -> None:
    row = one({"stage_events": [{"phase": "start"}], "stage_plan": ["txt2img", "upscale"],
               "outputs": [{"path": "a.png"}], "tags": []})
    assert "record.stage_events" not in row
    assert "record.tags" not in row
    assert row["record.stage_plan"] == '["txt2img","upscale"]'
    assert row["image_path"] == "a.png"


def test_iso_looking_text_stays_text() -> None:
    rows = normalize_lines(lines_of(
        {"created": "2026-03-20T09:00:00", "timestamp": "2026-03-20T09:00:00+00:00"},
    ) * 3).frame
    assert rows.schema["record.created"] == pl.String
    assert rows["record.created"].to_list() == ["2026-03-20T09:00:00"] * 3
    assert rows["record.timestamp"].to_list() == ["2026-03-20T09:00:00+00:00"] * 3


json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=8)
keys = st.sampled_from(["steps", "cfg_scale", "model", "Sampler", "seed", "x", "x.y", "X", ""])
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
records = st.dictionaries(keys, json_values, max_size=6)


@settings(max_examples=int(os.environ.get("RUNLAKE_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({"base_config": records, "metadata": records}),
                min_size=1, max_size=6))
def test_any_records_normalize_without_error_and_keep_their_payload(
    batch: list[dict[str, Any]],
) -> None:
    blob = lines_of(*batch)
    normalized = normalize_lines(blob)
    assert normalized.bad == []
    stored = [json.loads(p)["record"] for p in normalized.frame["payload"].to_list()]
    assert stored == [json.loads(orjson.dumps(r)) for r in batch]



def test_interleaved_value_kinds_are_read_in_groups_and_kept_in_line_order() -> None:
    enveloper = Enveloper("runs")
    values: list[Any] = [6.0 if i % 3 else f"text{i}" for i in range(40)]
    blob = b"".join(enveloper.envelope({"metadata": {"variant_value": v}, "i": i},
                                       default_id=f"r{i:02d}").line
                    for i, v in enumerate(values))
    decoder = Decoder()
    first = normalize_lines(blob, decoder=decoder)
    assert decoder.split_keys == ("variant_value",)
    assert len(decoder.decode(blob).parts) == 2  # grouped up front the second time
    for normalized in (first, normalize_lines(blob + b"torn\n", decoder=decoder)):
        frame = normalized.frame
        assert frame["record.i"].to_list() == list(range(40))
        assert frame["variant_value"].to_list() == [
            "6" if i % 3 else f"text{i}" for i in range(40)]
        assert normalized.starts.tolist() == sorted(normalized.starts.tolist())
        assert [blob[s:s + n] for s, n in zip(normalized.starts.tolist(),
                                              normalized.lengths.tolist(), strict=True)] == \
            blob.splitlines()


@pytest.mark.parametrize(("record", "expected"), [
    # One setting, four tools' spellings: one canonical value each (records.vocabulary).
    ({"base_config": {"txt2img": {"sampler_name": "dpmpp_2m", "scheduler": "karras",
                                  "ckpt_name": "SDXL/juggernautXL_v9.safetensors"}}},
     {"sampler": "DPM++ 2M", "scheduler": "Karras", "model": "juggernautXL_v9",
      "model_hash": None}),
    ({"sampler": "dpmpp_2m_k", "model": "juggernautXL_v9"},
     {"sampler": "DPM++ 2M", "scheduler": "Karras", "model": "juggernautXL_v9"}),
    ({"primary_sampler": "DPM++ 2M", "primary_scheduler": "Automatic"},
     {"sampler": "DPM++ 2M", "scheduler": "Karras"}),
    ({"sampler": "DPM++ 2M", "scheduler": "KARRAS"}, {"scheduler": "Karras"}),
    # Unrecognised values pass through unchanged; a scheduler alone is still mapped.
    ({"sampler": "my_sampler", "scheduler": "my_schedule"},
     {"sampler": "my_sampler", "scheduler": "my_schedule"}),
    ({"scheduler": "sgm_uniform"}, {"sampler": None, "scheduler": "SGM Uniform"}),
    # The A1111 API's own shapes: a txt2img request with override_settings ...
    ({"prompt": "a fox", "steps": 20, "sampler_name": "Euler a", "seed": -1,
      "override_settings": {"sd_model_checkpoint": "sdxl/juggernautXL_v9.safetensors "
                                                   "[1a2b3c4d5e]",
                            "CLIP_stop_at_last_layers": 2}},
     {"model": "juggernautXL_v9", "model_hash": "1a2b3c4d5e", "steps": 20, "seed": None,
      "clip_skip": 2, "sampler": "Euler a", "prompt": "a fox"}),
    # ... the response's info as an object, stage-keyed records, the echoed request.
    ({"sd_model_name": "juggernautXL_v9", "sd_model_hash": "1A2B3C4D5E", "seed": 42,
      "all_seeds": [42], "sampler_name": "DPM++ 2M", "cfg_scale": 7.0, "steps": 25},
     {"model": "juggernautXL_v9", "model_hash": "1a2b3c4d5e", "seed": 42, "steps": 25}),
    ({"txt2img": {"steps": 30, "cfg_scale": 6, "override_settings": {
        "sd_model_checkpoint": "v1-5-pruned-emaonly.ckpt"}}},
     {"steps": 30, "cfg_scale": 6.0, "model": "v1-5-pruned-emaonly"}),
    ({"images": [], "parameters": {"steps": 12, "override_settings": {
        "sd_model_checkpoint": "flux1-dev.sft"}}, "info": {"sd_model_name": "flux1-dev"}},
     {"steps": 12, "model": "flux1-dev"}),
    # Placeholders are absent in every source, so a real value further down counts.
    ({"base_config": {"steps": 0, "cfg_scale": 0.0, "width": 0, "height": 0, "clip_skip": 0},
      "primary_steps": 28, "metadata": {"seed": -1}},
     {"steps": 28, "cfg_scale": None, "width": None, "height": None, "seed": None,
      "clip_skip": None}),
    # Denoise strength spellings.
    ({"base_config": {"Denoise Strength": "0.3"}}, {"denoising_strength": 0.3}),
    ({"base_config": {"img2img": {"denoise strength": 0.6}}}, {"denoising_strength": 0.6}),
    # A decision score is not a rating; a person's user_rating is.
    ({"metadata": {"user_rating": 4, "user_rating_source": "decision_score"}}, {"rating": None}),
    ({"metadata": {"user_rating": 4, "record_kind": "staged_curation_event"}},
     {"rating": None}),
    ({"metadata": {"user_rating": 4, "record_kind": "review_tab_feedback"}}, {"rating": 4.0}),
])
def test_vocabulary_and_api_shapes(record: dict[str, Any], expected: dict[str, Any]) -> None:
    row = one(record)
    for column, value in expected.items():
        assert row[column] == value, column


def test_canonical_values_keep_row_order() -> None:
    records = [{"sampler": s, "scheduler": c, "model": m, "steps": i + 1} for i, (s, c, m) in
               enumerate([("dpmpp_2m", "karras", "a.safetensors"), (None, None, None),
                          ("Euler a", None, "b"), ("dpmpp_2m", "karras", "a.ckpt"),
                          ("DPM++ 2M Karras", None, None)] * 3)]
    frame = normalize_lines(lines_of(*records)).frame
    assert frame["steps"].to_list() == list(range(1, 16))
    assert frame["sampler"].to_list()[:5] == ["DPM++ 2M", None, "Euler a", "DPM++ 2M",
                                              "DPM++ 2M"]
    assert frame["scheduler"].to_list()[:5] == ["Karras", None, None, "Karras", "Karras"]
    assert frame["model"].to_list()[:5] == ["a", None, "b", "a", None]
