"""``export --overwrite`` replaces only what a previous export wrote (issue 10 point 3).

The manifest (``.runlake-export.json``) decides: a user's ``README.md``, a card edited since,
a symlink planted at any name are refused by name and left as they were; nothing is ever
written through a link to a file outside ``out``; an export SIGKILLed at any step leaves a
folder the next export replaces."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import runlake

MANIFEST = ".runlake-export.json"  # documented in docs/export.md
USER_TEXT = b"# my notes\nhand-written, not regenerable\n"
ONE_SPLIT = runlake.ExportOptions(fractions=(1.0, 0.0, 0.0))


def rated(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"record_id": [f"r{i:03d}" for i in range(rows)],
                         "rating": [float(1 + i % 5) for i in range(rows)],
                         "prompt": [f"prompt {i}" for i in range(rows)]})


def export(out: Path, rows: int = 20, **options: object) -> runlake.ExportResult:
    return runlake.export_frame(rated(rows), "table", out, **options)


def listing(out: Path) -> list[str]:
    return sorted(path.name for path in out.iterdir())


def manifest(out: Path) -> dict[str, object]:
    body = json.loads((out / MANIFEST).read_text())
    assert isinstance(body, dict)
    return body


def test_a_users_readme_is_refused_by_name_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_bytes(USER_TEXT)
    with pytest.raises(runlake.ExportError, match=r"README\.md \(not listed in an export"):
        export(out, overwrite=True)
    assert listing(out) == ["README.md"] and (out / "README.md").read_bytes() == USER_TEXT


def test_a_card_edited_since_the_export_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(out)
    edited = (out / "README.md").read_bytes() + b"\nmy own notes\n"
    (out / "README.md").write_bytes(edited)
    with pytest.raises(runlake.ExportError, match=r"README\.md \(changed since the export"):
        export(out, rows=5, overwrite=True)
    assert (out / "README.md").read_bytes() == edited


@pytest.mark.parametrize("planted", [".README.md.tmp", "README.md", "train.parquet", MANIFEST])
def test_a_planted_symlink_never_writes_outside(tmp_path: Path, planted: str) -> None:
    out, outside = tmp_path / "out", tmp_path / "precious.txt"
    outside.write_bytes(USER_TEXT)
    export(out)
    (out / planted).unlink(missing_ok=True)
    (out / planted).symlink_to(outside)
    with pytest.raises(runlake.ExportError, match="refusing to overwrite"):
        export(out, rows=5, overwrite=True)
    assert outside.read_bytes() == USER_TEXT and (out / planted).is_symlink()


def test_a_symlink_at_the_manifests_name_is_replaced_not_written_through(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "precious.txt"
    outside.write_bytes(USER_TEXT)
    out.mkdir()
    (out / MANIFEST).symlink_to(outside)
    export(out, overwrite=True)
    assert outside.read_bytes() == USER_TEXT and not (out / MANIFEST).is_symlink()


def test_a_previous_export_is_replaced_and_its_other_files_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = export(out)
    assert {path.name for path in first.files} == {"train.parquet", "validation.parquet",
                                                   "test.parquet", "README.md"}
    second = export(out, rows=5, overwrite=True, options=ONE_SPLIT)
    assert listing(out) == [MANIFEST, "README.md", "train.parquet"]
    files = manifest(out)["files"]
    assert isinstance(files, dict) and sorted(files) == ["README.md", "train.parquet"]
    assert "replacing" not in manifest(out)
    for path in second.files:
        assert files[path.name]["size"] == path.stat().st_size
    export(out, rows=30, overwrite=True)  # and again, over the second
    assert listing(out) == [MANIFEST, "README.md", "test.parquet", "train.parquet",
                            "validation.parquet"]


CRASHING_EXPORT = """
import os, signal, sys
from pathlib import Path
import polars as pl
import runlake

out, function, nth = Path(sys.argv[1]), getattr(os, sys.argv[2]), int(sys.argv[3])
code = os.path.join(os.sep, "runlake", "export", "output.py")
calls = 0

def hook(frame, event, arg):
    global calls
    if event == "c_call" and arg is function and frame.f_code.co_filename.endswith(code):
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)

frame = pl.DataFrame({"record_id": ["x1", "x2"], "rating": [4.0, 5.0], "prompt": ["a", "b"]})
sys.setprofile(hook)
runlake.export_frame(frame, "table", out, overwrite=True,
                     options=runlake.ExportOptions(fractions=(1.0, 0.0, 0.0)))
"""

# While staging (the 2nd file's fsync), then before each rename: the manifest, the new
# files, the manifest without the previous export.
CRASH_POINTS = [("fsync", 2), ("replace", 1), ("replace", 2), ("replace", 3), ("replace", 4)]


def test_an_export_killed_at_any_step_does_not_block_the_next(tmp_path: Path) -> None:
    outs = [tmp_path / f"out{i}" for i in range(len(CRASH_POINTS))]
    for out in outs:
        export(out)
    children = [subprocess.Popen([sys.executable, "-c", CRASHING_EXPORT, str(out), name,
                                  str(nth)], stderr=subprocess.PIPE)
                for out, (name, nth) in zip(outs, CRASH_POINTS, strict=True)]
    for child, point in zip(children, CRASH_POINTS, strict=True):
        _, errors = child.communicate(timeout=120)
        assert child.returncode == -signal.SIGKILL, (point, errors.decode())
    for out, point in zip(outs, CRASH_POINTS, strict=True):
        left = listing(out)
        assert any(name.startswith(".runlake-export-") for name in left)
        export(out, rows=30, overwrite=True)
        assert listing(out) == [MANIFEST, "README.md", "test.parquet", "train.parquet",
                                "validation.parquet"], point


def test_a_staging_folder_holding_something_else_is_not_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stage = out / ".runlake-export-mine"
    stage.mkdir(parents=True)
    (stage / "notes.txt").write_bytes(USER_TEXT)
    with pytest.raises(runlake.ExportError, match=r"\.runlake-export-mine"):
        export(out, overwrite=True)
    assert (stage / "notes.txt").read_bytes() == USER_TEXT
