"""Grading a class: `derive grade`, feedback levels in every output, pytest on many files."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive import api
from derive.cli import main

ROOT = Path(__file__).parent.parent
COURSE = ROOT / "examples" / "coursework" / "grading" / "course" / "network.yaml"
SOLUTION = (ROOT / "examples" / "coursework" / "grading" / "solution.derive.yaml").read_text()
TEMPLATE_EXERCISE = "  - {id: output_weights, wrt: 'w_o[j, k]', points: 4}\n"


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course with the example's five exercises plus a template worth 4 points."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "network.yaml").write_text(COURSE.read_text() + TEMPLATE_EXERCISE)
    return tmp_path


def student(course, name, text):
    folder = course / "submissions" / name
    folder.mkdir(parents=True)
    (folder / "answers.derive.yaml").write_text(text)
    return folder


def grade(*args):
    result = CliRunner().invoke(main, ["grade", *map(str, args), "--network",
                                       "course/network.yaml"])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result


def answers(**given) -> str:
    body = "".join(f"  {k}: {v}\n" for k, v in given.items())
    return f"network: course/network.yaml\nanswers:\n{body}"


def test_one_row_per_submission_with_partial_credit_and_every_problem_said(course):
    student(course, "ana", SOLUTION + "  output_weights: delta_o[j]*out_h[k]\n")
    student(course, "bob", answers(output_weight="delta_o1*out_h1",
                                   output_bias="w99",  # an unknown name: this answer only
                                   output_weights="delta_o[j]*out_h[1]"))  # k=1 only right
    student(course, "cat", "inputs: [\n")  # broken YAML: this file only
    (course / "submissions" / "dan").mkdir()  # no answers file
    result = grade(*sorted((course / "submissions").iterdir()), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["max"] == 9 and [e["id"] for e in data["exercises"]][-1] == "output_weights"
    rows = {Path(s["submission"]).name: s for s in data["submissions"]}
    assert rows["ana"]["total"] == 9 and rows["ana"]["problem"] is None
    bob = rows["bob"]["exercises"]
    assert bob["output_weight"]["score"] == 1
    assert bob["output_bias"]["score"] == 0
    assert "unknown name 'w99'" in bob["output_bias"]["feedback"][0]
    assert bob["output_weights"]["score"] == 2  # 2 of its 4 instances, of 4 points
    assert bob["hidden_weight"]["feedback"][-1] == "  hint: no answer given"
    assert rows["bob"]["total"] == 3
    assert "invalid YAML" in rows["cat"]["problem"] and rows["cat"]["total"] == 0
    assert "no answers file" in rows["dan"]["problem"]


def test_padding_a_chain_with_lines_that_hold_earns_nothing(course):
    path = student(course, "eve", answers(hidden_weight="{steps: ['d(E_total, net_h1)*"
                                          "d(net_h1, w1)', 'delta_h1*i1', 'delta_h1*i2']}"))
    data = json.loads(grade(path, "--format", "json").output)
    mark = data["submissions"][0]["exercises"]["hidden_weight"]
    assert mark["score"] == 0  # two right lines, but the answer (the last) is wrong
    assert any("step 3 is the first wrong step" in line for line in mark["feedback"])


def test_csv_has_a_column_per_exercise_and_spreadsheet_safe_cells(course, monkeypatch):
    student(course, "=cmd()", SOLUTION)
    monkeypatch.chdir(course / "submissions")
    result = CliRunner().invoke(main, ["grade", "=cmd()", "--network",
                                       "../course/network.yaml", "--format", "csv"])
    header, row = result.output.splitlines()
    assert header == ("submission,output_weight,output_bias,hidden_weight,hidden_delta,"
                      "sigmoid_derivative,output_weights,total,problem")
    assert row.startswith("'") and row.endswith(",1,1,1,1,1,0,5,")


def test_gradescope_results_json(course):
    path = student(course, "fay", answers(output_weight="delta_o1*out_h1",
                                          output_bias="delta_o1"))
    data = json.loads(grade(path, "--format", "gradescope").output)
    assert data["score"] == 1
    tests = {t["name"]: t for t in data["tests"]}
    assert set(tests["output_bias"]) == {"name", "score", "max_score", "status", "output"}
    assert (tests["output_bias"]["score"], tests["output_bias"]["max_score"]) == (0, 1)
    assert "the claim lacks the term delta_o2" in tests["output_bias"]["output"]
    assert tests["output_weights"]["max_score"] == 4
    two = grade(path, path, "--format", "gradescope")
    assert two.exit_code == 2 and "grades one submission" in two.output


def test_the_text_table_fits_80_columns(course):
    for name in ("ana", "bob"):
        student(course, name, SOLUTION)
    result = grade("submissions/ana", "submissions/bob")
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "#6 output_weights (4)" in result.output
    assert "2 submissions: 0 with full marks" in result.output


def test_many_exercises_make_a_line_per_submission(course):
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text() + "".join(
        f"  - {{id: extra_{k}, wrt: w{k % 8 + 1}, points: 1.5}}\n" for k in range(14)))
    student(course, "ana", SOLUTION)
    result = grade("submissions/ana")
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[1].startswith("submissions/ana: 5/30  (lost: output_weights 0/4, extra_0 0/1.5")


def test_an_invalid_network_is_exit_2(course):
    (course / "course" / "network.yaml").write_text("inputs: 2\nlayers: []\n")
    result = grade(student(course, "ana", SOLUTION))
    assert result.exit_code == 2 and result.output.startswith("error: course/network.yaml")


# --- feedback levels ---------------------------------------------------------------------

WRONG = answers(output_bias="delta_o1")


@pytest.mark.parametrize("level, shows", [
    ("verdict", set()),
    ("hint", {"hint"}),
    ("counterexample", {"hint", "counterexample"}),
    ("truth", {"hint", "counterexample", "truth"}),
])
def test_feedback_levels_hold_in_every_output(course, level, shows):
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text() + f"feedback: {level}\n")
    path = student(course, "gus", WRONG) / "answers.derive.yaml"
    markers = {"hint": "lacks the term delta_o2", "counterexample": "claim = ",
               "truth": "delta_o1 + delta_o2"}

    def seen(text):
        return {kind for kind, marker in markers.items() if marker in text}

    def cli(*args):  # wide, so that rich wraps no marker
        return CliRunner().invoke(main, ["check", str(path), "--network",
                                         "course/network.yaml", *args],
                                  env={"COLUMNS": "300"}).output
    assert seen(cli()) == shows
    assert seen(cli("--format", "github")) == shows
    [entry] = [c for c in json.loads(cli("--format", "json"))["checks"]
               if c["exercise"] == "output_bias"]
    assert (entry["hint"] is not None) == ("hint" in shows)
    assert (entry["counterexample"] is not None) == ("counterexample" in shows)
    graded = json.loads(grade(path, "--format", "json").output)
    assert seen("\n".join(graded["submissions"][0]["exercises"]["output_bias"]["feedback"])) \
        == shows
    [result] = [r for r in api.check(path, network="course/network.yaml")
                if r.claim.exercise == "output_bias"]
    assert (result.verdict.hint is not None) == ("hint" in shows)
    assert (result.truth_text is not None) == ("truth" in shows)


def test_a_plain_spec_shows_the_truth_unless_it_says_otherwise(tmp_path):
    spec = tmp_path / "s.yaml"
    text = (ROOT / "specs" / "mazur.yaml").read_text().split("checks:")[0]
    spec.write_text(text + "checks:\n  - {wrt: b1, claim: delta_h1}\n")
    assert "truth: delta_h1 + delta_h2" in CliRunner().invoke(main, ["check", str(spec)]).output
    spec.write_text(text + "feedback: verdict\nchecks:\n  - {wrt: b1, claim: delta_h1}\n")
    output = CliRunner().invoke(main, ["check", str(spec)]).output
    assert "truth:" not in output and "hint" not in output.split("\n", 8)[-1]


# --- pytest on a class -------------------------------------------------------------------

def test_pytest_grades_many_submissions_each_problem_costing_only_itself(pytester):
    (pytester.path / "course").mkdir()
    shutil.copy(COURSE, pytester.path / "course" / "network.yaml")
    pytester.makeini("[pytest]\nderive_network = course/network.yaml\n"
                     "derive_feedback = hint\n")
    for k in range(12):
        folder = pytester.path / "submissions" / f"s{k:02}"
        folder.mkdir(parents=True)
        (folder / "answers.derive.yaml").write_text(SOLUTION)
    (pytester.path / "submissions" / "s03" / "answers.derive.yaml").write_text(
        SOLUTION.replace("output_bias: delta_o1 + delta_o2", "output_bias: w99"))
    (pytester.path / "submissions" / "s07" / "answers.derive.yaml").write_text("inputs: [\n")
    (pytester.path / "submissions" / "s09" / "answers.derive.yaml").write_text(
        SOLUTION.replace("output_bias: delta_o1 + delta_o2", "output_bias: delta_o1"))
    result = pytester.runpytest("-p", "no:cacheprovider", "submissions")
    result.assert_outcomes(passed=9 * 6 + 5 + 5, failed=3)  # s03 and s09 lose one each
    result.stdout.fnmatch_lines([
        "*_ output_bias in submissions/s03/answers.derive.yaml _*",
        "*unknown name 'w99'*",
        "*_ invalid in submissions/s07/answers.derive.yaml _*",
        "*_ output_bias in submissions/s09/answers.derive.yaml _*",
        "*hint: the claim lacks the term delta_o2*",
    ])
    assert "claim = " not in result.stdout.str()  # derive_feedback = hint: no counterexample


def test_pytest_ini_options_are_checked(pytester):
    pytester.makeini("[pytest]\nderive_budget = soon\n")
    pytester.makefile(".derive.yaml", mazur=(ROOT / "specs" / "mazur.yaml").read_text())
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert "derive_budget: expected CPU seconds, got 'soon'" in result.stdout.str() + \
        result.stderr.str()


# --- found by review ----------------------------------------------------------------------

def test_each_submission_has_a_cpu_limit_of_its_own(course, monkeypatch):
    """One worker judges the class; the limit of CPU seconds per file is per submission."""
    from derive import grading, limits
    monkeypatch.setattr(limits, "FILE", 0.0)  # each file: its first claim, then no more
    for name in ("ana", "bob"):
        student(course, name, SOLUTION)
    graded = grading.grade(grading.Course("course/network.yaml", budget=0),  # numbers only:
                           ["submissions/ana", "submissions/bob"])  # each claim takes time
    assert [g.marks[0].score for g in graded] == [1, 1]
    assert "not judged: the claims before it used up the limit" in \
        "\n".join(graded[1].marks[1].feedback)


def test_fractional_points_add_up_to_full_marks(course):
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text().replace("points: 4", "points: 0.4")
                       .replace("'w_o[j, k]'", "'w_o[1, k]'") + "  - {id: third, wrt: "
                       "'w_h[j, 1]', points: 0.3}\n")
    path = student(course, "ana", SOLUTION + "  output_weights: delta_o[1]*out_h[k]\n"
                   "  third: delta_h[j]*i1\n")
    data = json.loads(grade(path, "--format", "gradescope").output)
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["output_weights"]["status"] == "passed"
    assert tests["third"]["score"] == 0.3 and tests["third"]["status"] == "passed"
    assert data["score"] == 5.7


def test_an_answer_to_no_exercise_costs_nothing_but_itself(course):
    path = student(course, "ana", SOLUTION.replace("output_weight:", "output_wieght:"))
    data = json.loads(grade(path, "--format", "json").output)["submissions"][0]
    assert data["total"] == 4 and data["problem"] is None
    assert "answers: no exercise 'output_wieght' (did you mean 'output_weight'?)" in \
        data["notes"][0]
    assert "no answers file" not in grade(path).output
    assert "no exercise 'output_wieght'" in grade(path).output  # the text table says it too


def test_one_claim_against_a_course_network_is_a_student_s_claim(course):
    """derive check --wrt against a course shows what its students would see, and takes
    no restated derivative."""
    path = student(course, "ana", SOLUTION) / "answers.derive.yaml"

    def check(claim):
        return CliRunner().invoke(main, ["check", str(path), "--network",
                                         "course/network.yaml", "--wrt", "w5", "--claim",
                                         claim])
    assert "truth:" not in check("0").output
    assert check("d(E_total, w5)").exit_code == 2


def test_no_answer_given_is_said_at_every_level(course):
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text() + "feedback: verdict\n")
    path = student(course, "ana", answers(output_weight="delta_o1*out_h1"))
    graded = json.loads(grade(path, "--format", "json").output)["submissions"][0]
    assert graded["exercises"]["output_bias"]["feedback"][-1] == "  hint: no answer given"
    assert "hint: the claim" not in grade(student(course, "bob", WRONG), "--format",
                                          "json").output


def test_an_empty_chain_says_so(course):
    result = CliRunner().invoke(main, ["check", str(student(course, "ana", answers(
        output_weight="{steps: []}")) / "answers.derive.yaml"), "--network",
        "course/network.yaml"])
    assert "answers.output_weight.steps: expected at least one formula" in result.output


# --- reading results ----------------------------------------------------------------------

def test_a_counterexample_names_what_the_claim_uses_and_reproduces(tmp_path):
    spec = ROOT / "specs" / "mazur.yaml"
    result = CliRunner().invoke(main, ["check", str(spec), "--wrt", "b1", "--claim",
                                       "delta_h1"], env={"COLUMNS": "1000"})
    lines = result.output.splitlines()
    where = next(line for line in lines if line.startswith("  where "))
    assert where.startswith("  where delta_h1 = ")
    numbers = next(line for line in lines if line.startswith("    claim = "))
    truth = numbers.split("truth = ")[1]
    command = next(line for line in lines if line.startswith("  reproduce: derive grad "))
    args = command.split("derive ", 1)[1].split()
    again = CliRunner().invoke(main, args + ["--format", "json"])
    value = json.loads(again.output)["gradients"]["b1"]["value"]
    assert f"{value:.9g}" == truth


def test_a_point_too_large_to_type_is_pointed_to_in_json(tmp_path):
    spec = tmp_path / "wide.yaml"
    spec.write_text("inputs: 30\nlayers:\n  - {name: h, units: 2}\n  - {name: o, units: 1}\n"
                    "checks:\n  - {wrt: w_o1_h1, claim: 2*delta_o1*out_h1}\n")
    result = CliRunner().invoke(main, ["check", str(spec)], env={"COLUMNS": "1000"})
    assert result.exit_code == 1
    assert "reproduce:" not in result.output
    said = next(line for line in result.output.splitlines() if "the point has" in line)
    count = int(said.split("the point has ")[1].split()[0])
    assert said == f"  the point has {count} values: derive check {spec} --format json lists them"
    listed = json.loads(CliRunner().invoke(main, ["check", str(spec), "--format", "json"])
                        .output)
    assert len(listed["checks"][0]["counterexample"]["point"]) == count > 40


def test_quiet_shows_failures_and_a_template_failing_alike_once(tmp_path):
    spec = tmp_path / "t.yaml"
    spec.write_text("inputs: 3\nlayers:\n  - {name: h, units: 3}\n  - {name: o, units: 2}\n"
                    "checks:\n  - {wrt: 'w_h[j, k]', claim: 'delta_h[j]*i[j]'}\n"
                    "  - {wrt: w_o1_h1, claim: delta_o1*out_h1}\n")
    result = CliRunner().invoke(main, ["check", str(spec), "--quiet"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "correct (symbolic)" not in result.output  # the passes are left out
    assert result.output.count("is incorrect, expected correct") == 1
    assert "6 of 9 instances wrong; first j=1, k=2:" in result.output
    assert "10 checks: 4 ok, 6 failed" in result.output


def test_a_claim_built_only_when_judged_costs_its_exercise_alone(course, monkeypatch):
    """A template's instances past its first are built when judged: should that run out
    of the check's CPU allowance, the exercise has the problem and the class is graded."""
    from derive import limits

    allowance = limits.Allowance
    monkeypatch.setattr(limits, "Allowance", lambda seconds: allowance(0.0))
    student(course, "ana", SOLUTION + "  output_weights: delta_o[j]*out_h[k]\n")
    student(course, "bob", SOLUTION)
    result = grade(*sorted((course / "submissions").iterdir()), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {Path(s["submission"]).name: s for s in json.loads(result.output)["submissions"]}
    mark = rows["ana"]["exercises"]["output_weights"]
    assert mark["score"] == 0 and "answers.output_weights: building the claim took more " \
        "than 0 CPU seconds" in " ".join(mark["feedback"])
    assert rows["ana"]["total"] == rows["bob"]["total"] == 5
