"""ComfyUI's ``prompt`` (API graph) and ``workflow`` (UI graph) -> one pass per sampler node.

The API graph is what ran: ``{"<id>": {"class_type", "inputs"}}``, a linked input being
``["<source id>", <output slot>]``. From every sampler node (KSampler, KSamplerAdvanced,
SamplerCustom, SamplerCustomAdvanced, and custom nodes with the same inputs) the links are
followed to the checkpoint or UNet loader (through LoRA loaders and model patches, collecting
the LoRAs), the positive and negative text encoders, the latent (an empty latent's size =
txt2img, an encoded image = img2img, another sampler's output = a hires or refine pass),
and, for the custom samplers, the sampler, sigmas, guider and noise nodes. A graph with two
samplers is two passes, in the order they run.

The UI graph (``workflow``) is read only when the API graph is missing: it is turned into
the same shape (links resolved through Reroute nodes, positional ``widgets_values`` named by
the table of the nodes whose widget order is known).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from runlake.importers.generation import Pass, knob_pass
from runlake.records.vocabulary import (
    COMFY_SAMPLER_NODES,
    COMFY_SIGMAS_NODES,
    scheduler_label,
)

Graph = dict[str, dict[str, Any]]

SAMPLER_NODES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
_MAX_HOPS = 50  # graphs are small; a cycle (a bad edit) must not trap the walk
_TEXT_INPUTS = ("text", "text_g", "t5xxl", "clip_l", "text_l", "prompt", "string", "value")
_CONDITIONING_INPUTS = ("conditioning", "conditioning_1", "conditioning_to", "conditioning_2",
                        "conditioning_from", "positive", "cond", "base_cond")
_LATENT_INPUTS = ("samples", "latent", "latent_image", "samples_to", "samples1", "source")
_PIXEL_INPUTS = ("pixels", "image", "images")  # an encoded image, back to where it came from
_UPSCALE_HINT = "upscale"
_SCALE_HINT = "scale"  # ImageScale, ImageScaleBy: an upscale when between decode and encode
_DIMENSIONS = re.compile(r"^\s*(\d+)\s*[x\u00d7]\s*(\d+)")  # rgthree "1024 x 1024  (square)"
_SWITCH = "ComfySwitchNode"  # core ComfyUI: "switch" picks "on_true" or "on_false"
_IMAGE_NODES = ("LoadImage", "VAEEncode", "VAEEncodeTiled", "VAEEncodeForInpaint")

# UI graph: the widget names of known nodes, in widgets_values order ("control_after_generate"
# follows every seed widget). Sources: ComfyUI nodes.py, comfy_extras/nodes_custom_sampler.py,
# nodes_flux.py (as read in formats.md).
WIDGETS: dict[str, tuple[str, ...]] = {
    "KSampler": ("seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler",
                 "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed", "control_after_generate", "steps", "cfg",
                         "sampler_name", "scheduler", "start_at_step", "end_at_step",
                         "return_with_leftover_noise"),
    "SamplerCustom": ("add_noise", "noise_seed", "control_after_generate", "cfg"),
    "RandomNoise": ("noise_seed", "control_after_generate"),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KarrasScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "ExponentialScheduler": ("steps", "sigma_max", "sigma_min"),
    "PolyexponentialScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "CFGGuider": ("cfg",),
    "DualCFGGuider": ("cfg_conds", "cfg_cond2_negative", "style"),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": ("width", "height", "crop_w", "crop_h", "target_width",
                           "target_height", "text_g", "text_l"),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "FluxGuidance": ("guidance",),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    "LatentUpscale": ("upscale_method", "width", "height", "crop"),
    "LatentUpscaleBy": ("upscale_method", "scale_by"),
}


def passes(prompt: Mapping[str, Any]) -> list[Pass]:
    """The passes of an API graph, in the order they run (empty if it holds no sampler).
    When the graph saves images, only the samplers upstream of a save node count: a branch
    that only previews did not make the saved image."""
    graph = _graph(prompt)
    samplers = [node_id for node_id, node in graph.items() if _is_sampler(node)]
    saved = _upstream(graph, [n for n, node in graph.items() if _is_save(node)])
    if saved:
        samplers = [s for s in samplers if s in saved]
    ordered = sorted(samplers, key=lambda s: (_depth(graph, s, set(samplers)), _sort_key(s)))
    stages: list[str] = []
    found = []
    for node_id in ordered:
        reader = _Sampler(graph, node_id)
        stage = _unique(reader.stage(), stages)
        stages.append(stage)
        found.append(knob_pass(stage, reader.knobs(), tool="comfyui", extras=reader.extras()))
    return found


def is_graph(data: Mapping[str, Any]) -> bool:
    """True if ``data`` is an API graph (some value is a node with a class and inputs)."""
    return bool(_graph(data))


def is_batch(prompt: Mapping[str, Any]) -> bool:
    """True if the graph makes more than one image per run (its images share this graph)."""
    graph = _graph(prompt)
    return any(_number(node["inputs"].get(name), 1) > 1 for node in graph.values()
               for name in ("batch_size", "amount"))


def api_graph(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """A UI graph (``workflow``) as an API graph: links resolved, widgets named."""
    nodes = [n for n in workflow.get("nodes") or [] if isinstance(n, dict)]
    by_id = {n.get("id"): n for n in nodes}
    links = {row[0]: row for row in workflow.get("links") or []
             if isinstance(row, list) and len(row) >= 5}
    graph: dict[str, Any] = {}
    for node in nodes:
        kind = node.get("type")
        if not isinstance(kind, str) or kind in ("Reroute", "Note", "PrimitiveNode") \
                or node.get("mode") in (2, 4):
            continue
        inputs = _named_widgets(kind, node.get("widgets_values"))
        for slot in node.get("inputs") or []:
            source = _origin(slot.get("link"), links, by_id) if isinstance(slot, dict) else None
            if source is not None:
                inputs[str(slot.get("name"))] = [str(source[0]), source[1]]
        graph[str(node.get("id"))] = {"class_type": kind, "inputs": inputs}
    return graph


# -- one sampler node -----------------------------------------------------------------------


class _Sampler:
    """Reads one sampler node's pass by following its links."""

    def __init__(self, graph: Graph, node_id: str) -> None:
        self.graph = graph
        self.node = graph[node_id]
        self.inputs: dict[str, Any] = self.node["inputs"]
        self.kind: str = self.node["class_type"]
        guider = self._linked("guider")
        self.guider = guider["inputs"] if guider else {}
        sigmas = self._through(self._linked("sigmas"), ("sigmas",), _is_sigmas)
        self.sigmas_kind: str = sigmas["class_type"] if sigmas else ""
        self.sigmas: dict[str, Any] = sigmas["inputs"] if sigmas else {}

    def knobs(self) -> dict[str, Any]:
        """The pass's knobs under canonical names, as the graph holds them."""
        positive = self._text(self._input("positive") or self._input("conditioning"))
        width, height = self._size()
        sampler, scheduler = self._sampler_and_scheduler()
        return {
            "model": self._checkpoint[0], "sampler_name": sampler, "scheduler": scheduler,
            "steps": self._steps(), "cfg_scale": self._cfg(), "seed": self._seed(),
            "width": width, "height": height, "denoising_strength": self._denoise(),
            "clip_skip": self._clip_skip(), "prompt": positive,
            "negative_prompt": self._text(self._input("negative")),
        }

    def extras(self) -> dict[str, Any]:
        """The node's class, its LoRAs, Flux guidance, an advanced sampler's step range."""
        extras: dict[str, Any] = {"node": self.kind, "loras": self._checkpoint[1] or None,
                                  "guidance": self._guidance()}
        for name in ("start_at_step", "end_at_step", "add_noise"):
            if _scalar(self.inputs.get(name)):
                extras[name] = self.inputs[name]
        return extras

    def stage(self) -> str:
        """txt2img from an empty latent, img2img or inpaint from an encoded image, hires or
        refine from another sampler's latent (hires when it was upscaled on the way)."""
        kind, upscaled, masked = self._latent_source()
        if kind == "sampler":
            return "hires" if upscaled else "refine"
        if kind == "image":
            return "inpaint" if masked else "img2img"
        return "txt2img"

    # -- inputs ---------------------------------------------------------------------------

    def _input(self, name: str) -> Any:
        if name in self.inputs:
            return self.inputs[name]
        return self.guider.get(name)

    def _linked(self, name: str) -> dict[str, Any] | None:
        return _source(self.graph, self.inputs.get(name))

    def _value(self, raw: Any) -> Any:
        return _literal(self.graph, raw)

    def _sampler_and_scheduler(self) -> tuple[Any, Any]:
        sampler = self._value(self.inputs.get("sampler_name"))
        if sampler is None:
            node = self._linked("sampler")
            if node is not None:
                sampler = self._value(node["inputs"].get("sampler_name")) or \
                    COMFY_SAMPLER_NODES.get(node["class_type"])
        scheduler = self._value(self.inputs.get("scheduler"))
        if scheduler is None and self.sigmas_kind:
            scheduler = self._value(self.sigmas.get("scheduler")) or COMFY_SIGMAS_NODES.get(
                self.sigmas_kind)
        if isinstance(scheduler, str) and sampler is None:
            scheduler = scheduler_label(scheduler, tool="comfyui")
        return sampler, scheduler

    def _steps(self) -> Any:
        return self._value(self.inputs.get("steps", self.sigmas.get("steps")))

    def _cfg(self) -> Any:
        cfg = self._value(self.inputs.get("cfg", self.guider.get("cfg", self.guider.get(
            "cfg_conds"))))
        if cfg is None and self.guider and "conditioning" in self.guider:
            return 1.0  # BasicGuider: no classifier-free guidance
        return cfg

    def _seed(self) -> Any:
        seed = self._value(self.inputs.get("seed", self.inputs.get("noise_seed")))
        if seed is None:
            noise = self._linked("noise")
            if noise is not None:
                seed = self._value(noise["inputs"].get("noise_seed"))
        return seed

    def _denoise(self) -> Any:
        return self._value(self.inputs.get("denoise", self.sigmas.get("denoise")))

    def _clip_skip(self) -> Any:
        """CLIPSetLastLayer on the positive prompt's text encoder's CLIP: its
        ``stop_at_clip_layer`` -2 is A1111's clip skip 2."""
        conditioning = self._input("positive") or self._input("conditioning")
        encoder = self._through(_source(self.graph, conditioning), _CONDITIONING_INPUTS,
                                lambda n: "clip" in n["inputs"])
        node = self._through(_source(self.graph, encoder["inputs"]["clip"]) if encoder
                             else None, ("clip",), lambda n: "stop_at_clip_layer" in n["inputs"])
        layer = self._value(node["inputs"]["stop_at_clip_layer"]) if node else None
        return -layer if isinstance(layer, int) and layer < 0 else None

    def _guidance(self) -> Any:
        conditioning = self._input("positive") or self._input("conditioning")
        node = self._through(_source(self.graph, conditioning), _CONDITIONING_INPUTS,
                             lambda n: "guidance" in n["inputs"])
        return self._value(node["inputs"]["guidance"]) if node else None

    # -- walks ----------------------------------------------------------------------------

    @functools.cached_property
    def _checkpoint(self) -> tuple[Any, list[dict[str, Any]]]:
        loras: list[dict[str, Any]] = []
        node = _source(self.graph, self._input("model"))
        if node is None and self.sigmas_kind:
            node = _source(self.graph, self.sigmas.get("model"))
        for _ in range(_MAX_HOPS):
            if node is None:
                return None, loras
            inputs = node["inputs"]
            for name in ("ckpt_name", "unet_name", "model_name"):
                if _scalar(inputs.get(name)):
                    return inputs[name], loras
            if _scalar(inputs.get("lora_name")):
                loras.append({"name": inputs["lora_name"],
                              "weight": self._value(inputs.get("strength_model"))})
            node = _source(self.graph, inputs.get("model"))
        return None, loras

    def _text(self, conditioning: Any) -> Any:
        node = self._through(_source(self.graph, conditioning), _CONDITIONING_INPUTS,
                             lambda n: any(name in n["inputs"] for name in _TEXT_INPUTS))
        if node is None:
            return None
        for name in _TEXT_INPUTS:
            if name in node["inputs"]:
                value = self._value(node["inputs"][name])
                if isinstance(value, str):
                    return value
        return None

    def _size(self) -> tuple[Any, Any]:
        """The latent's size in pixels: an empty latent's, scaled by the latent upscales on
        the way (a hires pass runs larger than the pass before it)."""
        node = self._linked("latent_image")
        scale = 1.0
        for _ in range(_MAX_HOPS):
            if node is None or "upscale_model" in node["inputs"]:
                return None, None  # an upscale model's factor is not in the graph
            inputs = node["inputs"]
            width, height = _size_of(self._value(inputs.get("width")),
                                     self._value(inputs.get("height")),
                                     self._value(inputs.get("dimensions")))
            if width is not None and height is not None:
                return _scaled(width, scale), _scaled(height, scale)
            factor = self._value(inputs.get("scale_by"))
            if isinstance(factor, (int, float)):
                scale *= factor
            node = _upstream_latent(self.graph, inputs)
        return None, None

    def _latent_source(self) -> tuple[str, bool, bool]:
        """Where the latent comes from: ``sampler`` (also through a decode, pixel-space
        upscaling and an encode: a hires fix in pixel space), ``image`` (an encoded image
        that no sampler made) or ``empty``; whether it was upscaled; whether masked."""
        node = self._linked("latent_image")
        upscaled = masked = encoded = False
        for _ in range(_MAX_HOPS):
            if node is None:
                break
            kind, inputs = node["class_type"], node["inputs"]
            masked = masked or "mask" in inputs or "Inpaint" in kind
            if _is_sampler(node):
                return "sampler", upscaled, masked
            if kind.startswith("Empty"):
                break
            encoded = encoded or kind in _IMAGE_NODES or "pixels" in inputs
            upscaled = upscaled or _UPSCALE_HINT in kind.lower() or (
                encoded and _SCALE_HINT in kind.lower())
            node = _upstream_latent(self.graph, inputs)
        return ("image" if encoded else "empty"), upscaled, masked

    def _through(self, node: dict[str, Any] | None, names: tuple[str, ...],
                 done: Any) -> dict[str, Any] | None:
        """From ``node``, follow the first linked input among ``names`` until ``done(node)``."""
        for _ in range(_MAX_HOPS):
            if node is None or done(node):
                return node
            node = next((n for name in names if (n := _source(
                self.graph, node["inputs"].get(name))) is not None), None)
        return None


