"""Chat examples from settings groups: SFT (the best settings per goal) and preference pairs.

Both kinds use the same turns, so a model tuned on one sees the same inputs in the other:
the system prompt, the goal as JSON in the user turn, the settings as JSON in the assistant
turn. Preference records use the conversational ``prompt``/``chosen``/``rejected`` shape that
TRL's DPO trainer reads.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from runlake.defaults import DEFAULT_MIN_RATINGS_PER_GROUP
from runlake.errors import ExportError
from runlake.export.filters import FilterStep
from runlake.export.groups import SettingsGroup
from runlake.export.options import ExportOptions
from runlake.export.split import unit_interval

# Means are fsum / n: a pair whose ratings differ by exactly the threshold must not be lost
# to the last bit of a division.
_TOLERANCE = 1e-9

Pair = tuple[SettingsGroup, SettingsGroup]


@dataclass(frozen=True)
class Example:
    """One line of a JSONL split: the record, its split and sort key, and what it is about
    (for the card's counts)."""

    split: str
    key: tuple[str, ...]
    record: dict[str, object]
    prompt: str | None
    experiment_id: str | None
    evidence: int  # the fewest ratings behind a settings group of the example


def sft_examples(
    groups: list[SettingsGroup], options: ExportOptions
) -> tuple[list[Example], list[FilterStep]]:
    """One example per goal: its most credibly best settings group, ranked as ``compare``
    ranks (by the lower bound of its interval on the rating scale; then the mean, the most
    ratings, the settings' JSON text, so ties always resolve the same way)."""
    groups, steps = _usable(groups)
    if options.min_rating is not None:
        before, least = len(groups), options.min_rating
        groups = [group for group in groups if group.mean >= least]
        steps.append(_step("min_rating", f"mean rating >= {least}", "settings groups",
                           before, len(groups)))
    best: dict[tuple[str, str], SettingsGroup] = {}
    for group in sorted(groups, key=_rank):
        best.setdefault((group.split, group.goal), group)
    return [_sft_example(group, options.system_prompt) for group in best.values()], steps


def preference_examples(
    groups: list[SettingsGroup], options: ExportOptions
) -> tuple[list[Example], list[FilterStep]]:
    """Pairs of settings groups of the same experiment (or, outside experiments, the same
    goal) whose mean ratings differ by at least ``preference_threshold``; at most
    ``max_pairs_per_group`` per experiment or goal, a seeded uniform choice."""
    groups, steps = _usable(groups)
    by_family: defaultdict[tuple[str, str, str], list[SettingsGroup]] = defaultdict(list)
    for group in groups:
        by_family[(group.split, group.experiment_id or "", group.goal)].append(group)
    families = [sorted(members, key=_by_mean) for _, members in sorted(by_family.items())]
    candidates = [list(itertools.combinations(members, 2)) for members in families]
    pairs = _pair_steps(candidates, options, steps)
    return [_preference_example(pair, options.system_prompt) for pair in pairs], steps


def thin_evidence(examples: list[Example]) -> list[str]:
    """A warning when examples rest on fewer ratings than the default evidence (possible
    only when ``min_ratings_per_group`` was lowered)."""
    thin = sum(1 for example in examples if example.evidence < DEFAULT_MIN_RATINGS_PER_GROUP)
    if not thin:
        return []
    return [f"{thin} of {len(examples)} examples rest on fewer than "
            f"{DEFAULT_MIN_RATINGS_PER_GROUP} ratings (min_ratings_per_group was lowered): "
            "their settings may be a lucky image rather than better settings; filter on "
            "n_ratings (or n_chosen and n_rejected) before training"]


def _usable(groups: list[SettingsGroup]) -> tuple[list[SettingsGroup], list[FilterStep]]:
    # A group with no knob set (a rating that carried no settings) has nothing to teach.
    kept = [group for group in groups if group.settings != "{}"]
    steps = [_step("has_settings", "at least one knob is set", "settings groups",
                   len(groups), len(kept))]
    return kept, steps


def _pair_steps(
    families: list[list[Pair]], options: ExportOptions, steps: list[FilterStep]
) -> list[Pair]:
    before = sum(map(len, families))
    threshold = options.preference_threshold
    families = [[p for p in pairs if p[0].mean - p[1].mean >= threshold - _TOLERANCE]
                for pairs in families]
    steps.append(_step("preference_threshold", f"ratings differ by >= {threshold}", "pairs",
                       before, sum(map(len, families))))
    if options.min_rating is not None:
        before = sum(map(len, families))
        families = [[p for p in pairs if p[0].mean >= options.min_rating] for pairs in families]
        steps.append(_step("min_rating", f"chosen rated >= {options.min_rating}", "pairs",
                           before, sum(map(len, families))))
    before = sum(map(len, families))
    families = [_capped(pairs, options) for pairs in families]
    steps.append(_step("max_pairs_per_group", f"<= {options.max_pairs_per_group} per group",
                       "pairs", before, sum(map(len, families))))
    return list(itertools.chain.from_iterable(families))


def _capped(pairs: list[Pair], options: ExportOptions) -> list[Pair]:
    if len(pairs) <= options.max_pairs_per_group:
        return pairs
    chosen = sorted(pairs, key=lambda pair: unit_interval(options.seed, *_pair_key(pair)))
    return chosen[: options.max_pairs_per_group]


def _step(name: str, condition: str, unit: str, before: int, after: int) -> FilterStep:
    if after == 0:
        raise ExportError(f"nothing left after filter {name} ({condition}): "
                          f"it removed all {before} {unit}")
    return FilterStep(name, condition, unit, before, after)


def _rank(group: SettingsGroup) -> tuple[float, float, int, str, str, tuple[str, ...]]:
    # A total order: the credible measure first (a lucky single rating cannot win), and
    # every tie broken by content, never by input order.
    return (-group.ci_low, -group.mean, -group.n, group.settings, group.experiment_id or "",
            group.record_ids)


def _by_mean(group: SettingsGroup) -> tuple[float, int, str, str, tuple[str, ...]]:
    # Pairs are kept on the difference of their means, so the better mean is the chosen side.
    return (-group.mean, -group.n, group.settings, group.experiment_id or "", group.record_ids)


def _turns(system_prompt: str, goal: str) -> list[dict[str, str]]:
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*system, {"role": "user", "content": goal}]


