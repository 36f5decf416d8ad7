"""notebooks/example.ipynb runs from top to bottom on a real Jupyter kernel.

The kernel is this virtualenv's ipykernel, declared in a temporary kernelspec
(JUPYTER_PATH) so that no kernel installed elsewhere on the machine is picked up.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "example.ipynb"
KERNEL = "sem_kit_venv"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module):
    spec_dir = tmp_path_factory.mktemp("jupyter") / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "sem_kit (test venv)", "language": "python",
    }), encoding="utf-8")
    monkeypatch_module.setenv("JUPYTER_PATH", str(spec_dir.parent.parent))
    monkeypatch_module.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    return nb


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _outputs(nb, kind: str) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.get("output_type") == kind]


def test_notebook_is_valid_and_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the example notebook has no code"
    assert all(not c.outputs for c in code), "commit the notebook without outputs"
    source = "\n".join(c.source for c in code)
    for call in ("sk.load_questionnaire", "sk.analyze", "res.save"):
        assert call in source


def test_notebook_runs_without_errors(executed):
    assert not _outputs(executed, "error")
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)


def test_result_renders_as_html(executed):
    htmls = [o["data"]["text/html"] for o in _outputs(executed, "execute_result")
             if "text/html" in o.get("data", {})]
    summary = [h for h in htmls if "semkit-nb" in h]
    assert summary, "AnalysisResult did not render through _repr_html_"
    assert "supported" in summary[0] and "Cronbach" in summary[0]


def test_report_written(executed):
    listing = [o["data"]["text/plain"] for o in _outputs(executed, "execute_result")
               if "report.html" in o.get("data", {}).get("text/plain", "")]
    assert listing
    for name in ("report.html", "results.json", "tables.xlsx", "tables.docx", "tables",
                 "figures"):
        assert f"'{name}'" in listing[0]
