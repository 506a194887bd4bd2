"""The A1111 infotext family: AUTOMATIC1111, Forge, SD.Next, Civitai, ComfyUI-Image-Saver,
Fooocus's ``a1111`` scheme and StableNew's own dialect, read from ``parameters``.

They share the grammar (:mod:`runlake.records.infotext`) and differ in what a value means:

- A1111/Forge >= v1.9 write ``Schedule type``; before, a plain sampler label ran the model's
  own discretisation (``Uniform``) and other schedulers were fused into the label.
- SD.Next (``App: SD.Next``; before that key, 2023: ``Parser`` / ``Backend``) names the
  sigma family ``Sampler sigma``; its ``DPM++ SDE`` is another algorithm than A1111's, its
  ``Default`` sampler is the pipeline's own (unknown); ``Operations`` names the stage.
- Forge writes ``Version: f2.0.1v1.10.1-...``; Forge Classic and Neo ``classic`` /
  ``neo-2.28``.
- Civitai writes no ``Model``: the checkpoint comes from its ``Civitai resources`` JSON.
- ComfyUI-Image-Saver (``Version: ComfyUI``) and ComfyUI-SaveImageWithMetaData (no
  Version, a ``Hashes`` JSON) write Civitai sampler names or ``<comfy id>_<scheduler>``: a
  plain label leaves the scheduler unknown (ComfyUI ran its own, not A1111's "Uniform").
- Fooocus's a1111 scheme fuses `` Karras`` and also writes ``Scheduler`` (a ComfyUI id).
- StableNew writes ``Scheduler`` and ``Stage``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from runlake.importers.generation import KNOBS, Generation, knob_pass
from runlake.records import parse_infotext
from runlake.records.infotext import Infotext
from runlake.records.vocabulary import (
    A1111_AUTOMATIC,
    A1111_LEGACY_SCHEDULER,
    SDNEXT_UNKNOWN_SAMPLERS,
    Tool,
    sampler_pair,
)

_LEGACY_VERSION = re.compile(r"v1\.(\d+)")
_SCHEDULER_KEYS: dict[str, tuple[str, ...]] = {
    "a1111": ("Schedule type",), "forge": ("Schedule type",), "sdnext": ("Sampler sigma",),
    "fooocus": ("Scheduler",), "stablenew": ("Scheduler", "Schedule type"),
    "civitai": ("Schedule type",), "image_saver": ("Schedule type",),
    "comfyui": ("Schedule type",),
}
_TOOLS: dict[str, Tool] = {"a1111": "a1111", "forge": "a1111", "sdnext": "sdnext",
                           "civitai": "a1111", "image_saver": "image_saver",
                           "comfyui": "image_saver", "fooocus": "fooocus", "stablenew": "any"}
_FORGE_VERSION = re.compile(r"f\d|classic$|neo\b")
_NOT_EXTRAS = {*KNOBS, "size", "schedule_type", "sampler_sigma", "civitai_resources",
               "hashes", "civitai_metadata"}


def from_infotext(text: str, texts: Mapping[str, str]) -> Generation:
    """The generation of a ``parameters`` infotext (``texts``: the file's other keys)."""
    info = parse_infotext(text)
    family = _family(info.parameters, texts)
    config = info.config()
    values = {key: config.get(key) for key in KNOBS}
    values["sampler_name"], values["scheduler"] = _sampler(info, family)
    values["model"] = values["model"] or _civitai_checkpoint(info.parameters)
    values["model_hash"] = values["model_hash"] or _saver_model_hash(info.parameters)
    extras = {key: value for key, value in config.items() if key not in _NOT_EXTRAS}
    extras.update(_json_extras(info.parameters))
    version = info.parameters.get("Version")
    # The sampler and scheduler are canonical already: map them again without a tool (a
    # no-op), not with SD.Next's table, where "DPM++ SDE" means another sampler.
    one = knob_pass(_stage(info), values, tool="any", extras=extras, raw=info.parameters)
    return Generation(family, (one,), ("parameters",), version=version)


def _family(parameters: Mapping[str, str], texts: Mapping[str, str]) -> str:
    version = parameters.get("Version", "").strip()
    rules = (
        ("sdnext", parameters.get("App", "").strip() == "SD.Next" or "Parser" in parameters
         or "Backend" in parameters),
        ("fooocus", version.startswith("Fooocus") or texts.get("fooocus_scheme") == "a1111"),
        ("image_saver", version == "ComfyUI"),
        ("civitai", any(key in parameters for key in ("Civitai resources", "Civitai metadata",
                                                      "Created Date"))),
        # SaveImageWithMetaData: a "Hashes" JSON and no Version (A1111 always writes one)
        ("comfyui", not version and "Hashes" in parameters),
        # StableNew's own dialect (a review it adds changes nothing)
        ("stablenew", "Stage" in parameters),
        ("forge", _FORGE_VERSION.match(version) is not None),
    )
    return next((family for family, found in rules if found), "a1111")


def _sampler(info: Infotext, family: str) -> tuple[str | None, str | None]:
    sampler = info.parameters.get("Sampler", "").strip()
    if not sampler or (family == "sdnext" and sampler.lower() in SDNEXT_UNKNOWN_SAMPLERS):
        return None, None
    scheduler = next((info.parameters[k] for k in _SCHEDULER_KEYS.get(family, ())
                      if info.parameters.get(k)), None)
    label, chosen = sampler_pair(sampler, scheduler, tool=_TOOLS[family])
    if chosen is None and scheduler is None and family in ("a1111", "forge") \
            and _legacy(info.parameters.get("Version")) and A1111_AUTOMATIC.get(label):
        chosen = A1111_LEGACY_SCHEDULER  # before v1.9 a plain label ran "Uniform"
    return label, chosen


def _legacy(version: str | None) -> bool:
    """True for an A1111/Forge version before 1.9 (no ``Schedule type`` yet), or none."""
    if not version:
        return True
    found = _LEGACY_VERSION.search(version)
    return found is not None and int(found.group(1)) < 9


def _stage(info: Infotext) -> str:
    civitai = _json(info.parameters.get("Civitai metadata"))
    workflow = civitai.get("workflow") if isinstance(civitai, dict) else None
    if isinstance(workflow, str) and workflow in ("txt2img", "img2img", "inpaint"):
        return workflow
    return info.stage


def _civitai_checkpoint(parameters: Mapping[str, str]) -> str | None:
    resources = _json(parameters.get("Civitai resources"))
    for item in resources if isinstance(resources, list) else []:
        if isinstance(item, dict) and item.get("type") == "checkpoint" and item.get(
                "modelName"):
            version = item.get("modelVersionName")
            return f"{item['modelName']} ({version})" if version else str(item["modelName"])
    return None


def _saver_model_hash(parameters: Mapping[str, str]) -> str | None:
    hashes = _json(parameters.get("Hashes"))
    value = hashes.get("model") if isinstance(hashes, dict) else None
    return value if isinstance(value, str) else None


def _json_extras(parameters: Mapping[str, str]) -> dict[str, Any]:
    """Civitai's resources and metadata and image-saver's hashes, parsed."""
    names = {"Civitai resources": "civitai_resources", "Civitai metadata": "civitai_metadata",
             "Hashes": "hashes"}
    return {name: value for key, name in names.items()
            if (value := _json(parameters.get(key))) is not None}


def _json(text: str | None) -> Any:
    if not text or text[0] not in "[{":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
