"""``runlake report`` on a lake of 1,000,000 runs, 100,000 of them with an image on disk.

Run: python bench/report.py [--runs 1000000] [--images 100000] [--cache DIR] [--rebuild]

The lake is built once and reused from ``--cache`` (default ``$RUNLAKE_BENCH_CACHE``, else
``~/.cache/runlake-bench``); building is not timed. It holds ``--runs`` run records appended
through ``append_many`` and compacted: 90 % sweep runs over 30 prompts (4 models, 8 samplers,
6 step counts, 7 CFG scales, 24 seeds per prompt), 10 % in 20 one-knob experiments; 85 % rated
in the record, 5 % by separate rating records. ``--images`` of the runs name an image: hard
links to 1,000 distinct 1024x1024 PNGs (a gradient and shapes, ~15 KB each). Decoding one
costs what decoding a real 1024x1024 render costs (~30 ms here: pixel count dominates, not
file size); the links keep the build to seconds and the disk to ~15 MB instead of 100,000
files of 1.5 MB.

Timed: ``runlake report`` end to end, in a fresh process (imports included), twice: cold
(the thumbnail cache under the lake deleted first) and warm (the cache the cold run wrote).
Prints both times and the page size against the target (<= 15 s and <= 10 MB on 2 cores),
with the CPU seconds the report used and the machine's load average when it started: on a
shared machine the wall time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

import runlake

TARGET_SECONDS = 15.0
TARGET_BYTES = 10_000_000
DISTINCT_IMAGES = 1000
IMAGE_SIDE = 1024
BUILD_VERSION = 1  # bump when the generated lake changes shape
CHUNK = 50_000
MODELS = ("sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors",
          "realisticVision_v51.safetensors", "dreamshaper_8.safetensors")
SAMPLERS = ("Euler a", "Euler", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "UniPC", "DDIM", "LMS")
SCHEDULERS = ("Automatic", "Karras", "Exponential", "SGM Uniform")
STEPS = (15, 20, 25, 30, 40, 50)
CFG_SCALES = (3.0, 4.5, 6.0, 7.0, 7.5, 9.0, 12.0)
SUBJECTS = ("a red fox in the snow", "portrait of an old sailor", "a lighthouse at dusk",
            "a bowl of ramen", "a castle on a cliff", "a cyberpunk street at night")
STYLES = ("golden hour", "studio light", "watercolor", "35mm film", "isometric")
PROMPTS = tuple(f"{subject}, {style}" for subject in SUBJECTS for style in STYLES)
SEEDS_PER_PROMPT = 24
EXPERIMENTS = 20
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
DAYS = 10


# -- building the lake (once) -------------------------------------------------------------

def lake_dir(cache: Path, runs: int, images: int) -> Path:
    return cache / f"report-v{BUILD_VERSION}-{runs}-runs-{images}-images"


def build(root: Path, runs: int, images: int) -> None:
    """The bench lake under ``root`` (``root/lake``, ``root/images``), marked complete last
    so an interrupted build is started again."""
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    rng = np.random.default_rng(12)
    with_image = set(rng.choice(runs, size=min(images, runs), replace=False).tolist())
    distinct = write_distinct_images(root / "images" / "distinct", rng)
    print(f"  {len(distinct)} distinct images written", flush=True)
    lake = runlake.Lake(root / "lake")
    rated_apart: list[dict[str, Any]] = []
    for first in range(0, runs, CHUNK):
        records = [run_record(index, rng, root, with_image, distinct, rated_apart)
                   for index in range(first, min(first + CHUNK, runs))]
        lake.append_many("runs", records)
        print(f"  appended {first + len(records):,} runs", end="\r", flush=True)
    lake.append_many("ratings", rated_apart)
    print(f"\n  compacting ({time.perf_counter() - started:.0f} s so far)", flush=True)
    lake.compact()
    lake.close()
    (root / "complete").write_text("ok\n")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def run_record(index: int, rng: np.random.Generator, root: Path, with_image: set[int],
               distinct: list[Path], rated_apart: list[dict[str, Any]]) -> dict[str, Any]:
    """One run: an experiment's variant for the last 10 % of indexes, else a sweep cell."""
    experiment = index % 10 == 9
    config, metadata = experiment_knobs(index // 10, rng) if experiment else sweep_knobs(rng)
    run_id = f"run-{index:07d}"
    metadata["duration_s"] = round(1.2 + config["steps"] * 0.1 * float(rng.gamma(4, 0.25)), 3)
    rating = simulated_rating(config, rng)
    kept = rng.random()
    if kept < 0.85:
        metadata["user_rating"] = rating
    elif kept < 0.90:
        rated_apart.append({"run_id": run_id, "rating": rating,
                            "timestamp": moment(index).isoformat()})
    if index in with_image:
        metadata["image_path"] = str(image_link(root, index, distinct))
    return {"run_id": run_id, "timestamp": moment(index).isoformat(),
            "base_config": {"txt2img": config}, "metadata": metadata}


def sweep_knobs(rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
    prompt = int(rng.integers(len(PROMPTS)))
    config = {"model": MODELS[rng.integers(len(MODELS))], "prompt": PROMPTS[prompt],
              "negative_prompt": "lowres, watermark",
              "sampler_name": SAMPLERS[rng.integers(len(SAMPLERS))],
              "scheduler": SCHEDULERS[rng.integers(len(SCHEDULERS))],
              "steps": STEPS[rng.integers(len(STEPS))],
              "cfg_scale": CFG_SCALES[rng.integers(len(CFG_SCALES))],
              "seed": 1000 * prompt + int(rng.integers(SEEDS_PER_PROMPT)),
              "width": 1024, "height": 1024}
    return config, {"experiment_name": "nightly sweep"}


def experiment_knobs(index: int, rng: np.random.Generator
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    number = index % EXPERIMENTS
    variable, values = (("steps", STEPS), ("cfg_scale", CFG_SCALES),
                        ("sampler_name", SAMPLERS))[number % 3]
    variant = int(rng.integers(len(values)))
    config = {"model": MODELS[number % len(MODELS)], "prompt": PROMPTS[number],
              "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 30, "cfg_scale": 6.0,
              "seed": int(rng.integers(SEEDS_PER_PROMPT)), "width": 1024,
              "height": 1024, variable: values[variant]}
    context = {"experiment_id": f"exp-{number:02d}",
               "experiment_name": f"{variable} sweep #{number}",
               "variable_under_test": variable, "variant_index": variant,
               "variant_value": str(values[variant])}
    return config, {"learning_context": context}


def simulated_rating(config: dict[str, Any], rng: np.random.Generator) -> int:
    score = (3.0 - abs(float(config["cfg_scale"]) - 6.5) * 0.3
             + min(int(config["steps"]), 40) * 0.02 + SAMPLERS.index(config["sampler_name"]) * 0.06
             + MODELS.index(config["model"]) * 0.15 + float(rng.normal(0, 0.8)))
    return int(max(1, min(5, round(score))))


def moment(index: int) -> datetime:
    # About 100,000 runs a day: a 1,000,000-run lake spans DAYS days, a smaller one fewer.
    return START + timedelta(seconds=index * DAYS * 86_400 // 1_000_000)


def image_link(root: Path, index: int, distinct: list[Path]) -> Path:
    path = root / "images" / f"{index // 1000:04d}" / f"{index:07d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.link(distinct[index % len(distinct)], path)
    return path


def write_distinct_images(folder: Path, rng: np.random.Generator) -> list[Path]:
    folder.mkdir(parents=True)
    ramp = np.linspace(0, 1, IMAGE_SIDE)
    paths = []
    for number in range(DISTINCT_IMAGES):
        low, high = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        pixels = low + np.multiply.outer(np.add.outer(ramp, ramp) / 2, high - low)
        image = Image.fromarray(pixels.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(8):
            x, y = rng.integers(0, IMAGE_SIDE, 2)
            radius = int(rng.integers(20, IMAGE_SIDE // 4))
            draw.ellipse((x - radius, y - radius, x + radius, y + radius),
                         fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        path = folder / f"{number:04d}.png"
        image.save(path, compress_level=1)
        paths.append(path)
    return paths


# -- timing the report --------------------------------------------------------------------

def timed_report(lake: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, every thread) of ``runlake report`` in a fresh
    process, imports included."""
    command = [sys.executable, "-m", "runlake", "--lake", str(lake), "report", "--out", str(out),
               "--title", "Bench sweeps"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"runlake report failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def verdict(seconds: float, size: int) -> str:
    met = seconds <= TARGET_SECONDS and size <= TARGET_BYTES
    return "MET" if met else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=100_000)
    cache = os.environ.get("RUNLAKE_BENCH_CACHE") or Path.home() / ".cache" / "runlake-bench"
    parser.add_argument("--cache", type=Path, default=Path(cache))
    parser.add_argument("--rebuild", action="store_true", help="build the lake again")
    args = parser.parse_args()
    root = lake_dir(args.cache, args.runs, args.images)
    if args.rebuild or not (root / "complete").exists():
        print(f"building the bench lake in {root} (once; not timed)", flush=True)
        build(root, args.runs, args.images)
    lake, out = root / "lake", root / "report.html"
    shutil.rmtree(lake / "cache" / "_thumbnails", ignore_errors=True)
    results = []
    for label in ("cold", "warm"):
        load = os.getloadavg()[0]
        seconds, cpu = timed_report(lake, out)
        results.append((label, seconds, cpu, load, out.stat().st_size))
    print(f"lake: {args.runs:,} runs, {args.images:,} with an image "
          f"({IMAGE_SIDE}x{IMAGE_SIDE} PNG links to {DISTINCT_IMAGES:,} distinct files)")
    for label, seconds, cpu, load, size in results:
        print(f"runlake report, {label} thumbnail cache: {seconds:.1f} s, {size / 1e6:.2f} MB "
              f"(target <= {TARGET_SECONDS:.0f} s and <= {TARGET_BYTES / 1e6:.0f} MB on 2 "
              f"cores: {verdict(seconds, size)}); CPU {cpu:.1f} s, load average {load:.1f} "
              "at the start (a load past 2 means the run waited for the cores)")


if __name__ == "__main__":
    main()
