"""``export_frame``: group-aware splits, determinism, SFT and preference examples, filters,
the dataset card, and loading the files back with ``datasets`` and Polars."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import runlake
from runlake.export.split import SPLIT, with_splits
from runlake.testing import sweep as grid_sweep

T0 = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
SCHEMA: dict[str, Any] = {
    "record_id": pl.String, "event_time": pl.Datetime("us", "UTC"), "date": pl.String,
    "model": pl.String, "sampler": pl.String, "scheduler": pl.String, "steps": pl.Int64,
    "cfg_scale": pl.Float64, "seed": pl.Int64, "width": pl.Int64, "height": pl.Int64,
    "stage": pl.String, "prompt": pl.String, "negative_prompt": pl.String,
    "experiment_id": pl.String, "experiment_name": pl.String, "variant_index": pl.Int64,
    "variant_value": pl.String, "rating": pl.Float64, "duration": pl.Float64,
    "config.txt2img.hr_scale": pl.Float64, "payload": pl.String,
}
SNAPSHOT = {"lake": "/data/lake", "runs_version": 7, "ratings_version": 3}


def run(number: int, **fields: Any) -> dict[str, Any]:
    """One joined run row; ``fields`` override the defaults, ``day`` shifts its date."""
    when = T0 + timedelta(days=fields.pop("day", 0), minutes=number)
    row: dict[str, Any] = {
        "record_id": f"r{number:04d}", "event_time": when, "date": when.date().isoformat(),
        "model": "sdxl", "sampler": "Euler a", "scheduler": "Karras", "steps": 20,
        "cfg_scale": 7.0, "seed": number, "width": 1024, "height": 1024, "stage": "txt2img",
        "prompt": "a red fox", "negative_prompt": "blurry", "experiment_id": None,
        "experiment_name": None, "variant_index": None, "variant_value": None, "rating": 4.0,
        "duration": 3.0, "config.txt2img.hr_scale": None, "payload": "{}",
    }
    row.update(fields)
    return row


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)


def sweep(prompts: int = 30, experiments: int = 6) -> pl.DataFrame:
    """Runs of many prompts; some prompts also appear in experiments, linking groups."""
    variants = [("Euler a", 4.5, 0), ("DPM++ 2M", 6.0, 1), ("UniPC", 7.5, 2)]
    rows = []
    for cell in grid_sweep({"prompt": range(prompts), "variant": variants}, start=T0):
        p, (sampler, cfg, seed), number = cell["prompt"], cell["variant"], cell.index + 1
        experiment = f"exp{p % experiments}" if p % 2 else None
        rows.append(run(number, prompt=f"prompt {p}", sampler=sampler, cfg_scale=cfg,
                        seed=seed, rating=float(1 + (p * 7 + number) % 5),
                        experiment_id=experiment, day=p % 5))
    return frame(rows)


def export(data: pl.DataFrame, kind: str, out: Path, **options: Any) -> runlake.ExportResult:
    # These frames have one rating per settings group: they test the mechanics, so they
    # lower the evidence rule, which has tests of its own (test_evidence.py).
    options.setdefault("min_ratings_per_group", 1)
    return runlake.export_frame(data, kind, out,  # type: ignore[arg-type]
                                options=runlake.ExportOptions(**options), snapshot=SNAPSHOT)


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def all_lines(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {p.stem: lines(p) for p in sorted(out.glob("*.jsonl"))}


def card_front_matter(out: Path) -> dict[str, Any]:
    text = (out / "README.md").read_text()
    assert text.startswith("---\n")
    front: dict[str, Any] = yaml.safe_load(text.split("---\n")[1])
    return front


# --- the split ---------------------------------------------------------------------------

keys = st.tuples(st.one_of(st.none(), st.sampled_from(["e0", "e1", "e2", "e3", "e4"])),
                 st.one_of(st.none(), st.sampled_from(["", "p0", "p1", "p2", "p3", "p4", "p5"])))


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(keys, min_size=1, max_size=40), seed=st.integers(0, 2**32),
       fractions=st.sampled_from([(0.8, 0.1, 0.1), (0.34, 0.33, 0.33), (0.0, 0.5, 0.5)]))
def test_no_experiment_and_no_prompt_is_in_two_splits(
    pairs: list[tuple[str | None, str | None]], seed: int, fractions: tuple[float, float, float]
) -> None:
    data = pl.DataFrame(pairs, schema={"experiment_id": pl.String, "prompt": pl.String},
                        orient="row")
    split = with_splits(data, seed=seed, fractions=fractions)
    assert split[SPLIT].null_count() == 0
    for key in ("experiment_id", "prompt"):
        per_key = split.group_by(key).agg(pl.col(SPLIT).n_unique().alias("splits"))
        assert per_key.filter(pl.col(key).is_not_null())["splits"].max() in (None, 1)
    # The prompt "" and the null prompt are different prompts, and each is in one split.
    assert split.group_by("prompt").agg(pl.col(SPLIT).n_unique())[SPLIT].max() == 1
    if fractions[0] == 0:
        assert "train" not in split[SPLIT].to_list()
    # Row order changes nothing.
    shuffled = data.sample(fraction=1.0, shuffle=True, seed=seed % 1000)
    again = with_splits(shuffled, seed=seed, fractions=fractions)
    assert split_of(again) == split_of(split)


def split_of(split: pl.DataFrame) -> dict[tuple[str | None, str | None], str]:
    return {(e, p): s for e, p, s in split.select("experiment_id", "prompt", SPLIT).rows()}


def test_a_chain_of_shared_prompts_and_experiments_is_one_group() -> None:
    # e1 -- p1, e1 -- p2, e2 -- p2, e2 -- p3, and p3 outside any experiment: one group.
    data = pl.DataFrame({"experiment_id": ["e1", "e1", "e2", "e2", None, None],
                         "prompt": ["p1", "p2", "p2", "p3", "p3", "alone"]})
    for seed in range(40):
        splits = with_splits(data, seed=seed, fractions=(0.34, 0.33, 0.33))[SPLIT].to_list()
        assert len(set(splits[:5])) == 1


def test_exported_splits_are_disjoint_and_all_used(tmp_path: Path) -> None:
    result = export(sweep(), "table", tmp_path / "out", fractions=(0.5, 0.25, 0.25))
    parts = {split: pl.read_parquet(tmp_path / "out" / f"{split}.parquet")
             for split in ("train", "validation", "test")}
    assert all(part.height for part in parts.values())
    assert sum(part.height for part in parts.values()) == sweep().height
    assert result.examples == {split: part.height for split, part in parts.items()}
    for key in ("experiment_id", "prompt"):
        seen: dict[str, set[str]] = defaultdict(set)
        for split, part in parts.items():
            for value in part[key].drop_nulls():
                seen[value].add(split)
        assert all(len(splits) == 1 for splits in seen.values()), key


def test_the_seed_chooses_the_split(tmp_path: Path) -> None:
    data = sweep()
    first = with_splits(data, seed=1, fractions=(0.5, 0.25, 0.25))[SPLIT]
    assert with_splits(data, seed=1, fractions=(0.5, 0.25, 0.25))[SPLIT].equals(first)
    assert not with_splits(data, seed=2, fractions=(0.5, 0.25, 0.25))[SPLIT].equals(first)


# --- determinism -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sft", "preference", "table"])
def test_two_exports_are_byte_identical_whatever_the_row_order(
    tmp_path: Path, kind: str
) -> None:
    data = sweep()
    export(data, kind, tmp_path / "a", seed=5)
    export(data.sample(fraction=1.0, shuffle=True, seed=3), kind, tmp_path / "b", seed=5)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "README.md" in names and len(names) > 1
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# --- SFT ---------------------------------------------------------------------------------

def test_sft_gives_the_best_settings_of_each_goal(tmp_path: Path) -> None:
    data = frame([
        run(1, sampler="Euler a", rating=5.0), run(2, sampler="Euler a", rating=3.0),
        run(3, sampler="DPM++ 2M", rating=4.5),       # a better mean, on one rating only
        run(4, sampler="UniPC", rating=4.5, cfg_scale=None, scheduler=None, width=None,
            height=None, steps=None, prompt="a boat"),
        run(5, sampler="DDIM", rating=4.5, prompt="a boat"),
        run(6, sampler="DDIM", rating=4.5, prompt="a boat"),  # ties 4.5: more ratings win
    ])
    export(data, "sft", tmp_path / "out", fractions=(1.0, 0.0, 0.0))
    examples = {json.loads(e["messages"][1]["content"])["prompt"]: e
                for e in lines(tmp_path / "out" / "train.jsonl")}
    fox, boat = examples["a red fox"], examples["a boat"]
    assert [m["role"] for m in fox["messages"]] == ["system", "user", "assistant"]
    assert fox["messages"][0]["content"] == runlake.ExportOptions().system_prompt
    assert json.loads(fox["messages"][1]["content"]) == {
        "model": "sdxl", "negative_prompt": "blurry", "prompt": "a red fox", "stage": "txt2img"}
    answer = fox["messages"][2]["content"]
    # Ranked as compare ranks: two ratings averaging 4 are more credibly good than one 4.5
    # (Wilson lower bounds 1.79 and 1.63 on 1-5).
    assert answer == ('{"cfg_scale":7.0,"height":1024,"sampler":"Euler a",'
                      '"scheduler":"Karras","steps":20,"width":1024}')
    assert (fox["rating"], fox["n_ratings"], fox["record_ids"]) == (4.0, 2, ["r0001", "r0002"])
    assert fox["rating_interval"] == pytest.approx([1.7915, 4.8933], abs=1e-3)
    assert json.loads(boat["messages"][2]["content"])["sampler"] == "DDIM"
    assert boat["record_ids"] == ["r0005", "r0006"]


def test_absent_knobs_are_left_out_never_zero(tmp_path: Path) -> None:
    data = frame([run(1, cfg_scale=None, scheduler=None, steps=None, width=None, height=None,
                      negative_prompt=None, stage=None)])
    export(data, "sft", tmp_path / "out", fractions=(1.0, 0.0, 0.0))
    (example,) = lines(tmp_path / "out" / "train.jsonl")
    assert example["messages"][1]["content"] == '{"model":"sdxl","prompt":"a red fox"}'
    assert example["messages"][2]["content"] == '{"sampler":"Euler a"}'


def test_config_paths_can_be_knobs_and_the_system_turn_can_go(tmp_path: Path) -> None:
    data = frame([run(1, **{"config.txt2img.hr_scale": 1.5})])
    export(data, "sft", tmp_path / "out", fractions=(1.0, 0.0, 0.0),
           knobs=("sampler", "txt2img.hr_scale", "not.a.knob"), system_prompt="")
    (example,) = lines(tmp_path / "out" / "train.jsonl")
    assert [m["role"] for m in example["messages"]] == ["user", "assistant"]
    assert example["messages"][1]["content"] == '{"sampler":"Euler a","txt2img.hr_scale":1.5}'


# --- preference pairs --------------------------------------------------------------------

def rated_variants(ratings: list[float], **fields: Any) -> list[dict[str, Any]]:
    """One run per rating, each with different settings (steps 10, 20, ...)."""
    return [run(i + fields.pop("first", 1), steps=10 * (i + 1), rating=rating, **fields)
            for i, rating in enumerate(ratings)]


@pytest.mark.parametrize(("threshold", "expected"), [
    (1.0, {(5.0, 4.0), (5.0, 3.5), (5.0, 2.0), (4.0, 2.0), (3.5, 2.0)}),
    (1.5, {(5.0, 3.5), (5.0, 2.0), (4.0, 2.0), (3.5, 2.0)}),
    (3.0, {(5.0, 2.0)}),
])
def test_preference_pairs_differ_by_at_least_the_threshold(
    tmp_path: Path, threshold: float, expected: set[tuple[float, float]]
) -> None:
    data = frame(rated_variants([5.0, 4.0, 3.5, 2.0], experiment_id="e1"))
    export(data, "preference", tmp_path / "out", fractions=(1.0, 0.0, 0.0),
           preference_threshold=threshold)
    pairs = lines(tmp_path / "out" / "train.jsonl")
    assert {(p["score_chosen"], p["score_rejected"]) for p in pairs} == expected
    for pair in pairs:
        assert [m["role"] for m in pair["prompt"]] == ["system", "user"]
        assert [m["role"] for m in pair["chosen"] + pair["rejected"]] == ["assistant"] * 2
        assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]


def test_no_pair_reaching_the_threshold_is_an_error_naming_it(tmp_path: Path) -> None:
    data = frame(rated_variants([5.0, 4.0, 3.5, 2.0], experiment_id="e1"))
    with pytest.raises(runlake.ExportError, match="preference_threshold"):
        export(data, "preference", tmp_path / "out", preference_threshold=3.5)
    assert not (tmp_path / "out").exists()


def test_pairs_stay_inside_one_experiment_and_one_goal(tmp_path: Path) -> None:
    data = frame([
        *rated_variants([5.0, 5.0], experiment_id="e1", first=1),
        *rated_variants([1.0, 1.0], experiment_id="e2", first=10),  # same prompt, other exp.
        *rated_variants([1.0], experiment_id="e1", model="sd15", first=20),  # other goal
    ])
    with pytest.raises(runlake.ExportError, match="preference_threshold"):
        export(data, "preference", tmp_path / "out", fractions=(1.0, 0.0, 0.0))


def test_runs_outside_experiments_pair_by_goal(tmp_path: Path) -> None:
    data = frame([*rated_variants([5.0, 2.0], first=1),
                  *rated_variants([4.0], prompt="a boat", first=10)])
    export(data, "preference", tmp_path / "out", fractions=(1.0, 0.0, 0.0))
    (pair,) = lines(tmp_path / "out" / "train.jsonl")
    assert json.loads(pair["prompt"][1]["content"])["prompt"] == "a red fox"


def test_pairs_per_group_are_capped_by_a_seeded_choice(tmp_path: Path) -> None:
    data = frame(rated_variants([float(r) for r in range(12)], experiment_id="e1"))
    result = export(data, "preference", tmp_path / "a", fractions=(1.0, 0.0, 0.0),
                    max_pairs_per_group=7, rating_scale=(0, 11))
    assert result.examples["train"] == 7
    capped = {f.name: (f.before, f.after) for f in result.filters}["max_pairs_per_group"]
    assert capped == (66, 7)  # 12 * 11 / 2 pairs, all differ by >= 1
    export(data, "preference", tmp_path / "b", fractions=(1.0, 0.0, 0.0),
           max_pairs_per_group=7, seed=1, rating_scale=(0, 11))
    assert lines(tmp_path / "a" / "train.jsonl") != lines(tmp_path / "b" / "train.jsonl")


# --- filters -----------------------------------------------------------------------------

def filtered_data() -> pl.DataFrame:
    return frame([
        run(1, rating=5.0, day=0), run(2, rating=2.0, day=1, model="sd15"),
        run(3, rating=4.0, day=2, sampler="UniPC"), run(4, rating=3.0, day=2, sampler="UniPC"),
        run(5, rating=None, day=3), run(6, rating=float("nan"), day=3),
    ])


@pytest.mark.parametrize(("options", "expected"), [
    ({}, {"r0001", "r0002", "r0003", "r0004"}),
    ({"min_rating": 3.0}, {"r0001", "r0003", "r0004"}),
    ({"min_ratings_per_group": 2}, {"r0003", "r0004"}),
    ({"date_from": date(2026, 3, 21)}, {"r0002", "r0003", "r0004"}),
    ({"date_to": date(2026, 3, 21)}, {"r0001", "r0002"}),
    ({"date_from": date(2026, 3, 21), "date_to": date(2026, 3, 21)}, {"r0002"}),
    ({"models": ("sd15",)}, {"r0002"}),
])
def test_each_filter_keeps_what_it_says(
    tmp_path: Path, options: dict[str, Any], expected: set[str]
) -> None:
    result = export(filtered_data(), "table", tmp_path / "out", fractions=(1.0, 0.0, 0.0),
                    **options)
    kept = pl.read_parquet(tmp_path / "out" / "train.parquet")["record_id"].to_list()
    assert set(kept) == expected and kept == sorted(kept)
    names = [step.name for step in result.filters]
    assert names[0] == "rated" and set(options) <= set(names)
    card = (tmp_path / "out" / "README.md").read_text()
    assert all(f"| {name} |" in card for name in names)


def test_min_rating_applies_to_the_best_settings_and_the_chosen_side(tmp_path: Path) -> None:
    data = frame([*rated_variants([4.0, 2.0], first=1),
                  *rated_variants([2.5, 1.0], prompt="a boat", first=10)])
    sft = export(data, "sft", tmp_path / "sft", fractions=(1.0, 0.0, 0.0), min_rating=3.0)
    assert sft.examples["train"] == 1
    pref = export(data, "preference", tmp_path / "pref", fractions=(1.0, 0.0, 0.0),
                  min_rating=3.0)
    ((chosen, rejected),) = [(p["score_chosen"], p["score_rejected"])
                             for p in lines(tmp_path / "pref" / "train.jsonl")]
    assert (chosen, rejected) == (4.0, 2.0)
    assert [s.name for s in pref.filters][-2:] == ["min_rating", "max_pairs_per_group"]


@pytest.mark.parametrize(("options", "named"), [
    ({"models": ("nope",)}, "models"),
    ({"date_from": date(2030, 1, 1)}, "date_from"),
    ({"min_ratings_per_group": 5}, "min_ratings_per_group"),
    ({"min_rating": 5.5}, "min_rating"),
])
def test_a_filter_that_leaves_nothing_is_named(
    tmp_path: Path, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(runlake.ExportError, match=f"after filter {named} "):
        export(filtered_data(), "sft", tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_unrated_input_is_an_error_naming_the_rated_filter(tmp_path: Path) -> None:
    with pytest.raises(runlake.ExportError, match="after filter rated"):
        export(frame([run(1, rating=None)]), "table", tmp_path / "out")


# --- the card ----------------------------------------------------------------------------

def test_the_card_lists_splits_files_fields_filters_and_the_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export(sweep(), "sft", out, fractions=(0.5, 0.25, 0.25), min_rating=2.0, seed=9)
    front = card_front_matter(out)
    (config,) = front["configs"]
    files = {entry["split"]: entry["path"] for entry in config["data_files"]}
    assert files == {p.stem: p.name for p in out.glob("*.jsonl")}
    assert [p.name for p in result.files] == [*files.values(), "README.md"]
    text = (out / "README.md").read_text()
    for split, count in result.examples.items():
        assert f"| {split} | {count} |" in text
        assert count == (len(lines(out / f"{split}.jsonl")) if count else 0)
    for expected in ("| messages |", "| rating |", "| min_rating | mean rating >= 2.0 |",
                     "seed 9", "| runs_version | 7 |", "| lake | /data/lake |",
                     "| runlake version |", "load_dataset"):
        assert expected in text


def test_an_empty_split_gets_no_file_and_no_card_entry(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export(frame([run(1), run(2, sampler="UniPC")]), "sft", out,
                    fractions=(1.0, 0.0, 0.0))
    assert sorted(p.name for p in out.iterdir()) == [".runlake-export.json", "README.md",
                                                     "train.jsonl"]
    assert result.examples == {"train": 1, "validation": 0, "test": 0}
    (config,) = card_front_matter(out)["configs"]
    assert config["data_files"] == [{"split": "train", "path": "train.jsonl"}]


def test_the_table_card_lists_the_columns(tmp_path: Path) -> None:
    export(sweep(), "table", tmp_path / "out")
    text = (tmp_path / "out" / "README.md").read_text()
    assert "| cfg_scale | Float64 |" in text and "| config.txt2img.hr_scale | Float64 |" in text


# --- loading back ------------------------------------------------------------------------

@pytest.fixture
def datasets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """The ``datasets`` library, offline: nothing may come from the network."""
    for name in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets as module  # noqa: PLC0415 - after the environment is set

    module.disable_progress_bars()
    yield module


@pytest.mark.parametrize("kind", ["sft", "preference"])
def test_jsonl_splits_load_with_datasets_and_polars(
    tmp_path: Path, datasets: ModuleType, kind: str
) -> None:
    out = tmp_path / "out"
    result = export(sweep(), kind, out, fractions=(0.5, 0.25, 0.25))
    files = {p.stem: str(p) for p in sorted(out.glob("*.jsonl"))}
    loaded = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path / "cache"))
    by_card = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache2"))
    for split, path in files.items():
        expected = lines(Path(path))
        assert loaded[split].num_rows == by_card[split].num_rows == result.examples[split]
        assert loaded[split].to_list() == expected
        assert pl.read_ndjson(path).to_dicts() == expected
    first = loaded["train"][0]
    turns = first["messages"] if kind == "sft" else first["prompt"] + first["chosen"]
    assert json.loads(turns[-1]["content"])  # the settings parse as JSON


def test_table_splits_load_with_datasets_and_polars(
    tmp_path: Path, datasets: ModuleType
) -> None:
    out = tmp_path / "out"
    data = sweep()
    export(data, "table", out, fractions=(0.5, 0.25, 0.25))
    files = {p.stem: str(p) for p in sorted(out.glob("*.parquet"))}
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    back = pl.concat([pl.read_parquet(path) for path in files.values()])
    assert back.schema == data.schema
    assert back.sort("record_id").equals(data.sort("record_id"))
    assert sum(loaded[split].num_rows for split in files) == data.height


# --- errors and the output folder --------------------------------------------------------

def test_options_are_checked_when_made() -> None:
    for bad in ({"fractions": (0.5, 0.5, 0.5)}, {"fractions": (1.0, 0.0)},
                {"preference_threshold": 0.0}, {"min_ratings_per_group": 0},
                {"max_pairs_per_group": 0}, {"knobs": ()}, {"knobs": ("prompt",)},
                {"date_from": date(2026, 2, 1), "date_to": date(2026, 1, 1)},
                {"models": "sdxl"}, {"min_rating": float("nan")}):
        with pytest.raises(runlake.InvalidOption):
            runlake.ExportOptions(**bad)


def test_an_unknown_kind_and_missing_columns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(runlake.InvalidOption, match="unknown export kind 'csv'"):
        export(sweep(), "csv", tmp_path / "out")
    with pytest.raises(runlake.UnknownColumn, match="rating"):
        export(sweep().drop("rating"), "sft", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_empty_needs_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(sweep(), "sft", out, fractions=(0.5, 0.25, 0.25))
    with pytest.raises(runlake.ExportError, match="not empty"):
        export(sweep(), "table", out)
    data = frame([run(1)])
    result = runlake.export_frame(data, "table", out, overwrite=True,
                                  options=runlake.ExportOptions(fractions=(1.0, 0.0, 0.0)))
    # The previous export's files are gone: only this export's are left, and its manifest.
    assert sorted(p.name for p in out.iterdir()) == [".runlake-export.json", "README.md",
                                                     "train.parquet"]
    assert result.files[-1] == out / "README.md"


def test_overwrite_never_deletes_files_that_are_not_an_exports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "train.jsonl").write_text("old")
    with pytest.raises(runlake.ExportError, match=r"notes\.txt"):
        runlake.export_frame(sweep(), "sft", out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "train.jsonl").exists()


def test_input_with_random_knobs_exports_without_error(tmp_path: Path) -> None:
    rng = random.Random(4)
    rows = [run(i, sampler=rng.choice(["Euler a", None]), cfg_scale=rng.choice([None, 5.0]),
                steps=rng.choice([None, 20, 30]), rating=float(rng.randint(1, 5)),
                prompt=rng.choice(["a", "b", None]), experiment_id=rng.choice([None, "x"]))
            for i in range(60)]
    for kind in ("sft", "preference", "table"):
        result = export(frame(rows), kind, tmp_path / kind, fractions=(0.6, 0.2, 0.2))
        assert sum(result.examples.values()) > 0
