"""Test and benchmark helpers that ship with the package (as ``optuna.testing`` does).

- ``sweep``: ``sweep(grid, start=...)``, the cells of a sweep grid: the one builder behind
  every generated sweep in the tests and benchmarks.
- ``synthetic``: realistic StableNew-shaped sweep records (``sweep_records``, ``run_record``).
- ``images``: images in each tool's real metadata format, StableNew's rewrites of them, and
  damaged files and bombs (import it as ``runlake.testing.images``: it loads Pillow).
- ``real_shapes``: the layouts real files of the tools showed beyond their public code
  (JSON in EXIF, pixel-space hires graphs, ...), each naming the real file it follows.
- ``terminal``: ``on_terminal``, the ``runlake`` command run on a pseudo-terminal of a given
  size (what a person sees; for the terminal-output tests and ``bench/terminal.py``).

Nothing in the library imports this package (the import-linter layers keep it so); it
imports nothing from runlake but itself.
"""

from __future__ import annotations

from runlake.testing.sweep import Cell, sweep
from runlake.testing.synthetic import run_record, sweep_records
from runlake.testing.terminal import Drawn, on_terminal

__all__ = ["Cell", "Drawn", "on_terminal", "run_record", "sweep", "sweep_records"]
