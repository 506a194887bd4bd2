"""OfflineBackend: deterministic PNGs that carry the WebUI infotext, plausible durations."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

import runlake
from runlake import OfflineBackend, parse_infotext

CONFIG: dict[str, Any] = {"model": "juggernautXL_v9.safetensors", "prompt": "a red fox",
                          "negative_prompt": "lowres, watermark", "sampler_name": "DPM++ 2M",
                          "scheduler": "Karras", "steps": 28, "cfg_scale": 6.5, "seed": 42,
                          "width": 832, "height": 1216, "denoising_strength": 0.35}


def parameters(image: bytes) -> str:
    with Image.open(io.BytesIO(image)) as opened:
        assert opened.format == "PNG"
        text = opened.info["parameters"]
        assert isinstance(text, str)
        return text


def test_the_same_config_renders_the_same_png() -> None:
    first = OfflineBackend().generate("txt2img", CONFIG)
    second = OfflineBackend().generate("txt2img", CONFIG)
    assert first == second
    other = OfflineBackend().generate("txt2img", {**CONFIG, "seed": 43})
    assert other.images != first.images


def test_the_png_carries_the_infotext_of_its_config() -> None:
    (image,) = OfflineBackend().generate("txt2img", CONFIG).images
    info = parse_infotext(parameters(image))
    assert info.prompt == "a red fox" and info.negative_prompt == "lowres, watermark"
    config = info.config()
    for key in ("model", "sampler_name", "scheduler", "steps", "cfg_scale", "seed", "width",
                "height"):
        assert config[key] == CONFIG[key], key
    assert "denoising_strength" not in config  # a txt2img without hires pass has none
    assert Image.open(io.BytesIO(image)).size == (44, 64)  # a thumbnail of 832x1216


def test_batches_have_consecutive_seeds_and_distinct_images() -> None:
    result = OfflineBackend().generate("txt2img", {**CONFIG, "batch_size": 3})
    assert len(set(result.images)) == 3
    seeds = [parse_infotext(parameters(i)).config()["seed"] for i in result.images]
    assert seeds == [42, 43, 44] and result.seed == 42


def test_a_random_seed_is_derived_from_the_config() -> None:
    first = OfflineBackend().generate("txt2img", {**CONFIG, "seed": -1})
    second = OfflineBackend().generate("txt2img", {**CONFIG, "seed": -1})
    assert first.seed == second.seed and first.seed is not None and first.seed >= 0


def test_durations_are_plausible() -> None:
    backend = OfflineBackend()
    short = backend.generate("txt2img", {**CONFIG, "steps": 10}).duration_s
    long = backend.generate("txt2img", {**CONFIG, "steps": 40}).duration_s
    sde = backend.generate("txt2img", {**CONFIG, "steps": 40,
                                       "sampler_name": "DPM++ SDE"}).duration_s
    sd15 = backend.generate("txt2img", {**CONFIG, "steps": 40,
                                        "model": "v1-5-pruned.safetensors"}).duration_s
    assert 0 < short < long < sde
    assert sd15 < long
    assert 1 < long < 60


def test_img2img_and_upscale_work_on_the_input() -> None:
    backend = OfflineBackend()
    (source,) = backend.generate("txt2img", CONFIG).images
    (refined,) = backend.generate("img2img", {**CONFIG, "denoising_strength": 0.3},
                                  init_image=source).images
    assert parse_infotext(parameters(refined)).config()["denoising_strength"] == 0.3
    (upscaled,) = backend.generate("upscale", {"upscaler": "R-ESRGAN 4x+",
                                               "upscaling_resize": 2}, init_image=refined).images
    assert Image.open(io.BytesIO(upscaled)).size == (88, 128)
    text = parameters(upscaled)
    assert text.startswith(parameters(refined))
    assert parse_infotext(text).parameters["Postprocess upscaler"] == "R-ESRGAN 4x+"


def test_the_model_stays_loaded() -> None:
    backend = OfflineBackend(model="a.safetensors")
    assert backend.current_model() == "a.safetensors"
    backend.generate("txt2img", {"model": "b.safetensors", "prompt": "x"})
    backend.generate("txt2img", {"prompt": "x"})
    assert backend.current_model() == "b.safetensors"


@pytest.mark.parametrize("stage", ["img2img", "upscale"])
def test_stages_that_need_an_image_say_so(stage: Any) -> None:
    with pytest.raises(runlake.BackendError, match="needs an input image"):
        OfflineBackend().generate(stage, CONFIG)


def test_an_unreadable_input_image_is_a_backend_error() -> None:
    with pytest.raises(runlake.BackendError, match="not readable"):
        OfflineBackend().generate("upscale", {}, init_image=b"not a png")
