"""Fixtures every test folder uses: a fresh lake per test, the sample files, and a real S3
server for shared lakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import runlake
from tests.helpers import DATA
from tests.storage.seaweed import Seaweed
from tests.storage.seaweed import start as start_seaweed
from tests.storage.seaweed import stop as stop_seaweed


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[runlake.Lake]:
    the_lake = runlake.Lake(tmp_path / "lake")
    yield the_lake
    the_lake.close()


@pytest.fixture
def samples() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    """A real S3 server (SeaweedFS) on 127.0.0.1 for this test session (one per xdist
    worker), stopped at the end with its socket files removed."""
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    yield server
    stop_seaweed(server)


@pytest.fixture
def shared_url(seaweed: Seaweed, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh shared lake on the session's server, with the standard AWS_* variables set
    for this test (child processes inherit them)."""
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    return seaweed.url()
