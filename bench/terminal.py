"""Big results on a terminal: the default page against drawing every row, in the same run.

Run: python bench/terminal.py [--rows 20000] [--rounds 3] [--full]

Builds a compacted lake of ``--rows`` runs over a 6,600-cell grid (6 models x 11 samplers x
10 steps x 10 CFG scales, one rating each) and times, on a 120x40 pseudo-terminal
(``runlake.testing.on_terminal``, so rich draws exactly what a person would see):

- ``query "SELECT * FROM runs LIMIT 20000"`` and ``compare --by model,sampler,steps,cfg_scale``
  (6,600 groups) as drawn by default (a page of 50 rows, then "N more rows");
- the floor: the same command with ``--format csv --limit 1`` (start-up, the query, one row);
- with ``--full``: the same command drawing every row (``--limit 0``), what the command did
  before pages (minutes for the query: off by default).

Prints the best of ``--rounds`` for each, the default's ratio to the floor, the target (the
page costs at most 1 s over the floor) and a verdict.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import runlake
from runlake.testing import on_terminal

TARGET_OVER_FLOOR = 1.0
MODELS = [f"model_{i}" for i in range(6)]
SAMPLERS = ["Euler a", "Euler", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "UniPC", "DDIM",
            "LMS", "Heun", "DPM2", "DPM fast"]
STEPS = list(range(10, 60, 5))
CFG_SCALES = [3.0, 4.5, 5.0, 6.0, 7.0, 7.5, 8.0, 9.0, 10.0, 12.0]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def build(root: Path, rows: int) -> Path:
    rng = random.Random(7)
    lake = runlake.Lake(root / "lake")
    lake.append_many("runs", ({
        "run_id": f"run{i:07d}", "timestamp": (START + timedelta(seconds=13 * i)).isoformat(),
        "base_config": {"txt2img": {
            "model": rng.choice(MODELS), "sampler_name": rng.choice(SAMPLERS),
            "steps": rng.choice(STEPS), "cfg_scale": rng.choice(CFG_SCALES),
            "seed": rng.randrange(10**6), "prompt": f"prompt {i % 300}", "width": 1024,
            "height": 1024, "negative_prompt": "lowres"}},
        "metadata": {"image_path": f"out/{i:07d}.png", "user_rating": rng.randint(1, 5)},
    } for i in range(rows)))
    lake.compact()
    lake.close()
    return lake.root


def cases(lake: Path, full: bool) -> dict[str, list[str]]:
    base = ["--lake", str(lake)]
    commands = {"query 20,000 rows": ["query", "SELECT * FROM runs LIMIT 20000"],
                "compare 6,600 groups": ["compare", "--by", "model,sampler,steps,cfg_scale"]}
    todo = {}
    for name, command in commands.items():
        todo[f"{name}: floor (csv, 1 row)"] = [*base, *command, "--format", "csv", "--limit", "1"]
        todo[f"{name}: default page"] = [*base, *command]
        if full:
            todo[f"{name}: every row drawn"] = [*base, *command, "--limit", "0"]
    return todo


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also draw every row (slow)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-terminal-"))
    try:
        lake = build(root, args.rows)
        todo = cases(lake, args.full)
        best: dict[str, float] = {}
        for _ in range(args.rounds):  # interleaved: a busy moment hits every case alike
            for name, argv in todo.items():
                drawn = on_terminal(*argv)
                assert drawn.returncode == 0, drawn.text[-2000:]
                best[name] = min(best.get(name, float("inf")), drawn.seconds)
        report(best)
    finally:
        shutil.rmtree(root)


def report(best: dict[str, float]) -> None:
    for name, seconds in best.items():
        print(f"{name:45s} {seconds:8.2f} s")
    for case in ("query 20,000 rows", "compare 6,600 groups"):
        floor, page = best[f"{case}: floor (csv, 1 row)"], best[f"{case}: default page"]
        verdict = "MET" if page - floor <= TARGET_OVER_FLOOR else "NOT MET"
        full = best.get(f"{case}: every row drawn")
        drawn = f"; every row drawn {full:.2f} s ({full / page:.0f}x the page)" if full else ""
        print(f"target: {case} page <= floor + {TARGET_OVER_FLOOR:.1f} s: {page:.2f} s vs "
              f"{floor:.2f} s ({page / floor:.2f}x) -> {verdict}{drawn}")


if __name__ == "__main__":
    main()
