"""The vocabulary: each tool's spelling of a sampler, scheduler or model -> one canonical value.

Table-driven: every row is a spelling a tool really writes (the source is in the vocabulary
module's comments and docs/importers.md) and the canonical pair a comparison groups it under.
"""

from __future__ import annotations

import pytest

from runlake.records.vocabulary import (
    SAMPLERS,
    SCHEDULERS,
    Tool,
    diffusers_pair,
    model_hash,
    placeholder,
    sampler_pair,
    scheduler_label,
    split_model,
)

DPMPP_2M_KARRAS = ("DPM++ 2M", "Karras")

# (tool, sampler as written, scheduler as written or None, canonical pair)
SPELLINGS: list[tuple[Tool, str, str | None, tuple[str, str | None]]] = [
    # AUTOMATIC1111 / Forge: labels, aliases, legacy fused labels and aliases, "Automatic".
    ("a1111", "DPM++ 2M", "Karras", DPMPP_2M_KARRAS),
    ("a1111", "DPM++ 2M", "karras", DPMPP_2M_KARRAS),
    ("a1111", "DPM++ 2M", "Automatic", DPMPP_2M_KARRAS),
    ("a1111", "DPM++ 2M Karras", None, DPMPP_2M_KARRAS),
    ("a1111", "DPM++ 2M Karras", "Automatic", DPMPP_2M_KARRAS),
    ("a1111", "dpm++ 2m karras", None, DPMPP_2M_KARRAS),
    ("a1111", "k_dpmpp_2m_ka", None, DPMPP_2M_KARRAS),
    ("a1111", "k_dpmpp_2m", "Karras", DPMPP_2M_KARRAS),
    ("a1111", "DPM++ 2M SDE", "Automatic", ("DPM++ 2M SDE", "Exponential")),
    ("a1111", "DPM++ 2M SDE Exponential", None, ("DPM++ 2M SDE", "Exponential")),
    ("a1111", "k_dpmpp_2m_sde_ka", None, ("DPM++ 2M SDE", "Karras")),
    ("a1111", "Euler a", "Automatic", ("Euler a", "Uniform")),
    ("a1111", "k_euler_a", None, ("Euler a", None)),
    ("a1111", "Euler a", "SGM Uniform", ("Euler a", "SGM Uniform")),
    ("a1111", "Euler SGMUniform", None, ("Euler", "SGM Uniform")),
    ("a1111", "DPM++ 2M Align Your Steps", None, ("DPM++ 2M", "Align Your Steps")),
    ("a1111", "DDIM", "Automatic", ("DDIM", None)),
    ("a1111", "UniPC", "Automatic", ("UniPC", None)),
    ("a1111", "DDIM", "DDIM", ("DDIM", "DDIM")),
    ("a1111", "DPM++ SDE Karras", "Exponential", ("DPM++ SDE", "Exponential")),
    ("a1111", "Restart", "Automatic", ("Restart", "Karras")),
    ("a1111", "IPNDM", "Beta", ("IPNDM", "Beta")),
    # ComfyUI ids (KSampler.SAMPLERS / SCHEDULERS), "_gpu" variants, CFG++ kept apart.
    ("comfyui", "dpmpp_2m", "karras", DPMPP_2M_KARRAS),
    ("comfyui", "dpmpp_2m_sde_gpu", "karras", ("DPM++ 2M SDE", "Karras")),
    ("comfyui", "dpmpp_2m_sde", "exponential", ("DPM++ 2M SDE", "Exponential")),
    ("comfyui", "euler_ancestral", "normal", ("Euler a", "Normal")),
    ("comfyui", "euler", "simple", ("Euler", "Simple")),
    ("comfyui", "euler", "sgm_uniform", ("Euler", "SGM Uniform")),
    ("comfyui", "uni_pc_bh2", "ddim_uniform", ("UniPC", "DDIM")),
    ("comfyui", "euler_cfg_pp", "beta", ("Euler CFG++", "Beta")),
    ("comfyui", "res_multistep", "linear_quadratic", ("Res Multistep", "Linear Quadratic")),
    ("comfyui", "dpmpp_3m_sde_gpu", "kl_optimal", ("DPM++ 3M SDE", "KL Optimal")),
    ("comfyui", "lcm", "simple", ("LCM", "Simple")),
    # ComfyUI's first releases: "sample_<id>" (seen in real files: d3x-at/sd-parsers
    # tests/resources/parsers/ComfyUI/img2img_cropped.png, noisy_latents_3_subjects_cropped.png).
    ("comfyui", "sample_dpmpp_2m", "normal", ("DPM++ 2M", "Normal")),
    ("any", "sample_dpmpp_sde", None, ("DPM++ SDE", None)),
    # Fooocus: ComfyUI ids in both schemes; its a1111 scheme fuses " Karras" and also writes
    # a separate "Scheduler: karras".
    ("fooocus", "dpmpp_2m_sde_gpu", "karras", ("DPM++ 2M SDE", "Karras")),
    ("fooocus", "DPM++ 2M SDE Karras", "karras", ("DPM++ 2M SDE", "Karras")),
    ("fooocus", "restart", "align_your_steps", ("Restart", "Align Your Steps")),
    # ComfyUI-Image-Saver: Civitai labels, fused or "<comfy id>_<comfy scheduler>".
    ("image_saver", "DPM++ 2M Karras", None, DPMPP_2M_KARRAS),
    ("image_saver", "DPM++ 2M", None, ("DPM++ 2M", None)),
    ("image_saver", "res_multistep_sgm_uniform", None, ("Res Multistep", "SGM Uniform")),
    ("image_saver", "euler_ancestral_cfg_pp_beta", None, ("Euler a CFG++", "Beta")),
    # InvokeAI v3+ scheduler ids ("_k" = Karras sigmas; plain = diffusers' default spacing).
    ("invokeai", "dpmpp_2m_k", None, DPMPP_2M_KARRAS),
    ("invokeai", "dpmpp_2m", None, ("DPM++ 2M", None)),
    ("invokeai", "euler_a", None, ("Euler a", None)),
    ("invokeai", "kdpm_2_a_k", None, ("DPM2 a", "Karras")),
    ("invokeai", "dpmpp_3m_k", None, ("DPM++ 3M", "Karras")),
    ("invokeai", "unipc_k", None, ("UniPC", "Karras")),
    # InvokeAI v2 (sd-metadata / Dream -A).
    ("invokeai2", "k_lms", None, ("LMS", None)),
    ("invokeai2", "k_dpmpp_2", None, ("DPM++ 2M", None)),
    ("invokeai2", "k_dpmpp_2_a", None, ("DPM++ 2S a", None)),
    # NovelAI Comment JSON: sampler + noise_schedule.
    ("novelai", "k_euler_ancestral", "native", ("Euler a", "Native")),
    ("novelai", "k_dpmpp_2m", "karras", DPMPP_2M_KARRAS),
    ("novelai", "ddim_v3", None, ("DDIM", None)),
    ("novelai", "nai_smea_dyn", None, ("Euler SMEA Dyn", None)),
    # SD.Next: its own labels and "Sampler sigma" (SD.Next's "DPM++ SDE" is another algorithm).
    ("sdnext", "DPM++ 2M", "karras", DPMPP_2M_KARRAS),
    ("sdnext", "DPM SDE", "default", ("DPM++ SDE", None)),
    ("sdnext", "DPM++ SDE", None, ("DPM++ 1S SDE", None)),
    ("sdnext", "Euler FlowMatch", "flowmatch", ("Euler", "Flow Match")),
    ("sdnext", "DPM++ 3M", "betas", ("DPM++ 3M", "Beta")),
    # diffusers class names (options: see test_diffusers_options).
    ("diffusers", "DPMSolverMultistepScheduler", None, ("DPM++ 2M", None)),
    ("diffusers", "EulerAncestralDiscreteScheduler", None, ("Euler a", None)),
    # StableNew packs write A1111 labels with ComfyUI-style lower-case schedulers.
    ("any", "DPM++ 2M", "karras", DPMPP_2M_KARRAS),
    ("any", "DPM++ 2M Karras", "", DPMPP_2M_KARRAS),
    # Without a tool every table is consulted.
    ("any", "dpmpp_2m_k", None, DPMPP_2M_KARRAS),
    ("any", "dpmpp_2m_sde_gpu", "KARRAS", ("DPM++ 2M SDE", "Karras")),
    ("any", "  Euler a ", " automatic ", ("Euler a", "Uniform")),
    # Unrecognised names pass through unchanged (stripped).
    ("any", "my_custom_sampler", "my_schedule", ("my_custom_sampler", "my_schedule")),
    ("comfyui", "dpmpp_9z", "karras", ("dpmpp_9z", "Karras")),
    ("any", "Euler SMEA Dyn", "Automatic", ("Euler SMEA Dyn", "Automatic")),
]


