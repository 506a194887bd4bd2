"""A small rated lake (runs half compacted, half raw; ratings linked three ways) for the
analysis tests and the analysis commands' tests, and the demo lake with its images."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

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


def demo_with_images(root: Path) -> runlake.Lake:
    """The demo sweep (2 seeds: 77 runs, every one with a PNG the offline backend wrote under
    ``root/images``), compacted."""
    lake = runlake.Lake(root / "lake")
    runlake.run_demo(lake, seeds=2, images_dir=root / "images")
    lake.compact()
    lake.close()
    return lake


@dataclass(frozen=True)
class DemoReport:
    """The demo lake's report as written once, and the progress it reported."""

    path: Path
    events: list[runlake.ReportProgress]

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def grid_cells(page: str) -> list[str]:
    """The HTML of every image-grid cell that has runs (not the 'not run' ones)."""
    return re.findall(r'<td><figure class="cell[^"]*">(.*?)</figure></td>', page, re.DOTALL)


def decode_data_uri(uri: str) -> Image.Image:
    """The image a ``data:image/...;base64,`` URI holds, decoded by Pillow."""
    match = re.fullmatch(r"data:image/(webp|jpeg);base64,([A-Za-z0-9+/=]+)", uri)
    assert match is not None, uri[:80]
    image = Image.open(io.BytesIO(base64.b64decode(match[2])))
    image.load()
    return image
