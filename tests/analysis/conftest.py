"""Fixtures of the analysis tests."""

from __future__ import annotations

import pytest

import runlake
from tests.analysis.helpers import DemoReport, demo_with_images, fill_rated


@pytest.fixture
def rated_lake(lake: runlake.Lake) -> runlake.Lake:
    return fill_rated(lake)


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> runlake.Lake:
    """The demo lake with its images (tests only read it; a report adds its thumbnails)."""
    return demo_with_images(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def demo_report(demo_lake: runlake.Lake, tmp_path_factory: pytest.TempPathFactory
                ) -> DemoReport:
    events: list[runlake.ReportProgress] = []
    out = tmp_path_factory.mktemp("demo-report") / "report.html"
    return DemoReport(demo_lake.report(out, progress=events.append), events)
