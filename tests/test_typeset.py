"""LaTeX and Markdown that a person would put in a report: compiled where a TeX engine is
installed, with no line running past the margin."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from derive import api, calculus, typeset
from derive.cli import main

ROOT = Path(__file__).parent.parent
MAZUR = str(ROOT / "specs" / "mazur.yaml")
TEX = shutil.which("pdflatex") is not None


def compiled(tmp_path: Path, source: str, name: str = "d") -> str:
    """The log of a pdflatex run that must succeed."""
    (tmp_path / f"{name}.tex").write_text(source)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", f"{name}.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    return (tmp_path / f"{name}.log").read_text(errors="replace")


def overfull(log: str) -> list[str]:
    return re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)


def test_text_is_escaped_once():
    assert typeset.text("a\\b") == r"a\textbackslash{}b"  # not \textbackslash\{\}
    assert typeset.text("50% of #1 & $x_1$ {y} ~ ^") == \
        r"50\% of \#1 \& \$x\_1\$ \{y\} \textasciitilde{} \^{}"
    assert typeset.text("|x| < 1 > 0") == "$|$x$|$ $<$ 1 $>$ 0"


@pytest.mark.parametrize("wrt", ["w1", "b2", "w5"])
def test_a_broken_formula_is_the_formula(wrt):
    """Its parts (terms of a sum, factors of a product) make the whole again."""
    network = api.load(MAZUR)
    expr = calculus.expand(network, calculus.gradient(network, wrt))
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, sp.Add | sp.Mul):
            parts = typeset._parts(e)
            if isinstance(e, sp.Add):
                assert sp.Add(*(-p if j == "-" else p for j, p in parts)) == e
            else:
                assert sp.Mul(*(p for _, p in parts)) == e
            stack += [p for _, p in parts]
    lines = typeset.lines(expr)
    assert len(lines) > 1 and all(typeset._width(line) <= typeset.LINE or
                                  "+" not in line and "\\cdot" not in line[1:]
                                  for line in lines)


@pytest.mark.skipif(not TEX, reason="no TeX engine here")
@pytest.mark.parametrize("args", [["--lr", "0.5"], ["--expanded"]])
def test_a_gradients_document_compiles_within_the_margins(tmp_path, args):
    """The expanded gradients of Mazur's network ran 5,700 pt past the margin once."""
    result = CliRunner().invoke(main, ["grad", MAZUR, "--document", *args])
    assert result.exit_code == 0
    assert "\\paragraph{Notation.}" in result.output
    assert overfull(compiled(tmp_path, result.output)) == []


@pytest.mark.skipif(not TEX, reason="no TeX engine here")
def test_a_checks_table_of_several_files_has_a_file_column_and_compiles(tmp_path):
    other = tmp_path / "tanh.yaml"
    other.write_text((ROOT / "specs" / "tanh_relu.yaml").read_text())
    result = CliRunner().invoke(main, ["check", MAZUR, str(other), "--format", "latex"])
    table = result.output
    assert "\\begin{longtable}{p{0.16\\linewidth} r" in table
    assert "file & line & claim & verdict" in table
    log = compiled(tmp_path, typeset.standalone(table, "Checks"))
    assert [width for width in overfull(log) if float(width) > 1] == []


def test_checks_as_a_markdown_table_per_file(tmp_path):
    result = CliRunner().invoke(main, ["check", MAZUR, "--format", "markdown"])
    lines = result.output.splitlines()
    assert lines[0] == f"### {MAZUR}: 15 of 15 checks ok"
    assert lines[2:4] == ["| line | checks | claim | verdict | hint |",
                          "|---:|---|---|---|---|"]
    assert len(lines) == 4 + 9 and all(line.count(" | ") == 4 for line in lines[4:])
    assert "| d(E_total, w5) [j=1, k=1] and 3 more like it |" in result.output  # a template
    assert "| ✓ incorrect (expected) | wrong sign |" in result.output  # line 50


@pytest.mark.skipif(not TEX, reason="no TeX engine here")
def test_a_templates_row_stands_for_its_alike_instances_and_its_sum_keeps_the_margin(
        tmp_path):
    """A wrong template over 2-2-10 is one row; its sum of ten delta-weight products,
    broken in brackets, ran 55 pt into the verdict column when a symbol's command
    (\\delta) was measured as nothing."""
    spec = tmp_path / "wide.yaml"
    spec.write_text("inputs: 2\nloss: sse\nlayers:\n"
                    "  - {name: h, units: 2, activation: sigmoid}\n"
                    "  - {name: o, units: 10, activation: sigmoid}\n"
                    "checks:\n  - wrt: w_h[j, k]\n"
                    "    claim: 2*Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))*out_h[j]*(1 - out_h[j])"
                    "*i[k]\n")
    result = CliRunner().invoke(main, ["check", str(spec), "--format", "latex"])
    assert result.exit_code == 1
    assert result.output.count(r"\\") == 2 and "and 3 more like it" in result.output
    log = compiled(tmp_path, typeset.standalone(result.output, "Checks"))
    assert [width for width in overfull(log) if float(width) > 1] == []


def test_a_tables_row_stands_only_for_instances_wrong_alike(tmp_path):
    """A row's "more like it" are the same mistake: a factor 3 and a factor 5 are two."""
    spec = tmp_path / "bias.yaml"
    spec.write_text("inputs: 2\nloss: sse\nlayers:\n"
                    "  - {name: h, units: 5, activation: sigmoid}\n"
                    "  - {name: o, units: 2, activation: sigmoid}\n"
                    "checks:\n  - wrt: b_h[j]\n    claim: delta_h[j] * (3 - KroneckerDelta(j, 1) - "
                    "KroneckerDelta(j, 2))\n")
    result = CliRunner().invoke(main, ["check", str(spec), "--format", "markdown"])
    rows = [line.split(" | ")[1] for line in result.output.splitlines()[4:]]
    assert rows == ["d(E_total, b_h1) [j=1] and 1 more like it",
                    "d(E_total, b_h3) [j=3] and 2 more like it"]
