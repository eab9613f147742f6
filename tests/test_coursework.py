"""Coursework: the Python API, the pytest plugin, annotations, notebooks, the example repo."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from derive import api, calculus
from derive.cli import main
from derive.errors import SpecError

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
EXAMPLE = ROOT / "examples" / "coursework"
MAZUR = (SPECS / "mazur.yaml").read_text().split("checks:")[0]


# --- the Python API -----------------------------------------------------------------------

def test_api_from_a_path_and_from_a_dict():
    network = api.load(SPECS / "mazur.yaml")
    assert str(calculus.gradient(network, "w5")) == "delta_o1*out_h1"
    same = api.load(yaml.safe_load(MAZUR))
    assert same.params == network.params
    d = calculus.derivative(network, network["out_h1"].symbol, network["net_h1"].symbol)
    assert str(d) == "out_h1*(1 - out_h1)"
    assert api.gradients(network, ["w5"]).items[0].value == pytest.approx(0.082167041)


def test_assert_claim_passes_quietly_and_fails_with_the_cli_explanation():
    api.assert_claim(SPECS / "mazur.yaml", "w5", "delta_o1*out_h1")
    api.assert_claim(SPECS / "mazur.yaml", "w5", "-delta_o1*out_h1", expect="incorrect")
    with pytest.raises(AssertionError) as failure:
        api.assert_claim(SPECS / "mazur.yaml", "b1", "delta_h1")
    message = str(failure.value)
    assert "d(E_total, b1) is incorrect, expected correct" in message
    assert "hint: the claim lacks the term delta_h2" in message
    assert "truth: delta_h1 + delta_h2" in message


def test_notebook_representations():
    network = api.load(SPECS / "mazur.yaml")
    [result] = api.check_one(network, "w5", "delta_o1*out_h1")
    assert result._repr_latex_().startswith(r"$\frac{\partial E_{\mathrm{total}}}")
    assert "correct (symbolic)" in result._repr_html_()
    gradients = api.gradients(network, ["w5", "w1"])
    assert gradients._repr_latex_().startswith(r"$$\begin{aligned}")  # math mode, not align*
    assert gradients.items[0]._repr_latex_() == (
        r"$\frac{\partial E_{\mathrm{total}}}{\partial w_{5}} = \delta_{o1} \mathrm{out}_{h1}"
        r" = 0.0821670406$")


# --- answers apart from the network ------------------------------------------------------

def answers(tmp_path, body, network="course/network.yaml"):
    course = tmp_path / "course"
    course.mkdir(exist_ok=True)
    shutil.copy(EXAMPLE / "grading" / "course" / "network.yaml", course / "network.yaml")
    path = tmp_path / "answers.derive.yaml"
    path.write_text(f"network: {network}\nanswers:\n{body}")
    return path


def test_answers_are_checked_against_the_exercises(tmp_path):
    path = answers(tmp_path, "  output_weight: delta_o1*out_h1\n  output_bias: delta_o1\n")
    results = {r.claim.exercise: r for r in api.check(path)}
    assert results["output_weight"].ok
    assert results["output_bias"].verdict.hint == "the claim lacks the term delta_o2"
    assert results["hidden_weight"].verdict.hint == "no answer given"
    assert results["output_bias"].claim.file == str(path)
    assert results["output_bias"].claim.line == 4


@pytest.mark.parametrize("body, message", [
    ("  output_weight: 1\n  expect: incorrect\n", "answers: no exercise 'expect'"),
    ("  ouptut_weight: 1\n", "(did you mean 'output_weight'?)"),
    ("  output_weight: w99\n", "unknown name 'w99'"),
])
def test_bad_answers_name_the_line(tmp_path, body, message):
    path = answers(tmp_path, body)
    with pytest.raises(Exception) as error:
        api.check(path)
    assert message in str(error.value) and f"{path}:" in str(error.value)


def test_an_answers_file_cannot_bring_its_own_network_or_expectations(tmp_path):
    path = answers(tmp_path, "  output_weight: 1\n")
    path.write_text(path.read_text() + "checks: []\n")
    with pytest.raises(SpecError, match="unknown key 'checks'"):
        api.check(path)
    fake = tmp_path / "fake.yaml"
    fake.write_text(MAZUR + "exercises:\n  - {id: output_weight, wrt: w5, expect: incorrect}\n")
    cheat = answers(tmp_path, "  output_weight: 1\n", network="fake.yaml")
    with pytest.raises(SpecError, match="this course's network is"):
        api.check(cheat, network=tmp_path / "course" / "network.yaml")


# --- GitHub annotations ------------------------------------------------------------------

def test_github_annotations_point_at_the_yaml_line(tmp_path):
    path = answers(tmp_path, "  output_weight: delta_o1*out_h1\n  output_bias: delta_o1\n")
    result = CliRunner().invoke(main, ["check", str(path), "--format", "github"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"::error file={path},line=4,title=derive::output_bias: "
                               "d(E_total, b2) is incorrect (expected correct); hint: the "
                               "claim lacks the term delta_o2%0Aclaim = ")
    assert "truth:" not in result.output  # answers files show counterexamples, not truths
    assert not any("line=3" in line for line in lines)  # a pass spends no annotation
    assert lines[-2] == f"::notice file={path},title=derive::1 of 5 checks ok"
    assert lines[-1] == "5 checks: 1 ok, 4 failed"


@pytest.mark.parametrize("factor, annotations", [
    ("2", ["d(E_total, b_h1) [j=1] and 4 more of its 5 instances are incorrect (expected "
           "correct); hint: off by a constant factor 2"]),
    ("(2*j - 3)", ["d(E_total, b_h1) [j=1] is incorrect (expected correct); hint: wrong sign",
                   "d(E_total, b_h3) [j=3] is incorrect (expected correct); hint: off by a "
                   "constant factor 3", "d(E_total, b_h4) [j=4] is incorrect (expected "
                   "correct); hint: off by a constant factor 5", "d(E_total, b_h5) [j=5] is "
                   "incorrect (expected correct); hint: off by a constant factor 7"]),
])
def test_a_templates_failures_share_an_annotation_where_they_are_alike(tmp_path, factor,
                                                                        annotations):
    """One for all the instances wrong alike (GitHub shows only the first few of a step),
    one for each other mistake: a factor 3 must not hide a factor 5."""
    spec = tmp_path / "bias.yaml"
    spec.write_text("inputs: 2\nloss: sse\nlayers:\n"
                    "  - {name: h, units: 5, activation: sigmoid}\n"
                    "  - {name: o, units: 2, activation: sigmoid}\n"
                    f"checks:\n  - wrt: b_h[j]\n    claim: delta_h[j] * {factor}\n")
    result = CliRunner().invoke(main, ["check", str(spec), "--format", "github"])
    errors = [line.split("title=derive::")[1].split(" (the claim is")[0].split("%0A")[0]
              for line in result.output.splitlines() if line.startswith("::error")]
    assert errors == annotations


def test_github_annotations_escape_user_text():
    from derive.report import _github
    assert _github("a\n::error::x %") == "a%0A::error::x %25"
    assert _github("f:1,2", property_value=True) == "f%3A1%2C2"


# --- the pytest plugin -------------------------------------------------------------------

SPEC_FOR_PYTEST = MAZUR + """checks:
  - wrt: w5
    claim: delta_o1 * out_h1
  - wrt: w1
    steps:
      - delta_h1 * i1
      - delta_o1 * w5 * out_h1 * (1 - out_h1) * i1
  - wrt: w_o[j, k]
    claim: delta_o[j] * out_h[k]
  - wrt: w5
    claim: -delta_o1 * out_h1
    expect: incorrect
