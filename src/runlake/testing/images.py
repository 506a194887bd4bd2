"""Small, real-format test images for every metadata format runlake reads.

Each writer reproduces how the tool itself embeds its metadata (sources in
``docs/importers.md``): which chunk key, tEXt vs iTXt, JSON separators, EXIF byte layout;
and what StableNew does to an image when it embeds a review (a re-encode). Used by the
importer tests and ``bench/import_images.py``; nothing in the library imports it. Pixels are a tiny
gradient unless ``size``/``noise`` ask for more (``noise=True`` makes incompressible pixels,
used for the ~3 MB 1024x1024 benchmark PNGs).

Only stdlib + Pillow. EXIF for A1111/SD.Next/image-saver JPEG/WebP is built byte-for-byte
like ``piexif.dump`` (big-endian TIFF, IFD0 holding only the Exif-IFD pointer, Exif IFD
holding UserComment = b"UNICODE\\0" + UTF-16-BE text); Fooocus's EXIF is Pillow's own
``Image.Exif`` with the text in IFD0 (that is what Fooocus does).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

# --------------------------------------------------------------------------- pixels


def pixels(size: tuple[int, int] = (64, 48), *, noise: bool = False, seed: int = 0,
           mode: str = "RGB") -> Image.Image:
    """A test image: a gradient, or (noise=True) random bytes that PNG cannot compress."""
    width, height = size
    if noise:
        raw = _random_bytes(width * height * len(mode), seed)
        return Image.frombytes(mode, size, raw)
    image = Image.new(mode, size)
    alpha = (255,) if mode == "RGBA" else ()
    image.putdata([((x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1),
                    (x + y + seed) % 256, *alpha)
                   for y in range(height) for x in range(width)])
    return image


def _random_bytes(count: int, seed: int) -> bytes:
    # os.urandom is not reproducible; a counter-mode SHA-256 stream is, and is fast enough.
    out = bytearray()
    block = 0
    prefix = seed.to_bytes(8, "little")
    while len(out) < count:
        out += hashlib.sha256(prefix + block.to_bytes(8, "little")).digest()
        block += 1
    return bytes(out[:count])


# --------------------------------------------------------------------------- PNG text


def png_bytes(image: Image.Image, chunks: Sequence[tuple[str, str, str]], *,
              compress_level: int = 6) -> bytes:
    """A PNG with text chunks ``(kind, key, value)``; kind is ``text`` (Pillow's add_text:
    tEXt, or iTXt when the value is not latin-1, which is what every tool here calls),
    ``itxt`` (forced iTXt), ``ztxt`` (compressed tEXt) or ``itxt_zip``."""
    info = PngImagePlugin.PngInfo()
    for kind, key, value in chunks:
        if kind == "text":
            info.add_text(key, value)
        elif kind == "itxt":
            info.add_itxt(key, value)
        elif kind == "ztxt":
            info.add_text(key, value, zip=True)
        elif kind == "itxt_zip":
            info.add_itxt(key, value, zip=True)
        else:
            raise ValueError(f"unknown chunk kind {kind!r}")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, compress_level=compress_level)
    return buffer.getvalue()


def write(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


# --------------------------------------------------------------------------- EXIF


UNICODE_PREFIX = b"UNICODE\x00"  # EXIF 2.3 Table 9 character code; piexif's UserComment.dump
_EXIF_IFD_POINTER = 0x8769
_USER_COMMENT = 0x9286


def a1111_exif(text: str) -> bytes:
    """EXIF exactly as A1111/Forge/SD.Next write it:
    ``piexif.dump({"Exif": {UserComment: UserComment.dump(text, encoding="unicode")}})``.

    Layout: b"Exif\\0\\0" + "MM" TIFF header, IFD0 = one entry (ExifIFD pointer) + next-IFD 0,
    Exif IFD = one entry (UserComment, type 7 UNDEFINED) and, as piexif does, no next-IFD
    field; the value (b"UNICODE\\0" + UTF-16-BE) follows directly.
    """
    value = UNICODE_PREFIX + text.encode("utf-16-be", errors="replace")
    ifd0_size = 2 + 12 + 4
    exif_ifd_offset = 8 + ifd0_size
    exif_ifd_size = 2 + 12  # piexif writes no next-IFD offset after the Exif IFD's entries
    value_offset = exif_ifd_offset + exif_ifd_size
    tiff = bytearray(b"MM\x00\x2a" + struct.pack(">I", 8))
    tiff += struct.pack(">H", 1) + struct.pack(">HHII", _EXIF_IFD_POINTER, 4, 1, exif_ifd_offset)
    tiff += struct.pack(">I", 0)
    if len(value) <= 4:  # tiny values live in the entry itself (never the case for infotext)
        tiff += struct.pack(">H", 1) + struct.pack(">HHI", _USER_COMMENT, 7, len(value))
        tiff += value.ljust(4, b"\x00")
    else:
        tiff += struct.pack(">H", 1) + struct.pack(">HHII", _USER_COMMENT, 7, len(value),
                                                   value_offset)
        tiff += value
    return b"Exif\x00\x00" + bytes(tiff)


def a1111_jpeg(text: str, *, image: Image.Image | None = None, quality: int = 80) -> bytes:
    """A JPEG as A1111 saves it (save, then piexif.insert of the EXIF above as APP1)."""
    buffer = io.BytesIO()
    (image or pixels()).convert("RGB").save(buffer, "JPEG", quality=quality, exif=a1111_exif(text))
    return buffer.getvalue()


def a1111_webp(text: str, *, image: Image.Image | None = None, lossless: bool = False) -> bytes:
    """A WebP with the same EXIF (RIFF ``EXIF`` chunk; Pillow drops the b"Exif\\0\\0" prefix,
    as piexif's WebP insert does)."""
    buffer = io.BytesIO()
    (image or pixels()).convert("RGB").save(buffer, "WEBP", quality=80, lossless=lossless,
                                            exif=a1111_exif(text))
    return buffer.getvalue()


# --------------------------------------------------------------------------- A1111 family


def a1111_quote(value: object) -> str:
    """infotext_utils.quote: JSON-quote only when the value holds ',', '\\n' or ':'."""
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def infotext(prompt: str, negative: str, params: Sequence[tuple[str, object]]) -> str:
    """processing.create_infotext's layout: prompt, optional ``Negative prompt:`` line, then
    ``k: quote(v)`` joined by ", " (a pair whose key equals its value is written bare)."""
    line = ", ".join(k if k == v else f"{k}: {a1111_quote(v)}" for k, v in params if v is not None)
    negative_text = f"\nNegative prompt: {negative}" if negative else ""
    return f"{prompt}{negative_text}\n{line}".strip()


A1111_TXT2IMG_HIRES = infotext(
    "masterpiece, best quality, a red fox in the snow, <lora:detail_tweaker:0.8>",
    "lowres, bad anatomy, watermark",
    [("Steps", 28), ("Sampler", "DPM++ 2M"), ("Schedule type", "Karras"), ("CFG scale", 6.5),
     ("Seed", 3141592653), ("Size", "832x1216"), ("Model hash", "1a2b3c4d5e"),
     ("Model", "juggernautXL_v9"), ("Denoising strength", 0.35), ("Clip skip", 2),
     ("Hires upscale", 1.5), ("Hires steps", 12), ("Hires upscaler", "4x-UltraSharp"),
     ("Lora hashes", "detail_tweaker: 0a1b2c3d4e5f, add_more: 9f8e7d6c5b4a"),
     ("TI hashes", "easynegative: c74b4e810b03"), ("Emphasis", "Original"),
     ("Version", "v1.10.1")])

A1111_IMG2IMG = infotext(
    "portrait of an old sailor, oil painting", "blurry",
    [("Steps", 30), ("Sampler", "Euler a"), ("Schedule type", "Automatic"), ("CFG scale", 7),
     ("Seed", 42), ("Size", "512x768"), ("Model hash", "6ce0161689"),
     ("Model", "v1-5-pruned-emaonly"), ("Denoising strength", 0.55), ("Mask blur", 4),
     ("Version", "v1.9.4")])

A1111_LEGACY_FUSED = infotext(
    "a lighthouse at dusk,\ndramatic clouds, volumetric light", "",
    [("Steps", 20), ("Sampler", "DPM++ 2M Karras"), ("CFG scale", 7), ("Seed", 42),
     ("Size", "512x768"), ("Model hash", "6ce0161689"), ("Model", "v1-5-pruned-emaonly"),
     ("Version", "v1.6.0")])

FORGE_FLUX = infotext(
    "a cat astronaut, ☄ unicode prompt", "",
    [("Steps", 20), ("Sampler", "Euler"), ("Schedule type", "Simple"), ("CFG scale", 1),
     ("Distilled CFG Scale", 3.5), ("Seed", 7), ("Size", "896x1152"),
     ("Model hash", "bea01d51bd"), ("Model", "flux1-dev-bnb-nf4-v2"),
     ("Version", "f2.0.1v1.10.1-previous-519-g44eb4ea8"), ("Module 1", "ae")])

# SD.Next (processing_info.create_infotext): no "Schedule type"; the sigma family is
# "Sampler sigma"; "Negative prompt:" line always written; App/Pipeline/Operations keys.
SDNEXT_TXT2IMG = ("a misty forest, volumetric light\nNegative prompt: \n"
                  "Steps: 20, Size: 1024x1024, Sampler: DPM++ 2M, Seed: 1234, CFG scale: 6, "
                  "Model: sd_xl_base_1.0, Model hash: 31e35c80fc, App: SD.Next, "
                  "Version: 5b1c2f4, Pipeline: StableDiffusionXLPipeline, Operations: txt2img, "
                  "Sampler sigma: karras, Sampler spacing: trailing")

# Civitai on-site generator: no Model/Model hash; checkpoint in unquoted JSON.
CIVITAI = ("a knight in ornate armor\nNegative prompt: lowres\n"
           "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 2027225909, Size: 832x1216, "
           "Clip skip: 2, Created Date: 2026-02-25T22:09:08.8166925Z, Civitai resources: "
           '[{"type":"checkpoint","modelVersionId":290640,"modelName":"Pony Diffusion V6 XL",'
           '"modelVersionName":"V6 (start with this one)"},{"type":"lora","weight":0.8,'
           '"modelVersionId":62833,"modelName":"Detail Tweaker LoRA","modelVersionName":"v1.0"}], '
           'Civitai metadata: {"workflow":"txt2img"}')


def a1111_png(text: str, *, image: Image.Image | None = None, force_itxt: bool = False,
              extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """images.save_image_with_geninfo: PngInfo.add_text("parameters", geninfo) (tEXt; iTXt
    automatically when the text is not latin-1), plus any existing pnginfo entries."""
    kind = "itxt" if force_itxt else "text"
    return png_bytes(image or pixels(), [(kind, "parameters", text)]
                     + [("text", k, v) for k, v in extra])


# --------------------------------------------------------------------------- ComfyUI


class ComfyGraph:
    """Builds the API ``prompt`` graph and the UI ``workflow`` graph side by side.

    ``node(id, class_type, widgets, inputs, outputs)``: ``widgets`` is an ordered list of
    (name, value) as the UI stores them in ``widgets_values`` (a seed widget is followed by
    its control_after_generate value, which the API graph does not have); ``inputs`` maps
    input name -> (source node id, output slot); ``outputs`` lists output types.
    """

    def __init__(self) -> None:
        self.prompt: dict[str, dict[str, Any]] = {}
        self.nodes: list[dict[str, Any]] = []
        self.links: list[list[Any]] = []
        self._out_types: dict[int, list[str]] = {}
        self._node_by_id: dict[int, dict[str, Any]] = {}

    def node(self, node_id: int, class_type: str, widgets: Sequence[tuple[str, Any]] = (),
             inputs: Mapping[str, tuple[int, int]] | None = None,
             outputs: Sequence[str] = (), *, title: str | None = None) -> int:
        api_inputs: dict[str, Any] = {k: v for k, v in widgets if k != "control_after_generate"}
        ui_inputs = []
        for slot, (name, (src, src_slot)) in enumerate((inputs or {}).items()):
            link_id = len(self.links) + 1
            link_type = self._out_types[src][src_slot]
            self.links.append([link_id, src, src_slot, node_id, slot, link_type])
            self._node_by_id[src]["outputs"][src_slot]["links"].append(link_id)
            ui_inputs.append({"name": name, "type": link_type, "link": link_id})
            api_inputs[name] = [str(src), src_slot]
        self.prompt[str(node_id)] = {"inputs": api_inputs, "class_type": class_type,
                                     "_meta": {"title": title or class_type}}
        ui_node = {
            "id": node_id, "type": class_type, "pos": [100 * node_id, 100], "size": [315, 100],
            "flags": {}, "order": len(self.nodes), "mode": 0, "inputs": ui_inputs,
            "outputs": [{"name": t, "type": t, "links": [], "slot_index": i}
                        for i, t in enumerate(outputs)],
            "properties": {"Node name for S&R": class_type},
            "widgets_values": [v for _, v in widgets],
        }
        if title:
            ui_node["title"] = title
        self.nodes.append(ui_node)
        self._node_by_id[node_id] = ui_node
        self._out_types[node_id] = list(outputs)
        return node_id

    def workflow(self) -> dict[str, Any]:
        return {"last_node_id": max(n["id"] for n in self.nodes),
                "last_link_id": len(self.links), "nodes": self.nodes, "links": self.links,
                "groups": [], "config": {}, "extra": {"ds": {"scale": 1, "offset": [0, 0]}},
                "version": 0.4}


def comfy_two_pass() -> tuple[dict[str, Any], dict[str, Any]]:
    """SDXL checkpoint + LoRA, KSampler pass 1, latent upscale, KSampler pass 2 (denoise 0.5)."""
    g = ComfyGraph()
    g.node(4, "CheckpointLoaderSimple", [("ckpt_name", "SDXL/juggernautXL_v9.safetensors")],
           outputs=["MODEL", "CLIP", "VAE"], title="Load Checkpoint")
    g.node(10, "LoraLoader", [("lora_name", "detail_tweaker.safetensors"),
                              ("strength_model", 0.8), ("strength_clip", 0.8)],
           {"model": (4, 0), "clip": (4, 1)}, ["MODEL", "CLIP"])
    g.node(6, "CLIPTextEncode", [("text", "a red fox in the snow, masterpiece")],
           {"clip": (10, 1)}, ["CONDITIONING"], title="CLIP Text Encode (Prompt)")
    g.node(7, "CLIPTextEncode", [("text", "lowres, watermark")], {"clip": (10, 1)},
           ["CONDITIONING"], title="CLIP Text Encode (Negative)")
    g.node(5, "EmptyLatentImage", [("width", 832), ("height", 1216), ("batch_size", 1)],
           outputs=["LATENT"])
    g.node(3, "KSampler", [("seed", 156680208700286), ("control_after_generate", "randomize"),
                           ("steps", 28), ("cfg", 6.5), ("sampler_name", "dpmpp_2m_sde_gpu"),
                           ("scheduler", "karras"), ("denoise", 1.0)],
           {"model": (10, 0), "positive": (6, 0), "negative": (7, 0), "latent_image": (5, 0)},
           ["LATENT"])
    g.node(11, "LatentUpscaleBy", [("upscale_method", "nearest-exact"), ("scale_by", 1.5)],
           {"samples": (3, 0)}, ["LATENT"])
    g.node(12, "KSampler", [("seed", 42), ("control_after_generate", "fixed"), ("steps", 12),
                            ("cfg", 5.0), ("sampler_name", "euler_ancestral"),
                            ("scheduler", "normal"), ("denoise", 0.5)],
           {"model": (10, 0), "positive": (6, 0), "negative": (7, 0), "latent_image": (11, 0)},
           ["LATENT"])
    g.node(8, "VAEDecode", inputs={"samples": (12, 0), "vae": (4, 2)}, outputs=["IMAGE"])
    g.node(9, "SaveImage", [("filename_prefix", "ComfyUI")], {"images": (8, 0)})
    return g.prompt, g.workflow()


def comfy_custom_advanced() -> tuple[dict[str, Any], dict[str, Any]]:
    """Flux-style SamplerCustomAdvanced: UNETLoader, DualCLIPLoader, FluxGuidance,
    BasicGuider, KSamplerSelect, BasicScheduler, RandomNoise, EmptySD3LatentImage."""
    g = ComfyGraph()
    g.node(12, "UNETLoader", [("unet_name", "flux1-dev.sft"), ("weight_dtype", "fp8_e4m3fn")],
           outputs=["MODEL"])
    g.node(11, "DualCLIPLoader", [("clip_name1", "t5xxl_fp16.safetensors"),
                                  ("clip_name2", "clip_l.safetensors"), ("type", "flux")],
           outputs=["CLIP"])
    g.node(10, "VAELoader", [("vae_name", "ae.safetensors")], outputs=["VAE"])
    g.node(6, "CLIPTextEncode", [("text", "a cat astronaut, ☄")], {"clip": (11, 0)},
           ["CONDITIONING"])
    g.node(26, "FluxGuidance", [("guidance", 3.5)], {"conditioning": (6, 0)}, ["CONDITIONING"])
    g.node(22, "BasicGuider", inputs={"model": (12, 0), "conditioning": (26, 0)},
           outputs=["GUIDER"])
    g.node(16, "KSamplerSelect", [("sampler_name", "euler")], outputs=["SAMPLER"])
    g.node(17, "BasicScheduler", [("scheduler", "simple"), ("steps", 20), ("denoise", 1.0)],
           {"model": (12, 0)}, ["SIGMAS"])
    g.node(25, "RandomNoise", [("noise_seed", 219670278747233),
                               ("control_after_generate", "randomize")], outputs=["NOISE"])
    g.node(27, "EmptySD3LatentImage", [("width", 896), ("height", 1152), ("batch_size", 1)],
           outputs=["LATENT"])
    g.node(13, "SamplerCustomAdvanced", inputs={"noise": (25, 0), "guider": (22, 0),
                                                "sampler": (16, 0), "sigmas": (17, 0),
                                                "latent_image": (27, 0)},
           outputs=["LATENT", "LATENT"])
    g.node(8, "VAEDecode", inputs={"samples": (13, 0), "vae": (10, 0)}, outputs=["IMAGE"])
    g.node(9, "SaveImage", [("filename_prefix", "ComfyUI")], {"images": (8, 0)})
    return g.prompt, g.workflow()


def comfyui_png(prompt: Mapping[str, Any] | None, workflow: Mapping[str, Any] | None, *,
                image: Image.Image | None = None) -> bytes:
    """nodes.SaveImage: add_text("prompt", json.dumps(prompt)) then one add_text per
    extra_pnginfo key (``workflow``); json.dumps defaults (ASCII-escaped, ", " / ": ")
    so both are always tEXt; compress_level=4."""
    chunks = []
    if prompt is not None:
        chunks.append(("text", "prompt", json.dumps(prompt)))
    if workflow is not None:
        chunks.append(("text", "workflow", json.dumps(workflow)))
    return png_bytes(image or pixels(), chunks, compress_level=4)


# --------------------------------------------------------------------------- image-saver

# alexopus/ComfyUI-Image-Saver nodes.py make_metadata: sampler through
# utils_civitai.get_civitai_sampler_name (fused " Karras"/" Exponential", or
# "<comfy id>_<scheduler>" when unmapped), "Version: ComfyUI", unquoted JSON "Hashes".
IMAGE_SAVER = ("a red fox in the snow\nNegative prompt: lowres\n"
               "Steps: 28, Sampler: DPM++ 2M SDE Karras, CFG scale: 6.5, Seed: 156680208700286, "
               "Size: 832x1216, Clip skip: 2, Model hash: 1a2b3c4d5e, Model: juggernautXL_v9, "
               'Hashes: {"LORA:detail_tweaker":"0A1B2C3D4E","model":"1a2b3c4d5e"}, '
               "Version: ComfyUI")
IMAGE_SAVER_UNMAPPED = ("a red fox\nNegative prompt: \n"
                        "Steps: 20, Sampler: res_multistep_sgm_uniform, CFG scale: 4.0, Seed: 5, "
                        "Size: 1024x1024, Model: flux1-dev, Version: ComfyUI")


def image_saver_png(text: str, prompt: Mapping[str, Any] | None = None,
                    workflow: Mapping[str, Any] | None = None) -> bytes:
    """saver/saver.py: add_text("parameters", a111_params), then extra_pnginfo keys, then
    "prompt", all JSON with separators=(",", ":")."""
    chunks = [("text", "parameters", text)]
    if workflow is not None:
        chunks.append(("text", "workflow", json.dumps(workflow, separators=(",", ":"))))
    if prompt is not None:
        chunks.append(("text", "prompt", json.dumps(prompt, separators=(",", ":"))))
    return png_bytes(pixels(), chunks)


# --------------------------------------------------------------------------- InvokeAI


INVOKEAI_V5_METADATA: dict[str, Any] = {
    # CoreMetadataInvocation.model_dump(exclude_none=True) + app_version (invocations/metadata.py)
    "generation_mode": "sdxl_txt2img", "positive_prompt": "a lighthouse at dusk",
    "negative_prompt": "blurry", "width": 1024, "height": 1024, "seed": 1234567890,
    "rand_device": "cpu", "cfg_scale": 6.0, "cfg_rescale_multiplier": 0.0, "steps": 30,
    "scheduler": "dpmpp_2m_k", "clip_skip": 0,
    "model": {"key": "9f1c2d3e-aaaa-bbbb-cccc-0123456789ab", "hash": "blake3:abcdef0123",
              "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
    "loras": [{"model": {"key": "1111", "hash": "blake3:11", "name": "detail_tweaker",
                         "base": "sdxl", "type": "lora"}, "weight": 0.75}],
    "positive_style_prompt": "", "negative_style_prompt": "", "app_version": "5.6.0",
}

INVOKEAI_V3_METADATA: dict[str, Any] = {
    # v3.0 CoreMetadata: model is MainModelField {model_name, base_model}
    "generation_mode": "txt2img", "positive_prompt": "a lighthouse at dusk",
    "negative_prompt": "blurry", "width": 512, "height": 768, "seed": 42,
    "rand_device": "cpu", "cfg_scale": 7.5, "steps": 50, "scheduler": "euler_a",
    "clip_skip": 0, "model": {"model_name": "stable-diffusion-v1-5", "base_model": "sd-1"},
    "controlnets": [], "loras": [{"lora": {"model_name": "detail_tweaker", "base_model": "sd-1"},
                                  "weight": 0.5}],
}


def invokeai_png(metadata: Mapping[str, Any], *, v3_json: bool = False) -> bytes:
    """image_files_disk.save: add_text("invokeai_metadata", metadata) (+ invokeai_workflow /
    invokeai_graph). v4+ serialises with pydantic model_dump_json (compact, UTF-8 kept, so
    a non-latin-1 prompt becomes an iTXt chunk); v3.0 used json.dumps (ASCII, ", ")."""
    text = json.dumps(metadata) if v3_json else json.dumps(metadata, separators=(",", ":"),
                                                           ensure_ascii=False)
    return png_bytes(pixels(), [("text", "invokeai_metadata", text)])


def invokeai_v2_png() -> bytes:
    """v2.x ldm/invoke/pngwriter: add_text('Dream', dream_prompt) + add_text('sd-metadata',
    json.dumps(metadata_dumps(...))). v2.0 quoted the prompt in Dream; v2.3 does not."""
    dream = ('"a lighthouse at dusk [blurry, lowres]" -s 50 -S 3578231416 -W 512 -H 768 '
             "-C 7.5 -A k_lms")
    sd_metadata = {
        "model": "stable diffusion", "model_id": "stable-diffusion-1.5",
        "model_hash": "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516",
        "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.5",
        "image": {"prompt": [{"prompt": "a lighthouse at dusk [blurry, lowres]", "weight": 1.0}],
                  "steps": 50, "cfg_scale": 7.5, "threshold": 0, "perlin": 0, "height": 768,
                  "width": 512, "seed": 3578231416, "seamless": False, "hires_fix": False,
                  "type": "txt2img", "postprocessing": None, "sampler": "k_lms",
                  "variations": []},
    }
    return png_bytes(pixels(), [("text", "Dream", dream),
                                ("text", "sd-metadata", json.dumps(sd_metadata))])


# --------------------------------------------------------------------------- NovelAI


NOVELAI_COMMENT: dict[str, Any] = {
    "prompt": "1girl, solo, upper body", "steps": 28, "height": 1216, "width": 832,
    "scale": 5.0, "uncond_scale": 1.0, "cfg_rescale": 0.0, "seed": 2345678901,
    "n_samples": 1, "hide_debug_overlay": False, "noise_schedule": "native",
    "legacy_v3_extend": False, "sampler": "k_euler_ancestral", "sm": False, "sm_dyn": False,
    "uc": "lowres, bad anatomy", "request_type": "PromptGenerateRequest",
    "signed_hash": "AAAA", "version": 1,
}


def novelai_png(comment: Mapping[str, Any] = NOVELAI_COMMENT, *,
                source: str = "Stable Diffusion XL C1E1DE52") -> bytes:
    """NovelAI's download: tEXt Title / Description (prompt) / Software "NovelAI" / Source
    (model name + hash) / Generation time / Comment (JSON request)."""
    return png_bytes(pixels(), [
        ("text", "Title", "NovelAI generated image"),
        ("text", "Description", str(comment["prompt"])),
        ("text", "Software", "NovelAI"),
        ("text", "Source", source),
        ("text", "Generation time", "3.215"),
        ("text", "Comment", json.dumps(comment)),
    ])


# --------------------------------------------------------------------------- Fooocus


FOOOCUS_JSON: dict[str, Any] = {
    # async_worker.save_and_log list + FooocusMetadataParser.to_string additions, sorted
    "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion",
    "base_model_hash": "aeb7e9e689", "full_negative_prompt": ["unrealistic", "lowres"],
    "full_prompt": ["a red fox in the snow", "cinematic, highly detailed"],
    "guidance_scale": 4.0, "loras": [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128"]],
    "lora_combined_1": "sd_xl_offset_example-lora_1.0 : 0.1", "metadata_scheme": "fooocus",
    "negative_prompt": "", "performance": "Speed", "prompt": "a red fox in the snow",
    "prompt_expansion": "a red fox in the snow, cinematic", "refiner_model": "None",
    "refiner_switch": 0.5, "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras", "seed": "1234567890123", "sharpness": 2.0, "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']", "vae": "Default (model)",
    "version": "Fooocus v2.5.5",
}

FOOOCUS_A1111 = infotext(
    "a red fox in the snow, cinematic, highly detailed", "unrealistic, lowres",
    [("Steps", 30), ("Sampler", "DPM++ 2M SDE Karras"), ("Seed", "1234567890123"),
     ("Size", "1152x896"), ("CFG scale", 4.0), ("Sharpness", 2.0),
     ("ADM Guidance", "(1.5, 0.8, 0.3)"), ("Model", "juggernautXL_v8Rundiffusion"),
     ("Model hash", "aeb7e9e689"), ("Performance", "Speed"), ("Scheduler", "karras"),
     ("VAE", "Default (model)"), ("Raw prompt", "a red fox in the snow"),
     ("Raw negative prompt", ""), ("Lora hashes", "sd_xl_offset_example-lora_1.0: 4852686128"),
     ("Lora weights", "sd_xl_offset_example-lora_1.0: 0.1"), ("Version", "Fooocus v2.5.5")])


def fooocus_png(scheme: str = "fooocus") -> bytes:
    """private_logger.log: add_text('parameters', to_string(...)) then
    add_text('fooocus_scheme', 'fooocus'|'a1111'). JSON scheme: json.dumps(sorted dict)."""
    text = json.dumps(dict(sorted(FOOOCUS_JSON.items()))) if scheme == "fooocus" else FOOOCUS_A1111
    return png_bytes(pixels(), [("text", "parameters", text), ("text", "fooocus_scheme", scheme)])


def fooocus_jpeg(scheme: str = "fooocus", fmt: str = "JPEG") -> bytes:
    """meta_parser.get_exif: Pillow Image.Exif with IFD0 0x9286 UserComment = the text (a
    plain ASCII string, no charset prefix: non-ASCII becomes '?'), 0x0131 Software =
    'Fooocus v2.5.5', 0x927C MakerNote = scheme. Not in the Exif sub-IFD."""
    text = json.dumps(dict(sorted(FOOOCUS_JSON.items()))) if scheme == "fooocus" else FOOOCUS_A1111
    exif = Image.Exif()
    exif[0x9286] = text
    exif[0x0131] = "Fooocus v2.5.5"
    exif[0x927C] = scheme
    buffer = io.BytesIO()
    pixels().save(buffer, fmt, quality=95, exif=exif)
    return buffer.getvalue()


# --------------------------------------------------------------------------- StableNew


def stablenew_review_rewrite(png: bytes, review: Mapping[str, Any]) -> bytes:
    """What StableNew's write_portable_review_metadata does to a PNG (src/utils/image_metadata):
    read every text entry, re-save the decoded image through Pillow with each existing entry
    and the new ``stablenew_review`` JSON (sort_keys, ensure_ascii=False) as uncompressed iTXt.
    Pixels are re-encoded (Pillow default compress_level 6)."""
    with Image.open(io.BytesIO(png)) as source:
        if not isinstance(source, PngImagePlugin.PngImageFile):
            raise ValueError("not a PNG")
        existing = {k: v for k, v in source.text.items() if isinstance(v, str)}
        info = PngImagePlugin.PngInfo()
        for key, value in existing.items():
            if key != "stablenew_review":
                info.add_itxt(key, value, zip=False)
        info.add_itxt("stablenew_review", json.dumps(dict(review), ensure_ascii=False,
                                                     sort_keys=True), zip=False)
        out = io.BytesIO()
        source.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def stablenew_contract_chunks(payload: Mapping[str, Any], *, job_id: str, run_id: str,
                              stage: str) -> list[tuple[str, str, str]]:
    """The stablenew.image-metadata.v2.6 capsule keys (all iTXt), payload canonical JSON
    (sort_keys, (",", ":")), gzip+base64 above 32 KiB, omitted above 256 KiB compressed."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    chunks = [("itxt", "stablenew:schema", "stablenew.image-metadata.v2.6"),
              ("itxt", "stablenew:job_id", job_id), ("itxt", "stablenew:run_id", run_id),
              ("itxt", "stablenew:stage", stage),
              ("itxt", "stablenew:created_utc", "2025-12-25T05:15:03.929637+00:00"),
              ("itxt", "stablenew:payload_sha256", hashlib.sha256(raw).hexdigest())]
    if len(raw) <= 32 * 1024:
        chunks.append(("itxt", "stablenew:payload", raw.decode()))
    else:
        chunks.append(("itxt", "stablenew:payload_gz_b64",
                       base64.b64encode(gzip.compress(raw, compresslevel=6)).decode()))
    return chunks


# StableNew's own dialect of "parameters" (src/utils/image_metadata.py): "Scheduler" (not
# "Schedule type") and "Stage".
STABLENEW_PARAMETERS = infotext(
    "a red fox in the snow", "lowres",
    [("Steps", 28), ("Sampler", "DPM++ 2M"), ("Scheduler", "karras"), ("CFG scale", 6.5),
     ("Seed", 1234), ("Size", "832x1216"), ("Model", "juggernautXL_v9"), ("Clip skip", 2),
     ("Stage", "txt2img")])


def stablenew_output_png(*, image: Image.Image | None = None) -> bytes:
    """A StableNew output (save_image_from_base64): the capsule, the public keys and its own
    ``parameters`` dialect, every value as iTXt."""
    payload = {"generation": {"steps": 28, "sampler_name": "DPM++ 2M", "scheduler": "karras",
                              "cfg_scale": 6.5, "seed": 1234},
               "job_id": "job-42", "run_id": "run-42"}
    chunks = stablenew_contract_chunks(payload, job_id="job-42", run_id="run-42",
                                       stage="txt2img")
    chunks += [("itxt", "Description", json.dumps({"job_id": "job-42"})),
               ("itxt", "Software", "StableNew"), ("itxt", "parameters", STABLENEW_PARAMETERS)]
    return png_bytes(image or pixels(), chunks)


def stablenew_jpeg_rewrite(jpeg: bytes, review: Mapping[str, Any]) -> bytes:
    """What StableNew's write_jpg_metadata does: a lossy re-encode with EXIF 0x9286 =
    ``SNMETA:`` + base64 of its key/value JSON, 0x010E ImageDescription = the parameters,
    0x0131 Software."""
    with Image.open(io.BytesIO(jpeg)) as source:
        parameters = _exif_user_comment(source.getexif())
        kv = {"stablenew_review": json.dumps(dict(review), sort_keys=True)}
        exif = Image.Exif()
        exif[0x9286] = "SNMETA:" + base64.b64encode(json.dumps(kv, sort_keys=True).encode()
                                                     ).decode()
        exif[0x010E] = parameters
        exif[0x0131] = "StableNew"
        out = io.BytesIO()
        source.convert("RGB").save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _exif_user_comment(exif: Image.Exif) -> str:
    raw = exif.get_ifd(0x8769).get(0x9286, b"")
    data = raw if isinstance(raw, bytes) else str(raw).encode()
    return data[8:].decode("utf-16-be") if data.startswith(UNICODE_PREFIX) else data.decode()


def image_saver_jpeg(text: str, prompt: Mapping[str, Any], workflow: Mapping[str, Any]
                     ) -> bytes:
    """ComfyUI-Image-Saver's JPEG: UserComment as A1111 writes it, plus the workflow in IFD0
    ``Make`` (``workflow:{json}``) and the prompt in ``Model`` (``prompt:{json}``)."""
    exif = Image.Exif()
    exif.load(a1111_exif(text))  # the Exif IFD with the UserComment
    exif[0x010F] = "workflow:" + json.dumps(workflow, separators=(",", ":"))
    exif[0x0110] = "prompt:" + json.dumps(prompt, separators=(",", ":"))
    buffer = io.BytesIO()
    pixels().save(buffer, "JPEG", quality=80, exif=exif)
    return buffer.getvalue()


# --------------------------------------------------------------------------- damage


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data))


def pixel_bomb_png(width: int = 30000, height: int = 30000,
                   chunks: Sequence[bytes] = ()) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb for any
    decoder), with a few bytes of image data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + b"".join(chunks)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def ztxt_bomb_png(key: str = "parameters", inflated: int = 8 << 20) -> bytes:
    """A 1x1 PNG with a zTXt chunk that inflates to ``inflated`` bytes (8 KiB on disk)."""
    bomb = png_chunk(b"zTXt", key.encode() + b"\0\0" + zlib.compress(b"a" * inflated, 9))
    return pixel_bomb_png(1, 1, [bomb])


# --------------------------------------------------------------------------- catalogue


def catalogue() -> dict[str, bytes]:
    """Every format above as ``{file name: bytes}``."""
    two_pass = comfy_two_pass()
    custom = comfy_custom_advanced()
    out = {
        "a1111_txt2img_hires.png": a1111_png(A1111_TXT2IMG_HIRES),
        "a1111_img2img.png": a1111_png(A1111_IMG2IMG),
        "a1111_legacy_fused.png": a1111_png(A1111_LEGACY_FUSED),
        "forge_flux_itxt.png": a1111_png(FORGE_FLUX),  # non-latin-1 prompt -> iTXt
        "a1111_txt2img_hires.jpg": a1111_jpeg(A1111_TXT2IMG_HIRES),
        "a1111_unicode.webp": a1111_webp(FORGE_FLUX),
        "sdnext_txt2img.png": a1111_png(SDNEXT_TXT2IMG),
        "civitai.jpg": a1111_jpeg(CIVITAI),
        "comfyui_two_pass.png": comfyui_png(*two_pass),
        "comfyui_custom_advanced.png": comfyui_png(*custom),
        "comfyui_api_only.png": comfyui_png(two_pass[0], None),
        "image_saver.png": image_saver_png(IMAGE_SAVER, *two_pass),
        "image_saver_unmapped.png": image_saver_png(IMAGE_SAVER_UNMAPPED),
        "invokeai_v5.png": invokeai_png(INVOKEAI_V5_METADATA),
        "invokeai_v3.png": invokeai_png(INVOKEAI_V3_METADATA, v3_json=True),
        "invokeai_v2.png": invokeai_v2_png(),
        "novelai.png": novelai_png(),
        "fooocus_json.png": fooocus_png("fooocus"),
        "fooocus_a1111.png": fooocus_png("a1111"),
        "fooocus_json.jpg": fooocus_jpeg("fooocus"),
    }
    review = {"schema": "stablenew.review.v2.6", "user_rating": 4, "record_kind":
              "review_tab_feedback", "steps": 0, "cfg_scale": 0.0}
    out["a1111_then_stablenew_review.png"] = stablenew_review_rewrite(
        out["a1111_txt2img_hires.png"], review)
    return out
