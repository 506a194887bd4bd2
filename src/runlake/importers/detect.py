"""Which tool wrote an image's metadata, and its :class:`Generation`.

The keys decide, never a guess from a value's spelling, in this order: NovelAI (``Software``
= ``NovelAI`` + ``Comment``), Fooocus's JSON scheme (``parameters`` holding its JSON),
InvokeAI (``invokeai_metadata``; v2's ``sd-metadata`` / ``Dream``), a ComfyUI graph
(``prompt``, else ``workflow``, else a graph as JSON in ``parameters``; ComfyUI-Image-Saver's
images carry the graph next to their infotext, and the graph is exact where the infotext is
not), other JSON in ``parameters`` (:mod:`runlake.importers.jsonparams`), the A1111
infotext family (``parameters``), StableNew's own capsule (``stablenew:payload``). Keys
that later writers add (StableNew's ``stablenew_review``, ``Description``, ``Software``)
never decide. A generation with no knob at all (a NovelAI Director-tool image, a graph
whose values are all computed) is no generation metadata.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Mapping
from typing import Any

from runlake.importers import a1111, comfyui, fooocus, invokeai, jsonparams, novelai
from runlake.importers.generation import KNOBS, Generation, knob_pass

# What a StableNew capsule holds next to its payload (stablenew.image-metadata.v2.6).
_CAPSULE = ("job_id", "run_id", "stage", "created_utc", "njr_sha256", "history_ref", "schema")
_CAPSULE_KNOBS = {"model": ("model", "base_model", "sd_model_checkpoint"),
                  "sampler_name": ("sampler_name", "sampler"), "scheduler": ("scheduler",),
                  "steps": ("steps",), "cfg_scale": ("cfg_scale",), "seed": ("seed",),
                  "width": ("width",), "height": ("height",), "clip_skip": ("clip_skip",),
                  "denoising_strength": ("denoising_strength",),
                  "prompt": ("prompt", "positive_prompt"), "negative_prompt": ("negative_prompt",)}


class BadMetadata(Exception):
    """Metadata a tool's key promises but that cannot be read; ``str`` says which and why."""


def read_generation(texts: Mapping[str, str]) -> Generation | None:
    """The generation ``texts`` describe, or None if they hold no generation metadata."""
    found = _generation(texts)
    if found is None or not any(p.config.get(k) is not None for p in found.passes
                                for k in KNOBS):
        return None
    extra = {**found.extra, **_stablenew_extra(texts)}
    if extra == found.extra:
        return found
    return Generation(found.tool, found.passes, found.keys, found.version, extra,
                      found.batch_shared)


def _generation(texts: Mapping[str, str]) -> Generation | None:
    params = _maybe_json(texts.get("parameters"))  # parsed once: three readers look at it
    # In order, the first that matches (a later reader may raise on metadata it owns).
    return (_novelai(texts) or _fooocus(params) or _invokeai(texts)
            or _comfy(texts, params) or _infotext(texts, params) or _capsule(texts))


def _novelai(texts: Mapping[str, str]) -> Generation | None:
    if not novelai.is_novelai(texts):
        return None
    return novelai.from_comment(_object(texts, "Comment"), texts)


def _fooocus(params: Any) -> Generation | None:
    if isinstance(params, dict) and fooocus.is_fooocus_json(params):
        return fooocus.from_json(params)
    return None


def _invokeai(texts: Mapping[str, str]) -> Generation | None:
    if "invokeai_metadata" in texts:
        return invokeai.from_metadata(_object(texts, "invokeai_metadata"))
    if "sd-metadata" in texts:
        return invokeai.from_sd_metadata(_object(texts, "sd-metadata"), texts.get("Dream"))
    if "Dream" in texts:
        return invokeai.from_dream(texts["Dream"])
    return None


def _infotext(texts: Mapping[str, str], params: Any) -> Generation | None:
    parameters = texts.get("parameters")
    if parameters is None or not parameters.strip():
        return None
    if isinstance(params, dict):  # JSON is never an infotext (its prompt would be the JSON)
        return jsonparams.from_json(params)
    return a1111.from_infotext(parameters, texts)


