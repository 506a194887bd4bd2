"""Fixtures of the analysis tests."""

from __future__ import annotations

import pytest

import runlake
from tests.analysis.helpers import fill_rated


@pytest.fixture
def rated_lake(lake: runlake.Lake) -> runlake.Lake:
    return fill_rated(lake)
