"""The import commands, in process: StableNew logs and PNG folders, re-imports append nothing."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import invoke


def test_cli_import_images(tmp_path: Path, folder: Path) -> None:
    first = invoke("import", "images", str(folder), lake=tmp_path / "lake")
    assert first.returncode == 0, first.stderr
    assert "appended 4 to 'runs'; already present 0; skipped 2" in first.stdout
    assert "truncated.png" in first.stderr
    again = invoke("import", "images", str(folder), lake=tmp_path / "lake")
    assert "appended 0 to 'runs'; already present 4; skipped 2" in again.stdout


def test_cli_import_stablenew(tmp_path: Path, samples: Path) -> None:
    source = str(samples / "stablenew_learning_records.jsonl")
    first = invoke("import", "stablenew", source, lake=tmp_path / "lake")
    assert first.returncode == 0, first.stderr
    assert "appended 7 to 'runs', 5 to 'ratings'; already present 0; skipped 0" in first.stdout
    again = invoke("import", "stablenew", source, lake=tmp_path / "lake")
    assert "appended 0 to 'runs', 0 to 'ratings'; already present 7" in again.stdout
    missing = invoke("import", "stablenew", str(tmp_path / "nope"), lake=tmp_path / "lake")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cannot read StableNew log")
    assert "Traceback" not in missing.stderr
