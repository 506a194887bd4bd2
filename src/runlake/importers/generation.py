"""What a tool's metadata says about one generation, in canonical terms: :class:`Generation`
(the tool, its passes, the keys it was read from) and :class:`Pass` (one sampling pass).

Every reader (A1111 infotext, ComfyUI graphs, InvokeAI, NovelAI, Fooocus, StableNew) returns
a Generation; :mod:`runlake.importers.images` turns it into the run record. A pass's config
holds canonical knob names and values (``model``, ``sampler_name``, ``scheduler``, ``steps``,
``cfg_scale``, ``seed``, ``width``, ``height``, ``denoising_strength``, ``clip_skip``,
``prompt``, ``negative_prompt``) plus the tool's other settings under their own names;
``raw`` keeps the values as the tool wrote them, so nothing is lost by mapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runlake.records.vocabulary import (
    Tool,
    model_hash,
    placeholder,
    sampler_pair,
    scheduler_label,
    split_model,
)

# Canonical config keys a pass fills from the tool's values.
KNOBS = ("model", "model_hash", "sampler_name", "scheduler", "steps", "cfg_scale", "seed",
         "width", "height", "denoising_strength", "clip_skip", "prompt", "negative_prompt")


@dataclass(frozen=True)
class Pass:
    """One sampling pass: its stage (``txt2img``, ``img2img``, ``inpaint``, ``hires``,
    ``refine``) and its config."""

    stage: str
    config: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Generation:
    """One generation as read from an image's metadata.

    ``tool`` names the writer (``a1111``, ``forge``, ``sdnext``, ``civitai``, ``comfyui``,
    ``image_saver``, ``invokeai``, ``novelai``, ``fooocus``, ``stablenew``); ``keys`` are
    the metadata keys it was read from (they identify the generation); ``extra`` is
    metadata about the file that is not a knob (a tool version, StableNew's job id).
    """

    tool: str
    passes: tuple[Pass, ...]
    keys: tuple[str, ...]
    version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    batch_shared: bool = False  # siblings of one batch carry the very same metadata


def knob_pass(stage: str, values: Mapping[str, Any], *, tool: Tool,
              extras: Mapping[str, Any] | None = None,
              raw: Mapping[str, Any] | None = None) -> Pass:
    """A pass from a tool's values under canonical names (raw, as written): sampler and
    scheduler mapped through the vocabulary with ``tool``'s tables first, the model split
    from its extension and hash, numbers typed, placeholders and blanks left out. ``raw``
    (default: those values) is kept with the pass as the tool wrote it."""
    given = {k: v for k, v in values.items() if v is not None and v != ""}
    config: dict[str, Any] = {}
    for key, value in given.items():
        typed = _typed(key, value)
        if typed is not None and not placeholder(_knob(key), typed):
            config[key] = typed
    _canonical_sampler(config, tool)
    if isinstance(config.get("model"), str):
        config["model"], digest = split_model(config["model"])
        if digest and "model_hash" not in config:
            config["model_hash"] = digest
    if isinstance(config.get("model_hash"), str):
        config["model_hash"] = model_hash(config["model_hash"])
    config.update({k: v for k, v in (extras or {}).items() if v is not None})
    return Pass(stage, config, dict(raw) if raw is not None else given)


def _canonical_sampler(config: dict[str, Any], tool: Tool) -> None:
    sampler, scheduler = config.pop("sampler_name", None), config.pop("scheduler", None)
    scheduler = scheduler if isinstance(scheduler, str) else None
    if isinstance(sampler, str):
        config["sampler_name"], scheduler = sampler_pair(sampler, scheduler, tool=tool)
    elif scheduler is not None:
        scheduler = scheduler_label(scheduler, tool=tool)
    if scheduler is not None:
        config["scheduler"] = scheduler


_INTS = ("steps", "seed", "width", "height", "clip_skip")
_FLOATS = ("cfg_scale", "denoising_strength")


def _typed(key: str, value: Any) -> Any:
    if key in _INTS:
        return _int(value)
    if key in _FLOATS:
        return _float(value)
    if isinstance(value, str):
        return value.strip() or None
    return value


def _knob(key: str) -> str:
    return "sampler" if key == "sampler_name" else key


def _int(value: Any) -> int | None:
    number = _float(value)
    if number is None or not number.is_integer():
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())  # exact beyond 2**53 (seeds)
    return value if isinstance(value, int) else int(number)


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None
