"""Importing folders of images: runs with canonical knobs, a reason for every file without a
run, identity that survives rewrites and tells same-metadata images apart, worker processes,
progress, and one compare group for one setting written by four tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import runlake
from runlake import LearningRecord, import_images
from runlake.testing import images
from tests.importers.helpers import write_catalogue


def records(lake: runlake.Lake) -> dict[str, LearningRecord]:
    found = {}
    for stored in lake.read_raw("runs"):
        record = LearningRecord.from_dict(stored.record)
        assert stored.record_id == record.run_id
        found[Path(record.metadata["image_path"]).name] = record
    return found


def test_images_with_metadata_become_runs(lake: runlake.Lake, folder: Path) -> None:
    report = import_images(lake, folder)
    assert report.appended == {"runs": 4, "ratings": 0}
    assert report.already_present == 0
    reasons = {Path(r.source).name: r.reason for r in report.rejected}
    assert set(reasons) == {"edited-in-gimp.png", "truncated.png", "photo.jpg"}
    assert reasons["edited-in-gimp.png"].startswith("no generation metadata")
    assert reasons["photo.jpg"].startswith("no generation metadata")
    assert reasons["truncated.png"].startswith("damaged: ")
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
    metadata = fox.metadata
    assert metadata["record_kind"] == "image_import"
    assert (metadata["source"], metadata["tool_version"], metadata["image_format"],
            metadata["stage"]) == ("a1111", "v1.10.1", "PNG", "txt2img")
    assert metadata["raw"]["txt2img"]["Sampler"] == "DPM++ 2M"
    assert len(metadata["raw"]["txt2img"]) == 15
    assert metadata["embedded"]["parameters"].startswith("masterpiece, best quality")
    assert metadata["identity"] == {"key": fox.run_id, "content_sha256": None}
    assert fox.stage_plan == ["txt2img"] and fox.variant_configs == []
    path = str((folder / "fox.png").absolute())
    assert metadata["image_path"] == path
    assert fox.outputs == [{"stage": "txt2img", "index": 0, "path": path, "width": 16,
                            "height": 24, "format": "PNG"}]


def test_fused_sampler_and_multiline_prompt(lake: runlake.Lake, folder: Path) -> None:
    import_images(lake, folder)
    found = records(lake)
    lighthouse = found["lighthouse.PNG"]
    assert (lighthouse.primary_sampler, lighthouse.primary_scheduler) == ("DPM++ 2M", "Karras")
    assert lighthouse.metadata["raw"]["txt2img"]["Sampler"] == "DPM++ 2M Karras"
    assert lighthouse.base_config["txt2img"]["prompt"] == (
        "a lighthouse at dusk,\ndramatic clouds, volumetric light")
    assert found["unicode.png"].base_config["txt2img"]["prompt"] == "富士山の夕焼け"
    # Before v1.9 (no "Schedule type") a plain label ran A1111's Uniform discretisation.
    assert found["unicode.png"].primary_scheduler == "Uniform"


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
    assert again.appended["runs"] == 0 and again.already_present == 4 and again.skipped == 3
    copies = tmp_path / "copies"
    shutil.copytree(folder, copies)
    assert import_images(lake, copies).appended["runs"] == 0
    lake.compact()
    assert import_images(lake, copies).appended["runs"] == 0
    assert [s.record_id for s in lake.read_raw("runs")] == before


def test_every_format_imports_and_compacts(lake: runlake.Lake, tmp_path: Path) -> None:
    root = write_catalogue(tmp_path / "catalogue")
    report = import_images(lake, root)
    # 23 files; the StableNew review rewrite is the same run as its original, and the
    # API-only ComfyUI image the same generation (same graph, same pixels) as the other.
    # A JPEG and a PNG of one generation are two runs (same metadata, other content).
    assert report.rejected == []
    assert report.appended == {"runs": 21, "ratings": 1}
    assert report.already_present == 2
    lake.compact()
    frame = lake.scan("runs").collect()
    assert frame.height == 21
    assert sorted(frame["record_kind"].unique().to_list()) == ["image_import"]
    assert frame["sampler"].null_count() == 0 and frame["steps"].null_count() == 0
    stats = lake.stats("runs")
    assert stats.unrecognised == {"sampler": [], "scheduler": []}
    tools = set(frame["metadata.source"].to_list())
    assert tools == {"a1111", "forge", "sdnext", "civitai", "comfyui", "image_saver",
                     "invokeai", "novelai", "fooocus", "stablenew"}


def test_a_stablenew_review_rewrite_is_the_same_run(lake: runlake.Lake,
                                                     tmp_path: Path) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    review = {"schema": "stablenew.review.v2.6", "user_rating": 4, "steps": 0,
              "cfg_scale": 0.0, "subscores": {"anatomy": 5}, "user_notes": "nice fox"}
    for name, data in (("comfy.png", images.comfyui_png(*images.comfy_two_pass(),
                                                        image=images.pixels((96, 64),
                                                                            noise=True))),
                       ("a1111.png", images.a1111_png(images.A1111_TXT2IMG_HIRES))):
        (folder / name).write_bytes(data)
    (folder / "a1111.jpg").write_bytes(images.a1111_jpeg(images.A1111_TXT2IMG_HIRES,
                                                         image=images.pixels((50, 40))))
    first = import_images(lake, folder)
    assert first.appended == {"runs": 3, "ratings": 0}
    ids = {name: r.run_id for name, r in records(lake).items()}
    # StableNew rewrites each file in place: new chunks (all iTXt), re-encoded pixels (for
    # the ComfyUI image other bytes: ComfyUI compresses at level 4, StableNew at 6).
    for name in ("comfy.png", "a1111.png"):
        original = (folder / name).read_bytes()
        rewritten = images.stablenew_review_rewrite(original, review)
        assert (rewritten[rewritten.index(b"IDAT"):] != original[original.index(b"IDAT"):]) \
            is (name == "comfy.png")
        (folder / name).write_bytes(rewritten)
    jpeg = folder / "a1111.jpg"
    jpeg.write_bytes(images.stablenew_jpeg_rewrite(jpeg.read_bytes(), review))
    again = import_images(lake, folder)
    assert again.appended["runs"] == 0 and again.already_present == 3
    assert again.appended["ratings"] == 3  # the reviews StableNew embedded
    ratings = {r.record["run_id"]: r.record for r in lake.read_raw("ratings")}
    assert set(ratings) == set(ids.values())
    assert ratings[ids["a1111.png"]]["rating"] == 4.0
    assert ratings[ids["a1111.png"]]["notes"] == "nice fox"
    assert ratings[ids["a1111.png"]]["source"] == "stablenew:review_embedded"
    # Moved elsewhere after the rewrite: still the same runs.
    moved = tmp_path / "moved"
    shutil.move(folder, moved)
    assert import_images(lake, moved).appended["runs"] == 0


def test_same_metadata_different_images_are_different_runs(lake: runlake.Lake,
                                                           tmp_path: Path) -> None:
    # img2img over a folder of inputs with a fixed seed: identical infotext, other pixels.
    folder = tmp_path / "img2img"
    folder.mkdir()
    for index in range(3):
        (folder / f"{index}.png").write_bytes(images.a1111_png(
            images.A1111_IMG2IMG, image=images.pixels((32, 32), noise=True, seed=index)))
    shutil.copy(folder / "0.png", folder / "0-copy.png")
    report = import_images(lake, folder)
    assert report.appended["runs"] == 3 and report.already_present == 1  # the copy
    found = records(lake)
    assert set(found) == {"0-copy.png", "1.png", "2.png"}  # "0-copy" sorts first
    assert found["0-copy.png"].metadata["identity"]["content_sha256"] is None
    assert found["1.png"].metadata["identity"]["content_sha256"] is not None
    again = import_images(lake, folder)
    assert again.appended["runs"] == 0 and again.already_present == 4


def test_a_comfyui_batch_is_one_run_per_image(lake: runlake.Lake, tmp_path: Path) -> None:
    prompt, workflow = images.comfy_two_pass()
    prompt["5"]["inputs"]["batch_size"] = 2  # both images carry this very graph
    folder = tmp_path / "batch"
    folder.mkdir()
    for index in range(2):
        (folder / f"ComfyUI_{index:05d}_.png").write_bytes(images.comfyui_png(
            prompt, workflow, image=images.pixels((32, 32), noise=True, seed=index)))
    report = import_images(lake, folder)
    assert report.appended["runs"] == 2
    contents = {r.metadata["identity"]["content_sha256"] for r in records(lake).values()}
    assert len(contents) == 2 and None not in contents
    assert import_images(lake, folder).appended["runs"] == 0


def test_bad_files_never_stop_the_rest(lake: runlake.Lake, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a_pixel_bomb.png").write_bytes(images.pixel_bomb_png())
    (folder / "b_ztxt_bomb.png").write_bytes(images.ztxt_bomb_png())
    (folder / "c_good.png").write_bytes(images.a1111_png(images.A1111_TXT2IMG_HIRES))
    (folder / "d_broken_json.png").write_bytes(images.png_bytes(
        images.pixels(), [("text", "invokeai_metadata", "{not json")]))
    (folder / "e_animation.gif").write_bytes(b"GIF89a" + b"\0" * 40)
    (folder / "f_empty.webp").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    report = import_images(lake, folder)
    assert report.appended["runs"] == 1 and report.ignored == 1
    reasons = {Path(r.source).name: r.reason for r in report.rejected}
    assert reasons["a_pixel_bomb.png"].startswith("damaged: its header claims 30000x30000")
    assert "zTXt bomb" in reasons["b_ztxt_bomb.png"]
    assert reasons["d_broken_json.png"].startswith(
        "damaged: its 'invokeai_metadata' metadata is not valid JSON")
    assert reasons["e_animation.gif"] == "unsupported format GIF"
    assert reasons["f_empty.webp"] == "unsupported format unknown (not an image)"


def test_worker_processes_give_the_same_runs(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    count = 40
    for index in range(count):
        text = images.infotext(f"a fox {index}", "", [("Steps", 20), ("Sampler", "Euler a"),
                                                      ("CFG scale", 7), ("Seed", index)])
        (folder / f"{index:03d}.png").write_bytes(images.a1111_png(text))
    (folder / "zz_bomb.png").write_bytes(images.ztxt_bomb_png())
    seen: list[tuple[int, int]] = []
    results = {}
    for workers in (1, 2):
        lake = runlake.Lake(tmp_path / f"lake{workers}")
        report = import_images(lake, folder, workers=workers,
                               progress=lambda done, total: seen.append((done, total)))
        results[workers] = ({s.record_id: s.record for s in lake.read_raw("runs")},
                            report.problems)
        lake.close()
    assert results[1] == results[2]
    assert len(results[1][0]) == count and len(results[1][1]) == 1
    assert seen[-1] == (count + 1, count + 1) and len(seen) == 2 * (count + 1)


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


# -- one setting, four tools, one compare group ------------------------------------------

ONE_SETTING = {"model": "juggernautXL_v9", "sampler": "DPM++ 2M", "scheduler": "Karras",
               "steps": 30, "cfg_scale": 6.5}


def four_tools(folder: Path, seed: int) -> None:
    """DPM++ 2M Karras, 30 steps, CFG 6.5, juggernautXL_v9, as four tools write it."""
    folder.mkdir(parents=True, exist_ok=True)
    a1111 = images.infotext("a fox", "", [
        ("Steps", 30), ("Sampler", "DPM++ 2M"), ("Schedule type", "Automatic"),
        ("CFG scale", 6.5), ("Seed", seed), ("Size", "64x48"), ("Model hash", "1a2b3c4d5e"),
        ("Model", "juggernautXL_v9"), ("Version", "v1.10.1")])
    (folder / f"a1111-{seed}.png").write_bytes(images.a1111_png(a1111))
    prompt, _ = images.comfy_two_pass()
    del prompt["12"], prompt["11"]  # one pass
    prompt["3"]["inputs"].update(seed=seed, steps=30, cfg=6.5, sampler_name="dpmpp_2m",
                                 scheduler="karras")
    prompt["8"]["inputs"]["samples"] = ["3", 0]
    (folder / f"comfy-{seed}.png").write_bytes(images.comfyui_png(prompt, None))
    invoke: dict[str, Any] = {**images.INVOKEAI_V5_METADATA, "seed": seed, "steps": 30,
                              "cfg_scale": 6.5, "scheduler": "dpmpp_2m_k"}
    invoke["model"] = {**invoke["model"], "name": "juggernautXL_v9"}
    (folder / f"invoke-{seed}.png").write_bytes(images.invokeai_png(invoke))


def stablenew_records(path: Path, seeds: range) -> None:
    lines = [{"run_id": f"sn-{seed}", "timestamp": "2026-03-20T10:00:00Z",
              "base_config": {"txt2img": {"model": "juggernautXL_v9.safetensors",
                                          "sampler_name": "DPM++ 2M", "scheduler": "karras",
                                          "steps": 30, "cfg_scale": 6.5, "seed": seed}},
              "primary_steps": 0, "primary_cfg_scale": 0.0, "primary_sampler": "",
              "metadata": {"record_kind": "learning_experiment_rating",
                           "user_rating": 3 + seed % 2}} for seed in seeds]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_one_setting_from_four_tools_is_one_compare_group(lake: runlake.Lake,
                                                          tmp_path: Path) -> None:
    for seed in range(3):
        four_tools(tmp_path / "outputs", seed)
    assert import_images(lake, tmp_path / "outputs").appended["runs"] == 9
    stablenew_records(tmp_path / "learning_records.jsonl", range(3))
    assert runlake.import_stablenew(lake, tmp_path / "learning_records.jsonl").appended[
        "runs"] == 3
    lake.compact()
    frame = lake.scan("runs").collect()
    assert set(frame["metadata.source"].drop_nulls().to_list()) == {"a1111", "comfyui",
                                                                      "invokeai"}
    groups = frame.select(list(ONE_SETTING)).unique()
    assert groups.to_dicts() == [ONE_SETTING]
    compared = lake.compare(list(ONE_SETTING), metric="steps", min_n=1)
    assert compared.height == 1 and compared["n"].to_list() == [12]


UNREADABLE_PROBE = r"""
import json, sys
import runlake
report = runlake.import_images(runlake.Lake(sys.argv[1]), sys.argv[2])
print(json.dumps({"runs": report.appended["runs"],
                  "rejected": [[r.source, r.reason] for r in report.rejected]}))
"""


def test_an_unreadable_folder_is_a_rejection_and_the_rest_imports(tmp_path: Path) -> None:
    folder = tmp_path / "outputs"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "hidden.png").write_bytes(images.a1111_png(images.A1111_TXT2IMG_HIRES))
    (folder / "good.png").write_bytes(images.a1111_png(images.A1111_TXT2IMG_HIRES))
    (folder / "locked").chmod(0)
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    # Root reads any folder through these capabilities; setpriv drops them for the child.
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] \
        if os.geteuid() == 0 else []
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", UNREADABLE_PROBE, str(tmp_path / "lake"),
             str(folder)], capture_output=True, text=True, timeout=120, check=False)
    finally:
        (folder / "locked").chmod(0o755)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["runs"] == 1
    [[source, reason]] = outcome["rejected"]
    assert source == str(folder / "locked")
    assert reason.startswith("folder cannot be read (Permission denied)")
