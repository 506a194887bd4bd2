"""A small rated lake (runs half compacted, half raw; ratings linked three ways) for the
analysis tests and the analysis commands' tests."""

from __future__ import annotations

import runlake

RUNS = [
    {"run_id": "r1", "base_config": {"txt2img": {"sampler_name": "Euler a", "steps": 20,
                                                 "hr_scale": 1.5}},
     "metadata": {"image_path": "out/1.png"}, "timestamp": "2026-03-20T10:00:00"},
    {"run_id": "r2", "base_config": {"txt2img": {"sampler_name": "Euler a", "steps": 30,
                                                 "hr_scale": 2.0}},
     "metadata": {"image_path": "out/2.png"}, "timestamp": "2026-03-20T10:01:00"},
    {"run_id": "r3", "base_config": {"txt2img": {"sampler_name": "DPM++ 2M Karras",
                                                 "steps": 30, "hr_scale": 1.5}},
     "metadata": {"image_path": "out/3.png", "user_rating": 5},
     "timestamp": "2026-03-20T10:02:00"},
    {"run_id": "r4", "base_config": {"txt2img": {"steps": 30}},
     "metadata": {"image_path": "out/4.png"}, "timestamp": "2026-03-20T10:03:00"},
]
RATINGS = [
    {"run_id": "r1", "rating": 2, "timestamp": "2026-03-20T11:00:00"},
    {"run_id": None, "image_path": "out/2.png", "rating": 4, "timestamp": "2026-03-20T11:00:00"},
    {"run_id": "r4", "rating": 3, "timestamp": "2026-03-20T11:00:00"},
]


def fill_rated(lake: runlake.Lake) -> runlake.Lake:
    """Runs r1, r2 compacted, r3, r4 in the raw tail, and three rating records."""
    lake.append_many("runs", RUNS[:2])
    lake.compact("runs")
    lake.append_many("runs", RUNS[2:])  # half compacted, half in the raw tail
    lake.append_many("ratings", RATINGS)
    return lake
