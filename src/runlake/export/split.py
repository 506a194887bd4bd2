"""The group-aware split: no experiment and no prompt in two splits, the same split for the
same data and seed, whatever the row order.

Rows are linked when they share an experiment or a prompt; a union-find over both keys makes
the connected groups. Each group goes to a split by a SHA-256 hash of the seed and the
group's smallest key, mapped to [0, 1) and cut at the cumulative fractions. Python's
``hash()`` is salted per process and never used. A group keeps its split as the lake grows,
unless new rows link it to another group.
"""

from __future__ import annotations

import hashlib
import itertools
import json

import polars as pl

from runlake.export.options import SPLITS

SPLIT = "__runlake_split"
_KEYS = ("experiment_id", "prompt")


def with_splits(
    frame: pl.DataFrame, *, seed: int, fractions: tuple[float, float, float]
) -> pl.DataFrame:
    """``frame`` with a ``SPLIT`` column naming each row's split (train, validation, test)."""
    # with_columns, not select: a literal (an absent key) then has one value per row.
    keys = frame.with_columns(_key_column(frame, name) for name in _KEYS).select(_KEYS)
    pairs = keys.unique()
    splits = _pair_splits(pairs.rows(), seed, fractions)
    table = pairs.with_columns(pl.Series(SPLIT, splits, dtype=pl.String))
    joined = keys.join(table, on=list(_KEYS), how="left", nulls_equal=True, maintain_order="left")
    return frame.with_columns(joined[SPLIT])


def unit_interval(*parts: object) -> float:
    """A stable number in [0, 1) for ``parts``: the first 8 bytes of their SHA-256."""
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _key_column(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name in frame.columns:
        return pl.col(name).cast(pl.String)
    return pl.lit(None, pl.String).alias(name)


def _pair_splits(
    pairs: list[tuple[str | None, str | None]], seed: int, fractions: tuple[float, float, float]
) -> list[str]:
    """The split of each distinct (experiment_id, prompt) pair."""
    groups = _UnionFind()
    for experiment, prompt in pairs:
        # A null prompt is a prompt of its own (the same goal for every such row); a null
        # experiment links nothing.
        groups.add(_node("prompt", prompt))
        if experiment is not None:
            groups.union(_node("prompt", prompt), _node("experiment", experiment))
    cuts = list(itertools.accumulate(fractions[:-1]))
    roots = [groups.find(_node("prompt", prompt)) for _, prompt in pairs]
    split_of = {root: _bucket(unit_interval(seed, root), cuts) for root in set(roots)}
    return [split_of[root] for root in roots]


def _node(kind: str, value: str | None) -> str:
    # JSON keeps a null prompt apart from an empty one, and the kind apart from the value.
    return json.dumps([kind, value], ensure_ascii=False)


def _bucket(point: float, cuts: list[float]) -> str:
    for split, cut in zip(SPLITS, cuts, strict=False):
        if point < cut:
            return split
    return SPLITS[-1]


class _UnionFind:
    """Disjoint sets of string keys, with path halving. A set's root is always its smallest
    key (a union keeps the smaller root), so it names the set whatever the order of unions."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def add(self, key: str) -> None:
        self._parent.setdefault(key, key)

    def find(self, key: str) -> str:
        parent = self._parent
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        self.add(a)
        self.add(b)
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)
