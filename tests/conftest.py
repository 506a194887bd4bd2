"""Fixtures every test folder uses: a fresh lake per test, and the sample files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import runlake
from tests.helpers import DATA


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[runlake.Lake]:
    the_lake = runlake.Lake(tmp_path / "lake")
    yield the_lake
    the_lake.close()


@pytest.fixture
def samples() -> Path:
    return DATA
