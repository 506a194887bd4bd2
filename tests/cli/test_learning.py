"""The demo command, in process."""

from __future__ import annotations

from pathlib import Path

import runlake
from tests.helpers import invoke


def test_cli_demo(tmp_path: Path) -> None:
    result = invoke("demo", "--seeds", "1", lake=tmp_path / "lake")
    assert result.returncode == 0, result.stderr
    assert "appended 41 runs, 123 job events and 41 ratings" in result.stdout
    assert len(list((tmp_path / "lake" / "demo_images").glob("*.png"))) == 41
    assert "rating by sampler" in result.stdout and "rating by cfg_scale" in result.stdout
    for sampler in ("Euler a", "DPM++ 2M", "DPM++ SDE", "UniPC"):
        assert sampler in result.stdout
    lake = runlake.Lake(tmp_path / "lake")
    for table in ("runs", "jobs", "ratings"):
        assert (lake.root / "tables" / table / "_delta_log").is_dir()
        assert lake.stats(table).pending == 0  # everything was compacted
