"""The output folder: checked before any work, written only once everything is built.

A folder that is not empty is refused unless ``overwrite``; even then only a previous
export's files are replaced: a folder holding anything else is refused, so a mistyped
``--out`` can never delete someone's files.
"""

from __future__ import annotations

import os
from pathlib import Path

from runlake.errors import ExportError
from runlake.export.options import SPLITS
from runlake.storage import storage_error

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
    foreign = [path.name for path in present if path.is_dir() or not _ours(path.name)]
    if foreign:
        raise ExportError(f"output folder {out} holds files that are not an export's: "
                          f"{', '.join(foreign[:5])}; refusing to overwrite")
    return present


def _ours(name: str) -> bool:
    """A previous export's file, or the temporary of one a crash left behind."""
    stem = name[1:-4] if name.startswith(".") and name.endswith(".tmp") else name
    return stem in EXPORT_FILES


def write_files(out: Path, files: dict[str, bytes], *, replace: list[Path]) -> list[Path]:
    """Write ``files`` into ``out``; the paths written, in order.

    Every file is first written to a temporary name; only when all of them are on disk are
    they renamed over the previous export, whose files this one does not write are removed
    last. A failure (a full disk) removes the temporaries and leaves the previous export
    whole, so the folder never mixes two exports and a retry is not refused.
    """
    staged: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            staged.append(_temporary(out / name))
            staged[-1].write_bytes(data)
    except OSError as exc:
        for temporary in staged:
            temporary.unlink(missing_ok=True)
        raise storage_error(exc, out, doing=f"write the export to {out}") from exc
    written = [out / name for name in files]
    for temporary, path in zip(staged, written, strict=True):
        os.replace(temporary, path)
    for old in replace:
        if old.name not in files:
            old.unlink(missing_ok=True)
    return written


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")
