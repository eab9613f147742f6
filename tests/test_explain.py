"""`derive explain` (SPEC §10): the worked derivation, checked against Mazur's article.

Matt Mazur's "A Step by Step Backpropagation Example" publishes every intermediate
number of dE_total/dw5 and dE_total/dw1 on the 2-2-2 network of specs/mazur.yaml.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from derive import api, explain
from derive.cli import main

SPECS = Path(__file__).parent.parent / "specs"
MAZUR = str(SPECS / "mazur.yaml")


def published(value, digits: str) -> bool:
    """Equal to the published figure at the figure's own number of decimals."""
    decimals = len(digits.split(".")[1])
    return round(value, decimals) == pytest.approx(float(digits), abs=10 ** -decimals / 2)


def test_the_output_weight_matches_mazurs_published_numbers():
    d = api.explain(api.load(MAZUR), "w5")
    by = {(eq.partial.of, eq.partial.wrt): eq for eq in d.equations}
    assert published(d.values["out_h1"], "0.593269992")
    assert published(d.values["out_o1"], "0.75136507")
    assert published(by[("E_total", "out_o1")].value, "0.74136507")
    assert published(by[("out_o1", "net_o1")].value, "0.186815602")
    assert published(by[("net_o1", "w5")].value, "0.593269992")
    assert published(d.result.value, "0.082167041")
    assert [[p.text() for p in term] for term in d.result.chain] == \
        [["dE_total/dnet_o1", "dnet_o1/dw5"]]


def test_a_hidden_weight_sums_over_every_path_as_mazur_does():
    d = api.explain(api.load(MAZUR), "w1")
    by = {(eq.partial.of, eq.partial.wrt): eq for eq in d.equations}
    paths = by[("E_total", "out_h1")]
    assert len(paths.chain) == 2  # through o1 and through o2
    assert published(paths.value, "0.036350306")  # Mazur: dE_total/dout_h1
    assert published(by[("out_h1", "net_h1")].value, "0.241300709")
    assert published(d.result.value, "0.000438568")
    assert paths.compact == sp.sympify("delta_o1*w5 + delta_o2*w7",
                                       locals={n: api.load(MAZUR)[n].symbol
                                               for n in ("delta_o1", "delta_o2", "w5", "w7")})


def test_every_equation_is_the_engines_own_derivative():
    """The compact form of each step is what calculus says that derivative is."""
    network = api.load(SPECS / "hidden_softmax.yaml")
    d = api.explain(network, "w1")
    from derive import calculus
    for eq in d.equations:
        if eq.partial.of == explain.L2:
            continue
        of, wrt = network[eq.partial.of].symbol, network[eq.partial.wrt].symbol
        truth = calculus.derivative(network, of, wrt) if eq.chain or eq.partial.of == \
            "E_total" else network[eq.partial.of].partials[wrt]
        difference = calculus.expand(network, eq.compact - truth)
        assert sp.simplify(difference) == 0, eq.partial.text()
    cross = [eq for eq in d.equations if (eq.partial.of, eq.partial.wrt) ==
             ("out_h2", "net_h1")]
    assert cross and str(cross[0].compact) == "-out_h1*out_h2"  # the softmax cross term


