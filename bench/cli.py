"""Start-up of the ``runlake`` command against same-run floors.

Run: python bench/cli.py [--rounds 7] [--records 20000]

Times, each in a fresh process, in interleaved rounds (every command once per round, so a
busy moment on a shared machine hits them alike): bare ``python -c pass``, the floor
``python -c "import typer, rich"``, a minimal Typer app with as many commands as runlake
printing its ``--help`` (what Typer itself costs to render help), a minimal Typer app
running one command with a path option (Typer coerces parameters through pydantic), then
``runlake --help`` and ``runlake status`` on a lake of ``--records`` records (its line-count
memo warmed by one call first). Prints the best and median wall time of each, the ratio to
the floors, the target (< 0.3 s) and a verdict.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import runlake

TARGET_SECONDS = 0.3
MINIMAL_APP = """
import typer
app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode="markdown")
for name in ("append", "status", "replay", "compact", "optimize", "vacuum", "compare", "query",
             "stats", "report", "export", "imports", "demo"):
    def command(ctx: typer.Context, table: str = "runs", limit: int = 1) -> None:
        '''A command.

        Example: runlake command
        '''
    app.command(name)(command)
app(args=["--help"], prog_name="minimal")
"""
# A minimal Typer app running a command with a path option: Typer 0.29 coerces parameters
# through pydantic, which it imports on the first command run (not for --help).
MINIMAL_COMMAND = """
from pathlib import Path
from typing import Optional
import typer
app = typer.Typer(add_completion=False, rich_markup_mode="markdown")
@app.callback()
def main(lake: Optional[Path] = typer.Option(None, "--lake")) -> None:
    pass
@app.command()
def status() -> None:
    print("ok")
@app.command()
def other() -> None:
    pass
app(args=["--lake", "/tmp", "status"], prog_name="minimal")
"""


def commands(lake: Path) -> dict[str, list[str]]:
    python = [sys.executable]
    return {
        "python -c pass": [*python, "-c", "pass"],
        "import typer, rich": [*python, "-c", "import typer, rich"],
        "minimal typer --help": [*python, "-c", MINIMAL_APP],
        "minimal typer command": [*python, "-c", MINIMAL_COMMAND],
        "runlake --help": [*python, "-m", "runlake", "--help"],
        "runlake status": [*python, "-m", "runlake", "--lake", str(lake), "status"],
    }


def run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def measure(lake: Path, rounds: int) -> dict[str, list[tuple[float, float]]]:
    todo = commands(lake)
    for argv in todo.values():  # warm the page cache and the status memo
        run(argv)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in todo}
    for _ in range(rounds):
        for name, argv in todo.items():
            times[name].append(run(argv))
    return times


def report(runs: dict[str, list[tuple[float, float]]]) -> None:
    """Best wall (what a user waits, on a quiet moment) and best CPU (steadier on a busy
    machine), each against the floors of the same run."""
    best = {name: min(wall for wall, _ in values) for name, values in runs.items()}
    cpu = {name: min(used for _, used in values) for name, values in runs.items()}
    floor = best["import typer, rich"]
    print(f"{'':22s} {'best s':>7s} {'median s':>9s} {'x typer+rich':>13s} "
          f"{'- typer+rich s':>15s} {'best cpu s':>11s}")
    for name, values in runs.items():
        median = statistics.median(wall for wall, _ in values)
        print(f"{name:22s} {best[name]:7.3f} {median:9.3f} {best[name] / floor:13.2f} "
              f"{best[name] - floor:15.3f} {cpu[name]:11.3f}")
    for name, floor_name in (("runlake --help", "minimal typer --help"),
                             ("runlake status", "minimal typer command")):
        verdict = "MET" if best[name] < TARGET_SECONDS else "NOT MET"
        print(f"target: {name} < {TARGET_SECONDS} s (best of rounds): {best[name]:.3f} s -> "
              f"{verdict}; over the {floor_name} floor: {best[name] - best[floor_name]:+.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        lake = runlake.Lake(root / "lake")
        lake.append_many("runs", ({"i": i, "prompt": "a cat " * 20,
                                   "timestamp": f"2026-03-{10 + i % 20}T00:00:00"}
                                  for i in range(args.records)), durability="flush")
        lake.close()
        print(f"{args.records:,} records in {len(list(root.glob('lake/raw/*/*/*.jsonl')))} "
              f"segments; {args.rounds} interleaved rounds; python {sys.version.split()[0]}")
        report(measure(lake.root, args.rounds))
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
