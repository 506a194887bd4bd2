"""Fixtures of the importer tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.importers.helpers import make_folder


@pytest.fixture
def folder(tmp_path: Path, samples: Path) -> Path:
    """A folder of PNGs: with parameters, without, truncated, and a JPEG."""
    return make_folder(tmp_path, samples)