def _comfy(texts: Mapping[str, str], params: Any) -> Generation | None:
    for key in ("prompt", "workflow"):
        text = texts.get(key)
        if text is None or not text.lstrip().startswith("{"):
            continue
        graph = _object(texts, key)
        api = graph if key == "prompt" else comfyui.api_graph(graph)
        found = comfyui.passes(api)
        if found:
            return Generation("comfyui", tuple(found), (key,), extra=_saver(texts),
                              batch_shared=comfyui.is_batch(api))
    return _comfy_in_parameters(params)


def _comfy_in_parameters(data: Any) -> Generation | None:
    """A graph as JSON in ``parameters``: ``{"prompt": <graph>, "workflow": ...}`` (Save
    Image Plus), or the graph itself plus Civitai's ``extra`` / ``extraMetadata`` (Civitai's
    generator); with no sampler in it, Civitai's request is read instead."""
    if not isinstance(data, dict):
        return None
    api = data["prompt"] if isinstance(data.get("prompt"), dict) else data
    if not comfyui.is_graph(api):
        return None
    request = _maybe_json(data.get("extraMetadata"))
    tool = "civitai" if isinstance(request, dict) else "comfyui"
    extra = {"civitai_metadata": request} if isinstance(request, dict) else {}
    found = comfyui.passes(api)
    if not found:
        return jsonparams.from_json(request, tool=tool) if isinstance(request, dict) else None
    return Generation(tool, tuple(found), ("parameters",), extra=extra,
                      batch_shared=comfyui.is_batch(api))


def _saver(texts: Mapping[str, str]) -> dict[str, Any]:
    """Which saver wrote an infotext next to the graph (never decides the knobs)."""
    parameters = texts.get("parameters", "")
    if "sui_image_params" in parameters:
        return {"saver": "swarmui"}
    if "parameters-json" in texts:
        return {"saver": "stability_matrix"}
    if parameters:
        return {"saver": "image_saver" if "Version: ComfyUI" in parameters else "infotext"}
    return {}


def _capsule(texts: Mapping[str, str]) -> Generation | None:
    payload = _payload(texts)
    if payload is None:
        return None
    sources = [payload, *(v for k in ("generation", "config", "txt2img") if isinstance(
        v := payload.get(k), dict))]
    values = {knob: next((s[n] for s in sources for n in names if s.get(n) is not None), None)
              for knob, names in _CAPSULE_KNOBS.items()}
    stage = texts.get("stablenew:stage") or "txt2img"
    key = "stablenew:payload" if "stablenew:payload" in texts else "stablenew:payload_gz_b64"
    return Generation("stablenew", (knob_pass(stage, values, tool="any"),), (key,))


def _payload(texts: Mapping[str, str]) -> dict[str, Any] | None:
    if "stablenew:payload" in texts:
        return _object(texts, "stablenew:payload")
    packed = texts.get("stablenew:payload_gz_b64")
    if packed is None:
        return None
    try:
        data = json.loads(gzip.decompress(base64.b64decode(packed, validate=True)))
    except (ValueError, OSError, EOFError, binascii.Error) as exc:
        raise BadMetadata(f"its 'stablenew:payload_gz_b64' does not unpack ({exc})") from exc
    if not isinstance(data, dict):
        raise BadMetadata("its 'stablenew:payload_gz_b64' is not a JSON object")
    return data


def _stablenew_extra(texts: Mapping[str, str]) -> dict[str, Any]:
    """StableNew's stamp (job, run, stage) and an embedded review, when present."""
    extra: dict[str, Any] = {}
    stamp = {name: texts[f"stablenew:{name}"] for name in _CAPSULE
             if f"stablenew:{name}" in texts}
    if stamp:
        extra["stablenew"] = stamp
    review = _maybe_json(texts.get("stablenew_review"))
    if isinstance(review, dict):
        extra["review"] = review
    return extra


def _object(texts: Mapping[str, str], key: str) -> dict[str, Any]:
    try:
        data = json.loads(texts[key])
    except ValueError as exc:
        raise BadMetadata(f"its {key!r} metadata is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BadMetadata(f"its {key!r} metadata is not a JSON object")
    return data


def _maybe_json(text: str | None) -> Any:
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
