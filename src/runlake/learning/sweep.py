"""Sweep planning: the grid of variants over any knobs, and exact numeric ranges.

>>> value_range(0.5, 1.5, 0.1)[-1], len(value_range(0.5, 1.5, 0.1))
(1.5, 11)
>>> plan_sweep({"sampler_name": ["Euler a", "DPM++ 2M"], "steps": [20, 30]})[1]
{'txt2img': {'sampler_name': 'Euler a', 'steps': 30}}

Ranges step in decimal arithmetic: adding 0.1 ten times in binary floating point gives
1.0999999999999999, which would drop or misplace the last value.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from runlake.errors import InvalidOption
from runlake.learning.configs import merge

MAX_VALUES = 100_000  # a range this long is a typo for a step, not a sweep

Number = int | float | str | Decimal


@dataclass(frozen=True)
class NumericRange:
    """``start`` to ``stop`` inclusive (when ``stop`` is on the grid) in steps of ``step``."""

    start: Number
    stop: Number
    step: Number

    def values(self) -> tuple[int | float, ...]:
        return value_range(self.start, self.stop, self.step)


def value_range(start: Number, stop: Number, step: Number) -> tuple[int | float, ...]:
    """Every ``start + i * step`` up to ``stop`` inclusive, computed exactly.

    Ints in give ints out; otherwise floats, each the nearest float to the exact decimal.
    """
    first, last, delta = _decimal(start, "start"), _decimal(stop, "stop"), _decimal(step, "step")
    if delta <= 0:
        raise InvalidOption(f"a range's step must be positive, got {step!r}")
    if last < first:
        raise InvalidOption(f"a range's stop ({stop!r}) is below its start ({start!r})")
    count = int((last - first) // delta) + 1
    if count > MAX_VALUES:
        raise InvalidOption(f"range {start!r}..{stop!r} step {step!r} has {count} values, "
                            f"over the limit of {MAX_VALUES}")
    whole = all(isinstance(x, int) and not isinstance(x, bool) for x in (start, stop, step))
    return tuple(_number(first + index * delta, whole=whole) for index in range(count))


def plan_sweep(
    axes: Mapping[str, Sequence[Any] | NumericRange], *, stage: str = "txt2img"
) -> list[dict[str, Any]]:
    """Every combination of the axes' values as a variant config (stage -> overrides).

    A knob is a config key of ``stage`` (``"cfg_scale"``) or ``"<stage>.<key>"``
    (``"upscale.upscaler"``). The first axis varies slowest.
    """
    names = list(axes)
    columns = [_axis_values(name, axes[name]) for name in names]
    points = itertools.product(*columns)
    return [_variant(dict(zip(names, point, strict=True)), stage) for point in points]


def _axis_values(name: str, values: Sequence[Any] | NumericRange) -> tuple[Any, ...]:
    if isinstance(values, NumericRange):
        return values.values()
    if isinstance(values, (str, bytes)):  # a string is a sequence of letters, not of values
        raise InvalidOption(f"sweep axis {name!r}: give a list of values, got the text "
                            f"{values!r}")
    if not values:
        raise InvalidOption(f"sweep axis {name!r} has no values")
    return tuple(values)


def knob_override(knob: str, value: Any, *, stage: str = "txt2img") -> dict[str, Any]:
    """The variant config that sets one knob: ``{"txt2img": {"cfg_scale": 7}}`` for
    ``"cfg_scale"``, ``{"upscale": {"upscaler": ...}}`` for ``"upscale.upscaler"``."""
    section, _, key = knob.rpartition(".")
    if not key:
        raise InvalidOption(f"knob {knob!r} has no name after its stage")
    return {section or stage: {key: value}}


def _variant(point: Mapping[str, Any], stage: str) -> dict[str, Any]:
    variant: dict[str, Any] = {}
    for knob, value in point.items():
        variant = merge(variant, knob_override(knob, value, stage=stage))
    return variant


def _decimal(value: Number, name: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidOption(f"a range's {name} must be a number, got {value!r}")
    try:
        # str() first: Decimal(0.1) is the binary float's long expansion, not 0.1.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidOption(f"a range's {name} must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise InvalidOption(f"a range's {name} must be finite, got {value!r}")
    return number


def _number(value: Decimal, *, whole: bool) -> int | float:
    return int(value) if whole else float(value)
