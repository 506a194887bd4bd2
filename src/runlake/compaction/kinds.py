"""Grouping lines by the kind of value a key holds, so each group reads without a conflict.

pyarrow's JSON reader needs one type per path across the lines it reads together; real logs
mix record kinds whose values differ (``variant_value`` 6.0 in one line, "advanced" in the
next). Classifying each line by the JSON kind found after ``"<key>":`` is a C-speed regex
scan of the bytes, far cheaper than parsing: lines with the same kinds go together. A key that
appears at several depths gives a line the union of the kinds it holds there, which keeps
lines of the same shape together (a mixed union just makes its own group).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt
import orjson

TEXT, OBJECT, LIST, BOOLEAN, NUMBER = 1, 2, 4, 8, 16
_KIND = {ord('"'): TEXT, ord("{"): OBJECT, ord("["): LIST, ord("t"): BOOLEAN,
         ord("f"): BOOLEAN, ord("n"): 0}  # null goes with anything

Lines = npt.NDArray[np.int64]
Masks = npt.NDArray[np.uint8]


def kind_masks(blob: bytes | bytearray | memoryview, starts: Lines, key: str) -> Masks:
    """For each line (given by its start), the kinds of value ``key`` holds in it."""
    masks = np.zeros(len(starts), dtype=np.uint8)
    found = [(m.start(), _KIND.get(m.group(1)[0], NUMBER))
             for m in _pattern(key).finditer(blob)]
    if found:
        where = np.fromiter((at for at, _ in found), dtype=np.int64, count=len(found))
        kinds = np.fromiter((kind for _, kind in found), dtype=np.uint8, count=len(found))
        np.bitwise_or.at(masks, np.searchsorted(starts, where, side="right") - 1, kinds)
    return masks


def groups(blob: bytes | bytearray | memoryview, starts: Lines, keys: Sequence[str]) -> list[Lines]:
    """Line positions grouped so that, within a group, each key holds the same kinds.

    Lines where every key is absent or null join the largest group.
    """
    if not keys:
        return [np.arange(len(starts), dtype=np.int64)]
    signature = np.zeros(len(starts), dtype=np.int64)
    for index, key in enumerate(keys):
        signature |= kind_masks(blob, starts, key).astype(np.int64) << (5 * index)
    values, inverse = np.unique(signature, return_inverse=True)
    found = [np.flatnonzero(inverse == i) for i in range(len(values))]
    if len(found) > 1 and values[0] == 0:  # absent everywhere: compatible with any group
        neutral, found = found[0], found[1:]
        largest = max(range(len(found)), key=lambda i: len(found[i]))
        found[largest] = np.sort(np.concatenate([found[largest], neutral]))
    return found


@cache
def _pattern(key: str) -> re.Pattern[bytes]:
    # The key as JSON writes it, then the first byte of its value. Inside a string a quote
    # is escaped, so this never matches text that merely contains the key.
    return re.compile(re.escape(orjson.dumps(key)) + rb"\s*:\s*(.)", re.DOTALL)
