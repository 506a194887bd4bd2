"""Fixtures of the export tests."""

from __future__ import annotations

import pytest

import runlake
from tests.export.helpers import grow


@pytest.fixture
def grown(lake: runlake.Lake) -> runlake.Lake:
    return grow(lake)
