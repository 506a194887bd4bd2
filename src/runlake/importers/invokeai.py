"""InvokeAI's metadata: ``invokeai_metadata`` (v3+), and v2's ``sd-metadata`` JSON and
``Dream`` command line.

v3+ (``invokeai/app/invocations/metadata.py`` CoreMetadataInvocation): ``generation_mode``,
``positive_prompt``, ``negative_prompt``, ``width``, ``height``, ``seed``, ``cfg_scale``,
``steps``, ``scheduler`` (a ``SCHEDULER_NAME_VALUES`` id, ``_k`` = Karras), ``clip_skip``
(layers skipped: A1111's clip skip minus one), ``model`` (v4+ ``{key, hash, name, base,
type}``, v3 ``{model_name, base_model}``), ``loras``, ``strength`` (img2img), and the SDXL
refiner's ``refiner_*`` (a second pass). v2 (``ldm/invoke/args.py metadata_dumps``): the
knobs under ``image``, the negative prompt in ``[brackets]`` inside the prompt, the model's
full SHA-256 (its first 10 digits are A1111's model hash).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from runlake.importers.generation import Generation, Pass, knob_pass

_MODES = ("txt2img", "img2img", "inpaint", "outpaint")
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
# Dream options (Args.dream_prompt_str): flag -> knob.
_DREAM_FLAGS = {"-s": "steps", "-S": "seed", "-W": "width", "-H": "height", "-C": "cfg_scale",
                "-A": "sampler_name", "-f": "denoising_strength"}


def from_metadata(data: Mapping[str, Any]) -> Generation:
    """A v3+ ``invokeai_metadata`` object."""
    stage = _mode(data.get("generation_mode"))
    model = _dict(data.get("model"))
    clip_skip = data.get("clip_skip")
    values = {
        "model": model.get("name") or model.get("model_name"),
        "sampler_name": data.get("scheduler"), "steps": data.get("steps"),
        "cfg_scale": data.get("cfg_scale"), "seed": data.get("seed"),
        "width": data.get("width"), "height": data.get("height"),
        "denoising_strength": data.get("strength") if stage != "txt2img" else None,
        "clip_skip": clip_skip + 1 if isinstance(clip_skip, int) and clip_skip > 0 else None,
        "prompt": data.get("positive_prompt"), "negative_prompt": data.get("negative_prompt"),
    }
    extras = {"model_key": model.get("key"), "model_hash_invokeai": model.get("hash"),
              "model_base": model.get("base") or model.get("base_model"),
              "loras": _loras(data.get("loras")), "guidance": data.get("guidance"),
              "cfg_rescale_multiplier": data.get("cfg_rescale_multiplier")}
    passes = [knob_pass(stage, values, tool="invokeai", extras=extras)]
    refiner = _refiner(data, values)
    if refiner is not None:
        passes.append(refiner)
    version = data.get("app_version")
    return Generation("invokeai", tuple(passes), ("invokeai_metadata",),
                      version=str(version) if version else None)


def from_sd_metadata(data: Mapping[str, Any], dream: str | None) -> Generation:
    """A v2 ``sd-metadata`` object (``dream``, if given, fills what it lacks)."""
    image = _dict(data.get("image"))
    prompts = image.get("prompt")
    text = prompts[0].get("prompt") if isinstance(prompts, list) and prompts and isinstance(
        prompts[0], dict) else prompts
    prompt, negative = _split_negative(text if isinstance(text, str) else "")
    digest = data.get("model_hash")
    stage = _mode(image.get("type"))
    values = {
        "model": data.get("model_id") or data.get("model_weights"),
        "model_hash": digest[:10] if isinstance(digest, str) and len(digest) == 64 else None,
        "sampler_name": image.get("sampler"), "steps": image.get("steps"),
        "cfg_scale": image.get("cfg_scale"), "seed": image.get("seed"),
        "width": image.get("width"), "height": image.get("height"),
        "denoising_strength": image.get("strength") if stage != "txt2img" else None,
        "prompt": prompt, "negative_prompt": negative,
    }
    if dream:
        values = {**_dream_values(dream), **{k: v for k, v in values.items() if v}}
    keys = ("sd-metadata", "Dream") if dream else ("sd-metadata",)
    version = data.get("app_version")
    return Generation("invokeai", (knob_pass(stage, values, tool="invokeai2"),), keys,
                      version=str(version) if version else None)


def from_dream(dream: str) -> Generation:
    """A v2 ``Dream`` command line alone (``"<prompt>" -s 50 -S 42 -W 512 ... -A k_lms``)."""
    values = _dream_values(dream)
    stage = "img2img" if "denoising_strength" in values else "txt2img"
    return Generation("invokeai", (knob_pass(stage, values, tool="invokeai2"),), ("Dream",))


def _dream_values(dream: str) -> dict[str, Any]:
    try:
        tokens = shlex.split(dream)
    except ValueError:  # an unbalanced quote in the prompt: split on spaces
        tokens = dream.split()
    words: list[str] = []
    values: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _DREAM_FLAGS and index + 1 < len(tokens):
            values[_DREAM_FLAGS[token]] = tokens[index + 1]
            index += 2
        elif not values and not token.startswith("-"):
            words.append(token)  # v2.3 writes the prompt unquoted
            index += 1
        else:
            index += 1
    values["prompt"], values["negative_prompt"] = _split_negative(" ".join(words))
    return values


def _refiner(data: Mapping[str, Any], base: Mapping[str, Any]) -> Pass | None:
    model = data.get("refiner_model")
    if not isinstance(model, dict) or not data.get("refiner_steps"):
        return None
    values = {
        "model": model.get("name") or model.get("model_name"),
        "sampler_name": data.get("refiner_scheduler"), "steps": data.get("refiner_steps"),
        "cfg_scale": data.get("refiner_cfg_scale"), "seed": base.get("seed"),
        "width": base.get("width"), "height": base.get("height"),
        "prompt": base.get("prompt"), "negative_prompt": base.get("negative_prompt"),
    }
    extras = {"refiner_start": data.get("refiner_start"),
              "positive_aesthetic_score": data.get("refiner_positive_aesthetic_score"),
              "negative_aesthetic_score": data.get("refiner_negative_aesthetic_score")}
    return knob_pass("refine", values, tool="invokeai", extras=extras)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _mode(value: Any) -> str:
    """``sdxl_txt2img`` -> ``txt2img`` (the model family prefix is not a stage)."""
    text = value if isinstance(value, str) else ""
    return next((mode for mode in _MODES if text.endswith(mode)), "txt2img")


def _loras(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    found = []
    for item in value:
        if isinstance(item, dict):
            model = item.get("model") or item.get("lora") or {}
            name = model.get("name") or model.get("model_name") if isinstance(
                model, dict) else None
            found.append({"name": name, "weight": item.get("weight")})
    return found or None


def _split_negative(text: str) -> tuple[str, str]:
    """InvokeAI v2 writes the negative prompt inside the prompt, in ``[brackets]``."""
    negative = ", ".join(part.strip() for part in _BRACKETS.findall(text) if part.strip())
    return " ".join(_BRACKETS.sub(" ", text).split()), negative
