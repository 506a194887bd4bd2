"""Fixtures of the command-line tests: the lakes and folders the stages' tests build."""

from __future__ import annotations

from pathlib import Path

import pytest

import runlake
from tests.analysis.helpers import fill_rated
from tests.export.helpers import grow
from tests.importers.helpers import make_folder


@pytest.fixture
def rated_lake(lake: runlake.Lake) -> runlake.Lake:
    return fill_rated(lake)


@pytest.fixture
def grown(lake: runlake.Lake) -> runlake.Lake:
    return grow(lake)


@pytest.fixture
def folder(tmp_path: Path, samples: Path) -> Path:
    return make_folder(tmp_path, samples)
