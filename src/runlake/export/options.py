"""What an export makes and how: the kinds, the splits, the goal and settings columns, and
``ExportOptions``, validated when built so a bad option fails before any data is read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

from runlake.defaults import (
    DEFAULT_EXPORT_SEED,
    DEFAULT_MIN_RATINGS_PER_GROUP,
    DEFAULT_PREFERENCE_THRESHOLD,
)
from runlake.errors import InvalidOption
from runlake.records import check_scale

ExportKind = Literal["sft", "preference", "table"]
KINDS: tuple[ExportKind, ...] = ("sft", "preference", "table")
SPLITS = ("train", "validation", "test")

# What a person asks for: the user turn of an example. The model is part of the request.
GOAL_COLUMNS = ("prompt", "negative_prompt", "model", "stage")
# What the tuned model answers with. The seed is left out on purpose: it is noise to average
# over, not a setting to suggest.
DEFAULT_KNOBS = (
    "sampler", "scheduler", "steps", "cfg_scale", "width", "height", "denoising_strength",
    "clip_skip",
)
DEFAULT_SYSTEM_PROMPT = (
    "You suggest Stable Diffusion generation settings. The user gives a goal as a JSON object "
    "(prompt, negative_prompt, model, stage). Answer with the settings most likely to be rated "
    "best, as one JSON object."
)


@dataclass(frozen=True)
class ExportOptions:
    """How to filter, split and shape an export; every field has a working default.

    >>> ExportOptions(seed=7, min_rating=3.0, models=("sdxl",)).fractions
    (0.8, 0.1, 0.1)

    - ``seed``: picks the split of each group (with ``fractions``: train, validation, test).
    - ``min_rating``: an example must be rated at least this (a table row; the best settings
      of an SFT goal; the chosen side of a preference pair), by the mean of its settings group.
    - ``min_ratings_per_group``: a settings group (rated rows with the same experiment, goal
      and settings; seeds pooled) needs this many ratings to be used. ``None`` (the
      default): 3 for ``sft`` and ``preference`` (an example resting on one lucky rating
      teaches luck), 1 for ``table`` (every rated row: the raw material).
    - ``date_from`` / ``date_to``: inclusive UTC dates of the runs' event time.
    - ``models``: keep only runs of these models (empty: all).
    - ``preference_threshold``: the least difference of mean ratings in a preference pair.
    - ``max_pairs_per_group``: the most pairs taken from one experiment or goal; a seeded
      uniform choice when there are more, so one big sweep does not swamp the dataset.
    - ``knobs``: the settings columns (config paths such as ``txt2img.hr_scale`` work).
    - ``system_prompt``: the system turn of every chat example.
    - ``rating_scale``: the scale of the ratings, for the intervals and the credible choice
      of the best settings (``None``: the lake's; 1-5 for :func:`export_frame`).
    """

    seed: int = DEFAULT_EXPORT_SEED
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_rating: float | None = None
    min_ratings_per_group: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    models: tuple[str, ...] = ()
    preference_threshold: float = DEFAULT_PREFERENCE_THRESHOLD
    max_pairs_per_group: int = 100
    knobs: tuple[str, ...] = DEFAULT_KNOBS
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    rating_scale: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_fractions(self.fractions)
        if self.min_ratings_per_group is not None:
            _check_at_least("min_ratings_per_group", self.min_ratings_per_group, 1)
        _check_at_least("max_pairs_per_group", self.max_pairs_per_group, 1)
        if not (math.isfinite(self.preference_threshold) and self.preference_threshold > 0):
            raise InvalidOption(
                f"preference_threshold must be a number > 0, got {self.preference_threshold!r}"
            )
        if self.min_rating is not None and not math.isfinite(self.min_rating):
            raise InvalidOption(f"min_rating must be a finite number, got {self.min_rating!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidOption(f"date_from {self.date_from} is after date_to {self.date_to}")
        _check_names("knobs", self.knobs)
        if set(self.knobs) & set(GOAL_COLUMNS):
            raise InvalidOption(f"knobs {self.knobs} overlap the goal columns {GOAL_COLUMNS}")
        if self.rating_scale is not None:
            check_scale(self.rating_scale)
        if isinstance(self.models, str):
            raise InvalidOption(f"models must be a tuple of names, got the string {self.models!r}")


def least_ratings(options: ExportOptions, kind: ExportKind) -> int:
    """The evidence rule ``options`` mean for ``kind`` (see ``min_ratings_per_group``)."""
    if options.min_ratings_per_group is not None:
        return options.min_ratings_per_group
    return 1 if kind == "table" else DEFAULT_MIN_RATINGS_PER_GROUP


def check_kind(kind: str) -> ExportKind:
    """``kind`` itself when it is one of :data:`KINDS`."""
    for known in KINDS:
        if kind == known:
            return known
    raise InvalidOption(f"unknown export kind {kind!r}; expected one of {', '.join(KINDS)}")


def _check_fractions(fractions: tuple[float, ...]) -> None:
    if len(fractions) != len(SPLITS) or any(not 0 <= f <= 1 for f in fractions):
        raise InvalidOption(f"fractions must be 3 numbers in [0, 1] (train, validation, test), "
                            f"got {fractions!r}")
    if not math.isclose(math.fsum(fractions), 1.0, abs_tol=1e-9):
        raise InvalidOption(f"fractions must add up to 1, got {fractions!r}")


def _check_at_least(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidOption(f"{name} must be an integer >= {least}, got {value!r}")


def _check_names(name: str, values: tuple[str, ...]) -> None:
    if isinstance(values, str) or not values:
        raise InvalidOption(f"{name} must be a non-empty tuple of names, got {values!r}")
    if len(set(values)) != len(values):
        raise InvalidOption(f"{name} names a column twice: {values!r}")
