"""What real files written by the tools showed beyond the formats' public code: each test
builds the layout of one real file (``runlake.testing.real_shapes``, which names it) and
checks what the import reads from it. The real files themselves are not in the repository;
``docs/importers.md`` lists the repositories they came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runlake.importers.reading import ImageRead, read_file
from runlake.testing import images, real_shapes

KNOBS = ("model", "model_hash", "sampler_name", "scheduler", "steps", "cfg_scale", "seed",
         "width", "height", "denoising_strength", "clip_skip", "prompt", "negative_prompt")


def read(tmp_path: Path, name: str, data: bytes) -> ImageRead:
    path = tmp_path / name
    path.write_bytes(data)
    return read_file(str(path))


def knobs(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in KNOBS if k in config}


def passes(found: ImageRead) -> list[tuple[str, dict[str, Any]]]:
    assert found.reason is None, found.reason
    assert found.generation is not None
    return [(p.stage, knobs(p.config)) for p in found.generation.passes]


# -- infotexts ---------------------------------------------------------------------------------


def test_sdnext_before_its_app_key(tmp_path: Path) -> None:
    """vladmandic/automatic html/logo-bg-0.jpg: no ``App: SD.Next``; ``Parser`` tells;
    ``Sampler: Default`` is the pipeline's own scheduler, unknown, not a sampler named
    "Default" (``runlake stats`` listed it as unrecognised)."""
    found = read(tmp_path, "sdnext.png", images.a1111_png(real_shapes.SDNEXT_2023))
    assert found.generation is not None and found.generation.tool == "sdnext"
    assert passes(found) == [("txt2img", {
        "model": "sdxl_sdxl-base-0.9", "model_hash": "4b64ace6", "steps": 20, "cfg_scale": 6.0,
        "seed": 3693352615, "width": 1024, "height": 1024,
        "prompt": "photo of a cute robot with a dark background"})]


@pytest.mark.parametrize("text", [real_shapes.FORGE_CLASSIC, real_shapes.FORGE_NEO],
                         ids=["classic", "neo"])
def test_forge_classic_and_neo_are_forge(tmp_path: Path, text: str) -> None:
    """enslo/sd-metadata samples/png/forge-classic.png, forge-neo.png: ``Version: classic``
    and ``Version: neo-2.28`` were labelled a1111."""
    found = read(tmp_path, "forge.png", images.a1111_png(text))
    assert found.generation is not None and found.generation.tool == "forge"
    assert passes(found)[0][1]["scheduler"] == "Karras"


def test_comfy_save_with_metadata_infotext(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/webp/comfyui-saveimagewithmetadata.webp: a ComfyUI node's
    infotext (``Hashes`` JSON, no Version) is not an A1111 one from before v1.9, so its
    plain "Euler a" does not mean A1111's "Uniform" (ComfyUI ran its own scheduler)."""
    found = read(tmp_path, "comfy.webp", real_shapes.infotext_webp(
        real_shapes.COMFY_SAVE_WITH_METADATA))
    assert found.generation is not None and found.generation.tool == "comfyui"
    assert passes(found) == [("txt2img", {
        "model": "waiIllustriousSDXL_v160", "model_hash": "45a21ea00a",
        "sampler_name": "Euler a", "steps": 20, "cfg_scale": 5.0, "seed": 827555711811618,
        "width": 1024, "height": 1024, "clip_skip": 2, "prompt": "a red fox in the snow",
        "negative_prompt": "lowres"})]


# -- ComfyUI graphs ---------------------------------------------------------------------------

FOX_1024 = {"model": "waiIllustriousSDXL_v160", "sampler_name": "Euler a",
            "scheduler": "Karras", "cfg_scale": 5.0, "prompt": "a red fox in the snow",
            "negative_prompt": "lowres"}


def test_comfy_hires_in_pixel_space(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/comfyui-hires.png: decode, upscale model, ImageScale,
    encode, resample. The second sampler was labelled img2img with no size; it is a hires
    pass at 1536x1536. CLIPSetLastLayer -2 is clip skip 2 (the infotext ComfyUI savers
    write next to such graphs says so)."""
    found = read(tmp_path, "hires.png", images.comfyui_png(*real_shapes.comfy_pixel_hires()))
    assert passes(found) == [
        ("txt2img", {**FOX_1024, "steps": 20, "seed": 1116526567339338, "width": 1024,
                     "height": 1024, "denoising_strength": 1.0, "clip_skip": 2}),
        ("hires", {**FOX_1024, "steps": 10, "seed": 204096574905147, "width": 1536,
                   "height": 1536, "denoising_strength": 0.3, "clip_skip": 2})]


def test_comfy_preview_branches_are_not_passes(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/comfyui-comfyroll.png: four samplers, two of which feed
    only PreviewImage nodes; the saved image had two passes. Its rgthree latent node gives
    the size as ``dimensions: "1024 x 1024  (square)"``."""
    found = read(tmp_path, "branch.png", images.comfyui_png(
        *real_shapes.comfy_preview_branch()))
    assert passes(found) == [
        ("txt2img", {**FOX_1024, "steps": 30, "seed": 942975376742792, "width": 1024,
                     "height": 1024, "denoising_strength": 1.0}),
        ("hires", {**FOX_1024, "steps": 20, "seed": 273964256726222, "width": 1536,
                   "height": 1536, "denoising_strength": 0.6})]


def test_comfy_early_2023_sampler_ids(tmp_path: Path) -> None:
    """d3x-at/sd-parsers tests/resources/parsers/ComfyUI/img2img_cropped.png:
    ``sample_dpmpp_2m`` (``runlake stats`` listed it as unrecognised)."""
    found = read(tmp_path, "early.png", images.comfyui_png(*real_shapes.comfy_early_2023()))
    assert passes(found)[0][1]["sampler_name"] == "DPM++ 2M"


def test_comfy_model_through_a_switch(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/krea2.png: the model came through a ComfySwitchNode
    and was lost; a switched prompt is the branch the switch takes."""
    found = read(tmp_path, "switch.png", images.comfyui_png(
        *real_shapes.comfy_switched_model()))
    config = passes(found)[0][1]
    assert (config["model"], config["prompt"]) == ("krea2_turbo_int8", "a red fox in the snow")