# -- graph helpers --------------------------------------------------------------------------


def _graph(prompt: Mapping[str, Any]) -> Graph:
    return {str(k): {"class_type": v["class_type"], "inputs": v.get("inputs") or {}}
            for k, v in prompt.items()
            if isinstance(v, dict) and isinstance(v.get("class_type"), str)
            and isinstance(v.get("inputs", {}), dict)}


def _is_sampler(node: Mapping[str, Any]) -> bool:
    if node["class_type"] in SAMPLER_NODES:
        return True
    inputs = node["inputs"]
    return "sampler_name" in inputs and "steps" in inputs and (
        "seed" in inputs or "noise_seed" in inputs)


def _is_save(node: Mapping[str, Any]) -> bool:
    """A node that writes the image to the output folder (SaveImage, Image Save, Save Image
    Extended / Plus / With Metadata, SaveAnimatedWEBP, ...), not a preview."""
    kind = node["class_type"].lower()
    return "save" in kind and "preview" not in kind


def _upstream(graph: Graph, starts: list[str]) -> set[str]:
    """Every node ``starts`` depend on through links (themselves included)."""
    seen = set(starts)
    stack = list(starts)
    while stack:
        for value in graph[stack.pop()]["inputs"].values():
            if _source(graph, value) is not None and str(value[0]) not in seen:
                seen.add(str(value[0]))
                stack.append(str(value[0]))
    return seen


