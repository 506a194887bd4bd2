"""The compact, optimize and vacuum commands, in process."""

from __future__ import annotations

from pathlib import Path

import runlake
from tests.helpers import invoke


def test_cli_compact_optimize_vacuum(lake: runlake.Lake, samples: Path) -> None:
    appended = invoke("append", "runs", str(samples / "stablenew_learning_records.jsonl"),
                       lake=lake.root)
    assert appended.returncode == 0, appended.stderr
    done = invoke("compact", lake=lake.root)
    assert done.returncode == 0, done.stderr
    assert "runs" in done.stdout
    assert "7" in done.stdout
    segment = next((lake.root / "raw" / "runs").rglob("seg-*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b"not json\n")
    done = invoke("compact", "runs", lake=lake.root)
    assert done.returncode == 0
    assert "1 line(s) quarantined" in done.stdout
    optimized = invoke("optimize", "runs", lake=lake.root)
    assert optimized.returncode == 0, optimized.stderr
    vacuumed = invoke("vacuum", "runs", "--dry-run", lake=lake.root)
    assert vacuumed.returncode == 0, vacuumed.stderr
    assert "would remove" in vacuumed.stdout
    bad = invoke("compact", "Bad-Name", lake=lake.root)
    assert bad.returncode == 1
    assert "invalid table name" in bad.stderr