"""


def test_plugin_collects_one_item_per_instance(pytester):
    pytester.makefile(".derive.yaml", mazur=SPEC_FOR_PYTEST)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines([
        "*mazur.derive.yaml::w5 PASSED*",
        "*mazur.derive.yaml::w1[[]step 1[]] PASSED*",
        "*mazur.derive.yaml::w1[[]step 2[]] FAILED*",
        "*mazur.derive.yaml::w_o[[]j=1,k=2[]] PASSED*",
        "*mazur.derive.yaml::w5@* PASSED*",
        "*step 2 is the first wrong step; the claim lacks the term*",
    ])


def test_plugin_judges_each_claim_once(pytester, monkeypatch, tmp_path):
    from derive import verdicts

    log, judge = tmp_path / "judged.log", verdicts.judge

    def counted(*args, **kwargs):  # claims are judged in a worker process: count in a file
        with log.open("a") as out:
            out.write("1\n")
        return judge(*args, **kwargs)

    monkeypatch.setattr(verdicts, "judge", counted)
    pytester.makefile(".derive.yaml", mazur=SPEC_FOR_PYTEST)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=7, failed=1)
    assert len(log.read_text().split()) == 8  # not once per claim of its check per item


def test_plugin_reports_an_invalid_spec_as_a_failing_item(pytester):
    pytester.makefile(".derive.yaml", broken="inputs: 2\nlayers: [{name: h, units: 0}]\n",
                      mazur=SPEC_FOR_PYTEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7, failed=2)  # the other file still runs
    result.stdout.fnmatch_lines(["*broken.derive.yaml:2: layers[[]1[]].units: 0 is out of*"])


def test_plugin_patterns_are_configurable(pytester):
    pytester.makefile(".yml", homework=SPEC_FOR_PYTEST)
    pytester.makeini("[pytest]\nderive_files = homework.yml\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=7, failed=1)


def test_plugin_runs_under_xdist(pytester):
    pytest.importorskip("xdist")
    pytester.makefile(".derive.yaml", mazur=SPEC_FOR_PYTEST)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=7, failed=1)


# --- the example course: the students' template and the teacher's grading ------------------

@pytest.mark.parametrize("answers_from, outcome", [
    ("grading/solution.derive.yaml", "6 passed"),
    (None, "1 failed, 5 passed"),
])
def test_the_students_template(tmp_path, answers_from, outcome):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "students", repo)
    if answers_from:
        (repo / "answers.derive.yaml").write_text((EXAMPLE / answers_from).read_text())
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1].startswith(outcome), done.stdout[-3000:]


def test_both_parts_hold_the_same_network():
    def body(path):
        return [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert body(EXAMPLE / "students" / "course" / "network.yaml") == \
        body(EXAMPLE / "grading" / "course" / "network.yaml")


def test_the_reference_solution_is_right():
    results = api.check(EXAMPLE / "grading" / "solution.derive.yaml",
                        network=EXAMPLE / "grading" / "course" / "network.yaml")
    assert all(r.ok for r in results) and len(results) == 6


def test_grading_trusts_nothing_of_a_submission(tmp_path):
    """Submissions that try every way around the grader; grade.sh as the teacher runs it."""
    grading = tmp_path / "grading"
    shutil.copytree(EXAMPLE / "grading", grading)
    solution = (grading / "solution.derive.yaml").read_text()
    canary = tmp_path / "CANARY"

    def student(name, **files):
        folder = grading / "submissions" / name
        folder.mkdir(parents=True)
        for file, text in files.items():
            (folder / file.replace("__", ".")).write_text(text)
        return folder

    student("honest", answers__derive__yaml=solution)
    link = student("link")
    (link / "answers.derive.yaml").symlink_to(grading / "solution.derive.yaml")
    student("config", answers__derive__yaml="network: course/network.yaml\nanswers:\n"
            "  output_weight: 0\n",
            conftest__py=f"open({str(canary)!r}, 'w')\n",
            test_evil__py=f"def test_x():\n    open({str(canary)!r}, 'w')\n",
            pytest__ini="[pytest]\nderive_network = own.yaml\naddopts = -p no:derive\n",
            own__yaml=MAZUR + "exercises:\n  - {id: output_weight, wrt: w5, expect: "
            "incorrect}\n",
            extra__derive__yaml=solution)
    student("spec", answers__derive__yaml=MAZUR + "checks:\n  - {wrt: w5, claim: "
            "delta_o1*out_h1}\n")
    dangling = grading / "submissions" / "dangling"
    dangling.mkdir()
    (dangling / "answers.derive.yaml").symlink_to("nowhere.yaml")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ.get('PATH', '')}"}
    done = subprocess.run(["sh", str(grading / "grade.sh")], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert not canary.exists(), "a student's code ran"
    rows = {row["submission"].split("/")[-1]: row for row in
            csv.DictReader((grading / "grades.csv").open())}
    assert set(rows) == {"honest", "link", "config", "spec", "dangling"}  # none left out
    assert rows["honest"]["total"] == "5"
    assert rows["config"]["total"] == "0"  # its own network, ini and extra file count not
    assert rows["link"]["total"] == "0" and "a link to a file outside its folder" in \
        rows["link"]["problem"]
    assert rows["spec"]["total"] == "0" and "not an answers file" in rows["spec"]["problem"]
    assert rows["dangling"]["total"] == "0" and "cannot read the file" in \
        rows["dangling"]["problem"]
    feedback = json.loads((grading / "grades.json").read_text())
    assert len(feedback["submissions"]) == 5


def test_the_pre_commit_hook_definition():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "derive-check" and hook["entry"] == "derive check"
    assert hook["language"] == "python"
    import re
    assert re.search(hook["files"], "homework/answers.derive.yaml")
    assert not re.search(hook["files"], "specs/mazur.yaml")


@pytest.mark.skipif(shutil.which("pre-commit") is None and
                    not (Path(sys.executable).parent / "pre-commit").exists(),
                    reason="pre-commit is not installed")
def test_the_hook_runs_under_pre_commit(tmp_path):
    """pre-commit installs derive from this repository and fails a wrong derivation."""
    exe = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    if not head:
        pytest.skip("not in a git checkout")

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", ".")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head}\n    hooks:\n      - id: derive-check\n")
    (tmp_path / "hw.derive.yaml").write_text(MAZUR + "checks:\n  - wrt: b1\n    claim: delta_h1\n")
    git("add", "-A")
    run = subprocess.run([exe, "run", "--all-files"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 1
    assert "hint: the claim lacks the term delta_h2" in run.stdout


def test_the_plugin_loads_no_engine_until_a_derive_file_is_collected(tmp_path):
    """Registered in every pytest session of an environment derive is in: it must cost
    those sessions nothing."""
    (tmp_path / "test_plain.py").write_text("def test_x():\n    pass\n")
    code = ("import sys, pytest\npytest.main(['-q', '-p', 'no:cacheprovider', "
            f"{str(tmp_path)!r}])\nprint('sympy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout[-2000:]
