"""Test images in the shapes real files showed: files written by the tools themselves (found in
public repositories, listed in ``docs/importers.md``) that the generators of
:mod:`runlake.testing.images`, built from the formats' public code, did not foresee.

Each writer names the real file whose layout it reproduces (repository and path); the values
are made up. The real files are never copied here: only their structure (which container,
which EXIF tag and character code, which JSON keys, which graph nodes).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from PIL import Image

from runlake.testing.images import ComfyGraph, infotext, pixels, png_bytes

_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_IMAGE_DESCRIPTION = 0x010E
_DOCUMENT_NAME = 0x010D
_MAKE = 0x010F
_SOFTWARE = 0x0131
_ARTIST = 0x013B


def exif_image(*, ifd0: Mapping[int, str | bytes] | None = None,
               user_comment: bytes | None = None, fmt: str = "JPEG") -> bytes:
    """A JPEG or WebP whose EXIF holds ``ifd0`` tags and, in the Exif IFD, a UserComment of
    these exact bytes (character code included)."""
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    if user_comment is not None:
        exif.get_ifd(_EXIF_IFD)[_USER_COMMENT] = user_comment
    buffer = io.BytesIO()
    pixels().save(buffer, fmt, quality=90, exif=exif)
    return buffer.getvalue()


# --------------------------------------------------------------------------- JSON in EXIF


def novelai_webp(comment: Mapping[str, Any], *,
                 source: str = "NovelAI Diffusion V4.5 C02D4F98") -> bytes:
    """NovelAI's WebP download (enslo/sd-metadata ``samples/webp/novelai-curated.webp``):
    big-endian EXIF, IFD0 Software = the model (``Source``), DocumentName = the title,
    ImageDescription = four NUL bytes + the prompt; the Exif UserComment is ``ASCII\\0\\0\\0``
    + UTF-8 JSON of the keys a NovelAI PNG carries as text chunks (the Comment a JSON string
    inside it)."""
    prompt = str(comment.get("prompt", ""))
    keys = {"Comment": json.dumps(comment), "Description": "\0\0\0\0" + prompt,
            "Generation time": "2.58e-05", "Software": "NovelAI", "Source": source,
            "Title": "NovelAI generated image"}
    text = json.dumps(keys, separators=(",", ":"), ensure_ascii=False)
    return exif_image(ifd0={_SOFTWARE: source, _DOCUMENT_NAME: "NovelAI generated image",
                            _IMAGE_DESCRIPTION: b"\0\0\0\0" + prompt.encode()},
                      user_comment=b"ASCII\0\0\0" + text.encode(), fmt="WEBP")


NOVELAI_AUGMENT_COMMENT = {"req_type": "sketch"}


def novelai_augment_png() -> bytes:
    """A NovelAI Director-tool output (LlmKira/novelai-python
    ``playground/augment-image.png``): Title "AI augmented image", Software, Generation time
    and a Comment naming only the tool (``req_type``): no generation settings at all."""
    return png_bytes(pixels(), [("text", "Title", "AI augmented image"),
                                ("text", "Software", "NovelAI"),
                                ("text", "Generation time", "5.9089s"),
                                ("text", "Comment", json.dumps(NOVELAI_AUGMENT_COMMENT))])


SWARMUI_PARAMS: dict[str, Any] = {
    "sui_image_params": {
        "prompt": "a red fox in the snow", "negativeprompt": "lowres", "model": "juggernautXL_v9",
        "seed": 697543491, "steps": 20, "cfgscale": 7.0, "aspectratio": "1:1", "width": 1024,
        "height": 1024, "sampler": "euler_ancestral", "scheduler": "karras",
        "automaticvae": True, "swarm_version": "0.9.7.4"},
    "sui_extra_data": {"date": "2026-01-03", "prep_time": "0.00 sec",
                       "generation_time": "6.44 sec"},
    "sui_models": [{"name": "juggernautXL_v9.safetensors", "param": "model",
                    "hash": "0x" + "22d8cb95b8" + "0" * 54}],
}


def swarmui_jpeg(params: Mapping[str, Any] = SWARMUI_PARAMS) -> bytes:
    """SwarmUI's JPEG (enslo/sd-metadata ``samples/jpg/swarmui.jpg``): little-endian EXIF,
    the Exif UserComment ``UNICODE\\0`` + UTF-16-LE of its parameters as indented JSON
    (``sui_image_params``: ComfyUI sampler and scheduler ids)."""
    text = json.dumps(params, indent=2)
    return exif_image(user_comment=b"UNICODE\0" + text.encode("utf-16-le"))


def comfy_saveimage_plus_jpeg(prompt: Mapping[str, Any], workflow: Mapping[str, Any]) -> bytes:
    """ComfyUI "Save Image Plus" JPEG/WebP (enslo/sd-metadata
    ``samples/jpg/comfyui-saveimage-plus.jpg``): IFD0 UserComment (ASCII type, no character
    code) = JSON ``{"prompt": <API graph>, "workflow": <UI graph>}``."""
    text = json.dumps({"prompt": prompt, "workflow": workflow})
    return exif_image(ifd0={_USER_COMMENT: text})


def comfy_save_image_extended_jpeg(prompt: Mapping[str, Any],
                                   workflow: Mapping[str, Any]) -> bytes:
    """ComfyUI "Save Image Extended" JPEG/WebP (enslo/sd-metadata
    ``samples/jpg/comfyui-save-image-extended.jpeg``): IFD0 Make = ``Prompt: `` + the API
    graph, ImageDescription = ``Workflow: `` + the UI graph (capitalised, with a space; core
    ComfyUI writes ``prompt:`` / ``workflow:``)."""
    return exif_image(ifd0={_MAKE: "Prompt: " + json.dumps(prompt),
                            _IMAGE_DESCRIPTION: "Workflow: " + json.dumps(workflow)})


def civitai_graph_jpeg(graph: Mapping[str, Any], extra_metadata: Mapping[str, Any]) -> bytes:
    """A JPEG from Civitai's current generator (enslo/sd-metadata
    ``samples/jpg/civitai-hires.jpg``): IFD0 Software = a UUID, Artist = ``ai``; the Exif
    UserComment (``UNICODE\\0`` + UTF-16-BE although the TIFF is little-endian) holds the
    ComfyUI API graph it ran (checkpoint node id ``resource-stack``, names as AIR URNs) plus
    ``extra.airs`` and ``extraMetadata`` (the request, a JSON string)."""
    document = {**graph, "extra": {"airs": ["urn:air:sdxl:checkpoint:civitai:827184@2514310"]},
                "extraMetadata": json.dumps(extra_metadata, separators=(",", ":"))}
    text = json.dumps(document, separators=(",", ":"))
    return exif_image(ifd0={_SOFTWARE: "42adebcb-68ad-45e2-9c83-f92b6b11d852", _ARTIST: "ai"},
                      user_comment=b"UNICODE\0" + text.encode("utf-16-be"))


# --------------------------------------------------------------------------- JSON in PNG

# A Gradio app on a hosted space (enslo/sd-metadata samples/png/huggingface-space.png):
# A1111-style sampler label, a full SHA-256 as the model hash, "W x H" resolution.
GRADIO_PARAMS: dict[str, Any] = {
    "prompt": "a red fox in the snow", "negative_prompt": "lowres, \n",
    "resolution": "1024 x 1024", "guidance_scale": 5.5, "num_inference_steps": 24,
    "seed": 443800072, "sampler": "DPM++ 2M Karras", "Model": "WAI NSFW illustrious SDXL v16",
    "Model hash": "BDB59BAC77" + "D" * 54, "use_upscaler": None,
}
# RuinedFooocus (enslo/sd-metadata samples/png/ruined-fooocus.png): its own keys, ComfyUI ids.
RUINED_FOOOCUS_PARAMS: dict[str, Any] = {
    "Prompt": "a red fox in the snow", "Negative": "lowres", "steps": 30, "cfg": 8,
    "width": 1024, "height": 1024, "seed": 2020047614, "sampler_name": "dpmpp_2m_sde_gpu",
    "scheduler": "karras", "base_model_name": "juggernautXL_v9.safetensors",
    "base_model_hash": "BEFC694A29" + "6" * 54, "loras": [], "start_step": 0, "denoise": None,
    "clip_skip": 1, "software": "RuinedFooocus",
}


def json_parameters_png(parameters: Mapping[str, Any]) -> bytes:
    """A PNG whose ``parameters`` text chunk is a JSON object (json.dumps defaults), as the
    Gradio app and RuinedFooocus above write it."""
    return png_bytes(pixels(), [("text", "parameters", json.dumps(parameters))])


def swarmui_png(prompt: Mapping[str, Any], params: Mapping[str, Any] = SWARMUI_PARAMS
                ) -> bytes:
    """SwarmUI's PNG (enslo/sd-metadata ``samples/png/swarmui.png``, its ``swarmui.ts``):
    ``parameters`` = its JSON (``sui_image_params``) and ``prompt`` = the ComfyUI API graph
    its ComfyUI backend ran."""
    return png_bytes(pixels(), [("text", "parameters", json.dumps(params, indent=2)),
                                ("text", "prompt", json.dumps(prompt))])


STABILITY_MATRIX_JSON: dict[str, Any] = {
    "PositivePrompt": "a red fox in the snow", "NegativePrompt": "lowres", "Width": 1024,
    "Height": 1024, "Seed": 697543491, "Steps": 20, "CfgScale": 7.0, "Sampler": "euler",
    "ModelName": "juggernautXL_v9.safetensors", "ModelHash": "A5F58EB1C3" + "1" * 54,
}


def stability_matrix_png(prompt: Mapping[str, Any],
                         params: Mapping[str, Any] = STABILITY_MATRIX_JSON) -> bytes:
    """Stability Matrix's Inference PNG (enslo/sd-metadata ``samples/png/stability-matrix*.png``,
    its ``stability-matrix.ts``): an A1111-style ``parameters`` text, ``parameters-json``,
    ``smproj`` (the project) and ``prompt`` = the ComfyUI API graph it ran."""
    text = infotext(str(params["PositivePrompt"]), str(params["NegativePrompt"]),
                    [("Steps", params["Steps"]), ("Sampler", params["Sampler"]),
                     ("CFG scale", params["CfgScale"]), ("Seed", params["Seed"]),
                     ("Size", f"{params['Width']}x{params['Height']}"),
                     ("Model hash", params["ModelHash"]), ("Model", params["ModelName"])])
    project = {"Version": 3, "ProjectType": "TextToImage", "State": {}}
    return png_bytes(pixels(), [("text", "parameters", text),
                                ("text", "parameters-json", json.dumps(params)),
                                ("text", "smproj", json.dumps(project)),
                                ("text", "prompt", json.dumps(prompt))])


# --------------------------------------------------------------------------- infotexts

# SD.Next before its "App" key (vladmandic/automatic html/logo-bg-0.jpg, 2023): "Sampler:
# Default" (the pipeline's own scheduler), "Latent sampler", "Parser", an 8-digit model hash.
SDNEXT_2023 = infotext(
    "photo of a cute robot with a dark background", "",
    [("Steps", 20), ("Sampler", "Default"), ("Latent sampler", "Default"), ("CFG scale", 6),
     ("Seed", 3693352615), ("Size", "1024x1024"), ("Model hash", "4b64ace6"),
     ("Model", "sdxl_sdxl-base-0.9"), ("Version", "0a083c2"), ("Parser", "Full parser")])

# Forge Classic and Forge Neo (enslo/sd-metadata samples/png/forge-classic.png, forge-neo.png)
# write "Version: classic" / "Version: neo" instead of Forge's "f2.0.1v1.10.1-...".
FORGE_CLASSIC = infotext(
    "a red fox in the snow", "lowres",
    [("Steps", 20), ("Sampler", "DPM++ 2M"), ("Schedule type", "Karras"), ("CFG scale", 6),
     ("Seed", 1239240392), ("Size", "1024x1024"), ("Model hash", "45a21ea00a"),
     ("Model", "waiIllustriousSDXL_v160"), ("RNG", "CPU"), ("Version", "classic")])
FORGE_NEO = FORGE_CLASSIC.replace("Version: classic", "Version: neo-2.28")

# ComfyUI-SaveImageWithMetaData with civitai_sampler on (enslo/sd-metadata
# samples/webp/comfyui-saveimagewithmetadata.webp): an A1111-style infotext without a
# Version, the Civitai label ("Euler a" for euler_ancestral + normal), the model file name
# with its extension, and a "Hashes" JSON.
COMFY_SAVE_WITH_METADATA = infotext(
    "a red fox in the snow", "lowres",
    [("Steps", 20), ("Sampler", "Euler a"), ("CFG scale", 5.0), ("Seed", 827555711811618),
     ("Clip skip", 2), ("Size", "1024x1024"), ("Model", "waiIllustriousSDXL_v160.safetensors"),
     ("Model hash", "45a21ea00a")]) + ', Hashes: {"model": "45a21ea00a"}'


def infotext_webp(text: str) -> bytes:
    """A WebP with ``text`` as its Exif UserComment (``UNICODE\\0`` + UTF-16-BE, piexif)."""
    return exif_image(user_comment=b"UNICODE\0" + text.encode("utf-16-be"), fmt="WEBP")


# --------------------------------------------------------------------------- ComfyUI graphs


def _checkpoint_and_prompts(g: ComfyGraph, *, clip_skip: bool = True) -> None:
    """Checkpoint 1, optional CLIPSetLastLayer 2 (-2), positive 3, negative 4."""
    g.node(1, "CheckpointLoaderSimple", [("ckpt_name", "waiIllustriousSDXL_v160.safetensors")],
           outputs=["MODEL", "CLIP", "VAE"])
    clip = (1, 1)
    if clip_skip:
        g.node(2, "CLIPSetLastLayer", [("stop_at_clip_layer", -2)], {"clip": (1, 1)}, ["CLIP"])
        clip = (2, 0)
    g.node(3, "CLIPTextEncode", [("text", "a red fox in the snow")], {"clip": clip},
           ["CONDITIONING"])
    g.node(4, "CLIPTextEncode", [("text", "lowres")], {"clip": clip}, ["CONDITIONING"])


def _ksampler(g: ComfyGraph, node_id: int, latent: int, *, seed: int, steps: int,
              denoise: float, sampler: str = "euler_ancestral") -> None:
    g.node(node_id, "KSampler", [("seed", seed), ("control_after_generate", "fixed"),
                                 ("steps", steps), ("cfg", 5.0), ("sampler_name", sampler),
                                 ("scheduler", "karras"), ("denoise", denoise)],
           {"model": (1, 0), "positive": (3, 0), "negative": (4, 0), "latent_image": (latent, 0)},
           ["LATENT"])


def comfy_pixel_hires() -> tuple[dict[str, Any], dict[str, Any]]:
    """A hires fix in pixel space (enslo/sd-metadata ``samples/png/comfyui-hires.png``;
    also Stability Matrix's ``stability-matrix-hires.png`` and ComfyUI_examples
    ``2_pass_txt2img/hiresfix_esrgan_workflow.png``): sampler, VAEDecode, an upscale model,
    ImageScale to 1536x1536, VAEEncode, a second sampler at denoise 0.3."""
    g = ComfyGraph()
    _checkpoint_and_prompts(g)
    g.node(5, "EmptyLatentImage", [("width", 1024), ("height", 1024), ("batch_size", 1)],
           outputs=["LATENT"])
    _ksampler(g, 6, 5, seed=1116526567339338, steps=20, denoise=1.0)
    g.node(7, "VAEDecode", inputs={"samples": (6, 0), "vae": (1, 2)}, outputs=["IMAGE"])
    g.node(8, "UpscaleModelLoader", [("model_name", "RealESRGAN_x4plus_anime_6B.pth")],
           outputs=["UPSCALE_MODEL"])
    g.node(9, "ImageUpscaleWithModel", inputs={"upscale_model": (8, 0), "image": (7, 0)},
           outputs=["IMAGE"])
    g.node(10, "ImageScale", [("upscale_method", "bilinear"), ("width", 1536),
                              ("height", 1536), ("crop", "disabled")], {"image": (9, 0)},
           ["IMAGE"])
    g.node(11, "VAEEncode", inputs={"pixels": (10, 0), "vae": (1, 2)}, outputs=["LATENT"])
    _ksampler(g, 12, 11, seed=204096574905147, steps=10, denoise=0.3)
    g.node(13, "VAEDecode", inputs={"samples": (12, 0), "vae": (1, 2)}, outputs=["IMAGE"])
    g.node(14, "SaveImage", [("filename_prefix", "ComfyUI")], {"images": (13, 0)})
    return g.prompt, g.workflow()


def comfy_preview_branch() -> tuple[dict[str, Any], dict[str, Any]]:
    """A graph with a side branch that only previews (enslo/sd-metadata
    ``samples/png/comfyui-comfyroll.png``): sampler 6 runs from an rgthree latent node
    (``dimensions: "1024 x 1024  (square)"``) into the saved image through a second sampler;
    sampler 20 feeds a PreviewImage only, so it is not a pass of the saved image."""
    g = ComfyGraph()
    _checkpoint_and_prompts(g, clip_skip=False)
    g.node(5, "SDXL Empty Latent Image (rgthree)", [("dimensions", "1024 x 1024  (square)"),
                                                    ("clip_scale", 1.0), ("batch_size", 1)],
           outputs=["LATENT", "INT", "INT"])
    _ksampler(g, 6, 5, seed=942975376742792, steps=30, denoise=1.0)
    g.node(7, "LatentUpscaleBy", [("upscale_method", "nearest-exact"), ("scale_by", 1.5)],
           {"samples": (6, 0)}, ["LATENT"])
    _ksampler(g, 8, 7, seed=273964256726222, steps=20, denoise=0.6)
    g.node(9, "VAEDecode", inputs={"samples": (8, 0), "vae": (1, 2)}, outputs=["IMAGE"])
    g.node(10, "SaveImage", [("filename_prefix", "ComfyUI")], {"images": (9, 0)})
    _ksampler(g, 20, 5, seed=7, steps=12, denoise=1.0, sampler="dpmpp_2m")
    g.node(21, "VAEDecode", inputs={"samples": (20, 0), "vae": (1, 2)}, outputs=["IMAGE"])
    g.node(22, "PreviewImage", inputs={"images": (21, 0)})
    return g.prompt, g.workflow()


def comfy_early_2023() -> tuple[dict[str, Any], dict[str, Any]]:
    """ComfyUI's first releases named samplers ``sample_<id>`` (d3x-at/sd-parsers
    ``tests/resources/parsers/ComfyUI/img2img_cropped.png``: ``sample_dpmpp_2m``;
    ``noisy_latents_3_subjects_cropped.png``: ``sample_dpmpp_sde``)."""
    g = ComfyGraph()
    _checkpoint_and_prompts(g, clip_skip=False)
    g.node(5, "EmptyLatentImage", [("width", 512), ("height", 768), ("batch_size", 1)],
           outputs=["LATENT"])
    _ksampler(g, 6, 5, seed=280823642470253, steps=20, denoise=1.0, sampler="sample_dpmpp_2m")
    g.node(7, "VAEDecode", inputs={"samples": (6, 0), "vae": (1, 2)}, outputs=["IMAGE"])
    g.node(8, "SaveImage", [("filename_prefix", "ComfyUI")], {"images": (7, 0)})
    return g.prompt, g.workflow()


def comfy_switched_model() -> tuple[dict[str, Any], dict[str, Any]]:
    """A model and a prompt chosen by core ``ComfySwitchNode`` s (enslo/sd-metadata
    ``samples/png/krea2.png``): each switch is a PrimitiveBoolean; the model switch is on
    (``on_true``), the prompt switch off (``on_false``: the text typed in)."""
    g = ComfyGraph()
    g.node(1, "UNETLoader", [("unet_name", "krea2_turbo_int8.safetensors"),
                             ("weight_dtype", "default")], outputs=["MODEL"])
    g.node(30, "UNETLoader", [("unet_name", "other_model.safetensors"),
                              ("weight_dtype", "default")], outputs=["MODEL"])
    g.node(31, "PrimitiveBoolean", [("value", True)], outputs=["BOOLEAN"])
    g.node(32, "ComfySwitchNode", inputs={"switch": (31, 0), "on_false": (30, 0),
                                          "on_true": (1, 0)}, outputs=["*"])
    g.node(33, "PrimitiveBoolean", [("value", False)], outputs=["BOOLEAN"])
    g.node(34, "PrimitiveStringMultiline", [("value", "a red fox in the snow")],
           outputs=["STRING"])
    g.node(35, "PrimitiveStringMultiline", [("value", "an expanded prompt")],
           outputs=["STRING"])
    g.node(36, "ComfySwitchNode", inputs={"switch": (33, 0), "on_false": (34, 0),
                                          "on_true": (35, 0)}, outputs=["*"])
    g.node(2, "CLIPLoader", [("clip_name", "qwen3vl_4b_bf16.safetensors"), ("type", "krea2")],
           outputs=["CLIP"])
    g.node(3, "CLIPTextEncode", inputs={"text": (36, 0), "clip": (2, 0)},
           outputs=["CONDITIONING"])
    g.node(4, "ConditioningZeroOut", inputs={"conditioning": (3, 0)}, outputs=["CONDITIONING"])
    g.node(5, "EmptyLatentImage", [("width", 1024), ("height", 1024), ("batch_size", 1)],
           outputs=["LATENT"])
    g.node(6, "KSampler", [("seed", 371644226245214), ("control_after_generate", "fixed"),
                           ("steps", 8), ("cfg", 1.0), ("sampler_name", "euler"),
                           ("scheduler", "simple"), ("denoise", 1.0)],
           {"model": (32, 0), "positive": (3, 0), "negative": (4, 0), "latent_image": (5, 0)},
           ["LATENT"])
    g.node(7, "VAEDecode", inputs={"samples": (6, 0)}, outputs=["IMAGE"])
    g.node(8, "SaveImage", [("filename_prefix", "Krea2_turbo")], {"images": (7, 0)})
    return g.prompt, g.workflow()


def civitai_img2img_hires() -> tuple[dict[str, Any], dict[str, Any]]:
    """The graph inside Civitai's generator JPEG (``civitai_graph_jpeg``): a checkpoint node
    keyed ``resource-stack`` named by an AIR URN, ``smZ CLIPTextEncode`` prompts, the image
    loaded from a URL, upscaled, encoded and resampled at denoise 0.3 (node ids as strings);
    and its ``extraMetadata``."""
    graph: dict[str, Any] = {
        "resource-stack": {"class_type": "CheckpointLoaderSimple", "inputs": {
            "ckpt_name": "urn:air:sdxl:checkpoint:civitai:827184@2514310"}},
        "6": {"class_type": "smZ CLIPTextEncode", "inputs": {
            "text": "a red fox in the snow", "parser": "A1111", "clip": ["resource-stack", 1]}},
        "7": {"class_type": "smZ CLIPTextEncode", "inputs": {
            "text": "lowres", "parser": "A1111", "clip": ["resource-stack", 1]}},
        "17": {"class_type": "LoadImage", "inputs": {
            "image": "https://example.invalid/blob.jpeg", "upload": "image"}},
        "23": {"class_type": "ImageScale", "inputs": {
            "upscale_method": "nearest-exact", "crop": "disabled", "width": 1536,
            "height": 1536, "image": ["17", 0]}},
        "21": {"class_type": "VAEEncode", "inputs": {"pixels": ["23", 0],
                                                     "vae": ["resource-stack", 2]}},
        "11": {"class_type": "KSampler", "inputs": {
            "sampler_name": "euler_ancestral", "scheduler": "normal", "seed": 1311178179,
            "steps": 25, "cfg": 5, "denoise": 0.3, "model": ["resource-stack", 0],
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["21", 0]}},
        "13": {"class_type": "VAEDecode", "inputs": {"samples": ["11", 0],
                                                     "vae": ["resource-stack", 2]}},
        "12": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI",
                                                     "images": ["13", 0]}},
    }
    extra = {"prompt": "a red fox in the snow", "negativePrompt": "lowres", "steps": 25,
             "cfgScale": 5, "sampler": "euler_ancestral", "seed": 1311178179,
             "workflowId": "img2img-hires", "resources": [{"modelVersionId": 2514310}]}
    return graph, extra



# --------------------------------------------------------------------------- StableNew dumps


def _dump(payload: dict[str, Any], kv: Mapping[str, str]) -> dict[str, Any]:
    return {"status": "ok", "payload": payload, "kv": dict(kv),
            "path": "<USER_HOME>\\projects\\StableNew\\output\\" + payload["image"]["path"]}


def stablenew_dump_2026() -> dict[str, Any]:
    """A ``<image>.png.meta.json`` of 2026-03 (destroyer42/StableNew2 reports/diagnostics/
    stablenew_diagnostics_20260331_204723_queue_runner_stall/artifacts/image_metadata/):
    ``payload.generation`` holds the knobs (no seed: the request said -1), the stage
    manifest the A1111 request, ``kv`` the PNG's text keys."""
    generation = {"cfg_scale": 6.43, "clip_skip": 2, "height": 1024,
                  "model": "babesByStableYogiPony_xlV4.safetensors",
                  "negative_prompt": "lowres", "original_prompt": "a red fox in the snow",
                  "prompt": "a red fox in the snow", "final_prompt": "a red fox in the snow",
                  "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 30, "width": 768}
    payload = {
        "artifact": {"artifact_type": "image", "schema": "stablenew.artifact.v2.6",
                     "stage": "txt2img", "output_paths": ["output\\Pipeline\\p01.png"]},
        "generation": generation,
        "image": {"format": "png", "height": 1024, "path": "txt2img_p01.png", "width": 768},
        "job_id": "5c9972d4d35c4c0085833682fa67ece4", "njr": {"snapshot_version": "2.6"},
        "run_id": "20260331_154257_A_A_A", "seeds": {}, "stage": "txt2img",
        "stage_history": [],
        "stage_manifest": {"config": {"sd_model": generation["model"], "seed": -1,
                                      "steps": 30, "cfg_scale": 6.43},
                           "name": "txt2img_p01", "stage": "txt2img",
                           "timestamp": "20260331_154314"}}
    return _dump(payload, {"stablenew:schema": "stablenew.image-metadata.v2.6",
                           "stablenew:job_id": str(payload["job_id"]),
                           "stablenew:run_id": str(payload["run_id"]),
                           "stablenew:stage": "txt2img"})


def stablenew_dump_2026_01() -> dict[str, Any]:
    """2026-01 (destroyer42/StableNew2 reports/diagnostics/temp_extract/artifacts/
    image_metadata/adetailer_*.png.meta.json): an adetailer stage whose ``generation`` has
    the denoising strength and a model with its hash; ``seeds.final_seed``."""
    payload = {
        "generation": {"cfg_scale": 5.5, "denoising_strength": 0.26, "height": 1408,
                       "model": "juggernautXL_ragnarokBy.safetensors [dd08fa32f9]",
                       "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 9,
                       "vae": "Automatic", "width": 1024},
        "image": {"format": "png", "height": 1408, "path": "adetailer_p01.png", "width": 1024},
        "job_id": "j-2", "run_id": "20260101_105456_Single", "stage": "adetailer",
        "seeds": {"final_seed": 1789550276, "final_subseed": 1698986388, "original_seed": -1,
                  "original_subseed": -1, "subseed_strength": 0.0},
        "stage_history": [], "stage_manifest": {"name": "adetailer_p01",
                                                "timestamp": "20260101_105456"}}
    return _dump(payload, {"stablenew:stage": "adetailer"})


def stablenew_dump_2025() -> dict[str, Any]:
    """2025-12 (destroyer42/StableNew2 reports/diagnostics/_latest/artifacts/image_metadata/
    upscale_*.png.meta.json): no knobs, only the image and the job; an upscale's seeds are
    all null (its adetailer and txt2img dumps have ``seeds.actual_seed``)."""
    payload = {
        "image": {"format": "png", "height": 2560, "path": "upscale_p02.png", "width": 1536},
        "job_id": "469481f09b2e4d95a573fd64a3ba6d41", "njr": {"snapshot_version": "2.6"},
        "run_id": "20251224_231442_CrazyCoolVariety",
        "seeds": {"actual_seed": None, "actual_subseed": None, "requested_seed": None},
        "stage": "upscale", "stage_manifest": {"name": "upscale_p02",
                                               "timestamp": "20251224_231948"}}
    return _dump(payload, {"stablenew:stage": "upscale"})


def stablenew_job_snapshot() -> dict[str, Any]:
    """A job snapshot, ``build_job_snapshot``'s output (destroyer42/StableNew2
    tests/data/snapshots/job_snapshot_simple_txt2img.json): ``schema_version`` 1.0, the
    knobs in ``normalized_job.config`` and the seed in ``normalized_job.seed``."""
    return {
        "schema_version": "1.0", "recorded_at": "2025-12-07T19:11:18.632870",
        "job_id": "snapshot-simple-txt2img",
        "run_config": {"run_mode": "queue", "prompt_source": "manual", "source": "gui"},
        "normalized_job": {
            "job_id": "snapshot-simple-txt2img", "path_output_dir": "runs/simple",
            "seed": 12345, "variant_index": 0, "variant_total": 1, "batch_index": 0,
            "config": {"prompt": "sunset over a calm lake", "negative_prompt": "blur",
                       "model": "stable-diffusion-v1", "sampler": "Euler", "steps": 30,
                       "cfg_scale": 7.5, "stages": ["txt2img"]}},
        "effective_prompts": {"positive": "sunset over a calm lake", "negative": "blur"},
        "seed_info": {"master_seed": 12345, "variant_index": 0},
        "model_selection": {"base_model": "stable-diffusion-v1", "refiner_model": None},
    }


def stablenew_data_files() -> dict[str, Any]:
    """JSON files of a StableNew data folder that are no records (destroyer42/StableNew2
    data/: ``lora_cache.json``, ``embedding_cache.json`` (a list), ``webui_cache.json``)."""
    return {
        "lora_cache.json": {"add-detail-xl": {
            "name": "add-detail-xl", "path": "C:\\sd\\models\\Lora\\add-detail-xl.safetensors",
            "file_size": 228452344, "keywords": [], "source": "none", "description": ""}},
        "embedding_cache.json": [{"name": "ac_neg1", "path": "C:\\sd\\embeddings\\ac_neg1.pt",
                                  "file_size": 426136},
                                 {"name": "bad_prompt", "path": "C:\\sd\\embeddings\\bad.pt",
                                  "file_size": 131224}],
        "webui_cache.json": {"workdir": "C:\\sd", "command": ["webui-user.bat", "--api"],
                             "timestamp": 1775063416.971558},
    }
