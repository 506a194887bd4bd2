"""What real files written by the tools showed beyond the formats' public code: each test
builds the layout of one real file (``runlake.testing.real_shapes``, which names it) and
checks what the import reads from it. The real files themselves are not in the repository;
``docs/importers.md`` lists the repositories they came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runlake
from runlake import import_stablenew
from runlake.importers.containers import read_meta
from runlake.importers.reading import ImageRead, read_file
from runlake.testing import images, real_shapes

KNOBS = ("model", "model_hash", "sampler_name", "scheduler", "steps", "cfg_scale", "seed",
         "width", "height", "denoising_strength", "clip_skip", "prompt", "negative_prompt")


def read(tmp_path: Path, name: str, data: bytes) -> ImageRead:
    path = tmp_path / name
    path.write_bytes(data)
    return read_file(str(path))


def knobs(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in KNOBS if k in config}


def passes(found: ImageRead) -> list[tuple[str, dict[str, Any]]]:
    assert found.reason is None, found.reason
    assert found.generation is not None
    return [(p.stage, knobs(p.config)) for p in found.generation.passes]


# -- JSON in EXIF and in parameters ----------------------------------------------------------


def test_novelai_webp_is_read_like_its_png(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/webp/novelai-curated.webp: the PNG's text keys as JSON in
    an ASCII-coded UserComment. It used to become a run with no knob at all."""
    comment = {**images.NOVELAI_COMMENT, "prompt": "1girl, テスト"}
    webp = read(tmp_path, "novelai.webp", real_shapes.novelai_webp(comment))
    png = read(tmp_path, "novelai.png", images.novelai_png(
        comment, source="NovelAI Diffusion V4.5 C02D4F98"))
    assert webp.generation is not None and webp.generation.tool == "novelai"
    assert passes(webp) == passes(png)
    assert passes(webp)[0][1]["prompt"] == "1girl, テスト"


def test_an_ascii_coded_user_comment_keeps_its_utf8(tmp_path: Path) -> None:
    """NovelAI's WebP writes UTF-8 behind the ``ASCII`` character code (enslo/sd-metadata
    samples/webp/novelai-full-3char.webp): non-ASCII text must not become U+FFFD."""
    path = tmp_path / "ascii.jpg"
    path.write_bytes(real_shapes.exif_image(user_comment=b"ASCII\0\0\0" + "テスト".encode()))
    with path.open("rb") as stream:
        assert read_meta(stream).texts["parameters"] == "テスト"


def test_a_novelai_director_tool_image_has_no_generation(tmp_path: Path) -> None:
    """LlmKira/novelai-python playground/augment-image.png: ``{"req_type": "sketch"}`` is no
    generation; it used to become a run with every knob null."""
    found = read(tmp_path, "augment.png", real_shapes.novelai_augment_png())
    assert found.generation is None
    assert found.reason is not None and found.reason.startswith("no generation metadata")


