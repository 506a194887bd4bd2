"""Stage configs: ``{"txt2img": {...}, "img2img": {...}, "upscale": {...}, "pipeline": {...}}``.

A run is described by a base config (stage -> config dict) and a variant that overrides some
of its leaves; the *effective* config is the two merged. ``pipeline`` holds switches such as
``img2img_enabled`` and ``upscale_enabled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Stage = Literal["txt2img", "img2img", "upscale"]
GENERATION_STAGES: tuple[Stage, ...] = ("txt2img", "img2img")
_PER_BATCH = ("batch_size", "n_iter")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, recursively for nested mappings; new dicts."""
    merged: dict[str, Any] = {key: _copy(value) for key, value in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def effective_config(
    base_config: Mapping[str, Any], variant_configs: list[dict[str, Any]]
) -> dict[str, Any]:
    """The config that runs: the base with the first variant over it (StableNew's rule)."""
    return merge(base_config, variant_configs[0]) if variant_configs else merge(base_config, {})


def stage_plan(config: Mapping[str, Any]) -> list[Stage]:
    """txt2img, then img2img and upscale where ``pipeline`` enables them."""
    switches = config.get("pipeline")
    enabled = switches if isinstance(switches, Mapping) else {}
    plan: list[Stage] = ["txt2img"]
    if enabled.get("img2img_enabled"):
        plan.append("img2img")
    if enabled.get("upscale_enabled"):
        plan.append("upscale")
    return plan


def stage_config(config: Mapping[str, Any], stage: Stage) -> dict[str, Any]:
    """The settings one stage runs with. img2img inherits txt2img's prompt, model, seed and
    so on (a refiner pass rarely restates them), but not its batch size: it runs once per
    image it refines. Its own keys win."""
    own = _section(config, stage)
    if stage == "img2img":
        inherited = {key: value for key, value in _section(config, "txt2img").items()
                     if key not in _PER_BATCH}
        return merge(inherited, own)
    return own


def primary_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The generation stage whose knobs describe the run: txt2img, else img2img, else a flat
    config (StableNew's older records keep knobs at the top level)."""
    for stage in GENERATION_STAGES:
        section = config.get(stage)
        if isinstance(section, Mapping):
            return section
    return config


def _section(config: Mapping[str, Any], stage: str) -> dict[str, Any]:
    section = config.get(stage)
    return merge(section, {}) if isinstance(section, Mapping) else {}


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return merge(value, {})
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