def test_explain_text_reads_like_the_article():
    result = CliRunner().invoke(main, ["explain", MAZUR, "--wrt", "w5"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "dE_total/dw5, by the chain rule"
    assert "dE_total/dw5 = dE_total/dnet_o1 * dnet_o1/dw5" in result.output
    assert "= 0.74136507 * 0.186815602" in result.output
    assert lines[-1] == "so dE_total/dw5 = delta_o1*out_h1 = 0.0821670406"


def test_a_unit_no_later_net_uses_is_said_to_be_unused_not_the_loss(tmp_path):
    spec = tmp_path / "dead.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - {name: h, units: 2}\n"
                    "  - {name: o, units: 1, from: [h1]}\n")
    result = CliRunner().invoke(main, ["explain", str(spec), "--wrt", "w_h2_i1"])
    assert "dE_total/dout_h2 = 0   (no later net uses it)" in result.output
    assert "(the loss" not in result.output
    output = CliRunner().invoke(main, ["explain", str(spec), "--wrt", "w_o1_h1"])
    assert "(the loss (sse))" in output.output


def test_explain_markdown_and_at():
    result = CliRunner().invoke(main, ["explain", MAZUR, "--wrt", "w5", "--format",
                                       "markdown", "--at", "w5=0"])
    assert result.exit_code == 0
    assert result.output.startswith("# dE_total/dw5 in ")
    assert "$$" in result.output and r"\frac{\partial E_{\mathrm{total}}}" in result.output


@pytest.mark.parametrize("args, message", [
    (["--wrt", "w9"], "unknown name 'w9'"),
    (["--wrt", "delta_o1"], "delta_o1 is a delta"),
])
def test_explain_refuses_what_it_cannot_derive(args, message):
    result = CliRunner().invoke(main, ["explain", MAZUR, *args])
    assert result.exit_code == 2 and message in result.output


def test_a_course_that_hides_the_truth_does_not_explain_its_exercises(tmp_path):
    course = (SPECS / "mazur.yaml").read_text().split("checks:")[0] + \
        "exercises:\n  - id: w5\n    wrt: w5\n"
    (tmp_path / "course.yaml").write_text(course)
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "course.yaml"),
                                       "--wrt", "w5"])
    assert result.exit_code == 2
    assert "feedback level (counterexample)" in result.output
    (tmp_path / "open.yaml").write_text(course + "feedback: truth\n")
    assert CliRunner().invoke(main, ["explain", str(tmp_path / "open.yaml"),
                                     "--wrt", "w5"]).exit_code == 0


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine here")
@pytest.mark.parametrize("spec, wrt", [("mazur", "w1"), ("hidden_softmax", "w1"),
                                       ("tied", None)])
def test_explain_latex_compiles(tmp_path, spec, wrt):
    network = api.load(SPECS / f"{spec}.yaml")
    wrt = wrt or network.params[0]
    (tmp_path / "d.tex").write_text(explain.latex(api.explain(network, wrt)))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "Overfull" not in run.stdout


def test_a_failing_claim_points_to_the_worked_derivation_where_the_truth_may_be_shown():
    network = api.load(MAZUR)
    [result] = api.check_one(network, "w1", "delta_h1*i2", isolated=False)
    assert f"  how it goes: derive explain {MAZUR} --wrt w1" in result.explain()
    [matrix] = api.check_one(network, "W_o", "out_h @ transpose(delta_o)", isolated=False)
    assert any(line.endswith("--wrt w6") and "derive explain" in line
               for line in matrix.explain())  # the first wrong entry's own weight
    hidden = api.load(MAZUR, level="counterexample")
    [result] = api.check_one(hidden, "w1", "delta_h1*i2", isolated=False)
    assert not any("derive explain" in line for line in result.explain())


def test_explain_json_holds_the_steps_and_their_numbers():
    result = CliRunner().invoke(main, ["explain", MAZUR, "--wrt", "w5", "--format", "json"])
    data = json.loads(result.output)
    first = data["steps"][0]
    assert data["wrt"] == "w5" and first["partial"] == {"of": "E_total", "wrt": "w5"}
    assert first["chain"] == [[{"of": "E_total", "wrt": "net_o1"}, {"of": "net_o1", "wrt": "w5"}]]
    assert first["expr"] == "delta_o1*out_h1" and f"{first['value']:.9f}" == "0.082167041"
    assert [f"{x:.9f}" for x in first["factors"][0]] == ["0.138498562", "0.593269992"]
    assert data["values"]["out_h1"] == pytest.approx(0.593269992, abs=1e-9)