@pytest.mark.parametrize(("tool", "sampler", "scheduler", "expected"), SPELLINGS)
def test_each_spelling_maps_to_its_canonical_pair(
    tool: Tool, sampler: str, scheduler: str | None, expected: tuple[str, str | None]
) -> None:
    assert sampler_pair(sampler, scheduler, tool=tool) == expected


@pytest.mark.parametrize(("tool", "sampler", "scheduler", "expected"), SPELLINGS)
def test_canonical_pairs_map_to_themselves(
    tool: Tool, sampler: str, scheduler: str | None, expected: tuple[str, str | None]
) -> None:
    # Compaction maps again what an importer already mapped: nothing may move.
    assert sampler_pair(*expected) == expected


def test_canonical_labels_are_known() -> None:
    for _, _, _, (sampler, scheduler) in SPELLINGS[:-3]:
        assert sampler in SAMPLERS
        assert scheduler is None or scheduler in SCHEDULERS


@pytest.mark.parametrize(("name", "tool", "expected"), [
    ("Karras", "any", "Karras"), ("karras", "comfyui", "Karras"), ("KARRAS", "any", "Karras"),
    ("sgm_uniform", "any", "SGM Uniform"), ("SGMUniform", "any", "SGM Uniform"),
    ("ddim_uniform", "comfyui", "DDIM"), ("KarrasScheduler", "comfyui", "Karras"),
    ("default", "sdnext", None), ("polyexponential", "novelai", "Polyexponential"),
    ("", "any", None), ("weird", "any", "weird"),
])
def test_scheduler_labels(name: str, tool: Tool, expected: str | None) -> None:
    assert scheduler_label(name, tool=tool) == expected


