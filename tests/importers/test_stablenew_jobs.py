"""StableNew's job history in every schema version, its pretty-printed JSON documents (queue
jobs, queue state, image metadata dumps, review sidecars) and folders of them: one record per
line or document, knobs found where each version keeps them, placeholders absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runlake
from runlake import import_stablenew
from runlake.importers.stablenew_jobs import history_run, kind_of

KNOBS = ("model", "sampler", "scheduler", "steps", "cfg_scale", "seed", "width", "height",
         "prompt", "negative_prompt", "status", "duration", "experiment_id", "record_kind")
NJR = {  # NormalizedJobRecord: its own knob fields default to placeholders
    "job_id": "job-26", "config": {"txt2img": {"model": "juggernautXL_v9.safetensors",
                                               "sampler_name": "DPM++ 2M",
                                               "scheduler": "karras", "steps": 30,
                                               "cfg_scale": 6.5}},
    "seed": 1234, "positive_prompt": "a red fox", "negative_prompt": "lowres",
    "lora_tags": [{"name": "detail", "weight": 0.5}], "steps": 0, "cfg_scale": 0.0,
    "width": 832, "height": 1216, "sampler_name": "", "scheduler": "", "clip_skip": 0,
    "base_model": "", "stage_chain": [{"stage_type": "txt2img"}, {"stage_type": "upscale"}],
    "learning_context": {"experiment_id": "cfg-sweep", "variant_index": 1},
    "output_paths": ["output/fox/0001.png"], "status": "completed",
}
HISTORY: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # 2.6: knobs in njr_snapshot.normalized_job (its config, then its own fields).
    ({"id": "job-26", "timestamp": "2026-03-20T10:00:00Z", "status": "completed",
      "history_schema": "2.6", "njr_snapshot": {"normalized_job": NJR},
      "runtime": {"started_at": "2026-03-20T09:59:00Z", "duration_seconds": 41.5}},
     {"model": "juggernautXL_v9", "sampler": "DPM++ 2M", "scheduler": "Karras", "steps": 30,
      "cfg_scale": 6.5, "seed": 1234, "width": 832, "height": 1216, "prompt": "a red fox",
      "negative_prompt": "lowres", "status": "completed", "duration": 41.5,
      "experiment_id": "cfg-sweep", "record_kind": "stablenew_job_history"}),
    # 2.6-precanonical: normalized_record_snapshot.config, flat.
    ({"job_id": "job-pre", "created_at": "2026-03-20T11:00:00Z", "status": "failed",
      "normalized_record_snapshot": {"config": {"model": "sdxl.ckpt", "sampler": "Euler a",
                                                "steps": 20, "cfg_scale": 7}},
      "duration_seconds": 3},
     {"model": "sdxl", "sampler": "Euler a", "scheduler": None, "steps": 20, "cfg_scale": 7.0,
      "status": "failed", "duration": 3.0}),
    # 2.4: config + prompts.
    ({"jobId": "job-24", "recorded_at": "2026-03-20T12:00:00Z",
      "config": {"txt2img": {"model_name": "realisticVision_v51", "sampler_name": "DPM++ SDE",
                             "scheduler": "Automatic", "steps": "28", "cfg_scale": 5.5}},
      "prompts": {"positive": "a lighthouse", "negative": "blurry"}},
     {"model": "realisticVision_v51", "sampler": "DPM++ SDE", "scheduler": "Karras",
      "steps": 28, "cfg_scale": 5.5, "prompt": "a lighthouse", "negative_prompt": "blurry"}),
    # 2.0: pipeline_config with model_name / sampler_name.
    ({"job_id": "job-20", "timestamp": "2026-03-20T13:00:00Z",
      "pipeline_config": {"model_name": "v1-5-pruned-emaonly.ckpt [6ce0161689]",
                          "sampler_name": "DPM++ 2M Karras", "steps": 25, "cfg_scale": 7.0,
                          "width": 512, "height": 768, "seed": -1}},
     {"model": "v1-5-pruned-emaonly", "sampler": "DPM++ 2M", "scheduler": "Karras",
      "steps": 25, "width": 512, "seed": None}),
    # legacy: knobs at the top, times in execution_metadata.
    ({"job_id": "job-old", "steps": 15, "sampler": "Euler", "prompts": None,
      "execution_metadata": {"start_time": "2026-03-20T14:00:00Z", "duration_seconds": 9.5},
      "outputs": ["output/old.png"]},
     {"steps": 15, "sampler": "Euler", "duration": 9.5}),
]


def rows(lake: runlake.Lake) -> dict[str, dict[str, Any]]:
    lake.compact()
    frame = lake.scan("runs").collect()
    return {row["run_id"]: row for row in frame.iter_rows(named=True)}


def test_history_jsonl_in_every_schema_version(lake: runlake.Lake, tmp_path: Path) -> None:
    source = tmp_path / "history.jsonl"
    source.write_text("".join(json.dumps(entry) + "\n" for entry, _ in HISTORY))
    report = import_stablenew(lake, source)
    assert report.rejected == [] and report.appended == {"runs": 5, "ratings": 0}
    found = rows(lake)
    for (entry, expected), run_id in zip(HISTORY, ["job-26", "job-pre", "job-24", "job-20",
                                                   "job-old"], strict=True):
        row = found[run_id]
        for column, value in expected.items():
            assert row[column] == value, (run_id, column)
        assert json.loads(row["metadata.source_entry"]) == entry  # nothing lost
    assert found["job-26"]["metadata.history_schema"] == "2.6"
    assert found["job-20"]["metadata.history_schema"] == "2.0"
    assert found["job-26"]["image_path"] == "output/fox/0001.png"
    assert found["job-26"]["record.stage_plan"] == '["txt2img","upscale"]'  # stage_chain
    assert import_stablenew(lake, source).total_appended == 0


def pretty(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


def test_one_pretty_printed_document_is_one_record(lake: runlake.Lake, tmp_path: Path) -> None:
    job = {"job_id": "q-1", "priority": 1, "status": "completed",
           "created_at": "2026-03-21T10:00:00Z", "started_at": "2026-03-21T10:00:05Z",
           "completed_at": "2026-03-21T10:00:35Z", "learning_enabled": True,
           "config_snapshot": {"txt2img": {"model": "sdxl", "steps": 12, "cfg_scale": 4}},
           "snapshot": {"job_id": "q-1", "steps": 0, "cfg_scale": 0.0,
                        "learning_context": {"experiment_id": "e-9"}}}
    report = import_stablenew(lake, pretty(tmp_path / "job.json", job))
    assert report.rejected == [] and report.appended["runs"] == 1
    row = rows(lake)["q-1"]
    assert (row["model"], row["steps"], row["cfg_scale"], row["duration"], row["status"],
            row["experiment_id"], row["record_kind"]) == (
        "sdxl", 12, 4.0, 30.0, "completed", "e-9", "stablenew_queue_job")


def test_a_queue_state_is_one_record_per_job(lake: runlake.Lake, tmp_path: Path) -> None:
    state = {"schema_version": 3, "jobs": [
        {"job_id": f"q-{i}", "status": "queued", "created_at": "2026-03-21T10:00:00Z",
         "config_snapshot": {"txt2img": {"steps": 10 + i}}} for i in range(3)]}
    report = import_stablenew(lake, pretty(tmp_path / "queue_state.json", state))
    assert report.appended["runs"] == 3
    assert sorted(r["steps"] for r in rows(lake).values()) == [10, 11, 12]


def test_sidecars_and_metadata_dumps(lake: runlake.Lake, tmp_path: Path) -> None:
    folder = tmp_path / "output"
    folder.mkdir()
    pretty(folder / "0001.png.review.json", {"stablenew_review": {
        "schema": "stablenew.review.v2.6", "review_timestamp": "2026-03-22T08:00:00Z",
        "source": "review_tab", "image_path": "output/0001.png", "user_rating": 4,
        "user_rating_raw": 4, "quality_label": "good", "weighted_score": 3.7,
        "subscores": {"anatomy": 4}, "user_notes": "", "run_id": "run-7",
        "record_kind": "review_tab_feedback", "steps": 0, "cfg_scale": 0.0}})
    pretty(folder / "0001.png.meta.json", {"status": "ok", "path": "output/0001.png",
                                           "payload": {
        "image": {"format": "PNG", "height": 1216, "path": "output/0001.png", "width": 832},
        "job_id": "job-26", "run_id": "run-7", "seeds": {
            "actual_seed": 987, "actual_subseed": 0, "requested_seed": -1},
        "stage": "txt2img", "stage_manifest": {"config_hash": "abc", "name": "txt2img",
                                               "timestamp": "2026-03-22T07:59:00Z"}},
        "kv": {"stablenew:job_id": "job-26"}})
    (folder / "notes.txt").write_text("ignored")
    report = import_stablenew(lake, folder)
    assert report.rejected == [] and report.appended == {"runs": 2, "ratings": 1}
    lake.compact()
    kinds = {r["record_kind"]: r for r in lake.scan("runs").collect().iter_rows(named=True)}
    review = kinds["review_tab_feedback"]
    assert (review["run_id"], review["rating"], review["steps"], review["cfg_scale"]) == (
        "run-7", 4.0, None, None)  # placeholders absent; the person's rating kept
    dump = kinds["stablenew_image_metadata"]
    assert (dump["run_id"], dump["seed"], dump["width"], dump["stage"],
            dump["image_path"]) == ("run-7", 987, 832, "txt2img", "output/0001.png")
    (rating,) = [s.record for s in lake.read_raw("ratings")]
    assert (rating["run_id"], rating["rating"], rating["subscores"]) == ("run-7", 4.0,
                                                                         {"anatomy": 4})


def test_a_broken_document_is_one_rejection_not_one_per_line(lake: runlake.Lake,
                                                             tmp_path: Path) -> None:
    broken = tmp_path / "job.json"
    broken.write_text(json.dumps({"job_id": "x", "config": {"steps": 1}}, indent=2)[:-3])
    report = import_stablenew(lake, broken)
    assert len(report.rejected) == 1
    assert report.problems[0].startswith("document: not valid JSON")
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([{"job_id": "a", "config": {"steps": 3}}, 7], indent=1))
    second = import_stablenew(lake, listing)
    assert second.appended["runs"] == 1 and second.problems == ["[1]: not a JSON object"]


@pytest.mark.parametrize("entry", [entry for entry, _ in HISTORY])
def test_every_history_shape_is_a_valid_learning_record(entry: dict[str, Any]) -> None:
    assert kind_of(entry) == "stablenew_job_history"
    record = history_run(entry, "fallback")
    assert runlake.LearningRecord.from_json(record.to_json()) == record
