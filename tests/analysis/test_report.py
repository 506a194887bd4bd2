"""The static HTML report: image grids with their numbers, plots of aggregates, nothing
external, record text escaped, empty sections left out, options honoured, images read safely."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import struct
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from matplotlib.figure import Figure

import runlake
from runlake.analysis import GridOptions, ReportOptions, plots
from runlake.analysis.grid import plan_grids
from runlake.analysis.page import CSP, SCRIPT
from runlake.analysis.thumbnails import ThumbnailCache, thumbnail
from runlake.testing import sweep
from tests.analysis.helpers import DemoReport, decode_data_uri, grid_cells

EVIL = "<script>alert(1)</script>"
SNAPSHOT = {"lake": "/data/lake", "runs_version": 7, "runs_uncompacted_records": 3,
            "note": f"{EVIL} & more"}
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
         "duration": c["steps"] * 0.2 + rng.random(), "image_path": None}
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
         "duration": 2.0 * (v + 1), "image_path": None}
        for e, v, s in (c.knobs.values() for c in sweep(
            {"experiment": range(2), "variant": range(4), "seed": range(3)}, start=T0))
    ]


SCHEMA = {"event_time": pl.Datetime("us", "UTC"), "variant_index": pl.Int64,
          "experiment_id": pl.String, "experiment_name": pl.String, "variant_value": pl.String,
          "image_path": pl.String}


@pytest.fixture(scope="module")
def runs() -> pl.DataFrame:
    return pl.DataFrame(sweep_runs() + experiment_runs(), schema_overrides=SCHEMA)


@pytest.fixture(scope="module")
def page(runs: pl.DataFrame) -> str:
    return runlake.render_report(runs, options=ReportOptions(title=f"Sweep {EVIL}"),
                                 snapshot=SNAPSHOT)


@pytest.fixture(scope="module")
def demo_page(demo_report: DemoReport) -> str:
    return demo_report.text


# --- the image grids ---------------------------------------------------------------------

def test_each_grid_cell_has_one_image_that_decodes(demo_lake: runlake.Lake,
                                                   demo_page: str) -> None:
    plan = plan_grids(demo_lake.rated_runs().collect(), GridOptions())
    expected = sum(grid.cells.height for grid in plan.grids)
    cells = grid_cells(demo_page)
    assert len(cells) == expected == 5 + 3 * 12  # the steps sweep; samplers x CFG per model
    for cell in cells:
        [uri] = re.findall(r'<img src="([^"]+)"', cell)
        image = decode_data_uri(uri)
        assert image.format == "WEBP" and max(image.size) <= 192 and min(image.size) > 0
        assert re.search(r"rating \d\.\d\d \[\d\.\d\d, \d\.\d\d\]<br>n [12] · not ranked "
                         r"\(n &lt; 3\)", cell), cell[-200:]  # compare ranks n >= 3 only
    assert '<section id="grids-section">' in demo_page
    assert demo_page.count('<table class="grid"') == len(plan.grids) == 4


def test_a_grid_cell_shows_compare_numbers_and_the_fair_run(demo_lake: runlake.Lake) -> None:
    runs = demo_lake.rated_runs().collect()
    [steps] = [g for g in plan_grids(runs, GridOptions()).grids if g.x == "steps"]
    table = runlake.compare(runs.filter(pl.col("experiment_id") == "demo-steps-sweep"),
                            "steps")
    assert steps.cells.select("x", "n", "mean", "rank").rows() == \
        table.select("steps", "n", "mean", "rank").rows()
    assert set(steps.cells["shown"]) == {"same prompt and seed"}  # one prompt, one seed
    assert steps.fair is not None and steps.y is None


def test_missing_and_unsafe_images_are_labelled_placeholders(
        demo_lake: runlake.Lake, tmp_path: Path) -> None:
    runs = demo_lake.rated_runs().collect().filter(
        pl.col("experiment_id") == "demo-steps-sweep").sort("steps")
    real = Path(runs["image_path"][0])
    junk, link, fifo = tmp_path / "junk.png", tmp_path / "link.png", tmp_path / "pipe.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    link.symlink_to(real)
    os.mkfifo(fifo)
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header(9000, 9000))  # past runlake's limit, under Pillow's
    paths = [str(tmp_path / "gone.png"), str(junk), str(link), str(fifo), str(huge)]
    runs = runs.with_columns(pl.Series("image_path", paths))
    page = runlake.render_report(runs)
    placeholders = re.findall(r'<div class="placeholder" role="img" aria-label="([^"]+)">',
                              page)
    assert placeholders[:5] == ["image missing", "image unreadable",
                                "symbolic link, not followed", "not a regular file",
                                "image too large"]
    assert "<img" not in page  # the best runs' table shows the same placeholders


@pytest.mark.parametrize("path", ["https://example.invalid/a.png", "file:///etc/hostname",
                                  "data:image/png;base64,AAAA", ""])
def test_a_path_that_is_not_a_local_file_is_never_fetched(path: str) -> None:
    thumb = thumbnail(path or None)
    assert thumb.webp is None
    assert thumb.problem == ("not a local file" if path else "no image recorded")


def test_thumbnails_are_cached_by_path_size_and_time(demo_lake: runlake.Lake,
                                                     tmp_path: Path) -> None:
    source = Path(demo_lake.rated_runs().collect()["image_path"][0])
    image = tmp_path / "image.png"
    image.write_bytes(source.read_bytes())
    cache = ThumbnailCache(tmp_path / "cache")
    first = thumbnail(str(image), cache=cache)
    [entry] = list((tmp_path / "cache").rglob("*.webp"))
    assert entry.read_bytes() == first.webp
    entry.write_bytes(b"RIFF damaged")  # a damaged entry is made again, never shown
    assert thumbnail(str(image), cache=cache).webp == first.webp
    os.utime(image, ns=(1, 1))  # a changed image is a new key
    thumbnail(str(image), cache=cache)
    assert len(list((tmp_path / "cache").rglob("*.webp"))) == 2


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels and holds almost none."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# --- safe and self-contained -------------------------------------------------------------

def test_the_page_needs_nothing_from_outside(demo_page: str) -> None:
    without_images = re.sub(r'src="data:image/webp;base64,[A-Za-z0-9+/=]+"', "", demo_page)
    assert re.search(r"[a-zA-Z][a-zA-Z0-9+.-]*://", without_images) is None  # no URL at all
    assert re.search(r"url\((?!#)", demo_page) is None  # CSS/SVG references are internal
    assert not re.search(r"\b(srcset|action|href)=\"(?!#)|<link\b|@import|<iframe\b",
                         demo_page, re.IGNORECASE)
    assert re.findall(r"<img src=\"(\w+):", demo_page) == ["data"] * demo_page.count("<img")
    ids = Counter(re.findall(r'\bid="([^"]+)"', demo_page))
    assert [name for name, count in ids.items() if count > 1] == []
    for target in re.findall(r'(?:href="#|url\(#)([^")]+)', demo_page):
        assert ids[target] == 1, target  # every internal reference resolves


def test_the_policy_allows_data_images_and_only_the_pinned_script(page: str) -> None:
    assert f'content="{CSP}"' in page
    assert "default-src 'none'" in CSP and "img-src data:;" in CSP
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in CSP
    assert re.findall(r"<script>(.*?)</script>", page, re.DOTALL) == [SCRIPT]


def test_record_text_is_escaped(page: str) -> None:
    assert page.lower().count("<script") == 1  # the table script, and nothing from records
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page  # from the snapshot
    assert "<title>Sweep &lt;script&gt;" in page


def test_the_same_input_gives_the_same_page(runs: pl.DataFrame, page: str) -> None:
    again = runlake.render_report(runs, options=ReportOptions(title=f"Sweep {EVIL}"),
                                  snapshot=SNAPSHOT)
    assert again == page


def test_the_header_says_what_was_read_in_words(page: str) -> None:
    header = page[page.index("<header>"): page.index("</header>")]
    assert "132 runs, 132 with a rating and 0 with an image; 3 models, 2 experiments and " \
        "3 prompts." in header
    assert "<th>Runs table</th><td>version 7, and 3 records not yet compacted</td>" in header
    assert "runs_version" not in header and "uncompacted_records" not in header
    stamped = runlake.render_report(pl.DataFrame({"rating": [4.0]}),
                                    generated_at=datetime(2026, 3, 21, 9, 30, tzinfo=timezone.utc))
    assert "<th>Generated</th><td>2026-03-21 09:30 UTC</td>" in stamped


# --- sections ----------------------------------------------------------------------------

def test_each_plot_is_inline_svg_with_its_table(page: str) -> None:
    plots_found = re.findall(r'<figure class="plot" id="([^"]+)">\s*<svg\b', page)
    assert {"cfg-curves", "variants", "duration"} <= set(plots_found)
    assert {"heatmap-0", "heatmap-1", "heatmap-2"} <= set(plots_found)  # one per model
    for plot in plots_found:
        assert f'<table class="stats" id="{plot}-table">' in page
    assert page.count("<svg") == len(plots_found)
    assert '<table class="stats" id="best-runs-table">' in page


def test_sections_with_nothing_to_show_are_left_out(runs: pl.DataFrame) -> None:
    plain = runlake.render_report(runs.filter(pl.col("experiment_id").is_null())
                                  .drop("duration"))
    assert 'id="variants-section"' not in plain and 'id="duration-section"' not in plain
    assert 'id="grids-section"' not in plain  # no run names an image
    assert 'id="cfg-curves-section"' in plain


@pytest.mark.parametrize(("data", "sections"), [
    (pl.DataFrame(), []),
    (pl.DataFrame({"rating": [4.0], "record_id": ["r1"]}), ["best-runs-section"]),
    (pl.DataFrame({"model": [None, None], "sampler": [None, "Euler a"], "steps": [None, 20],
                   "cfg_scale": [None, None], "rating": [None, None], "duration": [None, 1.0]},
                  schema_overrides={"rating": pl.Float64, "cfg_scale": pl.Float64}),
     ["duration-section"]),
], ids=["no columns", "no knobs", "nothing rated"])
def test_degenerate_input_gives_a_page_that_says_so(data: pl.DataFrame, sections: list[str],
                                                    tmp_path: Path) -> None:
    out = runlake.write_report(data, tmp_path / "sub" / "report.html")
    text = out.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>")
    assert re.findall(r'<section id="([^"]+)"', text) == sections
    assert ("Nothing to show" in text) == (not sections)


def test_long_tables_are_capped_with_a_line_saying_how_many_more(tmp_path: Path) -> None:
    frame = pl.DataFrame({"sampler": [f"s{i:03d}" for i in range(120)] * 2,
                          "steps": [20, 30] * 120, "rating": [3.0, 4.0] * 120})
    text = runlake.render_report(frame, options=ReportOptions(by=("sampler",)))
    table = text[text.index('id="heatmap-table"'):]
    assert table[: table.index("</table>")].count("<tr>") == 1 + 50
    assert "… 70 more rows not shown (runlake compare --by sampler lists them all)." in text


# --- options -----------------------------------------------------------------------------

def test_options_choose_metric_runs_and_axes(demo_lake: runlake.Lake, tmp_path: Path) -> None:
    options = ReportOptions(title="Fast", metric="duration", best="min", where="cfg_scale = 6",
                            experiment="demo grid", x="sampler", y="model", by=("sampler",))
    page = demo_lake.report(tmp_path / "r.html", options=options).read_text()
    assert "<title>Fast</title>" in page and "duration (lower is better)" in page
    assert "24 runs, 24 with a duration" in page  # 3 models x 4 samplers x 2 seeds at CFG 6
    assert "<h3>experiment demo grid</h3>" in page  # model is an axis: one grid, no split
    assert "columns: sampler, rows: model" in page
    assert len(grid_cells(page)) == 12
    assert 'id="ranking-section"' not in page and 'id="ranking-0-section"' in page
    assert "Best runs by duration" in page


def test_z_gives_one_grid_per_value(demo_lake: runlake.Lake) -> None:
    runs = demo_lake.rated_runs().collect()
    plan = plan_grids(runs.filter(pl.col("experiment_name") == "demo grid"),
                      GridOptions(x="sampler", y="model", z="cfg_scale"))
    assert [grid.split for grid in plan.grids] == [(("cfg_scale", 4.5),), (("cfg_scale", 6.0),),
                                                   (("cfg_scale", 7.5),)]


@pytest.mark.parametrize(("options", "error", "message"), [
    (ReportOptions(metric="prompt"), runlake.InvalidQuery, "not a number"),
    (ReportOptions(metric="ratng"), runlake.UnknownColumn, "did you mean 'rating'"),
    (ReportOptions(x="samplr"), runlake.UnknownColumn, "did you mean 'sampler'"),
    (ReportOptions(where="steps >>> 2"), runlake.InvalidQuery, "bad filter"),
    (ReportOptions(experiment="nope"), runlake.InvalidOption,
     r"no experiment 'nope' .*\(experiments: <script>alert\(1\)</script>, steps \$weep\)"),
])
def test_bad_options_are_one_clear_error(runs: pl.DataFrame, options: ReportOptions,
                                         error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        runlake.render_report(runs, options=options)


def test_axes_must_differ() -> None:
    with pytest.raises(runlake.InvalidOption, match="different knobs"):
        ReportOptions(x="steps", y="steps")


def test_progress_goes_through_each_step(demo_report: DemoReport) -> None:
    events = demo_report.events
    steps = list(dict.fromkeys(event.step for event in events))
    assert steps[0] == "reading runs" and steps[-1] == "writing"
    assert set(steps) == {"reading runs", "images", "plots", "writing"}
    assert all(event.done <= event.total for event in events)
    last = {event.step: (event.done, event.total) for event in events}
    assert last["images"][0] == last["images"][1] > 40
    assert last["plots"] == (4, 4)


# --- figures at any size -----------------------------------------------------------------

def test_plots_draw_aggregates_not_a_mark_per_run() -> None:
    def svg_size(count: int) -> int:
        rng = random.Random(1)
        frame = pl.DataFrame({
            "model": [f"m{i % 3}" for i in range(count)], "steps": [10 * (1 + i % 5)
                                                                      for i in range(count)],
            "duration": [rng.random() * 10 for _ in range(count)]})
        return len(runlake.analysis.page.figure_svg(plots.duration_vs_steps(frame), "d"))

    assert svg_size(20_000) < 1.2 * svg_size(200)


def test_many_models_get_a_panel_each() -> None:
    frame = pl.DataFrame({"model": [f"model {i}" for i in range(9) for _ in range(6)],
                          "cfg_scale": [4.0, 6.0, 8.0] * 18, "rating": [3.0, 4.0] * 27,
                          "steps": [20, 30, 40] * 18, "duration": [1.0, 2.0] * 27})
    assert len([a for a in plots.cfg_curves(frame).axes if a.axison]) == 9
    assert len([a for a in plots.duration_vs_steps(frame).axes if a.axison]) == 9
    assert len(plots.cfg_curves(frame.filter(pl.col("model") < "model 3")).axes) == 1


def test_each_plot_is_a_figure_for_rich_and_poor_input(runs: pl.DataFrame) -> None:
    figures = [plots.heatmap(plots.sampler_steps_stats(runs)), plots.cfg_curves(runs),
               plots.variants_vs_baseline(runs), plots.duration_vs_steps(runs),
               plots.heatmap(pl.DataFrame()), plots.cfg_curves(runs.head(0)),
               plots.variants_vs_baseline(runs.drop("experiment_id")),
               plots.duration_vs_steps(runs.drop("duration")), plots.grid_figure([], {})]
    assert all(isinstance(figure, Figure) for figure in figures)
    def experiments(figure: Figure) -> list[str]:
        labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
        return [label for label in labels if not label.startswith("#")]

    assert experiments(figures[2]) == ["<script>alert(1)</script>", r"steps \$weep"]
    assert experiments(plots.variants_vs_baseline(runs, max_experiments=1)) == [r"steps \$weep"]
    table = plots.variant_stats(runs)
    assert table.filter(pl.col("variant_index") == 0)["diff"].to_list() == [0.0, 0.0]


# --- in Python and Jupyter ---------------------------------------------------------------

def test_lake_grid_returns_the_figure_and_the_table_behind_it(demo_lake: runlake.Lake) -> None:
    figure, table = demo_lake.grid("sampler", "cfg_scale", where="experiment_name = 'demo grid'")
    assert isinstance(figure, Figure)
    assert table.columns[:3] == ["model", "cfg_scale", "sampler"]  # one block per model
    assert table.height == 3 * 12 and set(table["n"]) == {2}
    images = [axes for axes in figure.axes if axes.images]
    assert len(images) == table.height  # every cell drew its image
    one = demo_lake.grid(experiment="steps sweep")
    assert one.table["steps"].to_list() == [10, 20, 30, 40, 50]
