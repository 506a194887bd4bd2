"""Helpers for tests of records (and of the importers that read the same infotext samples)."""

from __future__ import annotations

from pathlib import Path


def sample_blocks(samples: Path) -> list[str]:
    """The infotext samples of ``a1111_infotext.txt``, one block each."""
    text = (samples / "a1111_infotext.txt").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return [block.strip("\n") for block in body.split("\n----\n")]
