"""The static HTML report and its figures: plots present, nothing external, record text
escaped, degenerate input handled, and the page as headless Chromium renders it."""

from __future__ import annotations

import random
import re
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from matplotlib.figure import Figure
from PIL import Image

import runlake
from runlake.analysis import plots
from runlake.testing import sweep

CHROMIUM = Path("/usr/bin/chromium")
EVIL = "<script>alert(1)</script>"
PLOTS = ("heatmap", "cfg-curves", "variants", "duration")
SNAPSHOT = {"lake": "/data/lake", "runs_version": 7, "note": f"{EVIL} & more"}
T0 = datetime(2026, 3, 20, tzinfo=timezone.utc)


def sweep_runs() -> list[dict[str, Any]]:
    """3 models x 3 samplers x 2 steps x 3 CFG x 2 seeds, ratings with a CFG trend."""
    rng = random.Random(5)
    grid = {"model": ["sdxl", "juggernautXL", EVIL], "sampler": ["Euler a", "DPM++ 2M", "UniPC"],
            "steps": [20, 30], "cfg_scale": [4.5, 6.0, 7.5], "seed": [1, 2]}
    return [
        {"record_id": f"r{c.index:04d}", "event_time": c.time, **c.knobs,
         "prompt": [EVIL, "a $5 fox, $x$ and $\\frac$"][c.index % 2], "experiment_id": None,
         "experiment_name": None, "variant_index": None, "variant_value": None,
         "rating": float(min(5, max(1, round(3.5 - abs(c["cfg_scale"] - 6)
                                             + rng.gauss(0, 0.7))))),
         "duration": c["steps"] * 0.2 + rng.random()}
        for c in sweep(grid, start=T0)
    ]


def experiment_runs() -> list[dict[str, Any]]:
    """Two experiments of 4 variants x 3 seeds; the first variant is the baseline."""
    rng = random.Random(6)
    return [
        {"record_id": f"x{e}{v}{s}", "event_time": T0 + timedelta(hours=6 + e, minutes=v),
         "model": "sdxl", "sampler": "Euler a", "steps": 10 * (v + 1), "cfg_scale": 6.0,
         "seed": s, "prompt": "a lighthouse", "experiment_id": f"exp{e}",
         "experiment_name": [EVIL, "steps $weep"][e], "variant_index": v,
         "variant_value": str(10 * (v + 1)), "rating": 2.0 + 0.7 * v + rng.gauss(0, 0.4),
         "duration": 2.0 * (v + 1)}
        for e, v, s in (c.knobs.values() for c in sweep(
            {"experiment": range(2), "variant": range(4), "seed": range(3)}, start=T0))
    ]


@pytest.fixture(scope="module")
def runs() -> pl.DataFrame:
    return pl.DataFrame(sweep_runs() + experiment_runs(), schema_overrides={
        "event_time": pl.Datetime("us", "UTC"), "variant_index": pl.Int64,
        "experiment_id": pl.String, "experiment_name": pl.String, "variant_value": pl.String})


@pytest.fixture(scope="module")
def page(runs: pl.DataFrame) -> str:
    return runlake.render_report(runs, title=f"Sweep {EVIL}", snapshot=SNAPSHOT)


def test_the_page_has_each_plot_as_inline_svg_and_its_table(page: str) -> None:
    for plot in PLOTS:
        figure = re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b(.*?)</svg>', page,
                           re.DOTALL)
        assert figure is not None, plot
        assert figure[1].count("<path") > 10, plot  # drawn, not an empty frame
        assert f'<table class="stats" id="{plot}-table">' in page
    assert page.count("<svg") == len(PLOTS)
    assert '<table class="snapshot" id="snapshot">' in page and "runs_version" in page
    assert '<table class="stats" id="best-runs-table">' in page


