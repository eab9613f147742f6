"""The commands as a user runs them: exit codes, exact JSON, readable one-line errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.cli import main

SPECS = Path(__file__).parent.parent / "specs"
MAZUR = str(SPECS / "mazur.yaml")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


# --- grad ---------------------------------------------------------------------------------

def test_grad_json_reproduces_mazur_with_a_descent_step():
    result = run("grad", MAZUR, "--format", "json", "--lr", "0.5")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) == {"loss", "gradients"}
    assert data["loss"]["value"] == pytest.approx(0.298371109, abs=1e-9)
    w5 = data["gradients"]["w5"]
    assert set(w5) == {"expr", "latex", "value", "updated"}
    assert w5["expr"] == "delta_o1*out_h1"
    assert w5["latex"] == r"\delta_{o1} \mathrm{out}_{h1}"
    assert w5["value"] == pytest.approx(0.082167041, abs=1e-9)
    assert w5["updated"] == pytest.approx(0.35891648, abs=1e-8)
    assert data["gradients"]["w1"]["updated"] == pytest.approx(0.149780716, abs=1e-9)
    assert list(data["gradients"]) == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8",
                                       "b2"]


def test_grad_json_without_values_has_expressions_only():
    result = run("grad", SPECS / "hidden_sigmoid.yaml", "--format", "json", "--wrt", "w1")
    assert json.loads(result.output) == {
        "loss": {},
        "gradients": {"w1": {"expr": "delta_h1*i1", "latex": r"\delta_{h1} i_{1}"}}}


def test_grad_text_prints_the_published_numbers():
    result = run("grad", MAZUR, "--lr", "0.5")
    assert result.exit_code == 0
    for figure in ("0.0821670406", "0.35891648", "0.149780716", "E_total = 0.298371109"):
        assert figure in result.output


def test_grad_latex_is_an_align_environment_with_the_numbers_and_the_step():
    result = run("grad", MAZUR, "--format", "latex", "--wrt", "w5", "--wrt", "b2")
    assert result.output == (
        "\\begin{align*}\n"
        "\\frac{\\partial E_{\\mathrm{total}}}{\\partial w_{5}} &= "
        "\\delta_{o1} \\mathrm{out}_{h1} = 0.0821670406 \\\\\n"
        "\\frac{\\partial E_{\\mathrm{total}}}{\\partial b_{2}} &= \\delta_{o1} + \\delta_{o2}"
        " = 0.100400325\n"
        "\\end{align*}\n")
    stepped = run("grad", MAZUR, "--format", "latex", "--wrt", "w5", "--lr", "0.5").output
    assert "w_{5} - \\eta\\,\\frac{\\partial E_{\\mathrm{total}}}{\\partial w_{5}} &= 0.35891648" \
        in stepped  # Mazur's published w5 after the step


def test_grad_expanded_is_in_inputs_and_parameters_only():
    result = run("grad", MAZUR, "--format", "json", "--wrt", "w5", "--expanded")
    expr = json.loads(result.output)["gradients"]["w5"]["expr"]
    assert "delta" not in expr and "out_" not in expr and "w5" in expr and "i1" in expr


def test_grad_at_overrides_a_value():
    base = json.loads(run("grad", MAZUR, "--format", "json").output)
    moved = json.loads(run("grad", MAZUR, "--format", "json", "--at", "w5=0.9").output)
    assert moved["loss"]["value"] != base["loss"]["value"]


def test_grad_wrt_an_intermediate_quantity():
    data = json.loads(run("grad", MAZUR, "--format", "json", "--wrt", "net_h1").output)
    assert data["gradients"]["net_h1"]["expr"] == "delta_h1"


@pytest.mark.parametrize("args, message", [
    (["--wrt", "w9"], "error: --wrt: unknown name 'w9'"),
    (["--at", "w99=1"], "error: --at: 'w99' is not an input, parameter or target"),
    (["--wrt", "delta_h1"], "must be a net, out, weight, bias, input or target"),
])
def test_grad_rejects_bad_options_with_exit_2(args, message):
    result = run("grad", MAZUR, *args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize("args", [["--at", "w5"], ["--at", "w5=nan"], ["--at", "w5=inf"],
                                  ["--at", "w5=x"], ["--lr", "inf"], ["--lr", "nan"]])
def test_grad_rejects_malformed_or_non_finite_numbers(args):
    result = run("grad", MAZUR, *args)
    assert result.exit_code == 2
    assert "expected NAME=NUMBER" in result.output or "expected a finite number" in result.output


# --- show ---------------------------------------------------------------------------------

def test_show_lists_every_name_and_family():
    result = run("show", MAZUR)
    assert result.exit_code == 0
    for name in ("net_h1", "out_o2", "delta_h2", "target_o1", "E_o1", "E_total",
                 "w_o[j, k]", "out_h[j]", "i[k]", "n_h", "weight h1 -> o1"):
        assert name in result.output
    assert "Vectors and matrices" in result.output and "│ W_o " in result.output
    assert "Layer numbers" not in result.output  # no notation: no numbered layers


def test_show_lists_the_layer_numbers_and_letters_of_a_notation():
    result = run("show", str(SPECS / "ng.yaml"))
    assert result.exit_code == 0
    assert "Layer numbers" in result.output and "o (L)" in result.output
    assert "dZ: delta" in result.output and "w[l, j, k]" in result.output


# --- check --------------------------------------------------------------------------------

def test_check_all_shipped_specs_pass():
    result = run("check", *sorted(SPECS.glob("*.yaml")))
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def test_check_json_entries_follow_the_contract():
    data = json.loads(run("check", MAZUR, "--format", "json").output)
    assert data["ok"] is True
    first = data["checks"][0]
    assert first == {"file": MAZUR, "line": 35, "of": "E_total", "wrt": "w5", "index": {},
                     "verdict": "correct", "shown_by": "symbolic", "expect": "correct",
                     "ok": True, "hint": None, "counterexample": None}
    steps = [c for c in data["checks"] if "step" in c]
    assert [c["step"] for c in steps] == [1, 2, 3]
    assert [c["line"] for c in steps] == [38, 39, 40]
    template = [c for c in data["checks"] if c["index"]][:4]
    assert [c["index"] for c in template] == [{"j": 1, "k": 1}, {"j": 1, "k": 2},
                                               {"j": 2, "k": 1}, {"j": 2, "k": 2}]
    assert [c["wrt"] for c in template] == ["w5", "w6", "w7", "w8"]


def test_check_json_is_written_a_check_at_a_time_as_one_document(monkeypatch):
    """Streamed (a wrong template's thousands of points need not fit in memory at once),
    the document is the one its entries make, the relabelled points of a wrong template
    over 64 weights (judged together) included."""
    from derive import api, report

    wrong = api.check({"inputs": 8, "loss": "sse", "layers": [
        {"name": "h", "units": 8, "activation": "sigmoid"},
        {"name": "o", "units": 2, "activation": "sigmoid"}], "checks": [
        {"wrt": "w_h[j, k]", "claim": "3*delta_h[j]*i[k]"}]}, isolated=False)
    assert len(wrong) == 64 and {r.verdict.verdict for r in wrong} == {"incorrect"}
    for items in (wrong, api.check(MAZUR, isolated=False), []):
        text = report.check_json(items)
        assert json.loads(text) == {"ok": all(r.ok for r in items),
                                    "checks": [report._finite(r.to_json()) for r in items]}
    point = json.loads(report.check_json(wrong))["checks"][9]["counterexample"]["point"]
    assert list(point)[:9] == [f"i{k}" for k in range(1, 9)] + ["w_h1_i1"]  # as show lists
    assert json.loads(json.dumps(wrong[9].to_json()))["counterexample"]["point"] == point
    monkeypatch.setattr(report, "POINT", "E_total")  # a placeholder an entry's own text
    assert json.loads(report.check_json(wrong)) == {  # holds: that entry is written whole
        "ok": False, "checks": [report._finite(r.to_json()) for r in wrong]}


def test_check_one_claim_that_is_wrong_exits_1_with_a_counterexample():
    result = run("check", MAZUR, "--wrt", "w5", "--claim", "2*delta_o1*out_h1",
                 "--format", "json")
    assert result.exit_code == 1
    entry = json.loads(result.output)["checks"][0]
    assert entry["verdict"] == "incorrect"
    assert entry["hint"].startswith("off by a constant factor 2")
    example = entry["counterexample"]
    assert example["claim"] == pytest.approx(2 * example["truth"])
    assert set(example["point"]) <= {"i1", "i2", "w1", "w2", "w3", "w4", "b1", "w5", "w6",
                                     "w7", "w8", "b2", "target_o1", "target_o2"}


def test_check_one_claim_text_report_explains_the_failure():
    result = run("check", MAZUR, "--wrt", "b1", "--claim", "delta_h1")
    assert result.exit_code == 1
    assert "truth: delta_h1 + delta_h2" in result.output
    assert "hint: the claim lacks the term delta_h2" in result.output
    assert "1 checks: 0 ok, 1 failed" in result.output


def test_check_of_a_jacobian_entry():
    result = run("check", SPECS / "hidden_softmax.yaml", "--of", "out_h1", "--wrt", "net_h2",
                 "--claim", "-out_h1*out_h2")
    assert result.exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--wrt", "w1", "--claim", "delta_h1*i9"], "unknown name 'i9' at column 10"),
    (["--wrt", "w1", "--claim", "delta_h1*(i1"], "syntax error"),
    (["--wrt", "w1", "--claim", "__import__('os')"], "unexpected character"),
    (["--wrt", "nope", "--claim", "1"], "unknown name 'nope'"),
    (["--claim", "1"], "--claim, --latex and --assume need --wrt"),
    (["--wrt", "w1"], "exactly one of --claim, --latex"),
])
def test_check_invalid_command_lines_exit_2(args, message):
    result = run("check", MAZUR, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_invalid_spec_names_file_and_line(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - name: h\n    units: 2\n    activation: sigmoidd\n")
    for command in ("show", "grad", "check"):
        result = run(command, spec)
        assert result.exit_code == 2
        assert result.output == (f"error: {spec}:5: layers[1].activation: unknown 'sigmoidd' "
                                 f"(did you mean 'sigmoid'?)\n")


def test_a_failing_check_in_a_file_exits_1(tmp_path):
    spec = tmp_path / "wrong.yaml"
    spec.write_text((SPECS / "hidden_sigmoid.yaml").read_text().split("aliases:")[0]
                    + "checks:\n  - wrt: w5\n    claim: delta_o1 * out_h2\n")
    result = run("check", spec, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    claim_line = spec.read_text().splitlines().index("    claim: delta_o1 * out_h2") + 1
    assert data["ok"] is False and data["checks"][0]["line"] == claim_line


def test_the_installed_command_runs_in_a_real_process(tmp_path):
    exe = shutil.which("derive") or str(Path(sys.executable).parent / "derive")
    done = subprocess.run([exe, "check", MAZUR, "--format", "json"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    # It ends without tearing its objects down: a failing status and the whole output
    # must survive that.
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(Path(MAZUR).read_text().split("checks:")[0]
                     + "checks:\n  - wrt: w5\n    claim: 2*delta_o1*out_h1\n")
    failed = subprocess.run([exe, "check", str(wrong)], capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert failed.stdout.rstrip().endswith("1 checks: 0 ok, 1 failed")
    bad = subprocess.run([exe, "grad", MAZUR, "--wrt", "nope"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_grad_markdown_is_a_titled_page_of_display_math_blocks():
    result = run("grad", MAZUR, "--format", "markdown", "--wrt", "w5", "--wrt", "b1",
                 "--lr", "0.5")
    assert result.output == (
        "# Gradients of Mazur's step-by-step example\n\n"
        "$E_{\\mathrm{total}} = 0.298371109$\n\n"
        "$$\n\\frac{\\partial E_{\\mathrm{total}}}{\\partial w_{5}} = "
        "\\delta_{o1} \\mathrm{out}_{h1} = 0.0821670406\n$$\n\n"
        "$$\n\\frac{\\partial E_{\\mathrm{total}}}{\\partial b_{1}} = "
        "\\delta_{h1} + \\delta_{h2} = 0.0187256094\n$$\n\n"
        "After one step of gradient descent with $\\eta = 0.5$:\n\n"
        "| parameter | after the step |\n|---|---:|\n"
        "| `w5` | 0.35891648 |\n| `b1` | 0.340637195 |\n")


def test_grad_latex_document_is_standalone():
    result = run("grad", MAZUR, "--format", "latex", "--document")
    assert result.output.startswith("\\documentclass{article}")
    assert "\\section*{Mazur's step-by-step example}" in result.output
    assert result.output.rstrip().endswith("\\end{document}")
    assert run("grad", MAZUR, "--document").output == result.output  # it implies latex
    assert run("grad", MAZUR, "--document", "--format", "json").exit_code == 2


def test_check_latex_lists_claims_and_verdicts():
    result = run("check", MAZUR, "--format", "latex")
    assert result.exit_code == 0
    assert "\\begin{longtable}" in result.output
    assert "& correct (symbolic) & \\checkmark \\\\" in result.output
    assert "incorrect \\newline \\small wrong sign" in result.output


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_the_latex_document_compiles(tmp_path):
    (tmp_path / "grad.tex").write_text(run("grad", MAZUR, "--format", "latex",
                                           "--document").output)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape",
                           "grad.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_and_is_in_the_readme(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and main.commands[command].help
    assert f"derive {command} " in (Path(__file__).parent.parent / "README.md").read_text()


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_answer_without_loading_the_engine(flag):
    """SymPy takes most of a start; --help and --version need none of it."""
    code = ("import sys\nfrom derive.cli import main\ntry:\n    main([" + repr(flag) +
            "])\nexcept SystemExit:\n    pass\nprint('sympy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr


@pytest.mark.parametrize("args, message", [
    (["check", "specs/mazur.yaml", "--wrt", "w1"],
     "error: --wrt takes one SPEC and exactly one of --claim, --latex (see 'derive check "
     "--help')"),
    (["nosuch"], "error: No such command 'nosuch'. (see 'derive --help')"),
    (["grad"], "error: Missing argument 'SPEC'. (see 'derive grad --help')"),
])
def test_usage_errors_are_one_line(args, message):
    result = CliRunner().invoke(main, args, prog_name="derive")
    assert result.exit_code == 2
    assert result.output.strip() == message
