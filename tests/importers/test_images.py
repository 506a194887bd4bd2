"""Importing WebUI PNGs: the parameters chunk into runs, skips, idempotent re-import."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import runlake
from runlake import LearningRecord, import_images


def records(lake: runlake.Lake) -> dict[str, LearningRecord]:
    found = {}
    for stored in lake.read_raw("runs"):
        record = LearningRecord.from_dict(stored.record)
        assert stored.record_id == record.run_id
        found[Path(record.metadata["image_path"]).name] = record
    return found


def test_images_with_parameters_become_runs(lake: runlake.Lake, folder: Path) -> None:
    report = import_images(lake, folder)
    assert report.appended == {"runs": 4}
    assert (report.already_present, report.skipped) == (0, 2)
    (problem,) = report.problems
    assert problem.startswith(str(folder / "truncated.png")) and "not a readable PNG" in problem
    assert set(records(lake)) == {"fox.png", "lighthouse.PNG", "sailor.png", "unicode.png"}


def test_the_record_holds_every_parameter(lake: runlake.Lake, folder: Path) -> None:
    import_images(lake, folder)
    fox = records(lake)["fox.png"]
    assert (fox.primary_model, fox.primary_sampler, fox.primary_scheduler, fox.primary_steps,
            fox.primary_cfg_scale) == ("juggernautXL_v9", "DPM++ 2M", "Karras", 28, 6.5)
    config = fox.base_config["txt2img"]
    assert (config["seed"], config["width"], config["height"], config["hr_scale"]) == (
        3141592653, 832, 1216, 1.5)
    assert config["lora_hashes"] == "detail_tweaker: 0a1b2c3d4e5f"
    assert config["negative_prompt"] == "lowres, bad anatomy, watermark"
    assert len(fox.metadata["parameters"]) == 15
    assert fox.metadata["record_kind"] == "a1111_png_import"
    assert fox.stage_plan == ["txt2img"] and fox.variant_configs == []
    (output,) = fox.outputs
    digest = hashlib.sha256((folder / "fox.png").read_bytes()).hexdigest()
    assert output == {"stage": "txt2img", "index": 0, "path": str(folder / "fox.png"),
                      "sha256": digest}


def test_fused_sampler_and_multiline_prompt(lake: runlake.Lake, folder: Path) -> None:
    import_images(lake, folder)
    found = records(lake)
    lighthouse = found["lighthouse.PNG"]
    assert (lighthouse.primary_sampler, lighthouse.primary_scheduler) == ("DPM++ 2M", "Karras")
    assert lighthouse.metadata["parameters"]["Sampler"] == "DPM++ 2M Karras"
    assert lighthouse.base_config["txt2img"]["prompt"] == (
        "a lighthouse at dusk,\ndramatic clouds, volumetric light")
    assert found["unicode.png"].base_config["txt2img"]["prompt"] == "富士山の夕焼け"


def test_the_event_time_is_the_files_modification_time(lake: runlake.Lake,
                                                      folder: Path) -> None:
    os.utime(folder / "fox.png", (1_774_000_000, 1_774_000_000))
    import_images(lake, folder)
    assert records(lake)["fox.png"].timestamp == "2026-03-20T09:46:40.000000Z"


def test_reimport_and_copies_add_nothing(lake: runlake.Lake, folder: Path,
                                         tmp_path: Path) -> None:
    import_images(lake, folder)
    before = [s.record_id for s in lake.read_raw("runs")]
    again = import_images(lake, folder)
    assert again.appended == {"runs": 0} and again.already_present == 4 and again.skipped == 2
    copies = tmp_path / "copies"
    shutil.copytree(folder, copies)
    assert import_images(lake, copies).appended == {"runs": 0}
    assert [s.record_id for s in lake.read_raw("runs")] == before


def test_offline_backend_images_round_trip(lake: runlake.Lake, tmp_path: Path) -> None:
    runner = runlake.PipelineRunner(runlake.OfflineBackend(), output_dir=tmp_path / "out")
    result = runner.run({"txt2img": {"model": "sdxl.safetensors", "prompt": "a fox",
                                     "sampler_name": "UniPC", "steps": 31, "cfg_scale": 5.5,
                                     "seed": 9, "width": 768, "height": 512}})
    import_images(lake, tmp_path / "out")
    (record,) = records(lake).values()
    assert (record.primary_model, record.primary_sampler, record.primary_steps,
            record.primary_cfg_scale) == (result.record.primary_model, "UniPC", 31, 5.5)


def test_not_a_directory(lake: runlake.Lake, folder: Path) -> None:
    with pytest.raises(runlake.ImportFailed, match="not a directory"):
        import_images(lake, folder / "fox.png")