def test_swarmui_jpeg(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/jpg/swarmui.jpg: ``sui_image_params`` JSON in a UTF-16-LE
    UserComment; it used to be read as an infotext (the JSON became the prompt)."""
    found = read(tmp_path, "swarm.jpg", real_shapes.swarmui_jpeg())
    assert found.generation is not None and found.generation.tool == "swarmui"
    assert found.generation.version == "0.9.7.4"
    assert passes(found) == [("txt2img", {
        "model": "juggernautXL_v9", "model_hash": "22d8cb95b8", "sampler_name": "Euler a",
        "scheduler": "Karras", "steps": 20, "cfg_scale": 7.0, "seed": 697543491,
        "width": 1024, "height": 1024, "prompt": "a red fox in the snow",
        "negative_prompt": "lowres"})]


@pytest.mark.parametrize("writer", [real_shapes.comfy_saveimage_plus_jpeg,
                                    real_shapes.comfy_save_image_extended_jpeg])
def test_comfy_graphs_in_jpeg_exif(tmp_path: Path, writer: Any) -> None:
    """enslo/sd-metadata samples/jpg/comfyui-saveimage-plus.jpg (``{"prompt", "workflow"}``
    JSON in IFD0 UserComment) and comfyui-save-image-extended.jpeg (``Prompt: {...}`` in
    Make): the same passes as the PNG ComfyUI saves. They used to be a JSON "prompt" with no
    knob, and rejected, respectively."""
    prompt, workflow = images.comfy_two_pass()
    found = read(tmp_path, "comfy.jpg", writer(prompt, workflow))
    png = read(tmp_path, "comfy.png", images.comfyui_png(prompt, workflow))
    assert found.generation is not None and found.generation.tool == "comfyui"
    assert passes(found) == passes(png)


def test_civitai_generator_jpeg_holds_a_comfy_graph(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/jpg/civitai-hires.jpg: Civitai's generator writes the
    ComfyUI graph it ran (plus ``extraMetadata``) to the UserComment."""
    graph, extra = real_shapes.civitai_img2img_hires()
    found = read(tmp_path, "civitai.jpg", real_shapes.civitai_graph_jpeg(graph, extra))
    assert found.generation is not None and found.generation.tool == "civitai"
    assert passes(found) == [("img2img", {
        "model": "urn:air:sdxl:checkpoint:civitai:827184@2514310", "sampler_name": "Euler a",
        "scheduler": "Normal", "steps": 25, "cfg_scale": 5.0, "seed": 1311178179,
        "width": 1536, "height": 1536, "denoising_strength": 0.3,
        "prompt": "a red fox in the snow", "negative_prompt": "lowres"})]
    assert found.generation.extra["civitai_metadata"]["workflowId"] == "img2img-hires"


@pytest.mark.parametrize(("writer", "saver"), [(real_shapes.swarmui_png, "swarmui"),
                                               (real_shapes.stability_matrix_png,
                                                "stability_matrix")])
def test_the_saver_next_to_a_comfy_graph_is_named(tmp_path: Path, writer: Any,
                                                  saver: str) -> None:
    """enslo/sd-metadata samples/png/swarmui.png and stability-matrix.png: a ``parameters``
    next to the graph was taken for ComfyUI-Image-Saver's infotext; the graph still decides
    every knob."""
    prompt, _ = images.comfy_two_pass()
    found = read(tmp_path, "saved.png", writer(prompt))
    plain = read(tmp_path, "comfy.png", images.comfyui_png(prompt, None))
    assert found.generation is not None and found.generation.tool == "comfyui"
    assert found.generation.extra["saver"] == saver
    assert passes(found) == passes(plain)


def test_json_parameters_of_a_gradio_app(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/huggingface-space.png: JSON in ``parameters``; a full
    SHA-256 model hash is cut to A1111's 10 digits so both name the same file."""
    found = read(tmp_path, "space.png", real_shapes.json_parameters_png(
        real_shapes.GRADIO_PARAMS))
    assert found.generation is not None and found.generation.tool == "json"
    assert passes(found) == [("txt2img", {
        "model": "WAI NSFW illustrious SDXL v16", "model_hash": "bdb59bac77",
        "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 24, "cfg_scale": 5.5,
        "seed": 443800072, "width": 1024, "height": 1024, "prompt": "a red fox in the snow",
        "negative_prompt": "lowres,"})]


def test_json_parameters_of_ruined_fooocus(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/ruined-fooocus.png: its own JSON keys, ComfyUI ids."""
    found = read(tmp_path, "ruined.png", real_shapes.json_parameters_png(
        real_shapes.RUINED_FOOOCUS_PARAMS))
    assert found.generation is not None and found.generation.tool == "ruinedfooocus"
    assert passes(found) == [("txt2img", {
        "model": "juggernautXL_v9", "model_hash": "befc694a29", "sampler_name": "DPM++ 2M SDE",
        "scheduler": "Karras", "steps": 30, "cfg_scale": 8.0, "seed": 2020047614,
        "width": 1024, "height": 1024, "clip_skip": 1, "prompt": "a red fox in the snow",
        "negative_prompt": "lowres"})]


def test_unknown_json_parameters_are_no_generation(tmp_path: Path) -> None:
    """A JSON object nobody's keys match is not an infotext whose prompt is the JSON."""
    found = read(tmp_path, "odd.png", real_shapes.json_parameters_png({"foo": 1, "bar": "x"}))
    assert found.generation is None
    assert found.reason is not None and found.reason.startswith("no generation metadata")


# -- infotexts ---------------------------------------------------------------------------------


def test_sdnext_before_its_app_key(tmp_path: Path) -> None:
    """vladmandic/automatic html/logo-bg-0.jpg: no ``App: SD.Next``; ``Parser`` tells;
    ``Sampler: Default`` is the pipeline's own scheduler, unknown, not a sampler named
    "Default" (``runlake stats`` listed it as unrecognised)."""
    found = read(tmp_path, "sdnext.png", images.a1111_png(real_shapes.SDNEXT_2023))
    assert found.generation is not None and found.generation.tool == "sdnext"
    assert passes(found) == [("txt2img", {
        "model": "sdxl_sdxl-base-0.9", "model_hash": "4b64ace6", "steps": 20, "cfg_scale": 6.0,
        "seed": 3693352615, "width": 1024, "height": 1024,
        "prompt": "photo of a cute robot with a dark background"})]


@pytest.mark.parametrize("text", [real_shapes.FORGE_CLASSIC, real_shapes.FORGE_NEO],
                         ids=["classic", "neo"])
def test_forge_classic_and_neo_are_forge(tmp_path: Path, text: str) -> None:
    """enslo/sd-metadata samples/png/forge-classic.png, forge-neo.png: ``Version: classic``
    and ``Version: neo-2.28`` were labelled a1111."""
    found = read(tmp_path, "forge.png", images.a1111_png(text))
    assert found.generation is not None and found.generation.tool == "forge"
    assert passes(found)[0][1]["scheduler"] == "Karras"


def test_comfy_save_with_metadata_infotext(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/webp/comfyui-saveimagewithmetadata.webp: a ComfyUI node's
    infotext (``Hashes`` JSON, no Version) is not an A1111 one from before v1.9, so its
    plain "Euler a" does not mean A1111's "Uniform" (ComfyUI ran its own scheduler)."""
    found = read(tmp_path, "comfy.webp", real_shapes.infotext_webp(
        real_shapes.COMFY_SAVE_WITH_METADATA))
    assert found.generation is not None and found.generation.tool == "comfyui"
    assert passes(found) == [("txt2img", {
        "model": "waiIllustriousSDXL_v160", "model_hash": "45a21ea00a",
        "sampler_name": "Euler a", "steps": 20, "cfg_scale": 5.0, "seed": 827555711811618,
        "width": 1024, "height": 1024, "clip_skip": 2, "prompt": "a red fox in the snow",
        "negative_prompt": "lowres"})]


# -- ComfyUI graphs ---------------------------------------------------------------------------

FOX_1024 = {"model": "waiIllustriousSDXL_v160", "sampler_name": "Euler a",
            "scheduler": "Karras", "cfg_scale": 5.0, "prompt": "a red fox in the snow",
            "negative_prompt": "lowres"}


def test_comfy_hires_in_pixel_space(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/comfyui-hires.png: decode, upscale model, ImageScale,
    encode, resample. The second sampler was labelled img2img with no size; it is a hires
    pass at 1536x1536. CLIPSetLastLayer -2 is clip skip 2 (the infotext ComfyUI savers
    write next to such graphs says so)."""
    found = read(tmp_path, "hires.png", images.comfyui_png(*real_shapes.comfy_pixel_hires()))
    assert passes(found) == [
        ("txt2img", {**FOX_1024, "steps": 20, "seed": 1116526567339338, "width": 1024,
                     "height": 1024, "denoising_strength": 1.0, "clip_skip": 2}),
        ("hires", {**FOX_1024, "steps": 10, "seed": 204096574905147, "width": 1536,
                   "height": 1536, "denoising_strength": 0.3, "clip_skip": 2})]


def test_comfy_preview_branches_are_not_passes(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/comfyui-comfyroll.png: four samplers, two of which feed
    only PreviewImage nodes; the saved image had two passes. Its rgthree latent node gives
    the size as ``dimensions: "1024 x 1024  (square)"``."""
    found = read(tmp_path, "branch.png", images.comfyui_png(
        *real_shapes.comfy_preview_branch()))
    assert passes(found) == [
        ("txt2img", {**FOX_1024, "steps": 30, "seed": 942975376742792, "width": 1024,
                     "height": 1024, "denoising_strength": 1.0}),
        ("hires", {**FOX_1024, "steps": 20, "seed": 273964256726222, "width": 1536,
                   "height": 1536, "denoising_strength": 0.6})]


def test_comfy_early_2023_sampler_ids(tmp_path: Path) -> None:
    """d3x-at/sd-parsers tests/resources/parsers/ComfyUI/img2img_cropped.png:
    ``sample_dpmpp_2m`` (``runlake stats`` listed it as unrecognised)."""
    found = read(tmp_path, "early.png", images.comfyui_png(*real_shapes.comfy_early_2023()))
    assert passes(found)[0][1]["sampler_name"] == "DPM++ 2M"


def test_comfy_model_through_a_switch(tmp_path: Path) -> None:
    """enslo/sd-metadata samples/png/krea2.png: the model came through a ComfySwitchNode
    and was lost; a switched prompt is the branch the switch takes."""
    found = read(tmp_path, "switch.png", images.comfyui_png(
        *real_shapes.comfy_switched_model()))
    config = passes(found)[0][1]
    assert (config["model"], config["prompt"]) == ("krea2_turbo_int8", "a red fox in the snow")


# -- StableNew's image metadata dumps ----------------------------------------------------------


def test_stablenew_dumps_keep_their_knobs(lake: runlake.Lake, tmp_path: Path) -> None:
    """destroyer42/StableNew2 reports/diagnostics/*/artifacts/image_metadata/*.png.meta.json:
    those of 2026 carry the generation in ``payload.generation`` (they came in with no
    knob); those of 2025-12 and every ``adetailer`` / ``upscale`` stage lost their seed and
    size, filed under a stage compaction does not read."""
    folder = tmp_path / "image_metadata"
    folder.mkdir()
    for name, document in (("txt2img.png.meta.json", real_shapes.stablenew_dump_2026()),
                           ("adetailer.png.meta.json", real_shapes.stablenew_dump_2026_01()),
                           ("upscale.png.meta.json", real_shapes.stablenew_dump_2025())):
        (folder / name).write_text(json.dumps(document, indent=2))
    report = import_stablenew(lake, folder)
    assert report.rejected == [] and report.appended["runs"] == 3
    lake.compact()
    found = {r["stage"]: r for r in lake.scan("runs").collect().iter_rows(named=True)}
    columns = ("model", "model_hash", "sampler", "scheduler", "steps", "cfg_scale", "seed",
               "width", "height", "denoising_strength", "clip_skip")
    assert {k: found["txt2img"][k] for k in columns} == {
        "model": "babesByStableYogiPony_xlV4", "model_hash": None, "sampler": "DPM++ 2M",
        "scheduler": "Karras", "steps": 30, "cfg_scale": 6.43, "seed": None, "width": 768,
        "height": 1024, "denoising_strength": None, "clip_skip": 2}
    assert found["txt2img"]["prompt"] == "a red fox in the snow"
    assert {k: found["adetailer"][k] for k in columns} == {
        "model": "juggernautXL_ragnarokBy", "model_hash": "dd08fa32f9", "sampler": "DPM++ 2M",
        "scheduler": "Karras", "steps": 9, "cfg_scale": 5.5, "seed": 1789550276,
        "width": 1024, "height": 1408, "denoising_strength": 0.26, "clip_skip": None}
    upscale = found["upscale"]
    assert (upscale["seed"], upscale["width"], upscale["height"]) == (None, 1536, 2560)


def test_stablenew_job_snapshots_are_runs(lake: runlake.Lake, tmp_path: Path) -> None:
    """destroyer42/StableNew2 tests/data/snapshots/job_snapshot_simple_txt2img.json: a
    snapshot came in as a record of nothing (no knob, no run id, no kind)."""
    path = tmp_path / "job_snapshot.json"
    path.write_text(json.dumps(real_shapes.stablenew_job_snapshot(), indent=2))
    report = import_stablenew(lake, path)
    assert report.rejected == [] and report.appended["runs"] == 1
    lake.compact()
    (row,) = lake.scan("runs").collect().iter_rows(named=True)
    assert {k: row[k] for k in ("run_id", "record_kind", "model", "sampler", "steps",
                                "cfg_scale", "seed", "prompt", "negative_prompt")} == {
        "run_id": "snapshot-simple-txt2img", "record_kind": "stablenew_job_history",
        "model": "stable-diffusion-v1", "sampler": "Euler", "steps": 30, "cfg_scale": 7.5,
        "seed": 12345, "prompt": "sunset over a calm lake", "negative_prompt": "blur"}


def test_other_json_of_a_stablenew_folder_is_rejected(lake: runlake.Lake,
                                                      tmp_path: Path) -> None:
    """destroyer42/StableNew2 data/*.json (LoRA and embedding caches, the WebUI cache): a
    folder import made 20 empty runs of them, silently."""
    for name, document in real_shapes.stablenew_data_files().items():
        (tmp_path / name).write_text(json.dumps(document, indent=2))
    report = import_stablenew(lake, tmp_path)
    assert report.total_appended == 0
    reasons = sorted((r.source.split()[0], r.reason) for r in report.rejected)
    assert [where for where, _ in reasons] == ["embedding_cache.json"] * 2 + [
        "lora_cache.json", "webui_cache.json"]
    assert all(reason.startswith("not a StableNew record (keys: ") for _, reason in reasons)