def _answer(settings: str) -> dict[str, str]:
    return {"role": "assistant", "content": settings}


def _sft_example(group: SettingsGroup, system_prompt: str) -> Example:
    record: dict[str, object] = {
        "messages": [*_turns(system_prompt, group.goal), _answer(group.settings)],
        "rating": group.mean,
        "n_ratings": group.n,
        "rating_interval": [group.ci_low, group.ci_high],
        "record_ids": list(group.record_ids),
    }
    return Example(group.split, (group.goal,), record, group.prompt, group.experiment_id,
                   group.n)


def _preference_example(pair: Pair, system_prompt: str) -> Example:
    chosen, rejected = pair
    record: dict[str, object] = {
        "prompt": _turns(system_prompt, chosen.goal),
        "chosen": [_answer(chosen.settings)],
        "rejected": [_answer(rejected.settings)],
        "score_chosen": chosen.mean,
        "score_rejected": rejected.mean,
        "n_chosen": chosen.n,
        "n_rejected": rejected.n,
        "interval_chosen": [chosen.ci_low, chosen.ci_high],
        "interval_rejected": [rejected.ci_low, rejected.ci_high],
    }
    return Example(chosen.split, _pair_key(pair), record, chosen.prompt, chosen.experiment_id,
                   min(chosen.n, rejected.n))


def _pair_key(pair: Pair) -> tuple[str, ...]:
    chosen, rejected = pair
    return (chosen.goal, chosen.experiment_id or "", chosen.settings, rejected.settings,
            *_ids(pair))


def _ids(pair: Pair) -> Iterable[str]:
    # Two groups can render the same settings (a NaN knob and a null one): ids break the tie.
    return (",".join(group.record_ids) for group in pair)
