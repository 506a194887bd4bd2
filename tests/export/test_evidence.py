"""Training data that teaches signal: examples need enough ratings (3 by default, seeds
pooled), the best settings are chosen by the credible ranking ``compare`` uses, every
example carries its n and interval, and the card warns about thin evidence and empty splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import runlake
from tests.export.helpers import PROMPTS_A, card, sweep
from tests.export.test_export import frame, lines, run
from tests.helpers import invoke


def test_one_rating_per_setting_gives_no_sft_example_by_default_and_says_why(
    lake: runlake.Lake, tmp_path: Path,
) -> None:
    sweep(lake, "a", PROMPTS_A)  # six prompts, each with one rating per (sampler, CFG)
    with pytest.raises(runlake.ExportError) as refused:
        lake.export_dataset("sft", tmp_path / "sft")
    message = str(refused.value)
    assert "nothing left after filter min_ratings_per_group" in message
    assert "fewer than 3 ratings, the most any has is 1" in message
    assert "teaches luck" in message and not (tmp_path / "sft").exists()
    table = lake.export_dataset("table", tmp_path / "table")  # the rows themselves: all
    assert sum(table.examples.values()) == 24


def evidence(seeds: int, *, lucky: bool = True) -> list[dict[str, object]]:
    """Steps 20 rated 5, 5, 4 over three seeds; steps 30 rated 5 once (a lucky image)."""
    rows = [run(i + 1, steps=20, seed=i, rating=(5.0, 5.0, 4.0)[i % 3]) for i in range(seeds)]
    return [*rows, run(99, steps=30, seed=7, rating=5.0)] if lucky else rows


def test_seeds_are_pooled_and_the_best_is_the_credible_one(tmp_path: Path) -> None:
    result = runlake.export_frame(frame(evidence(3)), "sft", tmp_path / "out",
                                  options=runlake.ExportOptions(fractions=(1.0, 0.0, 0.0)))
    [example] = lines(tmp_path / "out" / "train.jsonl")
    assert json.loads(example["messages"][-1]["content"])["steps"] == 20
    assert (example["n_ratings"], example["rating"]) == (3, pytest.approx(14 / 3))
    low, high = example["rating_interval"]
    assert 1 <= low < 14 / 3 < high <= 5
    assert result.warnings == ()
    # Even with the evidence rule lowered, one 5 does not beat 5, 5, 4; the card warns.
    lowered = runlake.export_frame(
        frame(evidence(3)), "sft", tmp_path / "lowered",
        options=runlake.ExportOptions(fractions=(1.0, 0.0, 0.0), min_ratings_per_group=1))
    [example] = lines(tmp_path / "lowered" / "train.jsonl")
    assert json.loads(example["messages"][-1]["content"])["steps"] == 20
    assert lowered.warnings == ()  # the chosen example rests on 3 ratings


def test_the_card_warns_about_thin_evidence_and_empty_splits(tmp_path: Path) -> None:
    result = runlake.export_frame(
        frame(evidence(2, lucky=False)), "sft", tmp_path / "out",
        options=runlake.ExportOptions(min_ratings_per_group=1))
    assert len(result.warnings) == 3  # thin evidence, and two of three splits empty
    assert result.warnings[0].startswith("1 of 1 examples rest on fewer than 3 ratings")
    text = card(tmp_path / "out")
    assert "## Warnings" in text and "split is empty" in text
    assert text.index("## Warnings") < text.index("## Splits")


def test_preference_pairs_carry_their_evidence(tmp_path: Path) -> None:
    rows = [*evidence(3, lucky=False),
            *(run(50 + i, steps=40, seed=i, rating=(1.0, 2.0, 1.0)[i]) for i in range(3))]
    runlake.export_frame(frame(rows), "preference", tmp_path / "out",
                         options=runlake.ExportOptions(fractions=(1.0, 0.0, 0.0)))
    [pair] = lines(tmp_path / "out" / "train.jsonl")
    assert (pair["n_chosen"], pair["n_rejected"]) == (3, 3)
    assert pair["interval_chosen"][0] > pair["interval_rejected"][0]


def test_the_cli_prints_the_warnings(grown: runlake.Lake, tmp_path: Path) -> None:
    done = invoke("export", "sft", "--out", str(tmp_path / "out"), "--min-ratings", "1",
                  "--seed", "3", lake=grown.root)
    assert done.returncode == 0, done.stderr
    assert "warning: " in done.stderr and "rest on fewer than 3 ratings" in done.stderr
