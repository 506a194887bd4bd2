"""Realistic synthetic sweep records, shaped like StableNew learning records (~1 KB each).

Used by the benchmarks and the tests: deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from runlake.testing.sweep import sweep

MODELS = ("sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors",
          "realisticVision_v51.safetensors")
SAMPLERS = ("Euler a", "DPM++ 2M", "DPM++ SDE", "UniPC")
SCHEDULERS = ("Karras", "Automatic", "Exponential")
CFG_SCALES = (4.5, 6.0, 7.5)
STEPS = (20, 30)
PROMPTS = ("a red fox in the snow", "portrait of an old sailor", "a lighthouse at dusk",
           "a bowl of ramen, studio light")
START = datetime(2026, 3, 20, 9, 0, tzinfo=timezone.utc)


def sweep_records(seeds: int = 2, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """One record per (model, sampler, cfg, steps, seed) cell of a sweep, with a rating."""
    rng = random.Random(seed)
    grid = {"model": MODELS, "sampler": SAMPLERS, "cfg_scale": CFG_SCALES, "steps": STEPS,
            "seed": range(1000, 1000 + seeds)}
    for cell in sweep(grid, start=START):
        knobs = (cell["model"], cell["sampler"], cell["cfg_scale"], cell["steps"], cell["seed"])
        yield run_record(cell.index, knobs, rng)


def run_record(
    index: int, cell: tuple[str, str, float, int, int], rng: random.Random
) -> dict[str, Any]:
    """One StableNew-shaped learning record for a txt2img run of a (model, sampler, cfg, steps,
    seed) sweep cell."""
    model, sampler, cfg, steps, seed = cell
    prompt = PROMPTS[index % len(PROMPTS)]
    config = {
        "model": model, "prompt": prompt, "negative_prompt": "lowres, watermark",
        "sampler_name": sampler, "scheduler": rng.choice(SCHEDULERS), "steps": steps,
        "cfg_scale": cfg, "seed": seed, "width": 1024, "height": 1024, "clip_skip": 2,
        "denoising_strength": 0.35, "enable_hr": False, "hr_scale": 1.5,
    }
    return {
        "run_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": (START + timedelta(minutes=index)).isoformat(),
        "base_config": {"txt2img": config, "pipeline": {"txt2img_enabled": True}},
        "variant_configs": [{"txt2img": {"cfg_scale": cfg}}],
        "randomizer_mode": "sweep", "randomizer_plan_size": 1,
        "primary_model": model, "primary_sampler": sampler,
        "primary_scheduler": config["scheduler"], "primary_steps": steps,
        "primary_cfg_scale": cfg,
        "metadata": {
            "experiment_name": "demo sweep", "record_kind": "sweep_run",
            "image_path": f"output/demo/{index:05d}.png",
            "user_rating": _rating(model, sampler, cfg, steps, rng),
            "duration_s": round(steps * rng.uniform(0.18, 0.26), 2),
        },
        "stage_plan": ["txt2img"],
        "stage_events": [{"phase": "start", "stage": "txt2img"},
                         {"phase": "completed", "stage": "txt2img"}],
        "outputs": [{"path": f"output/demo/{index:05d}.png", "stage": "txt2img"}],
    }


def _rating(model: str, sampler: str, cfg: float, steps: int, rng: random.Random) -> int:
    # A plausible response surface: mid CFG and more steps help, a little per model/sampler.
    score = 3.0 - abs(cfg - 6.0) * 0.4 + (steps - 20) * 0.03
    score += MODELS.index(model) * 0.2 + SAMPLERS.index(sampler) * 0.1
    return max(1, min(5, round(score + rng.gauss(0, 0.6))))
