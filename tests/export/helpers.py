"""A lake grown over two compactions (for exports at a version and fresh), and readers of
an export's card and files; for the export tests and the export commands' tests."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl

import runlake
from runlake.testing import sweep as grid_sweep

T0 = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)


PROMPTS_A = [f"a red fox, take {i}" for i in range(6)]


PROMPTS_B = [f"a lighthouse at dusk, take {i}" for i in range(3)]


PLOTS = ("heatmap", "cfg-curves", "duration")  # a report's plots for a lake without experiments


def sweep(lake: runlake.Lake, prefix: str, prompts: list[str], *, day: int = 0) -> list[str]:
    """Runs of 2 samplers x 2 CFG scales per prompt, and a rating record for each (low CFG
    rated 5, high CFG 2); returns the runs' record ids."""
    grid = {"prompt": prompts, "sampler": ["Euler a", "DPM++ 2M"], "cfg_scale": [4.5, 7.0]}
    runs, ratings = [], []
    for cell in grid_sweep(grid, start=T0 + timedelta(days=day)):
        prompt, sampler, cfg = cell["prompt"], cell["sampler"], cell["cfg_scale"]
        run_id, moment = f"{prefix}{cell.index:03d}", cell.time.isoformat()
        runs.append({"record_id": run_id, "run_id": run_id, "timestamp": moment,
                     "model": "sdxl", "prompt": prompt, "sampler": sampler, "steps": 20,
                     "cfg_scale": cfg, "image_path": f"out/{run_id}.png", "duration": 2.0})
        ratings.append(rating(run_id, 5.0 if cfg == 4.5 else 2.0, moment))
    lake.append_many("runs", runs)
    lake.append_many("ratings", ratings)
    return [run["record_id"] for run in runs]


def rating(run_id: str, value: float, moment: str) -> dict[str, Any]:
    return {"run_id": run_id, "image_path": f"out/{run_id}.png", "rating": value,
            "timestamp": moment}


def card(out: Path) -> str:
    return (out / "README.md").read_text()


def source(out: Path) -> dict[str, str]:
    """The card's Source table as {key: value}."""
    section = card(out).split("## Source", 1)[1].split("## Loading", 1)[0]
    cells = re.findall(r"^\| (\S[^|]*?) \| ([^|]*?) \|$", section, re.MULTILINE)
    return dict(cells[2:])  # past the header and its rule


def rows(result: runlake.ExportResult) -> pl.DataFrame:
    parquet = [path for path in result.files if path.suffix == ".parquet"]
    return pl.concat([pl.read_parquet(path) for path in parquet], how="diagonal_relaxed")


def contents(result: runlake.ExportResult) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in result.files}


def grow(lake: runlake.Lake) -> runlake.Lake:
    """Runs table version 0 (prompts A), then version 1 (prompts B and a re-rating of the
    first A run from 5 to 1), then a few runs and ratings not compacted yet."""
    sweep(lake, "a", PROMPTS_A)
    lake.compact()
    sweep(lake, "b", PROMPTS_B, day=1)
    lake.append("ratings", rating("a000", 1.0, (T0 + timedelta(days=1)).isoformat()))
    lake.compact()
    sweep(lake, "c", PROMPTS_B[:1], day=2)
    return lake
