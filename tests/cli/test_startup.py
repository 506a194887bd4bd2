"""The command line starts light: ``--help``, ``status`` and every command's help load no
table engine, plotting or image library, and help loads none of the stages either (the
speed itself is measured in bench/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import runlake
from tests.helpers import run_python

HEAVY = ("polars", "pyarrow", "deltalake", "numpy", "PIL", "matplotlib", "scipy", "duckdb",
         "pandas")
STAGES = ("runlake.records", "runlake.append", "runlake.compaction", "runlake.analysis",
          "runlake.export", "runlake.importers", "runlake.learning", "runlake.storage")
CHECK = f"""
import json, sys
from runlake.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)
print(json.dumps(sorted(m for m in {STAGES!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded(*args: str, stages: bool = False) -> list[str]:
    """The heavy libraries (or, with ``stages``, runlake's stages) the command loaded."""
    result = run_python(CHECK, *args)
    found: list[str] = json.loads(result.stderr.strip().splitlines()[-1 if stages else -2])
    return found


def test_help_and_status_load_no_heavy_library(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    lake.append_many("runs", [{"i": i, "timestamp": "2026-03-20T00:00:00"} for i in range(5)])
    lake.close()
    assert loaded("--help") == [] and loaded("--help", stages=True) == []
    assert loaded("--lake", str(lake.root), "status") == []
    for command in ("append", "compact", "compare", "export", "import", "demo"):
        assert loaded(command, "--help") == [], command
        assert loaded(command, "--help", stages=True) == [], command

