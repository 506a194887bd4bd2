"""The command line starts light: ``--help``, ``status`` and every command's help load no
table engine, plotting or image library (the speed itself is measured in bench/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import runlake
from tests.helpers import run_python

HEAVY = ("polars", "pyarrow", "deltalake", "numpy", "PIL", "matplotlib", "scipy", "duckdb",
         "pandas")
CHECK = f"""
import json, sys
from runlake.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded(*args: str) -> list[str]:
    result = run_python(CHECK, *args)
    found: list[str] = json.loads(result.stderr.strip().splitlines()[-1])
    return found


def test_help_and_status_load_no_heavy_library(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    lake.append_many("runs", [{"i": i, "timestamp": "2026-03-20T00:00:00"} for i in range(5)])
    lake.close()
    assert loaded("--help") == []
    assert loaded("--lake", str(lake.root), "status") == []
    for command in ("append", "compact", "compare", "export", "import", "demo"):
        assert loaded(command, "--help") == [], command

