"""The notebooks in notebooks/: committed clean, and run top to bottom against a demo lake
in a real Jupyter kernel, as an analyst would run them."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import runlake
from tests.helpers import REPO

NOTEBOOKS = REPO / "notebooks"
NAMES = ("sweep_analysis", "llm_dataset")
CELL_TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("notebooks")
    lake = runlake.Lake(root / "lake")
    runlake.run_demo(lake, seeds=3, images_dir=root / "images")  # 3: enough ratings to export
    lake.compact()
    lake.close()
    return lake.root


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def execute(name: str, lake: Path, work: Path) -> nbformat.NotebookNode:
    """Run every cell in a python3 kernel started in ``work/cwd`` with its temporary files
    in ``work/tmp``; a cell that raises fails the test with its traceback (nbclient's
    CellExecutionError)."""
    notebook = read(name)
    for folder in ("cwd", "tmp"):
        (work / folder).mkdir()
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(work / "cwd")}})
    client.execute(env={**os.environ, "RUNLAKE_LAKE": str(lake), "TMPDIR": str(work / "tmp")})
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    """Everything the cells wrote to stdout, and the plain text of their results."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                parts.append(output.text)  # a line may come in several chunks
            elif "data" in output:
                parts.append(f"\n{output.data.get('text/plain', '')}\n")
    return "".join(parts)


def images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {})
               for cell in notebook.cells for output in cell.get("outputs", []))


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_notebook_is_clean(name: str) -> None:
    notebook = read(name)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert any(cell.cell_type == "markdown" for cell in notebook.cells)


def test_sweep_analysis_runs_and_draws_each_plot(demo_lake: Path, tmp_path: Path) -> None:
    notebook = execute("sweep_analysis", demo_lake, tmp_path)
    text = printed(notebook)
    assert f"lake {demo_lake}: 113 runs, 113 rated, 3 models, 1 experiments" in text
    assert "best sampler x steps (n >= 2):" in text and "best CFG for" in text
    assert images(notebook) == 5  # the image grid, heatmap, CFG curves, variants, duration
    assert "┆ shown" in text  # the table behind the grid, with the run each cell shows
    assert "no experiments" not in text
    assert list((tmp_path / "cwd").iterdir()) == []  # analysis writes nothing


def test_llm_dataset_exports_inspects_and_loads_back(demo_lake: Path, tmp_path: Path) -> None:
    notebook = execute("llm_dataset", demo_lake, tmp_path)
    text = printed(notebook)
    # 5 prompts x 3 models = 15 goals; whole prompt groups go to one split each
    assert "examples per split: {'train': 9, 'validation': 0, 'test': 6}" in text
    assert "train: 9 examples" in text  # polars read it back
    assert "num_rows: 9" in text  # and so did datasets
    assert '"role": "assistant"' in text and "runs_version" in text  # example and card
    assert "byte-identical: True" in text
    assert list((tmp_path / "cwd").iterdir()) == []  # exports go to a temporary folder
    exports = [path.name for path in (tmp_path / "tmp").glob("runlake-datasets-*/*")]
    assert {"sft", "sft-again", "preference", "table"} <= set(exports)
