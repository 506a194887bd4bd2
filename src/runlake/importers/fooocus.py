"""Fooocus's ``fooocus`` metadata scheme: sorted JSON in ``parameters`` (its ``a1111`` scheme
is an infotext, read by :mod:`runlake.importers.a1111`).

Fields (``modules/meta_parser.py FooocusMetadataParser``, Fooocus 2.5.5): ``base_model``
(file stem) and ``base_model_hash``, ``sampler`` / ``scheduler`` (ComfyUI ids), ``steps``,
``guidance_scale`` (CFG), ``seed`` (a string), ``resolution`` (``"(1152, 896)"``, width
first), ``prompt``, ``negative_prompt``, ``prompt_expansion``, ``styles``, ``loras``
(``[[name, weight, hash]]``), ``refiner_model``, ``refiner_switch``, ``sharpness``,
``adm_guidance``, ``performance``, ``clip_skip``, ``version``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runlake.importers.generation import Generation, knob_pass

_RESOLUTION = re.compile(r"^\(?\s*(\d+)\s*[,x\u00d7]\s*(\d+)\s*\)?$")
_EXTRAS = ("prompt_expansion", "styles", "refiner_model", "refiner_switch", "sharpness",
           "adm_guidance", "performance", "vae", "full_prompt", "full_negative_prompt")


def is_fooocus_json(data: Mapping[str, Any]) -> bool:
    """True for a Fooocus JSON scheme object (also when no ``fooocus_scheme`` says so)."""
    version = data.get("version")
    if isinstance(version, str) and version.startswith("Fooocus"):
        return True
    return "base_model" in data and "guidance_scale" in data


def from_json(data: Mapping[str, Any]) -> Generation:
    """The generation of a Fooocus JSON scheme image."""
    width, height = _resolution(data.get("resolution"))
    values = {
        "model": data.get("base_model"), "model_hash": data.get("base_model_hash"),
        "sampler_name": data.get("sampler"), "scheduler": data.get("scheduler"),
        "steps": data.get("steps"), "cfg_scale": data.get("guidance_scale"),
        "seed": data.get("seed"), "width": width, "height": height,
        "clip_skip": data.get("clip_skip"),
        "prompt": data.get("prompt"), "negative_prompt": data.get("negative_prompt"),
    }
    extras: dict[str, Any] = {key: data.get(key) for key in _EXTRAS}
    extras["loras"] = _loras(data.get("loras"))
    version = data.get("version")
    return Generation("fooocus", (knob_pass("txt2img", values, tool="fooocus", extras=extras),),
                      ("parameters",), version=version if isinstance(version, str) else None)


def _resolution(value: Any) -> tuple[int | None, int | None]:
    match = _RESOLUTION.match(value.strip()) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)


def _loras(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    found = [{"name": item[0], "weight": item[1], "hash": item[2] if len(item) > 2 else None}
             for item in value if isinstance(item, list) and len(item) >= 2]
    return found or None
