"""Every notebook in notebooks/ runs from top to bottom, so none can rot.

Each notebook is executed in a fresh kernel of this interpreter (ipykernel) with its working
directory set to notebooks/, as Jupyter would when a user opens it there; the executed copy stays
in memory, never written back. A cell that raises fails the test with the cell's traceback.
The notebooks are committed without outputs, which a second test checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
#: Seconds any one cell may take (the notebooks keep their runs small; this only catches a hang).
CELL_TIMEOUT = 300


def test_there_are_notebooks_for_each_kind_of_user():
    names = {path.name for path in PATHS}
    assert "01_quickstart.ipynb" in names
    assert len(names) >= 2, names


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_notebook_runs_top_to_bottom(path: Path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        extra_arguments=[],
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    assert all(cell.get("execution_count") for cell in code), "some code cell did not run"
    errors = [o for cell in code for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{path.name}: a cell keeps its outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a cell keeps its execution count"


def test_the_kernel_is_this_interpreter():
    """The notebooks' kernel runs this interpreter, so it sees the same installed packages."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    executable = spec.argv[0]
    same = executable in {"python", sys.executable}
    assert same or Path(executable).resolve() == Path(sys.executable).resolve(), executable
