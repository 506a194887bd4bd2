"""The output folder: checked before any work, written only once everything is built.

A folder that is not empty is refused unless ``overwrite``; even then only a previous
export's files are replaced: a folder holding anything else is refused, so a mistyped
``--out`` can never delete someone's files.
"""

from __future__ import annotations

import os
from pathlib import Path

from runlake.errors import ExportError, StorageError
from runlake.export.options import SPLITS

CARD = "README.md"
EXPORT_FILES = frozenset(
    {CARD} | {f"{split}.{ext}" for split in SPLITS for ext in ("jsonl", "parquet")}
)


def check_out(out: Path, *, overwrite: bool) -> list[Path]:
    """The previous export's files in ``out`` (to replace); raises if ``out`` cannot be used."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"output {out} exists and is not a folder")
    present = sorted(out.iterdir()) if out.is_dir() else []
    if present and not overwrite:
        raise ExportError(f"output folder {out} is not empty; pass overwrite=True "
                          "(--overwrite) to replace a previous export")
    foreign = [path.name for path in present if path.name not in EXPORT_FILES or path.is_dir()]
    if foreign:
        raise ExportError(f"output folder {out} holds files that are not an export's: "
                          f"{', '.join(foreign[:5])}; refusing to overwrite")
    return present


def write_files(out: Path, files: dict[str, bytes], *, replace: list[Path]) -> list[Path]:
    """Write ``files`` into ``out`` (each through a temporary file and a rename), removing
    the previous export's files that this one does not write; the paths written, in order."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in replace:
            if old.name not in files:
                old.unlink()
        return [_write(out / name, data) for name, data in files.items()]
    except OSError as exc:
        raise StorageError(f"cannot write the export to {out}: {exc}") from exc


def _write(path: Path, data: bytes) -> Path:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return path
