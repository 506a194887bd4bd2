"""Image grids as data: the axes that vary most, the fair (prompt, seed) run per cell, a grid
per model or z value, one per group, and caps that say what they left out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest

import runlake
from runlake.analysis.grid import BEST, FAIR, GridOptions, choose_axes, group_grids, plan_grids

T0 = datetime(2026, 3, 20, tzinfo=timezone.utc)


def run(index: int, **knobs: Any) -> dict[str, Any]:
    return {"record_id": f"r{index:04d}", "event_time": T0 + timedelta(minutes=index),
            "model": "sdxl", "sampler": "Euler a", "steps": 20, "cfg_scale": 6.0,
            "prompt": "a fox", "seed": 1, "rating": 3.0, "image_path": f"/img/{index}.png",
            "experiment_id": None, "experiment_name": None, **knobs}


def frame(runs: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(runs, schema_overrides={"experiment_id": pl.String,
                                                "experiment_name": pl.String,
                                                "image_path": pl.String})


def test_cells_show_the_most_shared_prompt_and_seed_else_their_best_run() -> None:
    runs = []
    for i, (sampler, steps, seed, rating) in enumerate([
            ("Euler a", 20, 1, 2.0), ("Euler a", 20, 2, 5.0),   # seed 1 is in 3 cells
            ("Euler a", 30, 1, 3.0), ("UniPC", 20, 1, 4.0),
            ("UniPC", 30, 2, 4.0), ("UniPC", 30, 3, 5.0)]):    # this cell lacks seed 1
        runs.append(run(i, sampler=sampler, steps=steps, seed=seed, rating=rating))
    [grid] = group_grids(frame(runs), "g", GridOptions())
    cells = grid.cell_map()
    assert grid.fair == ("a fox", 1)
    assert cells[(20, "Euler a")]["seed"] == 1 and cells[(20, "Euler a")]["shown"] == FAIR
    assert cells[(30, "UniPC")]["seed"] == 3 and cells[(30, "UniPC")]["shown"] == BEST
    assert cells[(20, "Euler a")]["n"] == 2 and cells[(20, "Euler a")]["mean"] == 3.5


def test_a_run_without_an_image_is_never_the_one_shown() -> None:
    runs = [run(0, seed=1, rating=5.0, image_path=None), run(1, seed=2, rating=1.0),
            run(2, steps=30, seed=1, rating=2.0), run(3, steps=30, seed=2, rating=4.0)]
    [grid] = group_grids(frame(runs), "g", GridOptions())
    assert [cell["seed"] for cell in grid.cell_map().values()] == [2, 2]  # shared, imaged


def test_axes_are_the_knobs_that_vary_most_in_vocabulary_order_on_ties() -> None:
    runs = [run(i, sampler=s, steps=st, cfg_scale=c) for i, (s, st, c) in enumerate(
        (s, st, c) for s in ("A", "B") for st in (10, 20, 30) for c in (4.0, 6.0, 8.0))]
    assert choose_axes(frame(runs), GridOptions()) == ("steps", "cfg_scale")
    assert choose_axes(frame(runs), GridOptions(x="sampler")) == ("sampler", "steps")
    assert choose_axes(frame(runs), GridOptions(z="steps")) == ("cfg_scale", "sampler")
    assert choose_axes(frame([run(0), run(1)]), GridOptions()) is None  # nothing varies
    assert group_grids(frame([run(0), run(1)]), "g", GridOptions()) == []
    with pytest.raises(runlake.UnknownColumn):
        choose_axes(frame(runs), GridOptions(x="*"))


def test_one_knob_gives_a_one_row_grid() -> None:
    [grid] = group_grids(frame([run(i, steps=10 * (i + 1)) for i in range(4)]), "g",
                         GridOptions())
    assert (grid.x, grid.y, grid.xs, grid.ys) == ("steps", None, (10, 20, 30, 40), (None,))


def test_a_grid_per_model_unless_the_model_is_an_axis() -> None:
    runs = frame([run(i, model=m, sampler=s, steps=st) for i, (m, s, st) in enumerate(
        (m, s, st) for m in ("sdxl", "flux") for s in ("A", "B", "C") for st in (20, 30))])
    grids = group_grids(runs, "g", GridOptions())
    assert [grid.split for grid in grids] == [(("model", "flux"),), (("model", "sdxl"),)]
    assert grids[0].title == "g · model flux"
    [both] = group_grids(runs, "g", GridOptions(x="sampler", y="model"))
    assert both.split == () and both.ys == ("flux", "sdxl")


def test_a_column_named_like_a_pattern_is_only_that_column() -> None:
    runs = frame([run(i, steps=10 * i) for i in range(3)]).with_columns(
        pl.col("steps").alias("^s.*$"))
    [grid] = group_grids(runs, "g", GridOptions(x="^s.*$"))
    assert grid.x == "^s.*$" and grid.xs == (0, 10, 20)


def test_axis_values_past_the_cap_are_named() -> None:
    runs = [run(i, sampler=f"s{i % 10}") for i in range(10)] + [
        run(10 + i, sampler=f"s{i}") for i in range(8)]  # s8 and s9 have one run each
    [grid] = group_grids(frame(runs), "g", GridOptions())
    assert grid.xs == tuple(f"s{i}" for i in range(8))
    assert grid.left_out == ("2 more sampler values not shown (fewest runs): s8, s9",)


def test_one_grid_per_group_newest_first_within_the_caps() -> None:
    runs = [run(10 * g + i, prompt=f"prompt {g}", steps=10 * (i + 1))
            for g in range(5) for i in range(3)]
    runs += [run(100 + i, experiment_id="exp-1", experiment_name="cfg sweep",
                 cfg_scale=4.0 + i) for i in range(2)]
    plan = plan_grids(frame(runs), GridOptions(max_grids=3))
    assert [grid.group for grid in plan.grids] == ["experiment cfg sweep", "prompt prompt 4",
                                                   "prompt prompt 3"]
    assert plan.left_out == ("3 more grids or groups not shown (the oldest, past the caps of "
                             "grids and images): prompt prompt 2; prompt prompt 1; "
                             "prompt prompt 0",)
    by_cells = plan_grids(frame(runs), GridOptions(max_cells=5))
    assert [grid.group for grid in by_cells.grids] == ["experiment cfg sweep",
                                                       "prompt prompt 4"]
