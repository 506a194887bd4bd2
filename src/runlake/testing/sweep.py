"""``sweep``: the cells of a sweep grid, the one builder behind every generated sweep.

A sweep runs every combination of some knobs' values; each cell gets its index and a time
(``start`` plus ``index`` steps), which is what the synthetic records, the benchmarks and the
tests' frames and lakes are built from.

>>> [(c.index, c.knobs) for c in sweep({"sampler": ["Euler a", "UniPC"], "steps": [20, 30]},
...                                     start=datetime(2026, 3, 20))][:2]
[(0, {'sampler': 'Euler a', 'steps': 20}), (1, {'sampler': 'Euler a', 'steps': 30})]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Cell:
    """One cell of a sweep: its position, its knob values and when it ran."""

    index: int
    knobs: dict[str, Any]
    time: datetime

    def __getitem__(self, knob: str) -> Any:
        return self.knobs[knob]


def sweep(
    grid: Mapping[str, Iterable[Any]], *, start: datetime, step: timedelta = MINUTE
) -> Iterator[Cell]:
    """Every combination of ``grid``'s values, in order (the last knob varies fastest), the
    n-th at ``start + n * step``."""
    names = list(grid)
    for index, values in enumerate(itertools.product(*grid.values())):
        yield Cell(index, dict(zip(names, values, strict=True)), start + index * step)
