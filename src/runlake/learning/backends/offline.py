"""``OfflineBackend``: a deterministic stand-in for the WebUI, for the demo and the tests.

It renders a small PNG whose pixels depend only on the config (a gradient and shapes seeded
by model, sampler, CFG, seed and prompt), embeds the WebUI's infotext in the PNG's
``parameters`` text chunk exactly as the WebUI does, and reports a plausible duration (from
steps, image size, model class and sampler cost) instead of sleeping for it.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from runlake.errors import BackendError
from runlake.learning.backends.base import GenerationResult
from runlake.learning.configs import Stage
from runlake.records import Infotext, format_infotext

DEFAULT_MODEL = "sd_xl_base_1.0.safetensors"
THUMBNAIL = 64  # longest side of a rendered image: a real render would be 1024
MAX_SIDE = 256
_OVERHEAD_S = 1.2  # model call, VAE decode, PNG save
# Seconds per step for a 1024x1024 image on a mid-range GPU.
_STEP_S_XL = 0.12
_STEP_S_SD15 = 0.05
# Keys a txt2img infotext carries only when a hires pass ran.
_HIRES_KEYS = ("denoising_strength", "hr_scale", "hr_second_pass_steps", "hr_upscaler")
_NOT_INFOTEXT = ("enable_hr", "batch_size", "n_iter")


class OfflineBackend:
    """Renders deterministic PNGs; ``model`` is the checkpoint "loaded" at start.

    >>> result = OfflineBackend().generate("txt2img", {"prompt": "a fox", "seed": 1})
    >>> result.images[0][:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """

    name = "offline"

    def __init__(self, *, model: str = DEFAULT_MODEL, thumbnail: int = THUMBNAIL) -> None:
        self._model = model
        self.thumbnail = thumbnail

    def current_model(self) -> str:
        """The last checkpoint a config asked for (the WebUI keeps it loaded too)."""
        return self._model

    def generate(
        self, stage: Stage, config: Mapping[str, Any], *, init_image: bytes | None = None
    ) -> GenerationResult:
        if stage == "upscale":
            return _upscale(config, _require(init_image, stage))
        if stage == "img2img":
            _require(init_image, stage)
        self._model = str(config.get("model") or self._model)
        seed = _seed(config)
        count = max(1, int(config.get("batch_size") or 1))
        images = tuple(self._render(stage, config, seed + index, init_image)
                       for index in range(count))
        duration = _duration(stage, config, self._model, count, seed)
        return GenerationResult(images, seed, duration,
                                {"sd_model_checkpoint": self._model, "seed": seed})

    def _render(
        self, stage: Stage, config: Mapping[str, Any], seed: int, init_image: bytes | None
    ) -> bytes:
        effective = {**config, "model": self._model, "seed": seed}
        rng = random.Random(_fingerprint(effective))
        image = _gradient(_size(config, self.thumbnail), rng)
        if init_image is not None:
            base = _open(init_image).convert("RGB").resize(image.size)
            image = Image.blend(base, image, float(config.get("denoising_strength") or 0.5))
        _shapes(image, rng, count=3 + int(config.get("steps") or 20) // 10)
        return _png(image, format_infotext(Infotext.from_config(_infotext_config(stage,
                                                                                 effective))))


def _upscale(config: Mapping[str, Any], image_bytes: bytes) -> GenerationResult:
    source = _open(image_bytes)
    factor = float(config.get("upscaling_resize") or 2)
    width, height = (min(MAX_SIDE, round(side * factor)) for side in source.size)
    text = source.info.get("parameters", "")
    upscaler = str(config.get("upscaler") or "None")
    text += f", Postprocess upscale by: {factor:g}, Postprocess upscaler: {upscaler}"
    image = source.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    return GenerationResult((_png(image, text),), None, round(0.5 + 0.8 * factor**2, 3), {})


def _infotext_config(stage: Stage, config: Mapping[str, Any]) -> dict[str, Any]:
    # Only what the WebUI itself would write: no hires keys without a hires pass.
    skip = set(_NOT_INFOTEXT)
    if stage == "txt2img" and not config.get("enable_hr"):
        skip.update(_HIRES_KEYS)
    return {key: value for key, value in config.items() if key not in skip}


def _seed(config: Mapping[str, Any]) -> int:
    seed = config.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
        return seed
    # The WebUI's -1 means "random"; offline it is derived from the config, so reruns agree.
    return int(_fingerprint(config)[:8], 16)


def _duration(stage: Stage, config: Mapping[str, Any], model: str, count: int,
              seed: int) -> float:
    steps = int(config.get("steps") or 20)
    if stage == "img2img":
        steps = max(1, round(steps * float(config.get("denoising_strength") or 0.5)))
    per_step = _STEP_S_XL if "xl" in model.lower() else _STEP_S_SD15
    sampler = str(config.get("sampler_name") or config.get("sampler") or "")
    cost = 2.0 if any(s in sampler for s in ("SDE", "Heun", "DPM2")) else 1.0  # 2 evals/step
    pixels = int(config.get("width") or 1024) * int(config.get("height") or 1024) / 1024**2
    jitter = random.Random(seed).uniform(0.95, 1.05)
    return round((_OVERHEAD_S + steps * per_step * cost * pixels * count) * jitter, 3)


def _size(config: Mapping[str, Any], thumbnail: int) -> tuple[int, int]:
    width = int(config.get("width") or 1024)
    height = int(config.get("height") or 1024)
    scale = thumbnail / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _gradient(size: tuple[int, int], rng: random.Random) -> Image.Image:
    start = tuple(rng.randrange(256) for _ in range(3))
    end = tuple(rng.randrange(256) for _ in range(3))
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _shapes(image: Image.Image, rng: random.Random, *, count: int) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(count):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(2, max(3, min(width, height) // 3))
        color = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)


def _png(image: Image.Image, parameters: str) -> bytes:
    info = PngInfo()
    info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except OSError as exc:  # PIL.UnidentifiedImageError is an OSError
        raise BackendError(f"offline backend: the input image is not readable ({exc})") from exc
    return image


def _fingerprint(config: Mapping[str, Any]) -> str:
    text = repr(sorted((str(k), repr(v)) for k, v in config.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _require(image: bytes | None, stage: str) -> bytes:
    if image is None:
        raise BackendError(f"offline backend: {stage} needs an input image")
    return image