def test_the_page_needs_nothing_from_outside(page: str) -> None:
    assert re.search(r"[a-zA-Z][a-zA-Z0-9+.-]*://", page) is None  # no URL of any scheme
    assert re.search(r"url\((?!#)", page) is None  # CSS/SVG references are internal only
    assert not re.search(r"\b(src|srcset|action)=|<image\b|<link\b|<script\b|@import|data:",
                         page, re.IGNORECASE)
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert [name for name, count in ids.items() if count > 1] == []
    for target in re.findall(r'(?:href="#|url\(#)([^")]+)', page):
        assert ids[target] == 1, target  # every internal reference resolves


def test_record_text_is_escaped(page: str) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page  # from the snapshot
    assert "<title>Sweep &lt;script&gt;" in page


def test_the_same_input_gives_the_same_page(runs: pl.DataFrame, page: str) -> None:
    assert runlake.render_report(runs, title=f"Sweep {EVIL}", snapshot=SNAPSHOT) == page


@pytest.mark.parametrize("data", [
    pl.DataFrame(),
    pl.DataFrame({"rating": [4.0], "record_id": ["r1"]}),
    pl.DataFrame({"model": [None, None], "sampler": [None, "Euler a"], "steps": [None, 20],
                  "cfg_scale": [None, None], "rating": [None, None],
                  "duration": [None, 1.0]}, schema_overrides={"rating": pl.Float64,
                                                              "cfg_scale": pl.Float64}),
], ids=["no columns", "no knobs", "nothing rated"])
def test_degenerate_input_gives_a_page_that_says_so(data: pl.DataFrame, tmp_path: Path) -> None:
    out = runlake.write_report(data, tmp_path / "sub" / "report.html")
    text = out.read_text(encoding="utf-8")
    assert text.count("<svg") == len(PLOTS)
    assert "No " in text and text.rstrip().endswith("</html>")


def test_each_plot_is_a_figure_for_rich_and_poor_input(runs: pl.DataFrame) -> None:
    figures = [plots.heatmap(plots.sampler_steps_stats(runs)), plots.cfg_curves(runs),
               plots.variants_vs_baseline(runs), plots.duration_vs_steps(runs),
               plots.heatmap(pl.DataFrame()), plots.cfg_curves(runs.head(0)),
               plots.variants_vs_baseline(runs.drop("experiment_id")),
               plots.duration_vs_steps(runs.drop("duration"))]
    assert all(isinstance(figure, Figure) for figure in figures)
    assert len(figures[2].axes) == 2  # one panel per experiment
    assert len(plots.variants_vs_baseline(runs, max_experiments=1).axes) == 1
    table = plots.variant_stats(runs)
    assert table.filter(pl.col("variant_index") == 0)["diff"].to_list() == [0.0, 0.0]


# --- in a real browser -------------------------------------------------------------------

def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[bytes]:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               *args]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="Debian's chromium is not installed (apt-get install chromium)")
def test_chromium_renders_the_page_with_its_plots(runs: pl.DataFrame, tmp_path: Path) -> None:
    report = runlake.write_report(runs, tmp_path / "report.html", snapshot=SNAPSHOT)
    url = report.resolve().as_uri()
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    rendered = dom.stdout.decode()
    for plot in PLOTS:
        assert re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b', rendered), plot
    assert "<script" not in rendered.lower()
    shot = tmp_path / "shot.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1280,2000", url,
                    profile=tmp_path / "profile-shot")
    assert done.returncode == 0 and shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    assert_not_blank(shot)


def assert_not_blank(png: Path) -> None:
    """The screenshot shows a page with plots: many colors, and a fair part not white."""
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 2000)
    small = image.resize((320, 500))
    pixels = [small.getpixel((x, y)) for y in range(small.height) for x in range(small.width)]
    not_white = sum(1 for pixel in pixels if min(pixel) < 235) / len(pixels)
    palette = small.quantize(colors=64)
    colors = len({palette.getpixel((x, y)) for y in range(palette.height)
                  for x in range(palette.width)})
    # A blank or unstyled page has a handful of colors; the plots bring viridis and lines.
    assert not_white > 0.05 and colors > 20, (not_white, colors)
