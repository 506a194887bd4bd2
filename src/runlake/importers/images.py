"""Import the generation parameters of PNG images (the WebUI's ``parameters`` text chunk).

Each PNG under a directory that carries an infotext becomes one LearningRecord in ``runs``:
the parsed stage config (every ``Key: value`` pair, typed where the key is known), the
primary knobs, the infotext itself and the image's path and SHA-256. PNGs without the chunk
are counted and skipped; unreadable files are reported. The record id (and run id) is a hash
of the file's bytes, so re-importing, or importing a copy, appends nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from runlake.errors import ImportFailed
from runlake.importers.dedup import ImportReport, ImportTarget, OnceWriter, derived_id
from runlake.learning.records import LearningRecord, primary_knobs
from runlake.records import RUNS_TABLE, format_time, parse_infotext

RECORD_KIND = "a1111_png_import"
NAMESPACE = f"a1111-png/{RUNS_TABLE}"


def import_images(lake: ImportTarget, directory: str | os.PathLike[str]) -> ImportReport:
    """Append a run record for every PNG with generation parameters under ``directory``.

    >>> import_images(lake, "outputs/txt2img-images").appended   # doctest: +SKIP
    {'runs': 120}
    """
    root = Path(directory)
    if not root.is_dir():
        raise ImportFailed(f"{root} is not a directory of images")
    report = ImportReport(str(root))
    with OnceWriter(lake, RUNS_TABLE) as runs:
        for path in png_files(root):
            _import_file(path, runs, report)
    report.appended = {RUNS_TABLE: runs.appended}
    return report


def png_files(root: Path) -> list[Path]:
    """``*.png`` files under ``root`` (any letter case), sorted; symlinked folders are not
    followed, so a link loop cannot trap the walk."""
    found: list[Path] = []
    for folder, _, names in os.walk(root):
        found.extend(Path(folder) / name for name in names if name.lower().endswith(".png"))
    return sorted(found)


def png_parameters(data: bytes) -> str | None:
    """The ``parameters`` text of a PNG, or ``None`` if it has none.

    Raises OSError (PIL's UnidentifiedImageError is one) for bytes that are not an image.
    """
    with Image.open(io.BytesIO(data)) as image:
        if not isinstance(image, PngImagePlugin.PngImageFile):
            return None
        text = image.text.get("parameters")  # .text also reads chunks after the pixels
    return text if isinstance(text, str) else None


def _import_file(path: Path, runs: OnceWriter, report: ImportReport) -> None:
    try:
        data = path.read_bytes()
        modified = path.stat().st_mtime
    except OSError as exc:
        report.skipped += 1
        report.problems.append(f"{path}: cannot read ({exc.strerror or exc})")
        return
    record_id = derived_id(NAMESPACE, data)
    if record_id in runs:  # checked before decoding: a re-import costs a hash per file
        report.already_present += 1
        return
    try:
        text = png_parameters(data)
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:  # PIL raises all three
        report.skipped += 1
        report.problems.append(f"{path}: not a readable PNG ({exc})")
        return
    if text is None:
        report.skipped += 1
        return
    runs.write(image_record(path, text, data, record_id, modified), record_id)


def image_record(
    path: Path, text: str, data: bytes, record_id: str, modified: float
) -> LearningRecord:
    """The run record of one image: its infotext as a stage config, path and hash."""
    info = parse_infotext(text)
    config = info.config()
    knobs = primary_knobs(config)
    digest = hashlib.sha256(data).hexdigest()
    return LearningRecord(
        run_id=record_id,
        timestamp=format_time(datetime.fromtimestamp(modified, timezone.utc)),
        base_config={info.stage: config},
        primary_model=knobs["model"],
        primary_sampler=knobs["sampler"],
        primary_scheduler=knobs["scheduler"],
        primary_steps=knobs["steps"],
        primary_cfg_scale=knobs["cfg_scale"],
        metadata={"record_kind": RECORD_KIND, "image_path": str(path), "infotext": text,
                  "parameters": dict(info.parameters)},
        stage_plan=[info.stage],
        outputs=[{"stage": info.stage, "index": 0, "path": str(path), "sha256": digest}],
    )