def _upstream_latent(graph: Graph, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The node a latent (or, past an encode, an image) comes from."""
    return next((n for name in _LATENT_INPUTS + _PIXEL_INPUTS
                 if (n := _source(graph, inputs.get(name))) is not None), None)


def _size_of(width: Any, height: Any, dimensions: Any) -> tuple[int | None, int | None]:
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    found = _DIMENSIONS.match(dimensions) if isinstance(dimensions, str) else None
    return (int(found.group(1)), int(found.group(2))) if found else (None, None)


def _is_sigmas(node: Mapping[str, Any]) -> bool:
    return "steps" in node["inputs"] or node["class_type"] in COMFY_SIGMAS_NODES


def _source(graph: Graph, value: Any) -> dict[str, Any] | None:
    """The node a linked input comes from (through switch nodes, to the branch taken)."""
    for _ in range(_MAX_HOPS):
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)):
            return None
        node = graph.get(str(value[0]))
        if node is None or node["class_type"] != _SWITCH:
            return node
        value = node["inputs"].get("on_true" if _flag(graph, node["inputs"].get("switch"))
                                   else "on_false")
    return None


def _flag(graph: Graph, value: Any) -> bool:
    """A boolean widget, or the boolean of the primitive node it is linked to."""
    if isinstance(value, list) and len(value) == 2:
        node = graph.get(str(value[0]))
        value = node["inputs"].get("value") if node is not None else None
    return value is True


def _literal(graph: Graph, value: Any) -> Any:
    """A widget's value; a link to a primitive-like node gives that node's single value."""
    for _ in range(_MAX_HOPS):
        node = _source(graph, value)
        if node is None:
            return value if _scalar(value) else None
        scalars = [v for v in node["inputs"].values() if _scalar(v) or _source(graph, v)]
        if len(scalars) != 1:
            return None
        value = scalars[0]
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(
        value, bool) else default


def _scaled(pixels: int, scale: float) -> int:
    """ComfyUI scales the latent (1/8 of the pixels) and rounds: LatentUpscaleBy."""
    return pixels if scale == 1 else round(pixels / 8 * scale) * 8


def _depth(graph: Graph, node_id: str, samplers: set[str]) -> int:
    """How many samplers run before this one (along its latent input)."""
    seen = {node_id}
    frontier = [node_id]
    depth = 0
    for _ in range(_MAX_HOPS):
        upstream = []
        for current in frontier:
            for value in graph[current]["inputs"].values():
                source = value[0] if _source(graph, value) is not None else None
                if source is not None and str(source) not in seen:
                    seen.add(str(source))
                    upstream.append(str(source))
        depth += sum(1 for s in upstream if s in samplers)
        if not upstream:
            break
        frontier = upstream
    return depth


def _sort_key(node_id: str) -> tuple[int, str]:
    return (int(node_id), node_id) if node_id.isdigit() else (1 << 62, node_id)


def _unique(stage: str, taken: list[str]) -> str:
    if stage not in taken:
        return stage
    return f"{stage}_{sum(1 for t in taken if t == stage or t.startswith(stage + '_')) + 1}"


def _named_widgets(kind: str, values: Any) -> dict[str, Any]:
    names = WIDGETS.get(kind)
    if not names or not isinstance(values, list):
        return {}
    return {name: value for name, value in zip(names, values, strict=False)
            if name != "control_after_generate"}


def _origin(link: Any, links: Mapping[Any, list[Any]],
            nodes: Mapping[Any, Mapping[str, Any]]) -> tuple[Any, int] | None:
    """Where a UI link comes from, through Reroute nodes and bypassed nodes (mode 4: their
    input of the link's type passes through)."""
    for _ in range(_MAX_HOPS):
        row = links.get(link)
        if row is None:
            return None
        origin = nodes.get(row[1])
        if origin is None or (origin.get("type") != "Reroute" and origin.get("mode") != 4):
            return row[1], int(row[2]) if isinstance(row[2], int) else 0
        kind = row[5] if len(row) > 5 else None
        inputs = [i for i in origin.get("inputs") or [] if isinstance(i, dict)]
        through = next((i for i in inputs if i.get("type") == kind), inputs[0] if inputs
                       else {})
        link = through.get("link")
    return None
