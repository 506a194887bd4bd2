"""The AUTOMATIC1111 / Forge "infotext": a run's generation parameters as text.

The WebUI embeds it in a PNG's ``parameters`` text chunk::

    a red fox in the snow            <- prompt (any number of lines)
    Negative prompt: lowres          <- optional; may span lines too
    Steps: 28, Sampler: DPM++ 2M, CFG scale: 6.5, Seed: 42, Size: 832x1216, ...

The last line holds ``Key: value`` pairs separated by ``", "``; a value holding a comma, a
colon or a newline is a JSON string. The parser follows the WebUI's own: the last line counts
as parameters only if it holds at least three pairs, and every line is stripped.

>>> info = parse_infotext("a fox\\nSteps: 20, Sampler: Euler a, CFG scale: 7")
>>> info.config()["cfg_scale"]
7.0
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runlake.records.vocabulary import FUSED_SUFFIXES, scheduler_label

NEGATIVE_PREFIX = "Negative prompt:"
_KEY = re.compile(r"\s*(\w[\w \-/]+):\s*")
_VALUE = re.compile(r'("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_NEXT_KEY = re.compile(r"\s+\w[\w \-/]+:")
_MIN_PARAMS = 3  # the WebUI's rule for telling a parameters line from a prompt line
_SIZE = re.compile(r"(\d+)x(\d+)")
_JSON = json.JSONDecoder()
# WebUI label -> (config key, converter); every other label becomes its snake_case, as text.
_KNOWN: dict[str, tuple[str, Callable[[str], Any]]] = {
    "Steps": ("steps", int),
    "Sampler": ("sampler_name", str),
    "Schedule type": ("scheduler", str),
    "CFG scale": ("cfg_scale", float),
    "Seed": ("seed", int),
    "Model": ("model", str),
    "Model hash": ("model_hash", str),
    "Denoising strength": ("denoising_strength", float),
    "Clip skip": ("clip_skip", int),
    "Hires upscale": ("hr_scale", float),
    "Hires steps": ("hr_second_pass_steps", int),
    "Hires upscaler": ("hr_upscaler", str),
    "VAE": ("vae", str),
    "Variation seed": ("subseed", int),
    "Variation seed strength": ("subseed_strength", float),
}
_LABELS = {key: label for label, (key, _) in _KNOWN.items()}
# Labels A1111 writes only for an inpainting img2img (processing.py, img2img init).
_MASK_LABELS = ("Mask blur", "Inpaint area", "Masked content", "Mask mode")
# The order the WebUI writes its labels in; others follow in the order they came.
_ORDER = ("Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash",
          "Model", "VAE", "Denoising strength", "Clip skip")


@dataclass(frozen=True)
class Infotext:
    """One parsed infotext: prompts and every ``Key: value`` pair as text, in order."""

    prompt: str = ""
    negative_prompt: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        """A stage config (``steps``, ``sampler_name``, ``cfg_scale``, ...) with typed values.

        Known labels get their WebUI config key and type (text that does not convert stays
        text); ``Size`` becomes ``width``/``height``; a fused sampler name is split into
        sampler and scheduler; any other label becomes its snake_case with its text.
        """
        config: dict[str, Any] = {"prompt": self.prompt, "negative_prompt": self.negative_prompt}
        for label, text in self.parameters.items():
            config.update(_convert(label, text))
        if "scheduler" not in config and isinstance(config.get("sampler_name"), str):
            config["sampler_name"], scheduler = split_sampler(config["sampler_name"])
            if scheduler is not None:
                config["scheduler"] = scheduler
        return config

    @property
    def stage(self) -> str:
        """``txt2img``, ``img2img`` or ``inpaint``: as SD.Next's ``Operations`` or StableNew's
        ``Stage`` says; else ``img2img`` when a denoising strength is given without a hires
        pass (A1111's txt2img writes one only with hires), ``inpaint`` when a mask is named."""
        said = self.parameters.get("Operations") or self.parameters.get("Stage")
        if said and said.split(";")[0].strip():
            return said.split(";")[0].strip()
        hires = any(label.startswith("Hires ") for label in self.parameters)
        if "Denoising strength" not in self.parameters or hires:
            return "txt2img"
        masked = any(label in self.parameters for label in _MASK_LABELS)
        return "inpaint" if masked else "img2img"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Infotext:
        """The infotext the WebUI would write for a stage config (the inverse of config())."""
        parameters: dict[str, str] = {}
        if "width" in config and "height" in config:
            parameters["Size"] = f"{config['width']}x{config['height']}"
        for key, value in config.items():
            if key in ("prompt", "negative_prompt", "width", "height") or value is None:
                continue
            parameters[_LABELS.get(key, _label(key))] = _text(value)
        ordered = dict(sorted(parameters.items(), key=lambda item: _rank(item[0])))
        return cls(str(config.get("prompt") or ""), str(config.get("negative_prompt") or ""),
                   ordered)


def split_sampler(name: str) -> tuple[str, str | None]:
    """``("DPM++ 2M", "Karras")`` for ``"DPM++ 2M Karras"``; a plain name has no scheduler.
    Only the split: the names stay as written (see ``runlake.records.vocabulary``)."""
    lowered = name.lower()
    for suffix in FUSED_SUFFIXES:
        if lowered.endswith(" " + suffix.lower()):
            return name[: -len(suffix) - 1].rstrip(), scheduler_label(suffix)
    return name, None


def parse_infotext(text: str) -> Infotext:
    """Parse an infotext; text without a parameters line is all prompt."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    parameters: dict[str, str] = {}
    pairs = _pairs(lines[-1])
    if len(pairs) >= _MIN_PARAMS:
        lines.pop()
        parameters = {key: value for key, value in pairs}
    prompt, negative = _split_prompts([line.strip() for line in lines])
    return Infotext(prompt, negative, parameters)


def format_infotext(info: Infotext) -> str:
    """The text the WebUI writes for ``info`` (values quoted where the format needs it)."""
    lines = [info.prompt] if info.prompt else []
    if info.negative_prompt:
        lines.append(f"{NEGATIVE_PREFIX} {info.negative_prompt}")
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in info.parameters.items()))
    return "\n".join(lines)


def _pairs(line: str) -> list[tuple[str, str]]:
    """The ``Key: value`` pairs of a line, as the WebUI's ``re_param`` finds them, plus the
    unquoted JSON values other writers put there (Civitai's ``Civitai resources: [...]``,
    image-saver's ``Hashes: {...}``, once even without the comma after it)."""
    found: list[tuple[str, str]] = []
    position = 0
    while (key := _KEY.search(line, position)) is not None:
        start = key.end()
        end = _json_end(line, start)
        if end is not None:
            value = line[start:end]
            position = end + 1 if line[end:end + 1] == "," else end
        else:
            match = _VALUE.match(line, start)
            assert match is not None  # "[^,]*" matches anywhere
            value, position = _unquote(match.group(1)), max(match.end(), start + 1)
        found.append((key.group(1), value))
    return found


def _json_end(line: str, start: int) -> int | None:
    """Where a JSON array or object starting at ``start`` ends, if it is one and a comma, the
    end of the line or another key follows it."""
    if line[start:start + 1] not in ("[", "{"):
        return None
    try:
        _, end = _JSON.raw_decode(line, start)
    except ValueError:
        return None
    rest = line[end:]
    if not rest.strip() or rest.lstrip().startswith(",") or _NEXT_KEY.match(rest):
        return end + (len(rest) - len(rest.lstrip()) if rest.lstrip().startswith(",") else 0)
    return None


def _split_prompts(lines: list[str]) -> tuple[str, str]:
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if not negative and line.startswith(NEGATIVE_PREFIX):
            negative.append(line[len(NEGATIVE_PREFIX):].strip())
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    return "\n".join(prompt).strip(), "\n".join(negative).strip()


def _convert(label: str, text: str) -> dict[str, Any]:
    if label == "Size" and (size := _SIZE.fullmatch(text)):
        return {"width": int(size.group(1)), "height": int(size.group(2))}
    key, convert = _KNOWN.get(label, (_snake(label), str))
    try:
        return {key: convert(text)}
    except ValueError:  # "Steps: many" stays text; normalization decides what it means
        return {key: text}


def _quote(value: str) -> str:
    # JSON-quote whenever a bare value would not read back the same.
    bare_safe = value and value == value.strip() and not any(c in value for c in ',:\n"')
    return value if bare_safe else json.dumps(value, ensure_ascii=False)


def _unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    try:
        return str(json.loads(value))
    except json.JSONDecodeError:  # a bare value that merely starts and ends with a quote
        return value


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # the WebUI writes "CFG scale: 7" for 7.0
    return str(value)


def _rank(label: str) -> int:
    return _ORDER.index(label) if label in _ORDER else len(_ORDER)


def _snake(label: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_")


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()
