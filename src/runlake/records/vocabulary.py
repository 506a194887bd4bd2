"""The one vocabulary of knob values: every tool's spelling of a sampler, scheduler or model,
mapped to one canonical value, as data with the source of each mapping.

Canonical samplers are AUTOMATIC1111's display labels (``DPM++ 2M``, ``Euler a``, ``UniPC``);
algorithms A1111 lacks get a label in the same style (Forge's or reForge's where they have
one). Canonical schedulers are A1111's ``sd_schedulers`` labels (``Karras``, ``SGM Uniform``)
plus a few from other tools. Models lose their folder, extension and `` [hash]``.

Lookups are case-insensitive (keys are lower-case) and go through :func:`sampler_pair`,
:func:`scheduler_label` and :func:`split_model`: compaction's normalization, the importers
and :class:`~runlake.learning.LearningRecord` all call them, so one setting is one value
wherever it came from. A name found in no table passes through unchanged (stripped), and
``runlake stats`` lists it. Placeholders (``steps 0``, ``seed -1``) are :func:`placeholder`.

The research behind the tables (which file of which tool writes what) is in
``docs/importers.md``; every table below names its source.

>>> sampler_pair("dpmpp_2m", "karras")
('DPM++ 2M', 'Karras')
>>> sampler_pair("DPM++ 2M Karras")
('DPM++ 2M', 'Karras')
>>> sampler_pair("DPM++ 2M", "Automatic")
('DPM++ 2M', 'Karras')
>>> sampler_pair("dpmpp_2m_k", tool="invokeai")
('DPM++ 2M', 'Karras')
>>> split_model("SDXL/juggernautXL_v9.safetensors [1a2b3c4d5e]")
('juggernautXL_v9', '1a2b3c4d5e')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

Tool = Literal["any", "a1111", "sdnext", "comfyui", "invokeai", "invokeai2", "novelai",
               "fooocus", "image_saver", "diffusers"]
Pair = tuple[str, str | None]

# --------------------------------------------------------------------------- canonical labels

# AUTOMATIC1111/stable-diffusion-webui v1.10 modules/sd_samplers_kdiffusion.py
# samplers_k_diffusion: (label, aliases), in the WebUI's order.
A1111_KDIFFUSION: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("DPM++ 2M", ("k_dpmpp_2m",)),
    ("DPM++ SDE", ("k_dpmpp_sde",)),
    ("DPM++ 2M SDE", ("k_dpmpp_2m_sde",)),
    ("DPM++ 2M SDE Heun", ("k_dpmpp_2m_sde_heun",)),
    ("DPM++ 2S a", ("k_dpmpp_2s_a",)),
    ("DPM++ 3M SDE", ("k_dpmpp_3m_sde",)),
    ("Euler a", ("k_euler_a", "k_euler_ancestral")),
    ("Euler", ("k_euler",)),
    ("LMS", ("k_lms",)),
    ("Heun", ("k_heun",)),
    ("DPM2", ("k_dpm_2",)),
    ("DPM2 a", ("k_dpm_2_a",)),
    ("DPM fast", ("k_dpm_fast",)),
    ("DPM adaptive", ("k_dpm_ad",)),
    ("Restart", ("restart",)),
)
# ... modules/sd_samplers_timesteps.py samplers_timesteps; modules/sd_samplers_lcm.py.
A1111_TIMESTEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("DDIM", ("ddim",)),
    ("DDIM CFG++", ("ddim_cfgpp",)),
    ("PLMS", ("plms",)),
    ("UniPC", ("unipc",)),
    ("LCM", ("k_lcm",)),
)
# lllyasviel/stable-diffusion-webui-forge (2025-06) modules/sd_samplers_kdiffusion.py extras
# and modules_forge/alter_samplers.py samplers_data_alter.
FORGE_SAMPLERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HeunPP2", ("heunpp2",)),
    ("IPNDM", ("ipndm",)),
    ("IPNDM_V", ("ipndm_v",)),
    ("DEIS", ("deis",)),
    ("DDPM", ("ddpm",)),
)
# Panchovix/stable-diffusion-webui-reForge alter_samplers (create_cfg_pp_sampler labels).
CFG_PP_SAMPLERS: tuple[str, ...] = ("Euler CFG++", "Euler a CFG++", "DPM++ 2M CFG++",
                                    "DPM++ 2S a CFG++")
# Algorithms no A1111-family UI exposes (ComfyUI, InvokeAI, SD.Next, NovelAI): labels in the
# same style. "DPM++ 1S SDE" is SD.Next's "DPM++ SDE" (multistep SDE of order 1), which is not
# A1111's "DPM++ SDE" (vladmandic/automatic modules/sd_samplers_diffusers.py).
OTHER_SAMPLERS: tuple[str, ...] = (
    "DPM++ 2S", "DPM++ 3M", "DPM++ 1S SDE", "PNDM", "TCD", "ER SDE", "Res Multistep",
    "Res Multistep a", "Res Multistep CFG++", "Res Multistep a CFG++", "Gradient Estimation",
    "Gradient Estimation CFG++", "SEEDS 2", "SEEDS 3", "SA-Solver", "SA-Solver PECE",
    "Exp Heun 2 x0", "Exp Heun 2 x0 SDE", "Euler SMEA", "Euler SMEA Dyn",
)
SAMPLERS: frozenset[str] = frozenset(
    [label for label, _ in A1111_KDIFFUSION + A1111_TIMESTEPS + FORGE_SAMPLERS]
    + list(CFG_PP_SAMPLERS) + list(OTHER_SAMPLERS))

# AUTOMATIC1111 v1.10 modules/sd_schedulers.py: Scheduler(name, label, ..., aliases).
A1111_SCHEDULERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("automatic", "Automatic", ()),
    ("uniform", "Uniform", ()),
    ("karras", "Karras", ()),
    ("exponential", "Exponential", ()),
    ("polyexponential", "Polyexponential", ()),
    ("sgm_uniform", "SGM Uniform", ("SGMUniform",)),
    ("kl_optimal", "KL Optimal", ()),
    ("align_your_steps", "Align Your Steps", ()),
    ("simple", "Simple", ()),
    ("normal", "Normal", ()),
    ("ddim", "DDIM", ()),
    ("beta", "Beta", ()),
    # Forge modules/sd_schedulers.py additions
    ("turbo", "Turbo", ()),
    ("align_your_steps_GITS", "Align Your Steps GITS", ()),
    ("align_your_steps_11", "Align Your Steps 11", ()),
    ("align_your_steps_32", "Align Your Steps 32", ()),
)
OTHER_SCHEDULERS: tuple[str, ...] = ("Linear Quadratic", "LCM", "TCD", "EDM Playground v2.5",
                                     "Native", "Laplace", "VP", "Lu Lambdas", "Flow Match")
SCHEDULERS: frozenset[str] = frozenset(
    [label for _, label, _ in A1111_SCHEDULERS] + list(OTHER_SCHEDULERS))
AUTOMATIC = "Automatic"

# --------------------------------------------------------------------------- A1111 names

# Label or alias -> label: what A1111's sd_samplers.set_samplers builds (samplers_map keyed by
# name.lower() and alias.lower()); every canonical label maps to itself.
A1111_SAMPLER_IDS: dict[str, str] = {
    **{label.lower(): label for label in SAMPLERS},
    **{alias.lower(): label for label, aliases in
       A1111_KDIFFUSION + A1111_TIMESTEPS + FORGE_SAMPLERS for alias in aliases},
}

# Fused k_*_ka / k_*_exp aliases of A1111 <= v1.8 (sd_samplers_kdiffusion.py at 757dda9a,
# 2024-01); the fused *labels* ("DPM++ 2M Karras") are split by FUSED_SUFFIXES below, as
# v1.9+'s sd_samplers.get_sampler_and_scheduler does. In v1.6-v1.8 the plain "DPM++ 2M SDE"
# entry carried the alias "k_dpmpp_2m_sde_ka", so that alias means the Karras pair.
A1111_FUSED: dict[str, Pair] = {
    "k_lms_ka": ("LMS", "Karras"), "k_dpm_2_ka": ("DPM2", "Karras"),
    "k_dpm_2_a_ka": ("DPM2 a", "Karras"), "k_dpmpp_2s_a_ka": ("DPM++ 2S a", "Karras"),
    "k_dpmpp_2m_ka": ("DPM++ 2M", "Karras"), "k_dpmpp_sde_ka": ("DPM++ SDE", "Karras"),
    "k_dpmpp_2m_sde_ka": ("DPM++ 2M SDE", "Karras"),
    "k_dpmpp_2m_sde_exp": ("DPM++ 2M SDE", "Exponential"),
    "k_dpmpp_2m_sde_heun_ka": ("DPM++ 2M SDE Heun", "Karras"),
    "k_dpmpp_2m_sde_heun_exp": ("DPM++ 2M SDE Heun", "Exponential"),
    "k_dpmpp_3m_sde_ka": ("DPM++ 3M SDE", "Karras"),
    "k_dpmpp_3m_sde_exp": ("DPM++ 3M SDE", "Exponential"),
}

# A fused name is "<sampler> <scheduler label, name or alias>" (get_sampler_and_scheduler
# strips each option in turn; longest first here). "Automatic" and "DDIM" are left out:
# "DDIM" is a whole sampler label too.
FUSED_SUFFIXES: tuple[str, ...] = tuple(sorted(
    {key for name, label, aliases in A1111_SCHEDULERS if name not in ("automatic", "ddim")
     for key in (label, name, *aliases)}, key=len, reverse=True))

# Scheduler label, name or alias -> label (A1111 sd_schedulers.schedulers_map).
A1111_SCHEDULER_IDS: dict[str, str] = {
    **{label.lower(): label for label in SCHEDULERS},
    **{key.lower(): label for name, label, aliases in A1111_SCHEDULERS
       for key in (name, label, *aliases)},
}

# What A1111/Forge >= v1.9 run for "Automatic": the sampler's options['scheduler']
# (sd_samplers_kdiffusion.py v1.10), else the model's own discretisation ("Uniform",
# sd_schedulers.uniform). DDIM, PLMS, UniPC and LCM use their own timesteps: no scheduler
# applies (None).
A1111_AUTOMATIC: dict[str, str | None] = {
    "DPM++ 2M": "Karras", "DPM++ SDE": "Karras", "DPM++ 2M SDE": "Exponential",
    "DPM++ 2M SDE Heun": "Exponential", "DPM++ 2S a": "Karras", "DPM++ 3M SDE": "Exponential",
    "DPM2": "Karras", "DPM2 a": "Karras", "Restart": "Karras",
    "Euler a": "Uniform", "Euler": "Uniform", "LMS": "Uniform", "Heun": "Uniform",
    "DPM fast": "Uniform", "DPM adaptive": "Uniform",
    "DDIM": None, "DDIM CFG++": None, "PLMS": None, "UniPC": None, "LCM": None,
}
# An A1111 infotext written before v1.9 has no "Schedule type": a plain k-diffusion label
# then ran the model's discretisation, "Uniform" (fused labels carried the others).
A1111_LEGACY_SCHEDULER = "Uniform"

# --------------------------------------------------------------------------- ComfyUI

# comfyanonymous/ComfyUI comfy/samplers.py KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]
# (late 2025). "_gpu" is the same algorithm with its noise drawn on the GPU: same label, as
# Fooocus (modules/flags.py) and ComfyUI-Image-Saver (utils_civitai.py) map it. "_cfg_pp" is
# CFG++ guidance, another algorithm: its own label. ComfyUI's "ddim" runs euler with its own
# schedule; it is labelled DDIM, as the user chose it. "uni_pc_bh2" is UniPC's bh2 variant.
COMFY_SAMPLER_IDS: dict[str, str] = {
    "euler": "Euler", "euler_cfg_pp": "Euler CFG++", "euler_ancestral": "Euler a",
    "euler_ancestral_cfg_pp": "Euler a CFG++", "heun": "Heun", "heunpp2": "HeunPP2",
    "exp_heun_2_x0": "Exp Heun 2 x0", "exp_heun_2_x0_sde": "Exp Heun 2 x0 SDE",
    "dpm_2": "DPM2", "dpm_2_ancestral": "DPM2 a", "lms": "LMS", "dpm_fast": "DPM fast",
    "dpm_adaptive": "DPM adaptive", "dpmpp_2s_ancestral": "DPM++ 2S a",
    "dpmpp_2s_ancestral_cfg_pp": "DPM++ 2S a CFG++", "dpmpp_sde": "DPM++ SDE",
    "dpmpp_sde_gpu": "DPM++ SDE", "dpmpp_2m": "DPM++ 2M", "dpmpp_2m_cfg_pp": "DPM++ 2M CFG++",
    "dpmpp_2m_sde": "DPM++ 2M SDE", "dpmpp_2m_sde_gpu": "DPM++ 2M SDE",
    "dpmpp_2m_sde_heun": "DPM++ 2M SDE Heun", "dpmpp_2m_sde_heun_gpu": "DPM++ 2M SDE Heun",
    "dpmpp_3m_sde": "DPM++ 3M SDE", "dpmpp_3m_sde_gpu": "DPM++ 3M SDE", "ddpm": "DDPM",
    "lcm": "LCM", "ipndm": "IPNDM", "ipndm_v": "IPNDM_V", "deis": "DEIS",
    "res_multistep": "Res Multistep", "res_multistep_cfg_pp": "Res Multistep CFG++",
    "res_multistep_ancestral": "Res Multistep a",
    "res_multistep_ancestral_cfg_pp": "Res Multistep a CFG++",
    "gradient_estimation": "Gradient Estimation",
    "gradient_estimation_cfg_pp": "Gradient Estimation CFG++", "er_sde": "ER SDE",
    "seeds_2": "SEEDS 2", "seeds_3": "SEEDS 3", "sa_solver": "SA-Solver",
    "sa_solver_pece": "SA-Solver PECE", "ddim": "DDIM", "uni_pc": "UniPC", "uni_pc_bh2": "UniPC",
    # lllyasviel/Fooocus modules/flags.py KSAMPLER adds these ComfyUI-style ids.
    "tcd": "TCD", "restart": "Restart",
}
# ComfyUI's first releases (early 2023) named the same samplers "sample_<id>": real files
# carry "sample_dpmpp_2m", "sample_dpmpp_sde" (d3x-at/sd-parsers tests/resources/parsers/
# ComfyUI/img2img_cropped.png, noisy_latents_3_subjects_cropped.png).
COMFY_LEGACY_PREFIX = "sample_"
# comfy/samplers.py SCHEDULER_NAMES; "ddim_uniform" is A1111's "DDIM" scheduler (the same
# function, ported). Fooocus modules/flags.py SCHEDULER_NAMES adds lcm, turbo,
# align_your_steps, tcd, edm_playground_v2.5.
COMFY_SCHEDULER_IDS: dict[str, str] = {
    "normal": "Normal", "karras": "Karras", "exponential": "Exponential",
    "sgm_uniform": "SGM Uniform", "simple": "Simple", "ddim_uniform": "DDIM", "beta": "Beta",
    "linear_quadratic": "Linear Quadratic", "kl_optimal": "KL Optimal",
    "lcm": "LCM", "turbo": "Turbo", "align_your_steps": "Align Your Steps", "tcd": "TCD",
    "edm_playground_v2.5": "EDM Playground v2.5",
}
# Sigma nodes of ComfyUI's custom sampling (comfy_extras/nodes_custom_sampler.py,
# nodes_align_your_steps.py): the node class names the scheduler.
COMFY_SIGMAS_NODES: dict[str, str] = {
    "KarrasScheduler": "Karras", "ExponentialScheduler": "Exponential",
    "PolyexponentialScheduler": "Polyexponential", "LaplaceScheduler": "Laplace",
    "BetaSamplingScheduler": "Beta", "VPScheduler": "VP", "SDTurboScheduler": "Turbo",
    "AlignYourStepsScheduler": "Align Your Steps",
}
# Sampler nodes whose class implies the sampler (comfy_extras/nodes_custom_sampler.py).
COMFY_SAMPLER_NODES: dict[str, str] = {
    "SamplerEulerAncestral": "Euler a", "SamplerEulerAncestralCFGPP": "Euler a CFG++",
    "SamplerLMS": "LMS", "SamplerDPMPP_3M_SDE": "DPM++ 3M SDE",
    "SamplerDPMPP_2M_SDE": "DPM++ 2M SDE", "SamplerDPMPP_SDE": "DPM++ SDE",
    "SamplerDPMPP_2S_Ancestral": "DPM++ 2S a", "SamplerDPMAdaptative": "DPM adaptive",
    "SamplerER_SDE": "ER SDE", "SamplerSASolver": "SA-Solver",
}

# --------------------------------------------------------------------------- InvokeAI

# invoke-ai/InvokeAI invokeai/backend/stable_diffusion/schedulers/schedulers.py
# SCHEDULER_NAME_VALUES / SCHEDULER_MAP; "<name>_k" is the same diffusers class with
# use_karras_sigmas=True. The plain names run diffusers' default spacing: no scheduler
# label (None), not "Automatic", not "Normal".
_INVOKE_BASE: dict[str, str] = {
    "ddim": "DDIM", "ddpm": "DDPM", "deis": "DEIS", "lms": "LMS", "pndm": "PNDM", "heun": "Heun",
    "euler": "Euler", "euler_a": "Euler a", "kdpm_2": "DPM2", "kdpm_2_a": "DPM2 a",
    "dpmpp_2s": "DPM++ 2S", "dpmpp_2m": "DPM++ 2M", "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_3m": "DPM++ 3M", "dpmpp_sde": "DPM++ SDE", "er_sde": "ER SDE", "unipc": "UniPC",
    "lcm": "LCM", "tcd": "TCD",
}
_INVOKE_KARRAS = ("deis", "lms", "heun", "euler", "kdpm_2", "kdpm_2_a", "dpmpp_2s", "dpmpp_2m",
                  "dpmpp_2m_sde", "dpmpp_3m", "dpmpp_sde", "unipc")
INVOKEAI_SCHEDULER_IDS: dict[str, Pair] = {
    **{name: (label, None) for name, label in _INVOKE_BASE.items()},
    **{f"{name}_k": (_INVOKE_BASE[name], "Karras") for name in _INVOKE_KARRAS},
}
# InvokeAI v2.x ldm/invoke/args.py SAMPLER_CHOICES (ldm/generate.py _set_sampler):
# k_dpmpp_2 is DPMSolverMultistep (DPM++ 2M), k_dpmpp_2_a is dpmpp_2s_ancestral.
INVOKEAI_V2_SAMPLERS: dict[str, Pair] = {
    "ddim": ("DDIM", None), "plms": ("PLMS", None), "k_lms": ("LMS", None),
    "k_euler": ("Euler", None), "k_euler_a": ("Euler a", None), "k_heun": ("Heun", None),
    "k_dpm_2": ("DPM2", None), "k_dpm_2_a": ("DPM2 a", None),
    "k_dpmpp_2": ("DPM++ 2M", None), "k_dpmpp_2_a": ("DPM++ 2S a", None),
    "dpmpp_2": ("DPM++ 2M", None), "pndm": ("PNDM", None),
}

# --------------------------------------------------------------------------- NovelAI

# NovelAI's Comment JSON "sampler" (the API enum used by public NovelAI clients, e.g.
# Exception0x0194/NAI-Generator-Flutter lib/core/constants/parameters.dart; the k_* names
# are A1111 aliases, which A1111's read_info_from_image relies on) and "noise_schedule".
NOVELAI_SAMPLERS: dict[str, str] = {
    "k_euler": "Euler", "k_euler_ancestral": "Euler a", "k_dpmpp_2s_ancestral": "DPM++ 2S a",
    "k_dpmpp_2m": "DPM++ 2M", "k_dpmpp_sde": "DPM++ SDE", "k_dpmpp_2m_sde": "DPM++ 2M SDE",
    "k_dpm_2": "DPM2", "k_dpm_2_ancestral": "DPM2 a", "k_lms": "LMS", "k_heun": "Heun",
    "k_dpm_fast": "DPM fast", "k_dpm_adaptive": "DPM adaptive", "ddim": "DDIM",
    "ddim_v3": "DDIM", "plms": "PLMS", "nai_smea": "Euler SMEA", "nai_smea_dyn": "Euler SMEA Dyn",
}
NOVELAI_NOISE_SCHEDULES: dict[str, str] = {
    "native": "Native", "karras": "Karras", "exponential": "Exponential",
    "polyexponential": "Polyexponential",
}

# --------------------------------------------------------------------------- SD.Next

# vladmandic/automatic modules/sd_samplers_diffusers.py: labels that are not A1111's or mean
# another algorithm under A1111's name. "DPM++", "Euler SGM" have no equivalent and pass
# through unchanged.
SDNEXT_SAMPLERS: dict[str, str] = {
    "dpm++ 3m": "DPM++ 3M", "dpm++ 1s": "DPM++ 2S", "dpm sde": "DPM++ SDE",
    "dpm++ sde": "DPM++ 1S SDE", "lmsd": "LMS", "kdpm2": "DPM2", "kdpm2 a": "DPM2 a",
    "euler edm": "Euler", "euler flowmatch": "Euler", "heun flowmatch": "Heun",
    "dpm++ 2m edm": "DPM++ 2M",
}
# SD.Next's "Default" sampler is the pipeline's own scheduler (it depends on the model): no
# sampler is known. Seen as "Sampler: Default" in real SD.Next files (vladmandic/automatic
# html/logo-bg-0.jpg, 2023).
SDNEXT_UNKNOWN_SAMPLERS: tuple[str, ...] = ("default",)
# SD.Next's "Sampler sigma" infotext key (modules/processing_info.py; option
# schedulers_sigma) names the sigma family, its scheduler.
SDNEXT_SIGMA: dict[str, str | None] = {
    "default": None, "karras": "Karras", "exponential": "Exponential",
    "polyexponential": "Polyexponential", "betas": "Beta", "lambdas": "Lu Lambdas",
    "flowmatch": "Flow Match",
}

# --------------------------------------------------------------------------- diffusers

# diffusers class -> sampler. Sources: diffusers docs api/schedulers/overview.md (the
# "A1111/k-diffusion <-> Diffusers" table), InvokeAI's SCHEDULER_MAP, SD.Next's
# sd_samplers_diffusers.py. DPMSolverMultistepScheduler is refined by algorithm_type.
DIFFUSERS_CLASSES: dict[str, str] = {
    "ddimscheduler": "DDIM", "ddpmscheduler": "DDPM", "pndmscheduler": "PNDM",
    "lmsdiscretescheduler": "LMS", "eulerdiscretescheduler": "Euler",
    "eulerancestraldiscretescheduler": "Euler a", "heundiscretescheduler": "Heun",
    "kdpm2discretescheduler": "DPM2", "kdpm2ancestraldiscretescheduler": "DPM2 a",
    "dpmsolvermultistepscheduler": "DPM++ 2M", "dpmsolversinglestepscheduler": "DPM++ 2S",
    "dpmsolversdescheduler": "DPM++ SDE", "deismultistepscheduler": "DEIS",
    "unipcmultistepscheduler": "UniPC", "lcmscheduler": "LCM", "tcdscheduler": "TCD",
    "edmeulerscheduler": "Euler", "edmdpmsolvermultistepscheduler": "DPM++ 2M",
    "flowmatcheulerdiscretescheduler": "Euler", "flowmatchheundiscretescheduler": "Heun",
    "ipndmscheduler": "IPNDM", "sasolverscheduler": "SA-Solver",
}
# DPMSolverMultistepScheduler's algorithm_type -> sampler (solver_order 2, the default).
DIFFUSERS_ALGORITHMS: dict[str, str] = {"dpmsolver++": "DPM++ 2M",
                                        "sde-dpmsolver++": "DPM++ 2M SDE"}
# Boolean sigma options of diffusers schedulers -> scheduler (the first one set wins).
DIFFUSERS_SIGMA_OPTIONS: tuple[tuple[str, str], ...] = (
    ("use_karras_sigmas", "Karras"), ("use_exponential_sigmas", "Exponential"),
    ("use_beta_sigmas", "Beta"), ("use_lu_lambdas", "Lu Lambdas"),
    ("use_flow_sigmas", "Flow Match"),
)

# --------------------------------------------------------------------------- image-saver

# alexopus/ComfyUI-Image-Saver utils_civitai.py get_civitai_sampler_name: a mapped ComfyUI id
# becomes its Civitai label plus " Karras" / " Exponential" for those two schedulers and
# nothing for any other (so a plain label means "scheduler unknown"); an unmapped id is
# written "<comfy id>_<comfy scheduler>" ("res_multistep_sgm_uniform"; "_normal" dropped).

# --------------------------------------------------------------------------- models

# The extensions model files carry (A1111 sd_models, ComfyUI folder_paths, Flux ".sft").
MODEL_EXTENSIONS: tuple[str, ...] = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf",
                                     ".sft", ".onnx")
# A1111's "Model hash" is the file's SHA-256 cut to 10 hex digits (sd_models.CheckpointInfo
# .shorthash, the Civitai "AutoV2"); other tools write the whole SHA-256 (SwarmUI with "0x",
# Stability Matrix and Gradio apps upper-case): cut the same way, both name one file.
SHORT_HASH_DIGITS = 10
_FULL_SHA256 = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
# A1111's checkpoint title is "dir/name.safetensors [abcdef0123]" (sd_models.CheckpointInfo
# .title): sha256[:10], or the 8-hex legacy hash before v1.1; a full sha256 elsewhere.
_MODEL_HASH = re.compile(r"\s*\[([0-9a-fA-F]{8,12}|[0-9a-fA-F]{64})\]\s*$")

# --------------------------------------------------------------------------- placeholders

# Values that mean "not set", not a setting: StableNew's LearningRecord defaults
# (primary_steps 0, primary_cfg_scale 0.0), its job record defaults (steps 0, cfg_scale 0.0,
# width 0, height 0, clip_skip 0) and review sidecars ("steps": 0, "cfg_scale": 0.0); seed -1
# is "random" in A1111, ComfyUI and InvokeAI. A1111's clip skip starts at 1 (1 = none), so a
# 0 is a default, never a setting. Such a knob is null; the payload keeps the raw value.
PLACEHOLDERS: dict[str, tuple[float, ...]] = {
    "steps": (0,), "cfg_scale": (0,), "width": (0,), "height": (0,), "seed": (-1,),
    "clip_skip": (0,),
}

# --------------------------------------------------------------------------- ratings

# A rating is a person's score of an image. StableNew's staged curation stores its decision
# score as metadata.user_rating with user_rating_source "decision_score"
# (src/learning/learning_record_builder.py): such a score never enters ``rating``.
NOT_RATING_SOURCES: tuple[str, ...] = ("decision_score",)
NOT_RATING_KINDS: tuple[str, ...] = ("staged_curation_event",)

# --------------------------------------------------------------------------- lookups

_TOOL_SAMPLERS: dict[str, Mapping[str, str | Pair]] = {
    "comfyui": COMFY_SAMPLER_IDS, "fooocus": COMFY_SAMPLER_IDS,
    "image_saver": COMFY_SAMPLER_IDS, "invokeai": INVOKEAI_SCHEDULER_IDS,
    "invokeai2": INVOKEAI_V2_SAMPLERS, "novelai": NOVELAI_SAMPLERS,
    "sdnext": SDNEXT_SAMPLERS, "diffusers": DIFFUSERS_CLASSES,
}
_TOOL_SCHEDULERS: dict[str, Mapping[str, str | None]] = {
    "comfyui": COMFY_SCHEDULER_IDS, "fooocus": COMFY_SCHEDULER_IDS,
    "image_saver": COMFY_SCHEDULER_IDS, "novelai": NOVELAI_NOISE_SCHEDULES,
    "sdnext": SDNEXT_SIGMA,
}
# Without a tool, every table is consulted, A1111's first; the tables agree wherever their
# keys meet, except SD.Next's "DPM++ SDE", which only SD.Next's own records may mean.
_ANY_SAMPLERS: tuple[Mapping[str, str | Pair], ...] = (
    A1111_SAMPLER_IDS, A1111_FUSED, COMFY_SAMPLER_IDS, INVOKEAI_SCHEDULER_IDS,
    INVOKEAI_V2_SAMPLERS, NOVELAI_SAMPLERS, DIFFUSERS_CLASSES,
)
_ANY_SCHEDULERS: tuple[Mapping[str, str | None], ...] = (
    A1111_SCHEDULER_IDS, COMFY_SCHEDULER_IDS, NOVELAI_NOISE_SCHEDULES,
    {name.lower(): label for name, label in COMFY_SIGMAS_NODES.items()},
)


def sampler_pair(name: str, scheduler: str | None = None, *, tool: Tool = "any") -> Pair:
    """The canonical ``(sampler, scheduler)`` of a sampler name and a scheduler name.

    ``tool`` picks that tool's table first (the importers know which tool wrote a file);
    otherwise every table is consulted. A scheduler fused into the name (``DPM++ 2M Karras``,
    ``dpmpp_2m_k``, ``res_multistep_sgm_uniform``) wins over a missing or ``Automatic``
    ``scheduler``, as in A1111's ``get_sampler_and_scheduler``; a scheduler named on its own
    wins over a contradicting fused one (the deliberate statement). A1111's ``Automatic``
    becomes the scheduler that sampler runs (None where none applies). Names found nowhere
    come back stripped, as given.
    """
    sampler, fused = _sampler(name.strip(), tool)
    chosen = scheduler_label(scheduler, tool=tool) if scheduler is not None else None
    if fused is not None and chosen in (None, AUTOMATIC):
        chosen = fused
    if chosen == AUTOMATIC and sampler in A1111_AUTOMATIC:
        chosen = A1111_AUTOMATIC[sampler]
    return sampler, chosen


def scheduler_label(name: str, *, tool: Tool = "any") -> str | None:
    """The canonical scheduler for a scheduler name (case-insensitive); unknown names come
    back stripped, and names meaning "the default" (SD.Next ``default``) come back None."""
    key = name.strip().lower()
    own = [_TOOL_SCHEDULERS[tool]] if tool in _TOOL_SCHEDULERS else []
    tables: list[Mapping[str, str | None]] = [*own, *_ANY_SCHEDULERS]
    for table in tables:
        if key in table:
            return table[key]
    return name.strip() or None


def diffusers_pair(class_name: str, options: Mapping[str, object]) -> Pair:
    """A diffusers scheduler class and its config (``use_karras_sigmas``,
    ``algorithm_type``) as a canonical pair; a class it does not know passes through."""
    key = class_name.strip().lower()
    sampler = DIFFUSERS_CLASSES.get(key, class_name.strip())
    algorithm = options.get("algorithm_type")
    if key == "dpmsolvermultistepscheduler" and isinstance(algorithm, str):
        sampler = DIFFUSERS_ALGORITHMS.get(algorithm, sampler)
    scheduler = next((label for option, label in DIFFUSERS_SIGMA_OPTIONS
                      if options.get(option) is True), None)
    return sampler, scheduler


def split_model(name: str) -> tuple[str, str | None]:
    """``(model, hash)``: a model name without folder, extension and `` [hash]``.

    Inner dots stay (``sd_xl_base_1.0``); so does the case. InvokeAI display names and
    Civitai site names are not file names and come back as given (stripped).
    """
    text = name.strip()
    digest = None
    if found := _MODEL_HASH.search(text):
        digest = found.group(1).lower()
        text = text[: found.start()].strip()
    text = re.split(r"[\\/]", text)[-1]
    lowered = text.lower()
    for extension in MODEL_EXTENSIONS:
        if lowered.endswith(extension) and len(text) > len(extension):
            text = text[: -len(extension)]
            break
    return text, digest


def model_hash(text: str) -> str:
    """A model hash as A1111 writes it: lower case, a full SHA-256 (``0x`` or not) cut to
    its first :data:`SHORT_HASH_DIGITS` digits; any other hash stays as it is (an 8-digit
    legacy hash, InvokeAI's BLAKE3)."""
    value = text.strip()
    full = _FULL_SHA256.fullmatch(value)
    return (full.group(1)[:SHORT_HASH_DIGITS] if full else value).lower()


def placeholder(knob: str, value: object) -> bool:
    """True if ``value`` of ``knob`` means "not set" (see :data:`PLACEHOLDERS`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value in PLACEHOLDERS.get(knob, ())


def known_sampler(label: str) -> bool:
    """True if ``label`` is a canonical sampler (what ``runlake stats`` checks)."""
    return label in SAMPLERS


def known_scheduler(label: str) -> bool:
    """True if ``label`` is a canonical scheduler."""
    return label in SCHEDULERS


def _sampler(name: str, tool: Tool) -> Pair:
    key = name.lower()
    own = [_TOOL_SAMPLERS[tool]] if tool in _TOOL_SAMPLERS else []
    tables: list[Mapping[str, str | Pair]] = [*own, *_ANY_SAMPLERS]
    for table in tables:
        if key in table:
            return _as_pair(table[key])
    for suffix in FUSED_SUFFIXES:  # "DPM++ 2M Karras", "Euler a SGM Uniform"
        if key.endswith(" " + suffix.lower()):
            base, _ = _sampler(name[: -len(suffix) - 1].rstrip(), tool)
            return base, scheduler_label(suffix)
    if key.startswith(COMFY_LEGACY_PREFIX) and key[len(COMFY_LEGACY_PREFIX):] in \
            COMFY_SAMPLER_IDS:
        return COMFY_SAMPLER_IDS[key[len(COMFY_LEGACY_PREFIX):]], None
    return _underscored(name, tool)


def _underscored(name: str, tool: Tool) -> Pair:
    """image-saver's ``<comfy id>_<comfy scheduler>`` for ids it has no Civitai name for."""
    key = name.lower()
    for scheduler in sorted(COMFY_SCHEDULER_IDS, key=len, reverse=True):
        base = key[: -len(scheduler) - 1]
        if key.endswith("_" + scheduler) and base in COMFY_SAMPLER_IDS:
            return COMFY_SAMPLER_IDS[base], COMFY_SCHEDULER_IDS[scheduler]
    return name, None


def _as_pair(value: str | Pair) -> Pair:
    return (value, None) if isinstance(value, str) else value
