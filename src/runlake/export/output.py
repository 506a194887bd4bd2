"""The output folder: checked before any work, written only once everything is built.

Each export records what it wrote in a manifest, ``.runlake-export.json`` (every file's size
and SHA-256). A folder that is not empty is refused unless ``overwrite``; even then only files
a previous export's manifest lists, and that still hold what it wrote, are replaced or
removed. Anything else (a user's ``README.md``, a card edited since, a symlink, a folder with
no manifest) is refused by name, so a mistyped ``--out`` never deletes someone's files.

Files are staged in a private folder made for this export inside ``out`` (``mkdtemp``, files
opened ``O_EXCL | O_NOFOLLOW``), so a planted name or symlink cannot redirect a write, then
renamed into place. A crash leaves a folder the next export accepts: the manifest is renamed
in first and lists both the new files and the previous export's, and a staging folder left
behind is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from runlake.errors import ExportError
from runlake.export.options import SPLITS
from runlake.storage import fsync_path, storage_error, storage_errors

CARD = "README.md"
MANIFEST = ".runlake-export.json"
EXPORT_FILES = frozenset(
    {CARD} | {f"{split}.{ext}" for split in SPLITS for ext in ("jsonl", "parquet")}
)
_STAGING = ".runlake-export-"
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

Entry = tuple[int, str]
"""What an export wrote in one file: its size and SHA-256 (hex)."""


def check_out(out: Path, *, overwrite: bool) -> dict[str, Entry]:
    """The previous export's files in ``out`` (name -> what it wrote there), which this
    export may replace; raises :class:`ExportError` naming what makes ``out`` unusable."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"output {out} exists and is not a folder")
    if not out.is_dir():
        return {}
    with storage_errors(out, doing=f"read the output folder {out}"):
        present = {entry.name: entry for entry in os.scandir(out)}
        for name in [name for name in present if _remove_staging(present[name])]:
            del present[name]
        if not present:
            return {}
        if not overwrite:
            raise ExportError(f"output folder {out} is not empty; pass overwrite=True "
                              "(--overwrite) to replace a previous export")
        recorded = _read_manifest(present.pop(MANIFEST, None))
        found = {name: _recorded(entry, recorded.get(name, [])) for name, entry in present.items()}
    refused = [f"{name} ({why})" for name, why in sorted(found.items()) if isinstance(why, str)]
    if refused:
        raise ExportError(f"output folder {out} holds files no previous export wrote: "
                          f"{', '.join(refused[:5])}; refusing to overwrite (move them away)")
    return {name: entry for name, entry in found.items() if not isinstance(entry, str)}


def write_files(out: Path, files: dict[str, bytes], *, replace: Mapping[str, Entry]
                ) -> list[Path]:
    """Write ``files`` into ``out`` in place of the previous export ``replace``; the paths
    written, in order.

    Everything is staged first; only when all of it is on disk is the manifest (listing this
    export's files and ``replace``) renamed in, then the files, then ``replace``'s files this
    export does not write are removed and the manifest is rewritten without them. A failure
    while staging (a full disk) leaves the previous export whole and the folder as it was.
    """
    entries = {name: _entry(data) for name, data in files.items()}
    with storage_errors(out, doing=f"write the export to {out}"):
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=_STAGING, dir=out))
    try:
        for name, data in files.items():
            _write_new(stage / name, data)
        _write_new(stage / MANIFEST, _manifest(entries, replace))
    except OSError as exc:
        with contextlib.suppress(OSError):
            _remove_staging_files(stage)
        raise storage_error(exc, out, doing=f"write the export to {out}") from exc
    with storage_errors(out, doing=f"write the export to {out}"):
        os.replace(stage / MANIFEST, out / MANIFEST)
        fsync_path(out)
        for name in files:
            os.replace(stage / name, out / name)
        for name in replace.keys() - files.keys():
            (out / name).unlink(missing_ok=True)
        _write_new(stage / MANIFEST, _manifest(entries, {}))
        os.replace(stage / MANIFEST, out / MANIFEST)
        stage.rmdir()
        fsync_path(out)
    return [out / name for name in files]


def _entry(data: bytes) -> Entry:
    return len(data), hashlib.sha256(data).hexdigest()


def _manifest(files: Mapping[str, Entry], replacing: Mapping[str, Entry]) -> bytes:
    """The manifest: this export's files and, while it replaces them, the previous one's."""
    def table(entries: Mapping[str, Entry]) -> dict[str, dict[str, object]]:
        return {name: {"size": size, "sha256": digest}
                for name, (size, digest) in sorted(entries.items())}
    body: dict[str, object] = {"runlake_export": 1, "files": table(files)}
    if replacing:
        body["replacing"] = table(replacing)
    return json.dumps(body, indent=1, sort_keys=True).encode() + b"\n"


def _read_manifest(entry: os.DirEntry[str] | None) -> dict[str, list[Entry]]:
    """Each file name the manifest lists -> the contents it accepts (none if unreadable)."""
    data = _read_regular(entry.path) if entry is not None else None
    try:
        body = json.loads(data) if data is not None else {}
        recorded: dict[str, list[Entry]] = {}
        for part in ("files", "replacing"):
            for name, item in body.get(part, {}).items():
                recorded.setdefault(name, []).append((int(item["size"]), str(item["sha256"])))
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}
    return recorded


def _recorded(entry: os.DirEntry[str], accepted: list[Entry]) -> Entry | str:
    """What a previous export wrote in this file, or why the file is not an export's."""
    if not accepted:
        return f"not listed in an export's {MANIFEST}"
    data = _read_regular(entry.path)
    if data is None:
        return "not a regular file"
    found = _entry(data)
    return found if found in accepted else "changed since the export wrote it"


def _read_regular(path: str) -> bytes | None:
    """The bytes of a regular file, never through a symlink; None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read() if stat.S_ISREG(os.fstat(fd).st_mode) else None


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (never an existing name, never through a symlink) holding ``data``."""
    fd = os.open(path, _NEW, 0o666)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(fd)


def _remove_staging(entry: os.DirEntry[str]) -> bool:
    """Remove a staging folder a crashed export left (only if it holds nothing but regular
    files an export writes); whether ``entry`` was one."""
    if not entry.name.startswith(_STAGING) or not entry.is_dir(follow_symlinks=False):
        return False
    inside = list(os.scandir(entry.path))
    if any(item.name not in EXPORT_FILES | {MANIFEST} or not item.is_file(follow_symlinks=False)
           for item in inside):
        return False
    _remove_staging_files(Path(entry.path))
    return True


def _remove_staging_files(stage: Path) -> None:
    for name in EXPORT_FILES | {MANIFEST}:
        (stage / name).unlink(missing_ok=True)
    stage.rmdir()
