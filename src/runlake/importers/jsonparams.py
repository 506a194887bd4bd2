"""JSON objects in ``parameters`` (PNG text, JPEG/WebP UserComment) that are neither an
infotext nor Fooocus's scheme, as real files showed them:

- SwarmUI: ``{"sui_image_params": {prompt, negativeprompt, model, seed, steps, cfgscale,
  width, height, sampler, scheduler (ComfyUI ids), swarm_version, ...}, "sui_models":
  [{name, param, hash}]}`` (enslo/sd-metadata ``samples/jpg/swarmui.jpg``);
- apps writing their own flat JSON: RuinedFooocus (``Prompt``, ``Negative``, ``cfg``,
  ``sampler_name``, ``base_model_name``, ``software``), a Gradio app on a hosted space
  (``num_inference_steps``, ``guidance_scale``, ``resolution: "1024 x 1024"``, ``Model
  hash``) (enslo/sd-metadata ``samples/png/ruined-fooocus.png``, ``huggingface-space.png``);
  also Civitai's ``extraMetadata`` request when its graph holds no sampler.

The flat ones are read by the key spellings below. A JSON object matching none of them is no
generation metadata we can read: the detector then says so instead of taking the JSON for an
infotext whose prompt is the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runlake.importers.generation import Generation, knob_pass

# Canonical knob <- the spellings seen in real JSON parameters, first found wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt", "Prompt", "positive_prompt", "positivePrompt"),
    "negative_prompt": ("negative_prompt", "negativeprompt", "negativePrompt", "Negative",
                        "negative"),
    "model": ("model", "Model", "base_model_name", "base_model", "model_name"),
    "model_hash": ("model_hash", "Model hash", "base_model_hash"),
    "sampler_name": ("sampler_name", "sampler", "Sampler"),
    "scheduler": ("scheduler", "Scheduler"),
    "steps": ("steps", "Steps", "num_inference_steps"),
    "cfg_scale": ("cfg_scale", "cfgscale", "cfgScale", "cfg", "guidance_scale"),
    "seed": ("seed", "Seed"),
    "width": ("width", "Width"),
    "height": ("height", "Height"),
    "clip_skip": ("clip_skip", "clipSkip", "clipskip"),
    "denoising_strength": ("denoising_strength", "denoise", "strength"),
}
# Without two settings besides the prompts it is not generation metadata we can read.
_SETTINGS = ("model", "sampler_name", "steps", "cfg_scale", "seed", "width")
_MIN_SETTINGS = 2
_RESOLUTION = re.compile(r"^\s*(\d+)\s*[x\u00d7,]\s*(\d+)\s*$")


def from_json(data: Mapping[str, Any], *, tool: str | None = None) -> Generation | None:
    """The generation a JSON ``parameters`` object describes, or None if none of its keys
    name enough settings."""
    if isinstance(data.get("sui_image_params"), dict):
        return _swarmui(data)
    values = _values(data)
    if sum(values.get(k) is not None for k in _SETTINGS) < _MIN_SETTINGS:
        return None
    stage = "img2img" if values.get("denoising_strength") is not None else "txt2img"
    software = data.get("software")
    name = tool or (software.replace(" ", "").lower() if isinstance(software, str) else "json")
    extras = {k: v for k, v in data.items() if k not in _used(data)}
    return Generation(name, (knob_pass(stage, values, tool="any", extras=extras,
                                       raw=dict(data)),), ("parameters",))


def _swarmui(data: Mapping[str, Any]) -> Generation:
    params: dict[str, Any] = data["sui_image_params"]
    values = _values(params)
    models = data.get("sui_models")
    for item in models if isinstance(models, list) else []:
        if isinstance(item, dict) and item.get("param") == "model" and item.get("hash"):
            values["model_hash"] = item["hash"]
    extras = {k: v for k, v in params.items() if k not in _used(params)}
    version = params.get("swarm_version")
    return Generation("swarmui", (knob_pass("txt2img", values, tool="any", extras=extras,
                                            raw=dict(params)),),
                      ("parameters",), version=version if isinstance(version, str) else None)


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {knob: next((data[n] for n in names if data.get(n) not in (None, "")), None)
              for knob, names in ALIASES.items()}
    resolution = data.get("resolution")
    found = _RESOLUTION.match(resolution) if isinstance(resolution, str) else None
    if found and values["width"] is None:
        values["width"], values["height"] = int(found.group(1)), int(found.group(2))
    return values


def _used(data: Mapping[str, Any]) -> set[str]:
    """The keys read as knobs (the rest are kept as the tool's own settings)."""
    names = {n for spellings in ALIASES.values() for n in spellings if n in data}
    return names | ({"resolution"} if "resolution" in data else set())
