"""The import commands, in process: StableNew logs and image folders, every rejected input
listed with its reason (exit 1), re-imports append nothing."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import invoke


def test_cli_import_images(tmp_path: Path, folder: Path) -> None:
    first = invoke("import", "images", str(folder), lake=tmp_path / "lake")
    assert first.returncode == 1  # three files yielded no run
    assert "appended 4 to 'runs', 0 to 'ratings'; already present 0; rejected 3" in first.stdout
    assert "not images (not read): 1 files" in first.stdout
    assert f"rejected: {folder / 'truncated.png'}: damaged: truncated" in first.stderr
    assert f"rejected: {folder / 'edited-in-gimp.png'}: no generation metadata" in first.stderr
    assert "rejected: 2 no generation metadata, 1 damaged" in first.stderr
    assert "Traceback" not in first.stderr
    again = invoke("import", "images", str(folder), "--workers", "1", lake=tmp_path / "lake")
    assert "appended 0 to 'runs', 0 to 'ratings'; already present 4; rejected 3" in again.stdout
    for name in ("edited-in-gimp.png", "truncated.png", "photo.jpg", "notes.txt"):
        (folder / name).unlink()
    clean = invoke("import", "images", str(folder), lake=tmp_path / "lake")
    assert clean.returncode == 0 and clean.stderr == ""


def test_cli_import_stablenew(tmp_path: Path, samples: Path) -> None:
    source = str(samples / "stablenew_learning_records.jsonl")
    first = invoke("import", "stablenew", source, lake=tmp_path / "lake")
    assert first.returncode == 0, first.stderr
    assert "appended 7 to 'runs', 5 to 'ratings'; already present 0; rejected 0" in first.stdout
    again = invoke("import", "stablenew", source, lake=tmp_path / "lake")
    assert "appended 0 to 'runs', 0 to 'ratings'; already present 7" in again.stdout
    missing = invoke("import", "stablenew", str(tmp_path / "nope"), lake=tmp_path / "lake")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cannot read StableNew log")
    assert "Traceback" not in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"run_id": "r1", "timestamp": "2026-03-20T10:00:00Z"}\n{not json\n')
    rejected = invoke("import", "stablenew", str(bad), lake=tmp_path / "lake")
    assert rejected.returncode == 1
    assert "rejected: line 2: not valid JSON" in rejected.stderr
    assert "appended 1 to 'runs'" in rejected.stdout
