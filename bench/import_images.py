"""Image import throughput: ``runlake.import_images`` on 1024x1024 PNGs against the
pre-issue-11 importer's per-file work, same run, same files.

Run: python bench/import_images.py [--images 300] [--workers 2]

Writes ``--images`` incompressible 1024x1024 RGB PNGs (~3 MB each, as a generation tool
saves them) carrying an A1111 infotext each (a different seed per image), then times:

- ``import``: ``import_images`` end to end into a fresh lake (walk, metadata read in
  ``--workers`` processes, detection, identity, records appended), best of ``--repeat``;
- ``import-1``: the same in one process;
- ``baseline``: what the importer did before (per file: read it whole, SHA-256 of its bytes
  for the id, Pillow's ``.text`` -- which decodes the pixels -- and the infotext parse), on
  the first ``--baseline-images`` files.

Prints images/s, the ratio of ``import`` to the baseline, the target (>= 300 images/s on a
2-core machine) and a verdict. The files were just written, so the page cache is warm: this
measures the importer, not the disk.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

import runlake
from runlake.records import parse_infotext
from runlake.testing import images

TARGET = 300.0  # images/s
SIDE = 1024


def write_images(folder: Path, count: int) -> int:
    """``count`` PNGs sharing one noise image's data, each with its own infotext; bytes."""
    plain = images.png_bytes(images.pixels((SIDE, SIDE), noise=True), [])
    head, rest = plain[:33], plain[33:]  # signature + IHDR, then IDAT... IEND
    total = 0
    for index in range(count):
        text = images.infotext(f"a red fox in the snow, study {index}", "lowres", [
            ("Steps", 28), ("Sampler", "DPM++ 2M"), ("Schedule type", "Karras"),
            ("CFG scale", 6.5), ("Seed", 1000 + index), ("Size", f"{SIDE}x{SIDE}"),
            ("Model hash", "1a2b3c4d5e"), ("Model", "juggernautXL_v9"),
            ("Version", "v1.10.1")])
        data = head + images.png_chunk(b"tEXt", b"parameters\0" + text.encode()) + rest
        (folder / f"{index:05d}.png").write_bytes(data)
        total += len(data)
    return total


def time_import(folder: Path, workers: int) -> float:
    lake_root = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    try:
        lake = runlake.Lake(lake_root)
        started = time.perf_counter()
        report = runlake.import_images(lake, folder, workers=workers)
        elapsed = time.perf_counter() - started
        lake.close()
        assert not report.rejected, report.problems[:3]
        return elapsed
    finally:
        shutil.rmtree(lake_root, ignore_errors=True)


def time_baseline(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        with Image.open(io.BytesIO(data)) as image:
            text = image.text["parameters"]  # type: ignore[attr-defined]
        parse_infotext(text).config()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--baseline-images", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-images-"))
    try:
        size = write_images(folder, args.images)
        print(f"{args.images} PNGs of {SIDE}x{SIDE}, {size / args.images / 1e6:.1f} MB each")
        files = sorted(folder.glob("*.png"))[:args.baseline_images]
        baseline = len(files) / time_baseline(files)
        single = args.images / min(time_import(folder, 1) for _ in range(args.repeat))
        best = args.images / min(time_import(folder, args.workers) for _ in range(args.repeat))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'method':<34}{'images/s':>10}{'ratio':>8}")
    print(f"{'baseline (read, SHA-256, decode)':<34}{baseline:>10.0f}{1.0:>8.2f}")
    print(f"{'import (1 process)':<34}{single:>10.0f}{single / baseline:>8.2f}")
    print(f"{f'import ({args.workers} workers)':<34}{best:>10.0f}{best / baseline:>8.2f}")
    verdict = "MET" if best >= TARGET else "NOT MET"
    print(f"target: >= {TARGET:.0f} images/s on 2 cores; verdict: {verdict}")


if __name__ == "__main__":
    main()