def test_diffusers_options() -> None:
    assert diffusers_pair("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}) == (
        DPMPP_2M_KARRAS)
    assert diffusers_pair("DPMSolverMultistepScheduler",
                          {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}) == (
        "DPM++ 2M SDE", "Karras")
    assert diffusers_pair("EulerDiscreteScheduler", {"use_exponential_sigmas": True}) == (
        "Euler", "Exponential")
    assert diffusers_pair("UniPCMultistepScheduler", {"use_karras_sigmas": False}) == (
        "UniPC", None)
    assert diffusers_pair("MyScheduler", {}) == ("MyScheduler", None)


@pytest.mark.parametrize(("name", "expected"), [
    ("juggernautXL_v9", ("juggernautXL_v9", None)),
    ("juggernautXL_v9.safetensors", ("juggernautXL_v9", None)),
    ("SDXL/juggernautXL_v9.safetensors", ("juggernautXL_v9", None)),
    ("SDXL\\juggernautXL_v9.safetensors [1A2B3C4D5E]", ("juggernautXL_v9", "1a2b3c4d5e")),
    ("v1-5-pruned-emaonly.ckpt [6ce0161689]", ("v1-5-pruned-emaonly", "6ce0161689")),
    ("sd_xl_base_1.0.safetensors", ("sd_xl_base_1.0", None)),
    ("sd_xl_base_1.0", ("sd_xl_base_1.0", None)),
    ("flux1-dev.sft", ("flux1-dev", None)),
    ("model.GGUF", ("model", None)),
    ("old [7460a6fa]", ("old", "7460a6fa")),
    ("Juggernaut XL v9", ("Juggernaut XL v9", None)),
    ("name [not a hash]", ("name [not a hash]", None)),
    (".safetensors", (".safetensors", None)),
])
def test_models_lose_folder_extension_and_hash(name: str,
                                               expected: tuple[str, str | None]) -> None:
    assert split_model(name) == expected
    assert split_model(expected[0])[0] == expected[0]  # idempotent


@pytest.mark.parametrize(("knob", "value", "expected"), [
    ("steps", 0, True), ("steps", 20, False), ("cfg_scale", 0.0, True), ("cfg_scale", 1, False),
    ("width", 0, True), ("height", 0, True), ("seed", -1, True), ("seed", 0, False),
    ("seed", 42, False), ("steps", False, False), ("steps", "0", False),
    ("denoising_strength", 0, False), ("clip_skip", 0, True), ("clip_skip", 1, False),
])
def test_placeholders(knob: str, value: object, expected: bool) -> None:
    assert placeholder(knob, value) is expected


@pytest.mark.parametrize(("written", "expected"), [
    ("45a21ea00a", "45a21ea00a"), ("45A21EA00A", "45a21ea00a"), ("4b64ace6", "4b64ace6"),
    # A full SHA-256 (Stability Matrix, a Gradio app) and SwarmUI's "0x" one: A1111's digits.
    ("A5F58EB1C3" + "3616C4F06BCA55AF39876A7B817913CD829CAA8ACB111B770C85CC", "a5f58eb1c3"),
    ("0x22d8cb95b8" + "07b0c242576b676a12b07ae6b782b57ae4fe07a07254801b2d5d61", "22d8cb95b8"),
    ("blake3:7c1631b4", "blake3:7c1631b4"),
])
def test_model_hashes_are_cut_as_a1111_cuts_them(written: str, expected: str) -> None:
    assert model_hash(written) == expected
