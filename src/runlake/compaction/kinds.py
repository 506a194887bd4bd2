"""Grouping lines by the kind of value a key holds, so each group reads without a conflict.

pyarrow's JSON reader needs one type per path across the lines it reads together; real logs
mix record kinds whose values differ (``variant_value`` 6.0 in one line, "advanced" in the
next). Classifying each line by the JSON kind found after ``"<key>":`` is a scan of the bytes,
far cheaper than parsing: lines with the same kinds go together. A key that appears at several
depths gives a line the union of the kinds it holds there, which keeps lines of the same shape
together (a mixed union just makes its own group).

The scan is numpy over the whole blob (byte comparisons narrowing the candidates for the
quoted key, then its colon and the first byte of its value), so it runs mostly without the
GIL; a regex over the bytes held it, and with it every other decoder thread, for half of a
mixed compaction's time. :class:`Kinds` computes each key's masks once per blob and serves
them to every group and subgroup of its lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import orjson

TEXT, OBJECT, LIST, BOOLEAN, NUMBER = 1, 2, 4, 8, 16

Lines = npt.NDArray[np.int64]
Masks = npt.NDArray[np.uint8]
Buffer = bytes | bytearray | memoryview

# The kind of a value by its first byte; null (n) goes with anything.
_KIND = np.full(256, NUMBER, dtype=np.uint8)
for _byte, _kind in ((b'"', TEXT), (b"{", OBJECT), (b"[", LIST), (b"t", BOOLEAN),
                     (b"f", BOOLEAN), (b"n", 0)):
    _KIND[_byte[0]] = _kind
_SPACE = np.zeros(256, dtype=bool)  # what \s matches in a bytes regex
_SPACE[list(b" \t\n\r\x0b\x0c")] = True
_COLON = ord(":")


def kind_masks(blob: Buffer, starts: Lines, key: str) -> Masks:
    """For each line (given by its start), the kinds of value ``key`` holds in it.

    The key is matched as JSON writes it (quoted, escaped), followed by optional white
    space, a colon, optional white space and the value's first byte. Inside a string a quote
    is escaped, so this never matches text that merely contains the key.
    """
    data = np.frombuffer(blob, dtype=np.uint8)
    found = _values_after(data, np.frombuffer(orjson.dumps(key), dtype=np.uint8))
    masks = np.zeros(len(starts), dtype=np.uint8)
    if len(found):
        lines = np.searchsorted(starts, found, side="right") - 1
        kinds = _KIND[data[found]]
        for bit in (TEXT, OBJECT, LIST, BOOLEAN, NUMBER):
            masks[lines[(kinds & bit) != 0]] |= bit
    return masks


def _values_after(data: npt.NDArray[np.uint8], quoted: npt.NDArray[np.uint8]) -> Lines:
    """Offsets of the first value byte after each ``quoted`` key and its colon."""
    size = len(quoted)
    if len(data) < size + 2:
        return np.zeros(0, dtype=np.int64)
    # Candidates by the key's first two bytes, then narrowed byte by byte.
    candidates = np.flatnonzero(data[1:len(data) - size + 1] == quoted[1]).astype(np.int64)
    candidates = candidates[data[candidates] == quoted[0]]
    for index in range(2, size):
        candidates = candidates[data[candidates + index] == quoted[index]]
    colon = _skip_space(data, candidates + size)
    colon = colon[data[colon] == _COLON]
    return _skip_space(data, colon + 1)


def _skip_space(data: npt.NDArray[np.uint8], at: Lines) -> Lines:
    """``at`` moved past white space; positions that run off the end are dropped."""
    at = at[at < len(data)]
    while len(at) and (space := _SPACE[data[at]]).any():
        at = at + space
        at = at[at < len(data)]
    return at


def groups(blob: Buffer, starts: Lines, keys: Sequence[str]) -> list[Lines]:
    """Line positions grouped so that, within a group, each key holds the same kinds."""
    return group_by([kind_masks(blob, starts, key) for key in keys], len(starts))


def group_by(masks: Sequence[Masks], count: int) -> list[Lines]:
    """Positions of ``count`` lines grouped by their kind masks (one array per key).

    Lines where every key is absent or null join the largest group.
    """
    if not masks:
        return [np.arange(count, dtype=np.int64)]
    signature = np.zeros(count, dtype=np.int64)
    for index, mask in enumerate(masks):
        signature |= mask.astype(np.int64) << (5 * index)
    values, inverse = np.unique(signature, return_inverse=True)
    found = [np.flatnonzero(inverse == i) for i in range(len(values))]
    if len(found) > 1 and values[0] == 0:  # absent everywhere: compatible with any group
        neutral, found = found[0], found[1:]
        largest = max(range(len(found)), key=lambda i: len(found[i]))
        found[largest] = np.sort(np.concatenate([found[largest], neutral]))
    return found


class Kinds:
    """The kind masks of one blob's lines, computed once per key and shared by every subset
    of those lines (``at``: positions among the blob's lines). One per decode call, so
    decoder threads never share one."""

    def __init__(self, blob: Buffer, starts: Lines) -> None:
        self.blob, self.starts = blob, starts
        self._masks: dict[str, Masks] = {}

    def of(self, key: str, at: Lines) -> Masks:
        masks = self._masks.get(key)
        if masks is None:
            masks = self._masks[key] = kind_masks(self.blob, self.starts, key)
        return masks if len(at) == len(masks) else masks[at]

    def groups(self, keys: Sequence[str], at: Lines) -> list[Lines]:
        """Positions into ``at`` grouped as :func:`group_by` does."""
        return group_by([self.of(key, at) for key in keys], len(at))
