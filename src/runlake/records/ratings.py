"""What a rating is: a number on a declared scale (1-5 unless the lake declares another).

The scale is shared by the recording path (the ``ratings`` table's contract, checked on every
append, so ``"4/5"``, ``7`` on 1-5 or ``"great"`` are refused instead of becoming null at
compaction) and by analysis (``compare`` draws intervals that stay inside it). Pure Python:
this module is on the recording path and loads no table engine.
"""

from __future__ import annotations

import math

from runlake.errors import InvalidOption

Scale = tuple[float, float]
DEFAULT_RATING_SCALE: Scale = (1.0, 5.0)


def check_scale(scale: object) -> Scale:
    """``scale`` as ``(low, high)`` floats; :class:`InvalidOption` unless two finite numbers
    with ``low < high``.

    >>> check_scale((1, 10))
    (1.0, 10.0)
    """
    if not (isinstance(scale, (tuple, list)) and len(scale) == 2
            and all(_is_number(bound) for bound in scale)):
        raise InvalidOption(f"a rating scale is two numbers (low, high), got {scale!r}")
    low, high = float(scale[0]), float(scale[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InvalidOption(f"a rating scale needs finite low < high, got {scale!r}")
    return low, high


def parse_scale(text: str) -> Scale:
    """``"1-5"`` (or ``"0..10"``, ``"1,5"``) as a scale.

    >>> parse_scale("0-10")
    (0.0, 10.0)
    """
    for separator in ("..", ",", "-"):
        low, found, high = text.strip().partition(separator)
        if found and low:
            try:
                return check_scale((float(low), float(high)))
            except ValueError:
                break
    raise InvalidOption(f"a rating scale is written LOW-HIGH (e.g. 1-5), got {text!r}")


def format_scale(scale: Scale) -> str:
    """``(1.0, 5.0)`` as ``"1-5"``."""
    return "-".join(f"{bound:g}" for bound in scale)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
