"""NovelAI's downloads: ``Software`` = ``NovelAI``, the request as JSON in ``Comment``.

The Comment (as NovelAI's own downloads carry it, and as A1111's ``read_info_from_image``
reads it): ``prompt``, ``uc`` (the negative prompt), ``steps``, ``scale`` (CFG), ``seed``,
``width``, ``height``, ``sampler`` (``k_euler_ancestral``, ...), ``noise_schedule``
(``native``, ``karras``, ...), ``strength`` (img2img), V4's ``v4_prompt`` captions.
``Source`` names the model and an 8-digit hash (``Stable Diffusion XL C1E1DE52``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runlake.importers.generation import Generation, knob_pass

_SOURCE = re.compile(r"^(.*\S)\s+([0-9A-Fa-f]{8})$")


def is_novelai(texts: Mapping[str, str]) -> bool:
    return texts.get("Software", "").strip() == "NovelAI" and "Comment" in texts


def from_comment(comment: Mapping[str, Any], texts: Mapping[str, str]) -> Generation:
    """The generation of a NovelAI image (``comment`` = the parsed Comment JSON)."""
    source = texts.get("Source", "").strip()
    match = _SOURCE.match(source)
    # txt2img Comments carry a default "strength" too; only the request type tells.
    img2img = "img2img" in str(comment.get("request_type", "")).lower()
    values = {
        "model": match.group(1) if match else source or None,
        "model_hash": match.group(2) if match else None,
        "sampler_name": comment.get("sampler"), "scheduler": comment.get("noise_schedule"),
        "steps": comment.get("steps"), "cfg_scale": comment.get("scale"),
        "seed": comment.get("seed"), "width": comment.get("width"),
        "height": comment.get("height"),
        "denoising_strength": comment.get("strength") if img2img else None,
        "prompt": comment.get("prompt") or _caption(comment.get("v4_prompt")) or texts.get(
            "Description"),
        "negative_prompt": comment.get("uc") or _caption(comment.get("v4_negative_prompt")),
    }
    extras = {key: comment.get(key) for key in ("cfg_rescale", "uncond_scale", "sm", "sm_dyn",
                                                "n_samples")}
    stage = "img2img" if img2img else "txt2img"
    return Generation("novelai", (knob_pass(stage, values, tool="novelai", extras=extras),),
                      ("Comment", "Source"),
                      batch_shared=_number(comment.get("n_samples")) > 1)


def _caption(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("caption"), dict):
        caption = value["caption"].get("base_caption")
        return caption if isinstance(caption, str) else None
    return None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(
        value, bool) else 0.0
