"""Every tool's real format, read field by field: images built the way each tool writes its
metadata (``runlake.testing.images``; sources in docs/importers.md), read from disk by the
same code an import runs (``read_file``), every knob of every pass checked.

Expected values are written out by hand from what each tool wrote, not computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runlake.importers.reading import read_file
from runlake.testing import images

FOX = "masterpiece, best quality, a red fox in the snow, <lora:detail_tweaker:0.8>"
A1111_HIRES = {
    "model": "juggernautXL_v9", "model_hash": "1a2b3c4d5e", "sampler_name": "DPM++ 2M",
    "scheduler": "Karras", "steps": 28, "cfg_scale": 6.5, "seed": 3141592653, "width": 832,
    "height": 1216, "denoising_strength": 0.35, "clip_skip": 2, "prompt": FOX,
    "negative_prompt": "lowres, bad anatomy, watermark", "hr_scale": 1.5,
    "hr_second_pass_steps": 12, "hr_upscaler": "4x-UltraSharp",
    "lora_hashes": "detail_tweaker: 0a1b2c3d4e5f, add_more: 9f8e7d6c5b4a",
    "ti_hashes": "easynegative: c74b4e810b03", "emphasis": "Original", "version": "v1.10.1"}
FORGE_FLUX = {
    "model": "flux1-dev-bnb-nf4-v2", "model_hash": "bea01d51bd", "sampler_name": "Euler",
    "scheduler": "Simple", "steps": 20, "cfg_scale": 1.0, "seed": 7, "width": 896,
    "height": 1152, "prompt": "a cat astronaut, ☄ unicode prompt", "distilled_cfg_scale": "3.5",
    "version": "f2.0.1v1.10.1-previous-519-g44eb4ea8", "module_1": "ae"}
COMFY_LORA = [{"name": "detail_tweaker.safetensors", "weight": 0.8}]
COMFY_PASS_1 = {
    "model": "juggernautXL_v9", "sampler_name": "DPM++ 2M SDE", "scheduler": "Karras",
    "steps": 28, "cfg_scale": 6.5, "seed": 156680208700286, "width": 832, "height": 1216,
    "denoising_strength": 1.0, "prompt": "a red fox in the snow, masterpiece",
    "negative_prompt": "lowres, watermark", "node": "KSampler", "loras": COMFY_LORA}
COMFY_PASS_2 = {  # fed by LatentUpscaleBy 1.5: runs at 1248x1824
    **COMFY_PASS_1, "sampler_name": "Euler a", "scheduler": "Normal", "steps": 12,
    "cfg_scale": 5.0, "seed": 42, "width": 1248, "height": 1824, "denoising_strength": 0.5}
COMFY_FLUX = {
    "model": "flux1-dev", "sampler_name": "Euler", "scheduler": "Simple", "steps": 20,
    "cfg_scale": 1.0, "seed": 219670278747233, "width": 896, "height": 1152,
    "denoising_strength": 1.0, "prompt": "a cat astronaut, ☄", "node": "SamplerCustomAdvanced",
    "guidance": 3.5}
FOOOCUS = {
    "model": "juggernautXL_v8Rundiffusion", "model_hash": "aeb7e9e689",
    "sampler_name": "DPM++ 2M SDE", "scheduler": "Karras", "steps": 30, "cfg_scale": 4.0,
    "seed": 1234567890123, "width": 1152, "height": 896, "prompt": "a red fox in the snow",
    "prompt_expansion": "a red fox in the snow, cinematic",
    "styles": "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']", "refiner_model": "None",
    "refiner_switch": 0.5, "sharpness": 2.0, "adm_guidance": "(1.5, 0.8, 0.3)",
    "performance": "Speed", "vae": "Default (model)",
    "full_prompt": ["a red fox in the snow", "cinematic, highly detailed"],
    "full_negative_prompt": ["unrealistic", "lowres"],
    "loras": [{"name": "sd_xl_offset_example-lora_1.0", "weight": 0.1, "hash": "4852686128"}]}

# file -> (tool, version, metadata keys, [(stage, config), ...])
EXPECTED: dict[str, tuple[str, str | None, tuple[str, ...], list[tuple[str, dict[str, Any]]]]] = {
    "a1111_txt2img_hires.png": ("a1111", "v1.10.1", ("parameters",), [("txt2img", A1111_HIRES)]),
    # JPEG and WebP: the same infotext, as UTF-16-BE EXIF UserComment (piexif)
    "a1111_txt2img_hires.jpg": ("a1111", "v1.10.1", ("parameters",), [("txt2img", A1111_HIRES)]),
    "a1111_img2img.png": ("a1111", "v1.9.4", ("parameters",), [("inpaint", {
        "model": "v1-5-pruned-emaonly", "model_hash": "6ce0161689", "sampler_name": "Euler a",
        "scheduler": "Uniform",  # "Automatic" is what A1111 runs for Euler a
        "steps": 30, "cfg_scale": 7.0, "seed": 42, "width": 512, "height": 768,
        "denoising_strength": 0.55, "prompt": "portrait of an old sailor, oil painting",
        "negative_prompt": "blurry", "mask_blur": "4", "version": "v1.9.4"})]),
    "a1111_legacy_fused.png": ("a1111", "v1.6.0", ("parameters",), [("txt2img", {
        "model": "v1-5-pruned-emaonly", "model_hash": "6ce0161689", "sampler_name": "DPM++ 2M",
        "scheduler": "Karras", "steps": 20, "cfg_scale": 7.0, "seed": 42, "width": 512,
        "height": 768, "prompt": "a lighthouse at dusk,\ndramatic clouds, volumetric light",
        "version": "v1.6.0"})]),
    "forge_flux_itxt.png": ("forge", FORGE_FLUX["version"], ("parameters",),
                            [("txt2img", FORGE_FLUX)]),
    "a1111_unicode.webp": ("forge", FORGE_FLUX["version"], ("parameters",),
                           [("txt2img", FORGE_FLUX)]),
    "sdnext_txt2img.png": ("sdnext", "5b1c2f4", ("parameters",), [("txt2img", {
        "model": "sd_xl_base_1.0", "model_hash": "31e35c80fc", "sampler_name": "DPM++ 2M",
        "scheduler": "Karras",  # from "Sampler sigma: karras"
        "steps": 20, "cfg_scale": 6.0, "seed": 1234, "width": 1024, "height": 1024,
        "prompt": "a misty forest, volumetric light", "app": "SD.Next", "version": "5b1c2f4",
        "pipeline": "StableDiffusionXLPipeline", "operations": "txt2img",
        "sampler_spacing": "trailing"})]),
    "civitai.jpg": ("civitai", None, ("parameters",), [("txt2img", {
        "model": "Pony Diffusion V6 XL (V6 (start with this one))",  # from Civitai resources
        "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 25, "cfg_scale": 7.0,
        "seed": 2027225909, "width": 832, "height": 1216, "clip_skip": 2,
        "prompt": "a knight in ornate armor", "negative_prompt": "lowres",
        "created_date": "2026-02-25T22:09:08.8166925Z",
        "civitai_resources": [
            {"type": "checkpoint", "modelVersionId": 290640, "modelName": "Pony Diffusion V6 XL",
             "modelVersionName": "V6 (start with this one)"},
            {"type": "lora", "weight": 0.8, "modelVersionId": 62833,
             "modelName": "Detail Tweaker LoRA", "modelVersionName": "v1.0"}],
        "civitai_metadata": {"workflow": "txt2img"}})]),
    "comfyui_two_pass.png": ("comfyui", None, ("prompt",),
                             [("txt2img", COMFY_PASS_1), ("hires", COMFY_PASS_2)]),
    "comfyui_api_only.png": ("comfyui", None, ("prompt",),
                             [("txt2img", COMFY_PASS_1), ("hires", COMFY_PASS_2)]),
    "comfyui_custom_advanced.png": ("comfyui", None, ("prompt",), [("txt2img", COMFY_FLUX)]),
    # Image-Saver: the graph next to the infotext is exact (ids, both passes): it wins.
    "image_saver.png": ("comfyui", None, ("prompt",),
                        [("txt2img", COMFY_PASS_1), ("hires", COMFY_PASS_2)]),
    "image_saver_unmapped.png": ("image_saver", "ComfyUI", ("parameters",), [("txt2img", {
        "model": "flux1-dev", "sampler_name": "Res Multistep", "scheduler": "SGM Uniform",
        "steps": 20, "cfg_scale": 4.0, "seed": 5, "width": 1024, "height": 1024,
        "prompt": "a red fox", "version": "ComfyUI"})]),
    "invokeai_v5.png": ("invokeai", "5.6.0", ("invokeai_metadata",), [("txt2img", {
        "model": "Juggernaut XL v9", "sampler_name": "DPM++ 2M", "scheduler": "Karras",
        "steps": 30, "cfg_scale": 6.0, "seed": 1234567890, "width": 1024, "height": 1024,
        "prompt": "a lighthouse at dusk", "negative_prompt": "blurry",
        "model_key": "9f1c2d3e-aaaa-bbbb-cccc-0123456789ab",
        "model_hash_invokeai": "blake3:abcdef0123", "model_base": "sdxl",
        "loras": [{"name": "detail_tweaker", "weight": 0.75}], "cfg_rescale_multiplier": 0.0,
    })]),
    "invokeai_v3.png": ("invokeai", None, ("invokeai_metadata",), [("txt2img", {
        "model": "stable-diffusion-v1-5", "sampler_name": "Euler a", "steps": 50,
        "cfg_scale": 7.5, "seed": 42, "width": 512, "height": 768,
        "prompt": "a lighthouse at dusk", "negative_prompt": "blurry", "model_base": "sd-1",
        "loras": [{"name": "detail_tweaker", "weight": 0.5}]})]),
    "invokeai_v2.png": ("invokeai", "2.3.5", ("sd-metadata", "Dream"), [("txt2img", {
        "model": "stable-diffusion-1.5", "model_hash": "cc6cb27103", "sampler_name": "LMS",
        "steps": 50, "cfg_scale": 7.5, "seed": 3578231416, "width": 512, "height": 768,
        "prompt": "a lighthouse at dusk", "negative_prompt": "blurry, lowres"})]),
    "novelai.png": ("novelai", None, ("Comment", "Source"), [("txt2img", {
        "model": "Stable Diffusion XL", "model_hash": "c1e1de52", "sampler_name": "Euler a",
        "scheduler": "Native", "steps": 28, "cfg_scale": 5.0, "seed": 2345678901,
        "width": 832, "height": 1216, "prompt": "1girl, solo, upper body",
        "negative_prompt": "lowres, bad anatomy", "cfg_rescale": 0.0, "uncond_scale": 1.0,
        "sm": False, "sm_dyn": False, "n_samples": 1})]),
    "fooocus_json.png": ("fooocus", "Fooocus v2.5.5", ("parameters",), [("txt2img", FOOOCUS)]),
    "fooocus_json.jpg": ("fooocus", "Fooocus v2.5.5", ("parameters",), [("txt2img", FOOOCUS)]),
    "fooocus_a1111.png": ("fooocus", "Fooocus v2.5.5", ("parameters",), [("txt2img", {
        "model": "juggernautXL_v8Rundiffusion", "model_hash": "aeb7e9e689",
        "sampler_name": "DPM++ 2M SDE", "scheduler": "Karras", "steps": 30, "cfg_scale": 4.0,
        "seed": 1234567890123, "width": 1152, "height": 896,
        "prompt": "a red fox in the snow, cinematic, highly detailed",
        "negative_prompt": "unrealistic, lowres", "sharpness": "2.0",
        "adm_guidance": "(1.5, 0.8, 0.3)", "performance": "Speed", "vae": "Default (model)",
        "raw_prompt": "a red fox in the snow", "raw_negative_prompt": "",
        "lora_hashes": "sd_xl_offset_example-lora_1.0: 4852686128",
        "lora_weights": "sd_xl_offset_example-lora_1.0: 0.1", "version": "Fooocus v2.5.5"})]),
    # StableNew embedded a review: the A1111 generation is unchanged.
    "a1111_then_stablenew_review.png": ("a1111", "v1.10.1", ("parameters",),
                                        [("txt2img", A1111_HIRES)]),
}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    for name, data in images.catalogue().items():
        (root / name).write_bytes(data)
    (root / "stablenew_output.png").write_bytes(images.stablenew_output_png())
    two_pass = images.comfy_two_pass()
    (root / "image_saver.jpg").write_bytes(images.image_saver_jpeg(images.IMAGE_SAVER,
                                                                   *two_pass))
    return root


def test_the_catalogue_is_covered() -> None:
    assert set(images.catalogue()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_field_of_every_format(catalogue: Path, name: str) -> None:
    tool, version, keys, passes = EXPECTED[name]
    read = read_file(str(catalogue / name))
    assert read.reason is None
    generation = read.generation
    assert generation is not None
    assert (generation.tool, generation.version, generation.keys) == (tool, version, keys)
    assert [(p.stage, p.config) for p in generation.passes] == passes
    assert (read.width, read.height) == (64, 48)
    extension = name.rsplit(".", maxsplit=1)[-1]
    assert read.format == {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[extension]
    assert set(read.texts) == set(keys)


def test_raw_values_are_kept_as_written(catalogue: Path) -> None:
    comfy = read_file(str(catalogue / "comfyui_two_pass.png")).generation
    assert comfy is not None
    assert comfy.passes[0].raw["sampler_name"] == "dpmpp_2m_sde_gpu"
    assert comfy.passes[0].raw["scheduler"] == "karras"
    assert comfy.passes[0].raw["model"] == "SDXL/juggernautXL_v9.safetensors"
    a1111 = read_file(str(catalogue / "a1111_img2img.png")).generation
    assert a1111 is not None and a1111.passes[0].raw["Schedule type"] == "Automatic"
    fooocus = read_file(str(catalogue / "fooocus_json.png")).generation
    assert fooocus is not None and fooocus.passes[0].raw["seed"] == "1234567890123"


def test_stablenew_output_and_its_stamp(catalogue: Path) -> None:
    read = read_file(str(catalogue / "stablenew_output.png"))
    generation = read.generation
    assert generation is not None and generation.tool == "stablenew"
    (one,) = generation.passes
    assert one.stage == "txt2img"
    assert {k: one.config[k] for k in ("model", "sampler_name", "scheduler", "steps",
                                        "cfg_scale", "seed", "width", "height",
                                        "clip_skip")} == {
        "model": "juggernautXL_v9", "sampler_name": "DPM++ 2M", "scheduler": "Karras",
        "steps": 28, "cfg_scale": 6.5, "seed": 1234, "width": 832, "height": 1216,
        "clip_skip": 2}
    assert generation.extra["stablenew"]["job_id"] == "job-42"
    assert generation.extra["stablenew"]["run_id"] == "run-42"


def test_image_saver_jpeg_reads_its_graph_from_exif(catalogue: Path) -> None:
    read = read_file(str(catalogue / "image_saver.jpg"))
    assert read.generation is not None
    assert [(p.stage, p.config) for p in read.generation.passes] == [
        ("txt2img", COMFY_PASS_1), ("hires", COMFY_PASS_2)]


def test_the_ui_graph_alone_gives_the_same_passes(tmp_path: Path) -> None:
    _, workflow = images.comfy_two_pass()
    path = tmp_path / "ui_only.png"
    path.write_bytes(images.comfyui_png(None, workflow))
    read = read_file(str(path))
    assert read.generation is not None and read.generation.keys == ("workflow",)
    assert [(p.stage, p.config) for p in read.generation.passes] == [
        ("txt2img", COMFY_PASS_1), ("hires", COMFY_PASS_2)]
    _, flux = images.comfy_custom_advanced()
    path.write_bytes(images.comfyui_png(None, flux))
    flux_read = read_file(str(path)).generation
    assert flux_read is not None
    assert [p.config for p in flux_read.passes] == [COMFY_FLUX]
