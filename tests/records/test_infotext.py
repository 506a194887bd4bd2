"""The WebUI infotext: parsing the samples, and format -> parse round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runlake import Infotext, format_infotext, parse_infotext
from runlake.records.infotext import split_sampler
from tests.records.helpers import sample_blocks


def test_sample_with_hires_lora_and_quoted_value(samples: Path) -> None:
    info = parse_infotext(sample_blocks(samples)[0])
    assert info.prompt == ("masterpiece, best quality, a red fox in the snow, "
                           "<lora:detail_tweaker:0.8>")
    assert info.negative_prompt == "lowres, bad anatomy, watermark"
    assert info.parameters == {
        "Steps": "28", "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": "6.5",
        "Seed": "3141592653", "Size": "832x1216", "Model hash": "1a2b3c4d5e",
        "Model": "juggernautXL_v9", "Denoising strength": "0.35", "Clip skip": "2",
        "Hires upscale": "1.5", "Hires steps": "12", "Hires upscaler": "4x-UltraSharp",
        "Lora hashes": "detail_tweaker: 0a1b2c3d4e5f", "Version": "v1.10.1"}
    assert info.config() == {
        "prompt": info.prompt, "negative_prompt": info.negative_prompt, "steps": 28,
        "sampler_name": "DPM++ 2M", "scheduler": "Karras", "cfg_scale": 6.5,
        "seed": 3141592653, "width": 832, "height": 1216, "model_hash": "1a2b3c4d5e",
        "model": "juggernautXL_v9", "denoising_strength": 0.35, "clip_skip": 2,
        "hr_scale": 1.5, "hr_second_pass_steps": 12, "hr_upscaler": "4x-UltraSharp",
        "lora_hashes": "detail_tweaker: 0a1b2c3d4e5f", "version": "v1.10.1"}
    assert info.stage == "txt2img"  # a denoising strength with a hires pass


def test_sample_with_multiline_prompt_and_fused_sampler(samples: Path) -> None:
    info = parse_infotext(sample_blocks(samples)[1])
    assert info.prompt == "a lighthouse at dusk,\ndramatic clouds, volumetric light"
    assert info.negative_prompt == ""
    assert info.parameters["Sampler"] == "DPM++ 2M Karras"
    config = info.config()
    assert (config["sampler_name"], config["scheduler"]) == ("DPM++ 2M", "Karras")
    assert (config["steps"], config["cfg_scale"], config["seed"]) == (20, 7.0, 42)
    assert (config["width"], config["height"], config["model"]) == (
        512, 768, "v1-5-pruned-emaonly")


def test_sample_with_extension_keys(samples: Path) -> None:
    info = parse_infotext(sample_blocks(samples)[2])
    assert (info.prompt, info.negative_prompt) == ("portrait of an old sailor", "blurry")
    config = info.config()
    assert (config["sampler_name"], config["scheduler"]) == ("Euler a", "Automatic")
    assert config["adetailer_model"] == "face_yolov8n.pt"
    assert config["adetailer_denoising_strength"] == "0.4"  # unknown keys stay text
    assert config["version"] == "f2.0.1v1.10.1-previous-519-g44eb4ea8"
    assert len(info.parameters) == 13 and info.stage == "txt2img"


def test_samples_format_back_to_their_text(samples: Path) -> None:
    for block in sample_blocks(samples):
        assert format_infotext(parse_infotext(block)) == block


@pytest.mark.parametrize(("text", "expected"), [
    ("", Infotext()),
    ("just a prompt, no parameters", Infotext("just a prompt, no parameters")),
    ("a\nSteps: 20, Sampler: Euler", Infotext("a\nSteps: 20, Sampler: Euler")),  # < 3 pairs
    ("Steps: 20, Sampler: Euler, CFG scale: 7",
     Infotext("", "", {"Steps": "20", "Sampler": "Euler", "CFG scale": "7"})),
    ("p\r\nNegative prompt: n\r\nmore n\r\nSteps: 1, Seed: 2, Size: 3x4",
     Infotext("p", "n\nmore n", {"Steps": "1", "Seed": "2", "Size": "3x4"})),
])
def test_edge_cases(text: str, expected: Infotext) -> None:
    assert parse_infotext(text) == expected


def test_values_that_do_not_convert_stay_text() -> None:
    config = parse_infotext("x\nSteps: many, CFG scale: high, Size: big, Seed: 1").config()
    assert (config["steps"], config["cfg_scale"], config["size"], config["seed"]) == (
        "many", "high", "big", 1)


@pytest.mark.parametrize(("name", "expected"), [
    ("DPM++ 2M Karras", ("DPM++ 2M", "Karras")),
    ("DPM++ 2M SDE Exponential", ("DPM++ 2M SDE", "Exponential")),
    ("Euler a", ("Euler a", None)),
    ("DDIM", ("DDIM", None)),
    ("Karras", ("Karras", None)),
])
def test_split_sampler(name: str, expected: tuple[str, str | None]) -> None:
    assert split_sampler(name) == expected


line_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                    max_size=30).map(str.strip).filter(
    lambda line: bool(line) and not line.startswith("Negative prompt:"))
prompts = st.lists(line_text, max_size=3).map("\n".join)
keys = st.from_regex(r"[A-Za-z][A-Za-z0-9 /-]{0,14}[A-Za-z0-9]", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=25)
infotexts = st.builds(Infotext, prompts, prompts,
                      st.dictionaries(keys, values, min_size=3, max_size=8))


@settings(max_examples=300, deadline=None)
@given(infotexts)
def test_format_then_parse_round_trips(info: Infotext) -> None:
    parsed = parse_infotext(format_infotext(info))
    assert parsed == info
    assert list(parsed.parameters) == list(info.parameters)


configs = st.fixed_dictionaries({
    "prompt": prompts, "steps": st.integers(1, 150), "cfg_scale": st.floats(1, 30).map(
        lambda x: round(x, 2)), "seed": st.integers(0, 2**32), "width": st.integers(64, 2048),
    "height": st.integers(64, 2048), "sampler_name": st.sampled_from(["Euler a", "DPM++ 2M"]),
    "scheduler": st.sampled_from(["Karras", "Automatic"]),
    "model": st.from_regex(r"[a-z0-9_]{1,12}\.safetensors", fullmatch=True),
    "custom_knob": st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
})


@given(configs)
def test_a_config_survives_being_written_as_infotext(config: dict[str, object]) -> None:
    text = format_infotext(Infotext.from_config(config))
    assert parse_infotext(text).config() == {"negative_prompt": "", **config}


def test_every_fused_scheduler_compaction_knows_is_split() -> None:
    assert split_sampler("DPM++ 2M Align Your Steps") == ("DPM++ 2M", "Align Your Steps")
    assert split_sampler("Euler SGM Uniform") == ("Euler", "SGM Uniform")


def test_unquoted_json_values_stay_whole() -> None:
    # Civitai and ComfyUI-Image-Saver write JSON values without quotes; commas inside them
    # must not split the line (A1111's own regex would).
    info = parse_infotext(
        'a knight\nSteps: 25, Sampler: DPM++ 2M Karras, Civitai resources: [{"type":'
        '"checkpoint","modelName":"Pony, V6"},{"type":"lora","weight":0.8}], '
        'Hashes: {"LORA:x":"0A","model":"1a"} Version: ComfyUI, Seed: 5')
    assert info.parameters == {
        "Steps": "25", "Sampler": "DPM++ 2M Karras",
        "Civitai resources": '[{"type":"checkpoint","modelName":"Pony, V6"},'
                             '{"type":"lora","weight":0.8}]',
        "Hashes": '{"LORA:x":"0A","model":"1a"}', "Version": "ComfyUI", "Seed": "5"}


def test_a_bracket_that_is_not_json_is_a_plain_value() -> None:
    info = parse_infotext("p\nSteps: 20, Note: [draft, Seed: 1, CFG scale: 7")
    assert info.parameters == {"Steps": "20", "Note": "[draft", "Seed": "1", "CFG scale": "7"}


@pytest.mark.parametrize(("line", "stage"), [
    ("Steps: 20, Sampler: Euler, Seed: 1", "txt2img"),
    ("Steps: 20, Denoising strength: 0.4, Seed: 1", "img2img"),
    ("Steps: 20, Denoising strength: 0.4, Hires upscale: 2, Seed: 1", "txt2img"),
    ("Steps: 20, Denoising strength: 0.4, Mask blur: 4, Inpaint area: Whole picture", "inpaint"),
    ("Steps: 20, App: SD.Next, Operations: img2img; hires", "img2img"),
    ("Steps: 20, Sampler: Euler, Stage: upscale", "upscale"),
])
def test_the_stage_an_infotext_describes(line: str, stage: str) -> None:
    assert parse_infotext(f"a prompt\n{line}").stage == stage
