"""The analyst notebooks run, top to bottom, against a small warehouse built and published here;
the committed notebooks carry no outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ct_pipeline.settings import get_settings
from tests.unit.analysis.star import built_warehouse_file

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def warehouse_dir(tmp_path_factory) -> Path:
    """A published warehouse (ct.duckdb) from the synthetic star schema, marts and pub tables."""
    from ct_pipeline.warehouse import publish

    folder = tmp_path_factory.mktemp("nb") / "warehouse"
    build = folder / "restricted" / "build.duckdb"
    build.parent.mkdir(parents=True)
    shutil.copy(built_warehouse_file(), build)
    publish(get_settings(warehouse_dir=folder), build, parquet=False)
    return folder


def test_there_is_a_quickstart():
    assert ROOT / "notebooks" / "quickstart.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_against_the_published_warehouse(path: Path, warehouse_dir: Path, monkeypatch):
    monkeypatch.setenv("CT_WAREHOUSE_DIR", str(warehouse_dir))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "connected to ct.duckdb" in text
    assert "mart_cases__yearly" in text and ("intra_regional" in text or "domestic" in text)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
