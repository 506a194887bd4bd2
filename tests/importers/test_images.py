"""Importing WebUI PNGs: the parameters chunk into runs, skips, idempotent re-import."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

import runlake
from conftest import run_cli
from runlake import LearningRecord, import_images
from test_import_a1111 import sample_blocks


def save_png(path: Path, parameters: str | None, color: str = "navy") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    info = PngInfo()
    if parameters is not None:
        info.add_text("parameters", parameters)
    Image.new("RGB", (16, 24), color).save(path, format="PNG", pnginfo=info)
    return path


@pytest.fixture
def folder(tmp_path: Path, samples: Path) -> Path:
    root = tmp_path / "outputs"
    blocks = sample_blocks(samples)
    save_png(root / "fox.png", blocks[0], "red")
    save_png(root / "2026-03-20" / "lighthouse.PNG", blocks[1], "blue")
    save_png(root / "2026-03-20" / "sailor.png", blocks[2], "green")
    # Not Latin-1: Pillow stores it in an iTXt chunk, as the WebUI does.
    save_png(root / "unicode.png", "富士山の夕焼け\nSteps: 20, Sampler: Euler a, CFG scale: 7",
             "white")
    save_png(root / "edited-in-gimp.png", None)  # no parameters
    (root / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    Image.new("RGB", (4, 4)).save(root / "photo.jpg")  # not a PNG: not looked at
    return root


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


def test_cli_import_images(tmp_path: Path, folder: Path) -> None:
    first = run_cli("import", "images", str(folder), lake=tmp_path / "lake")
    assert first.returncode == 0, first.stderr
    assert "appended 4 to 'runs'; already present 0; skipped 2" in first.stdout
    assert "truncated.png" in first.stderr
    again = run_cli("import", "images", str(folder), lake=tmp_path / "lake")
    assert "appended 0 to 'runs'; already present 4; skipped 2" in again.stdout
