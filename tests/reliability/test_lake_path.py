"""A lake whose path holds ``=`` (``/data/team=vision/lake``) stays readable after its first
compaction (issue 10, point 4): nothing is inferred from the path above the table."""

from __future__ import annotations

from pathlib import Path

import runlake
from tests.helpers import invoke


def test_a_lake_under_a_directory_named_like_a_partition(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "team=vision" / "lake")
    lake.append("runs", {"model": "sdxl", "sampler": "Euler a", "user_rating": 4,
                         "prompt": "a cat", "timestamp": "2026-03-20T10:00:00Z"})
    lake.compact()
    lake.append("runs", {"model": "sdxl", "sampler": "DPM++ 2M", "user_rating": 5,
                         "prompt": "a dog", "timestamp": "2026-03-21T10:00:00Z"})
    frame = lake.scan("runs").collect()
    assert frame.height == 2 and "team" not in frame.columns
    assert frame["date"].sort().to_list() == ["2026-03-20", "2026-03-21"]
    assert lake.stats("runs").records == 2
    assert lake.sql("SELECT count(*) AS n FROM runs")["n"].to_list() == [2]
    assert lake.compare("sampler", "rating")["n"].sum() == 2
    for command in (["stats", "runs"], ["compare", "--by", "sampler"],
                    ["export", "table", "--out", str(tmp_path / "out")]):
        result = invoke(*command, lake=lake.root)
        assert result.returncode == 0, (command, result.stderr)
