"""Fixtures of the analysis tests."""

from __future__ import annotations

import pytest

import runlake
from tests.analysis.helpers import demo_with_images, fill_rated


@pytest.fixture
def rated_lake(lake: runlake.Lake) -> runlake.Lake:
    return fill_rated(lake)


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> runlake.Lake:
    """The demo lake with its images (read-only: tests that write make their own)."""
    return demo_with_images(tmp_path_factory.mktemp("demo"))
