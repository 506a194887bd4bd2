"""The canonical columns and every name and place a value for each can be found under.

This is data, not logic: compaction's ``normalize`` turns it into expressions. Sources are leaf
column paths (see ``docs/compaction.md``): ``config.<path>`` for the effective config,
``metadata.<path>`` and ``record.<path>`` for the rest of the record. The first source that
holds a usable value wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "float"]

# Stage dicts searched for knobs, after the flat config: a generation stage holds the knobs.
STAGES = ("txt2img", "img2img")
# Where a record handed over as the A1111 API's own shapes keeps its knobs, besides its top
# level: stage-keyed ({"txt2img": {...}}), a response's echoed request ("parameters") and
# its info JSON as an object ("info").
RECORD_CONTAINERS = (*STAGES, "parameters", "info")


@dataclass(frozen=True)
class ConfigKnob:
    """A generation knob: searched in the config, then ``primary_<name>``, then as the
    ``variable_under_test`` of a learning experiment, then in metadata and the record."""

    name: str
    kind: Kind
    aliases: tuple[str, ...]
    variables: tuple[str, ...] = ()  # variable_under_test spellings, lowercase alphanumeric
    primary: bool = False

    def sources(self) -> list[str]:
        flat = [f"config.{a}" for a in self.aliases]
        staged = [f"config.{s}.{a}" for s in STAGES for a in self.aliases]
        return flat + staged

    def record_sources(self) -> list[str]:
        """Places outside the config, searched after it and after ``primary_<name>``."""
        top = [f"{place}.{a}" for place in ("metadata", "record") for a in self.aliases]
        nested = [f"record.{c}.{a}" for c in RECORD_CONTAINERS for a in self.aliases]
        return top + nested


@dataclass(frozen=True)
class FieldKnob:
    """A non-config column: the first of ``sources`` that holds a usable value."""

    name: str
    kind: Kind
    sources: tuple[str, ...]


# Aliases are the spellings of the key in the tools' configs and API shapes; a dotted alias
# is a path (the A1111 API's override_settings). Values are made canonical afterwards by
# runlake.records.vocabulary.
CONFIG_KNOBS = (
    ConfigKnob("model", "text", ("model", "sd_model_checkpoint", "Model", "checkpoint",
                                 "model_name", "sd_model_name", "ckpt_name", "unet_name",
                                 "base_model", "override_settings.sd_model_checkpoint"),
               ("model", "checkpoint", "sdmodelcheckpoint"), primary=True),
    ConfigKnob("model_hash", "text", ("model_hash", "Model hash", "sd_model_hash",
                                      "base_model_hash")),
    ConfigKnob("sampler", "text", ("sampler_name", "sampler", "Sampler"),
               ("sampler", "samplername", "samplingmethod"), primary=True),
    ConfigKnob("scheduler", "text", ("scheduler", "Schedule type", "schedule_type",
                                     "Scheduler", "noise_schedule"),
               ("scheduler", "scheduletype"), primary=True),
    ConfigKnob("steps", "int", ("steps", "Steps", "num_inference_steps"),
               ("steps", "samplingsteps"), primary=True),
    ConfigKnob("cfg_scale", "float", ("cfg_scale", "cfg scale", "CFG scale", "CFG Scale",
                                      "guidance_scale", "cfg"),
               ("cfgscale", "cfg", "guidancescale"), primary=True),
    ConfigKnob("seed", "int", ("seed", "Seed", "noise_seed"), ("seed",)),
    ConfigKnob("width", "int", ("width", "Width"), ("width",)),
    ConfigKnob("height", "int", ("height", "Height"), ("height",)),
    ConfigKnob("denoising_strength", "float", (
        "denoising_strength", "Denoising strength", "Denoise Strength", "denoise strength",
        "denoise_strength", "denoise"), ("denoisingstrength", "denoisestrength", "denoise")),
    ConfigKnob("clip_skip", "int", ("clip_skip", "Clip skip", "CLIP_stop_at_last_layers",
                                    "override_settings.CLIP_stop_at_last_layers"),
               ("clipskip",)),
    ConfigKnob("stage", "text", ("stage", "Stage")),
    ConfigKnob("prompt", "text", ("prompt", "Prompt", "positive_prompt"), ("prompt",)),
    ConfigKnob("negative_prompt", "text", ("negative_prompt", "Negative prompt"),
               ("negativeprompt",)),
)

# "Size: 832x1216" (A1111 infotext) gives width and height when they are not found otherwise.
SIZE_ALIASES = ("Size", "size")


_PLACES = ("metadata", "metadata.learning_context", "record", "record.learning_context")


def _field(name: str, kind: Kind, *keys: str) -> FieldKnob:
    """A column looked up as ``metadata.<key>``, ``metadata.learning_context.<key>``, the
    record's own ``<key>`` and its ``learning_context.<key>``, for each key in turn."""
    return FieldKnob(name, kind, tuple(f"{place}.{key}" for key in keys for place in _PLACES))


FIELD_KNOBS = (
    _field("experiment_id", "text", "experiment_id"),
    _field("experiment_name", "text", "experiment_name"),
    _field("variable_under_test", "text", "variable_under_test"),
    _field("variant_index", "int", "variant_index"),
    _field("rating", "float", "user_rating", "rating"),
    _field("status", "text", "status", "event"),  # a job event's name is its status
    _field("run_id", "text", "run_id"),
    _field("image_path", "text", "image_path"),
    _field("record_kind", "text", "record_kind"),
)
VARIANT_VALUE_SOURCES = _field("variant_value", "text", "variant_value").sources
DURATION_SECONDS = _field("duration", "float", "duration_s", "duration", "elapsed_s").sources
DURATION_MILLISECONDS = _field("duration", "float", "duration_ms", "elapsed_ms").sources
SUBSCORE_PREFIXES = ("metadata.subscores.", "record.subscores.")
