"""``compare``: hand-computed counts, means, intervals, credible ranks, ``within`` and
baselines.

Student-t quantiles used below (two-sided 95 %, from any t table):
t(0.975, 1) = 12.706205, t(0.975, 2) = 4.302653, t(0.975, 27/7) = 2.817474.
The normal quantile z(0.975) = 1.959964; a Wilson interval of n values all at the top of the
scale has the lower bound n / (n + z^2) of the rescaled mean (Wilson 1927).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlake
from tests.helpers import DATA

T1, T2, T_WELCH = 12.706205, 4.302653, 2.817474
Z2 = 1.959964**2


def rows(result: pl.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return result.select(columns).rows()


@pytest.fixture
def sweep() -> pl.DataFrame:
    """Euler a: 3, 4, 5; DPM++ 2M: 4, 5; UniPC: 2 and one unrated run; no sampler: 5, 5."""
    return pl.DataFrame({
        "sampler": ["Euler a", "DPM++ 2M", "Euler a", None, "UniPC", "Euler a", "DPM++ 2M",
                    None, "UniPC"],
        "steps": [20, 20, 30, 20, 30, 30, 30, 30, 20],
        "rating": [3.0, 4.0, 4.0, 5.0, 2.0, 5.0, 5.0, 5.0, None],
        "config.txt2img.hr_scale": [1.5, 2.0, 1.5, 1.5, None, 2.0, 2.0, 1.5, 1.5],
    })


def test_counts_means_std_and_t_intervals(sweep: pl.DataFrame) -> None:
    result = runlake.compare(sweep, "sampler", scale=None)
    assert result.columns == ["sampler", "n", "n_missing_metric", "mean", "std", "ci_low",
                              "ci_high", "min", "max", "rank", "knob_missing"]
    by_sampler = {row["sampler"]: row for row in result.iter_rows(named=True)}
    euler = by_sampler["Euler a"]                 # 3, 4, 5: mean 4, std 1, ± t2 / sqrt(3)
    assert (euler["n"], euler["mean"], euler["std"], euler["min"], euler["max"]) == (
        3, 4.0, 1.0, 3.0, 5.0)
    assert euler["ci_low"] == pytest.approx(4 - T2 / math.sqrt(3), abs=1e-6)   # 1.515862
    assert euler["ci_high"] == pytest.approx(4 + T2 / math.sqrt(3), abs=1e-6)  # 6.484138
    dpm = by_sampler["DPM++ 2M"]                  # 4, 5: mean 4.5, std sqrt(0.5), ± t1 * 0.5
    assert dpm["std"] == pytest.approx(math.sqrt(0.5))
    assert (dpm["ci_low"], dpm["ci_high"]) == pytest.approx((4.5 - T1 / 2, 4.5 + T1 / 2))
    unipc = by_sampler["UniPC"]                   # one rating, one unrated run
    assert (unipc["n"], unipc["n_missing_metric"], unipc["mean"]) == (1, 1, 2.0)
    assert (unipc["std"], unipc["ci_low"], unipc["ci_high"]) == (None, None, None)


def test_missing_knob_is_reported_apart_and_never_ranked(sweep: pl.DataFrame) -> None:
    # The no-sampler group has the best mean (5.0) but must not outvote real samplers.
    result = runlake.compare(sweep, "sampler", min_n=1)
    assert rows(result, "sampler", "n", "mean", "rank", "knob_missing") == [
        ("DPM++ 2M", 2, 4.5, 1, False),
        ("Euler a", 3, 4.0, 2, False),
        ("UniPC", 1, 2.0, 3, False),
        (None, 2, 5.0, None, True),
    ]


def test_a_null_in_any_by_knob_marks_the_group_missing() -> None:
    frame = pl.DataFrame({"sampler": ["Euler a", "Euler a"], "steps": [20, None],
                          "rating": [4.0, 5.0]})
    result = runlake.compare(frame, ["sampler", "steps"], min_n=1)
    assert rows(result, "sampler", "steps", "rank", "knob_missing") == [
        ("Euler a", 20, 1, False), ("Euler a", None, None, True)]


def test_ties_share_the_smaller_rank_and_best_min_reverses() -> None:
    frame = pl.DataFrame({"sampler": ["a", "b", "c", "d"], "rating": [4.0, 5.0, 5.0, 3.0]})
    assert rows(runlake.compare(frame, "sampler", min_n=1), "sampler", "rank") == [
        ("b", 1), ("c", 1), ("a", 3), ("d", 4)]
    assert rows(runlake.compare(frame, "sampler", best="min", min_n=1), "sampler", "rank") == [
        ("d", 1), ("a", 2), ("b", 3), ("c", 3)]


def test_numeric_knobs_sort_numerically() -> None:
    frame = pl.DataFrame({"cfg_scale": [10.0, 4.5, 6.0, 10.0], "rating": [1.0, 2.0, 3.0, 2.0]})
    result = runlake.compare(frame, "cfg_scale", min_n=1, order="knobs")
    assert rows(result, "cfg_scale", "n", "mean", "rank") == [
        (4.5, 1, 2.0, 2), (6.0, 1, 3.0, 1), (10.0, 2, 1.5, 3)]


def test_config_paths_resolve_and_keep_the_given_name(sweep: pl.DataFrame) -> None:
    # hr_scale 1.5: 3, 4, 5, 5 (and one unrated) -> 4.25; 2.0: 4, 5, 5 -> 14/3; null: 2.
    result = runlake.compare(sweep, "txt2img.hr_scale", order="knobs")
    assert rows(result, "txt2img.hr_scale", "n", "n_missing_metric", "knob_missing") == [
        (1.5, 4, 1, False), (2.0, 3, 0, False), (None, 1, 0, True)]
    assert result["mean"].to_list()[:2] == pytest.approx([4.25, 14 / 3])
    full = runlake.compare(sweep, "config.txt2img.hr_scale", order="knobs")
    assert full["mean"].to_list() == result["mean"].to_list()


@pytest.mark.parametrize("where", ["steps >= 25", pl.col("steps") >= 25])
def test_where_filters_before_grouping(sweep: pl.DataFrame, where: str | pl.Expr) -> None:
    # steps 30 only: Euler a 4, 5; DPM++ 2M 5; UniPC 2; no sampler 5. Two ratings averaging
    # 4.5 outrank a single 5.
    result = runlake.compare(sweep, "sampler", where=where, min_n=1)
    assert rows(result, "sampler", "n", "mean", "rank") == [
        ("Euler a", 2, 4.5, 1), ("DPM++ 2M", 1, 5.0, 2), ("UniPC", 1, 2.0, 3), (None, 1, 5.0, None)]


def test_groups_below_min_n_are_listed_but_not_ranked(sweep: pl.DataFrame) -> None:
    result = runlake.compare(sweep, "sampler", min_n=2)
    assert rows(result, "sampler", "rank") == [
        ("DPM++ 2M", 1), ("Euler a", 2), ("UniPC", None), (None, None)]
    by_default = runlake.compare(sweep, "sampler")  # min_n 3: only Euler a is ranked
    assert rows(by_default, "sampler", "n", "rank") == [
        ("Euler a", 3, 1), ("DPM++ 2M", 2, None), ("UniPC", 1, None), (None, 2, None)]


def test_groups_without_any_value_are_listed() -> None:
    frame = pl.DataFrame({"sampler": ["a", "b"], "rating": [4.0, None]})
    result = runlake.compare(frame, "sampler", min_n=1)
    assert rows(result, "sampler", "n", "n_missing_metric", "mean", "rank") == [
        ("a", 1, 0, 4.0, 1), ("b", 0, 1, None, None)]
    assert result["ci_low"][1] is None


def test_other_metrics_booleans_and_nan() -> None:
    frame = pl.DataFrame({"sampler": ["a", "a", "b", "b"], "ok": [True, False, True, True],
                          "duration": [2.0, float("nan"), 4.0, 8.0]})
    success = runlake.compare(frame, "sampler", "ok", min_n=1)  # a rate: Wilson on 0-1
    assert rows(success, "sampler", "mean", "rank") == [("b", 1.0, 1), ("a", 0.5, 2)]
    assert success["ci_low"][0] == pytest.approx(2 / (2 + Z2))
    speed = runlake.compare(frame, "sampler", "duration", best="min", min_n=1)
    # NaN counts as missing, not as a value that poisons the mean. One duration has no
    # t-interval, so it cannot be ranked, however fast.
    assert rows(speed, "sampler", "n", "n_missing_metric", "mean", "rank") == [
        ("b", 2, 0, 6.0, 1), ("a", 1, 1, 2.0, None)]


def test_lazy_and_eager_frames_give_the_same_answer(sweep: pl.DataFrame) -> None:
    assert runlake.compare(sweep.lazy(), "sampler").equals(runlake.compare(sweep, "sampler"))


@pytest.fixture
def experiments() -> pl.DataFrame:
    """Experiment a: variant 0 -> 3, 4, 5; variant 1 -> 4, 5, 6, 5. Experiment b: 1; 2."""
    return pl.DataFrame({
        "experiment_id": ["a"] * 7 + ["b"] * 2,
        "variant_index": [0, 0, 0, 1, 1, 1, 1, 0, 1],
        "rating": [3.0, 4.0, 5.0, 4.0, 5.0, 6.0, 5.0, 1.0, 2.0],
    })


def test_within_ranks_inside_each_experiment(experiments: pl.DataFrame) -> None:
    result = runlake.compare(experiments, "variant_index", within="experiment_id", min_n=1,
                             scale=None)
    assert result.columns[:3] == ["experiment_id", "variant_index", "n"]
    # Unbounded (t-intervals): single values have no interval, so b's variants are unranked.
    assert rows(result, "experiment_id", "variant_index", "n", "mean", "rank") == [
        ("a", 1, 4, 5.0, 1), ("a", 0, 3, 4.0, 2), ("b", 0, 1, 1.0, None), ("b", 1, 1, 2.0, None)]


def test_within_null_is_a_group_of_its_own() -> None:
    frame = pl.DataFrame({"experiment_id": ["a", None, None], "variant_index": [0, 0, 1],
                          "rating": [1.0, 2.0, 3.0]})
    result = runlake.compare(frame, "variant_index", within="experiment_id", min_n=1)
    assert rows(result, "experiment_id", "variant_index", "rank") == [
        ("a", 0, 1), (None, 1, 1), (None, 0, 2)]


def test_baseline_diff_with_a_welch_interval(experiments: pl.DataFrame) -> None:
    result = runlake.compare(experiments, "variant_index", within="experiment_id", baseline=0,
                             scale=None, order="knobs")
    assert result.columns[-3:] == ["diff", "diff_ci_low", "diff_ci_high"]
    # a, variant 1 vs 0: diff 1; se^2 = 1/3 + (2/3)/4 = 1/2; Welch dof
    # (1/2)^2 / ((1/3)^2/2 + (1/6)^2/3) = 27/7; half-width t(0.975, 27/7) * sqrt(1/2).
    half = T_WELCH * math.sqrt(0.5)                                       # 1.992255
    assert rows(result, "experiment_id", "variant_index", "diff") == [
        ("a", 0, 0.0), ("a", 1, 1.0), ("b", 0, 0.0), ("b", 1, 1.0)]
    assert result["diff_ci_low"].to_list() == pytest.approx([None, 1 - half, None, None])
    assert result["diff_ci_high"].to_list() == pytest.approx([None, 1 + half, None, None])


def test_baseline_without_spread_gives_a_zero_width_interval() -> None:
    frame = pl.DataFrame({"steps": [25, 25, 40, 40], "rating": [4.0, 4.0, 5.0, 5.0]})
    result = runlake.compare(frame, "steps", baseline=25)
    assert rows(result, "steps", "diff", "diff_ci_low", "diff_ci_high") == [
        (25, 0.0, None, None), (40, 1.0, 1.0, 1.0)]


def test_baseline_over_several_knobs(sweep: pl.DataFrame) -> None:
    result = runlake.compare(sweep, ["sampler", "steps"], baseline=("Euler a", 30))
    diffs = {(row[0], row[1]): row[2] for row in rows(result, "sampler", "steps", "diff")}
    # Euler a at 30 steps: 4, 5 -> 4.5; DPM++ 2M at 20 steps: 4; no sampler at 20 steps: 5.
    assert diffs[("Euler a", 30)] == 0.0
    assert diffs[("DPM++ 2M", 20)] == -0.5
    assert diffs[(None, 20)] == 0.5


def test_baseline_missing_from_a_within_group_gives_null_diff(
    experiments: pl.DataFrame,
) -> None:
    frame = experiments.filter(~((pl.col("experiment_id") == "b") & (pl.col("variant_index") == 0)))
    result = runlake.compare(frame, "variant_index", within="experiment_id", baseline=0,
                             scale=None, order="knobs")
    assert rows(result, "experiment_id", "diff") == [("a", 0.0), ("a", 1.0), ("b", None)]


@pytest.mark.parametrize(("baseline", "message"), [
    (7, "matches no group"),
    ("zero", "is not a value of variant_index"),
    (b"0", "does not fit"),
])
def test_bad_baselines(experiments: pl.DataFrame, baseline: object, message: str) -> None:
    with pytest.raises(runlake.InvalidOption, match=message):
        runlake.compare(experiments, "variant_index", baseline=baseline, scale=None)


def test_a_baseline_given_as_text_takes_the_knobs_type(sweep: pl.DataFrame) -> None:
    result = runlake.compare(sweep, ["sampler", "steps"], baseline=("Euler a", "30"))
    diffs = dict(zip(rows(result, "sampler", "steps"), result["diff"], strict=True))
    assert diffs[("Euler a", 30)] == 0.0


def test_baseline_of_several_knobs_needs_a_tuple(sweep: pl.DataFrame) -> None:
    with pytest.raises(runlake.InvalidOption, match="tuple of 2 values"):
        runlake.compare(sweep, ["sampler", "steps"], baseline="Euler a")


def test_unknown_knob_names_it_and_suggests_close_matches(sweep: pl.DataFrame) -> None:
    with pytest.raises(runlake.UnknownColumn) as caught:
        runlake.compare(sweep, "sampeler")
    assert isinstance(caught.value, runlake.LakeError)
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == (
        "no column 'sampeler' (nor 'config.sampeler'); did you mean 'sampler'?")
    with pytest.raises(runlake.UnknownColumn, match=re.escape("'config.txt2img.hr_scale'")):
        runlake.compare(sweep, "txt2img.hr_scal")


def test_unknown_metric_and_within_are_named(sweep: pl.DataFrame) -> None:
    with pytest.raises(runlake.UnknownColumn, match="'ratting'"):
        runlake.compare(sweep, "sampler", "ratting")
    with pytest.raises(runlake.UnknownColumn, match="'experiment_id'"):
        runlake.compare(sweep, "sampler", within="experiment_id")


def test_a_text_metric_is_refused(sweep: pl.DataFrame) -> None:
    with pytest.raises(runlake.InvalidQuery, match="metric 'sampler' is String"):
        runlake.compare(sweep, "steps", "sampler")


@pytest.mark.parametrize(("where", "message"), [
    ("steps >", "unable to parse"),
    ("stepz > 20", "stepz"),
    ("sampler > 1", "cannot compare string"),
    (pl.col("steps"), "must be of type `Boolean`"),
])
def test_bad_filters_raise_invalid_query(
    sweep: pl.DataFrame, where: str | pl.Expr, message: str
) -> None:
    with pytest.raises(runlake.InvalidQuery, match="bad filter") as caught:
        runlake.compare(sweep, "sampler", where=where)
    assert message in str(caught.value)
    assert isinstance(caught.value, runlake.LakeError)


@pytest.mark.parametrize(("options", "message"), [
    ({"by": []}, "at least one"),
    ({"by": ["sampler", "sampler"]}, "named twice"),
    ({"by": "sampler", "within": "sampler"}, "named twice"),
    ({"by": "n"}, "names of output columns"),
    ({"by": "sampler", "min_n": -1}, "min_n"),
    ({"by": "sampler", "best": "top"}, "best"),
    ({"by": "sampler", "order": "mean"}, "order"),
    ({"by": "sampler", "scale": (5, 1)}, "low < high"),
    ({"by": "sampler", "scale": "1-5"}, "two numbers"),
])
def test_bad_options(sweep: pl.DataFrame, options: dict[str, Any], message: str) -> None:
    with pytest.raises(runlake.InvalidOption, match=message):
        runlake.compare(sweep, **options)


# -- the StableNew sample shapes --------------------------------------------------------------

EXPERIMENT = "CFG sweep juggernaut"


def stablenew_normalized() -> pl.DataFrame:
    """tests/data/stablenew_learning_records.jsonl as compaction normalizes it, by hand.

    Lines 1-4: the CFG-sweep ratings (their `primary_*` knobs are the 0/"" placeholders of
    absent knobs, so only CFG is known, from `base_config["cfg scale"]`). Line 5: review
    feedback with the legacy sampler `DPM++ 2M Karras`. Line 6: a curation event. Line 7: an
    unrated txt2img run whose CFG is 8.5 (its variant config overrides the base's 7).
    """
    utc = timezone.utc
    return pl.DataFrame({
        "record_kind": ["learning_experiment_rating"] * 4
        + ["review_tab_feedback", "staged_curation_event", "run"],
        "event_time": [datetime(2026, 3, 20, 14, minute, 11, tzinfo=utc) for minute in range(4)]
        + [datetime(2026, 3, 21, 9, 15, 2, 481000, tzinfo=utc),
           datetime(2026, 3, 22, 17, 40, tzinfo=utc), datetime(2026, 3, 23, 7, 59, 59, tzinfo=utc)],
        "run_id": [f"5f0c1a2e-0000-4000-8000-00000000000{i}" for i in range(4)]
        + ["8c1d0e55-0000-4000-8000-000000000010", "2b7f9a10-0000-4000-8000-000000000020",
           "d3a4c9e1-0000-4000-8000-000000000030"],
        "image_path": [f"output/learning_CFG_sweep_juggernaut/txt2img/0000{i}.png"
                       for i in range(4)]
        + ["output/a.png", "output/curation/lighthouse/0003.png", "output/fox/0001_up.png"],
        "experiment_id": [EXPERIMENT] * 4 + [None, None, None],
        "model": [None] * 4 + ["juggernautXL_v9.safetensors", "realisticVision_v51.safetensors",
                               "sd_xl_base_1.0.safetensors"],
        "sampler": [None] * 4 + ["DPM++ 2M", "DPM++ 2M", "Euler a"],
        "scheduler": [None] * 4 + ["Karras", "Karras", "Automatic"],
        "steps": [None] * 4 + [28, 28, 30],
        "cfg_scale": [6.0, 7.5, 7.5, 9.0, 6.5, 6.5, 8.5],
        "rating": [3.0, 4.0, 5.0, 2.0, 3.2, 4.0, None],
        "config.txt2img.hr_scale": [None] * 6 + [1.5],
    }, schema_overrides={"steps": pl.Int64, "config.txt2img.hr_scale": pl.Float64})


def test_the_hand_normalized_frame_matches_the_sample_file() -> None:
    records = [orjson.loads(line) for line in
               (DATA / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    frame = stablenew_normalized()
    assert frame["run_id"].to_list() == [record["run_id"] for record in records]
    sweep = [record["metadata"] for record in records[:4]]
    assert frame["rating"].to_list()[:6] == [
        record["metadata"]["user_rating"] for record in records[:6]]
    assert frame["cfg_scale"].to_list()[:4] == [m["variant_value"] for m in sweep]
    assert records[4]["primary_sampler"] == "DPM++ 2M Karras"


def test_stablenew_cfg_sweep_gives_the_three_real_cfg_values() -> None:
    result = runlake.compare(stablenew_normalized(), "cfg_scale", min_n=1,
                             where=f"experiment_id = '{EXPERIMENT}'")
    # 6.0: 3; 7.5: 4 and 5; 9.0: 2. No 0.0 group from the placeholder `primary_cfg_scale`.
    assert rows(result, "cfg_scale", "n", "mean", "rank", "knob_missing") == [
        (7.5, 2, 4.5, 1, False), (6.0, 1, 3.0, 2, False), (9.0, 1, 2.0, 3, False)]
    assert result["std"][0] == pytest.approx(math.sqrt(0.5))


def test_stablenew_legacy_sampler_counts_as_dpmpp_2m() -> None:
    result = runlake.compare(stablenew_normalized(), "sampler", min_n=1, scale=None)
    # DPM++ 2M: 3.2 (legacy "DPM++ 2M Karras") and 4.0 -> 3.6, std sqrt(0.08 * 2 / 1) = 0.4 *
    # sqrt(2), half-width t1 * 0.4. The sweep ratings have no sampler: reported apart.
    # Euler a has no rated run: listed with n 0, unranked.
    assert rows(result, "sampler", "n", "n_missing_metric", "rank", "knob_missing") == [
        ("DPM++ 2M", 2, 0, 1, False), ("Euler a", 0, 1, None, False), (None, 4, 0, None, True)]
    assert result["mean"].to_list() == pytest.approx([3.6, None, 3.5])
    assert (result["ci_low"][0], result["ci_high"][0]) == pytest.approx(
        (3.6 - T1 * 0.4, 3.6 + T1 * 0.4))


# -- credible ranks and bounded intervals --------------------------------------------------------

def test_a_lucky_single_rating_never_outranks_thirty_averaging_4_6() -> None:
    # Thirty ratings averaging 4.6, spread two ways (18 fives and 12 fours; 27 fives and 3
    # ones), against one rating of 5; ranked even at min_n=1.
    for spread in ([5.0] * 18 + [4.0] * 12, [5.0] * 27 + [1.0] * 3):
        frame = pl.DataFrame({"sampler": ["lucky"] + ["proven"] * 30, "rating": [5.0, *spread]})
        result = runlake.compare(frame, "sampler", min_n=1)
        assert rows(result, "sampler", "n", "rank") == [("proven", 30, 1), ("lucky", 1, 2)]
        assert result["mean"][0] == pytest.approx(4.6)


def test_wilson_bounds_by_hand() -> None:
    # All at the top of 1-5: the lower bound is n / (n + z^2) of the way up, the upper is 5.
    frame = pl.DataFrame({"g": ["one"] + ["thirty"] * 30, "rating": [5.0] * 31})
    result = runlake.compare(frame, "g", min_n=1, order="knobs")
    assert result["ci_low"].to_list() == pytest.approx([1 + 4 / (1 + Z2), 1 + 4 * 30 / (30 + Z2)])
    assert result["ci_high"].to_list() == [5.0, 5.0]
    # At the middle of the scale: centre 3, half-width 4 * z / (2 * sqrt(n + z^2)).
    middle = runlake.compare(pl.DataFrame({"g": ["a"], "rating": [3.0]}), "g", min_n=1)
    half = 4 * math.sqrt(Z2) / (2 * math.sqrt(1 + Z2))
    assert (middle["ci_low"][0], middle["ci_high"][0]) == pytest.approx((3 - half, 3 + half))


def test_a_declared_scale_and_values_outside_it() -> None:
    frame = pl.DataFrame({"g": ["a", "a", "b"], "rating": [7.0, 9.0, 10.0]})
    with pytest.raises(runlake.InvalidQuery, match=r"outside its scale 1-5 \(from 7 to 10\)"):
        runlake.compare(frame, "g")
    result = runlake.compare(frame, "g", scale=(1, 10), min_n=1)
    assert rows(result, "g", "rank") == [("a", 1), ("b", 2)]
    assert result["ci_high"].max() == 10.0
    assert runlake.compare(frame, "g", scale=None)["ci_low"][0] == pytest.approx(8 - T1)


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(st.lists(st.floats(1.0, 5.0) | st.integers(1, 5).map(float), min_size=1,
                             max_size=40), min_size=1, max_size=6),
    best=st.sampled_from(["max", "min"]),
)
def test_intervals_on_a_1_to_5_scale_stay_within_it(groups: list[list[float]], best: str) -> None:
    frame = pl.DataFrame({
        "g": [index for index, values in enumerate(groups) for _ in values],
        "rating": [value for values in groups for value in values],
    })
    result = runlake.compare(frame, "g", best=best, min_n=1)  # type: ignore[arg-type]
    for row in result.iter_rows(named=True):
        assert 1.0 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 5.0, row
        assert row["ci_high"] - row["ci_low"] > 0, row  # never zero width, even at n = 1
    assert sorted(result["rank"].to_list()) == result["rank"].to_list()  # sorted by rank
