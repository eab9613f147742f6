"""derive in a Jupyter notebook, executed by nbclient as a person would run it: results
display as one table, a network as its layers and names, gradients with their numbers;
the HTML reads without MathJax and the LaTeX is in math mode."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).parent.parent

CELLS = [
    "from derive import api\n"
    "results = api.check('specs/mazur.yaml', isolated=False)\nresults",
    "network = api.load('specs/mazur.yaml')\nnetwork",
    "api.gradients(network, lr=0.5)",
    "api.check_one(network, 'w5', 'delta_o1*out_h2', isolated=False)[0]",
]


@pytest.fixture(scope="module")
def outputs():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    return [{k: v for o in cell.outputs if o.output_type == "execute_result"
             for k, v in o.data.items()} for cell in notebook.cells]


def test_results_show_as_one_table_of_verdicts_claims_and_hints(outputs):
    page = outputs[0]["text/html"]
    assert page.startswith("<table>") and page.count("<tr>") == 10  # a header and 9 rows:
    assert "[j=1, k=1] and 3 more like it" in page  # a template's 4 alike instances in one
    assert "15 checks: 15 ok, 0 failed" in page and "correct (symbolic)" in page
    assert "incorrect (expected)</b>" in page  # as every report words a wrong claim's
    # expected verdict (not "incorrect (expected incorrect)")
    assert "$" not in page  # nothing left for a MathJax that may not be there
    assert "Result(" not in outputs[0]["text/plain"]


def test_a_network_shows_its_layers_and_names(outputs):
    page = outputs[1]["text/html"]
    assert "<td style='text-align:left; vertical-align:top; padding:2px 8px'>sigmoid</td>" \
        in page
    assert "w_o[j, k], W_o" in page and "10 parameters" in page
    assert outputs[1]["text/plain"] == "<Network 2-2-2 (sigmoid/sigmoid, sse): 10 parameters>"


def test_gradients_show_with_their_numbers_in_math_mode(outputs):
    latex, page = outputs[2]["text/latex"], outputs[2]["text/html"]
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert "\\delta_{o1} \\mathrm{out}_{h1} = 0.0821670406" in latex
    assert "0.35891648" in page and "E_total = 0.298371109" in page


def test_a_wrong_claim_shows_its_hint(outputs):
    page = outputs[3]["text/html"]
    assert "out_h2 where out_h1 belongs" in page and "incorrect" in page
    assert outputs[3]["text/latex"].startswith("$\\frac{\\partial E_{\\mathrm{total}}}")
