"""Integrity: a student cannot pass without deriving, nor reach what the grader trusts.

Each section is one class of attack, tried the way a student who wants full marks without
the work would try it, through the CLI and the pytest plugin as the grader runs them.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from derive import api, claims, expr
from derive.cli import main
from derive.errors import DeriveError

ROOT = Path(__file__).parent.parent
COURSE = ROOT / "examples" / "coursework" / "grading" / "course" / "network.yaml"
MAZUR = (ROOT / "specs" / "mazur.yaml").read_text().split("checks:")[0]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with the teacher's network (and one alias of the teacher's)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "course").mkdir()
    text = COURSE.read_text().replace("\nexercises:", "\naliases:\n  w_oj: w_o[j, 1]\n"
                                      "exercises:")
    (tmp_path / "course" / "network.yaml").write_text(text)
    return tmp_path


def submit(folder: Path, body: str, network="course/network.yaml", name="answers.derive.yaml"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"network: {network}\n{body}")
    return path


def grade(path, *extra, pinned="course/network.yaml"):
    args = ["check", str(path), "--format", "json", *extra]
    if pinned:
        args += ["--network", pinned]
    return CliRunner().invoke(main, args)


def refused(result, phrase):
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("error: ") and phrase in line, line
    assert "Traceback" not in result.output


# --- 1. the pin cannot be skipped ---------------------------------------------------------

def test_a_spec_of_ones_own_is_no_submission_under_a_pin(course):
    own = course / "mine.derive.yaml"
    own.write_text(MAZUR + "checks:\n  - {wrt: w5, claim: '0', expect: incorrect}\n")
    refused(grade(own), "not an answers file")
    with pytest.raises(DeriveError, match="not an answers file"):
        api.check(own, network="course/network.yaml")


def test_under_pytest_a_spec_of_ones_own_is_a_failing_item(pytester):
    (pytester.path / "course").mkdir()
    shutil.copy(COURSE, pytester.path / "course" / "network.yaml")
    pytester.makeini("[pytest]\nderive_network = course/network.yaml\n")
    pytester.makefile(".derive.yaml", mine=MAZUR + "checks:\n  - {wrt: w5, claim: delta_o1*"
                      "out_h1}\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not an answers file*"])


def test_the_pin_is_the_course_wherever_the_submission_lies(course):
    """network: course/network.yaml in submissions/s01/ names the pinned course."""
    path = submit(course / "submissions" / "s01", "answers:\n  output_weight: delta_o1*out_h1\n")
    result = grade(path)
    checks = json.loads(result.output)["checks"]
    assert [c["verdict"] for c in checks][:1] == ["correct"]
    other = submit(course / "submissions" / "s02", "answers: {}\n", network="fake/network.yaml")
    refused(grade(other), "this course's network is course/network.yaml, not fake/network.yaml")


# --- 2. aliases shadow nothing ------------------------------------------------------------

@pytest.mark.parametrize("key, phrase", [
    ("E_total", "would shadow the network's E_total"),
    ("out_h1", "would shadow the network's out_h1"),
    ("w5", "would shadow the network's w5"),
    ("'out_{h1}'", "would shadow the network's out_h1"),
    ("'\\delta_{o1}'", "would shadow the network's delta_o1"),
    ("delta_o", "would shadow the family delta_o"),
    ("sigmoid", "would shadow the function or constant sigmoid"),
    ("d", "would shadow the function or constant d"),
    ("Sum", "would shadow the function or constant Sum"),
    ("n_o", "would shadow the count n_o"),
    ("w_oj", "is the course's own alias"),
    ("'w_{oj}'", "would shadow the alias 'w_oj'"),
])
def test_an_alias_never_shadows_a_name(course, key, phrase):
    path = submit(course, f"aliases:\n  {key}: '0'\nanswers:\n  output_weight: "
                  f"delta_o1*out_h1\n")
    refused(grade(path), phrase)


def test_of_and_wrt_are_the_network_s_own_names(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(MAZUR + "aliases: {foo: w5}\nchecks:\n  - {wrt: foo, claim: '0'}\n")
    refused(CliRunner().invoke(main, ["check", str(spec)]), "unknown name 'foo'")


def test_aliases_that_double_at_each_level_are_refused(course):
    levels = "".join(f"  a{k + 1}: a{k}*a{k} + a{k}\n" for k in range(30))
    path = submit(course, f"aliases:\n  a0: w5\n{levels}answers:\n  output_weight: a30\n")
    refused(grade(path), "too large once its aliases and sums are written out")


def test_sums_inside_sums_are_bounded_for_every_instance():
    network = api.load(ROOT / "specs" / "mazur.yaml")
    work = expr.Work(3000)  # one evaluation visits 1,803 nodes
    node = expr.parse("Sum(w1*j, (j, 1, 600))")
    expr.evaluate(node, claims.Names(network), work=work)
    with pytest.raises(DeriveError, match="for every instance"):
        expr.evaluate(node, claims.Names(network), work=work)


# --- 3. restating the derivative is no derivation -----------------------------------------

RESTATED = [
    ("output_weight: d(E_total, w5)", "d(E_total, w5) is the derivative this answer is asked"),
    ("output_weight: {latex: '\\frac{\\partial E_{total}}{\\partial w_5}'}",
     "d(E_total, w5) is the derivative"),
    ("output_weight: 2*d(E_total, w5)/2", "d(E_total, w5) is the derivative"),
    ("hidden_delta: delta_h1", "delta_h1 is d(E_total, net_h1), the quantity this answer"),
    ("hidden_delta: delta_h[1]", "delta_h1 is d(E_total, net_h1)"),
    ("hidden_delta: {latex: '\\delta_{h1}'}", "delta_h1 is d(E_total, net_h1)"),
    ("hidden_delta: d(E_total, out_h1)*out_h1*(1 - out_h1)", "d(...) is not allowed in this"),
    ("hidden_delta: {steps: ['d(E_total, out_h1)*d(out_h1, net_h1)', 'd(E_total, net_h1)']}",
     "d(E_total, net_h1) is the derivative"),
    ("hidden_delta: {steps: ['d(E_total, out_h1)*d(out_h1, net_h1)', 'd(E_total, out_h1)*"
     "out_h1*(1 - out_h1)']}", "d(...) is not allowed"),
    ("sigmoid_derivative: d(out_h1, net_h1)", "d(out_h1, net_h1) is the derivative"),
    # an activation's derivative by its name is the asked one, whatever its argument (a
    # review scored 5 of 5 with sigmoid_prime(net_h1))
    ("sigmoid_derivative: sigmoid_prime(net_h1)", "sigmoid_prime() is a derivative of an "
     "activation, which this answer is asked for (d(out_h1, net_h1))"),
    ("sigmoid_derivative: {latex: \"\\\\sigma'(net_{h1})\"}",
     "sigmoid_prime() is a derivative"),
    ("sigmoid_derivative: sigmoid_prime(log(out_h1/(1 - out_h1)))", "sigmoid_prime() is a"),
    ("sigmoid_derivative: 4*sigmoid_prime(2*net_h1)*0 + out_h1*(1 - out_h1)",
     "sigmoid_prime() is a"),
]


@pytest.mark.parametrize("answer, phrase", RESTATED, ids=range(len(RESTATED)))
def test_an_answer_that_restates_the_question_is_refused(course, answer, phrase):
    refused(grade(submit(course, f"answers:\n  {answer}\n")), phrase)


def test_an_alias_cannot_smuggle_the_derivative_in(course):
    path = submit(course, "aliases:\n  grad: d(E_total, w5)\nanswers:\n  output_weight: grad\n")
    refused(grade(path), "d(E_total, w5) is the derivative")


def test_an_activation_s_derivative_by_name_is_fine_where_another_is_asked(course):
    """Nielsen's BP2 writes sigma'(z): only the exercise asking for sigma' must derive it."""
    path = submit(course, "answers:\n  hidden_delta: (delta_o1*w5 + delta_o2*w7)*"
                  "sigmoid_prime(net_h1)\n")
    checks = json.loads(grade(path).output)["checks"]
    assert [c["verdict"] for c in checks if c["exercise"] == "hidden_delta"] == ["correct"]


def test_a_derivation_may_use_d_in_its_earlier_steps(course):
    path = submit(course, "answers:\n  hidden_delta:\n    steps:\n"
                  "      - d(E_total, out_h1) * d(out_h1, net_h1)\n"
                  "      - (delta_o1*w5 + delta_o2*w7) * out_h1 * (1 - out_h1)\n")
    checks = json.loads(grade(path).output)["checks"]
    steps = [c for c in checks if c["exercise"] == "hidden_delta"]
    assert [c["verdict"] for c in steps] == ["correct", "correct"]


def test_use_narrows_what_the_last_line_may_be_written_in(course):
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text().replace(
        "  - id: hidden_delta             # dE_total/dnet_h1\n    wrt: net_h1\n",
        "  - id: hidden_delta\n    wrt: net_h1\n    use: [out, weight, target]\n"))
    path = submit(course, "answers:\n  hidden_delta: (delta_o1*w5 + delta_o2*w7)*out_h1*"
                  "(1 - out_h1)\n")
    refused(grade(path), "delta_o1 is not allowed in this answer (it may use: out, weight, "
            "target)")
    written_out = "((out_o1 - target_o1)*out_o1*(1 - out_o1)*w5 + (out_o2 - target_o2)*" \
                  "out_o2*(1 - out_o2)*w7)*out_h1*(1 - out_h1)"
    checks = json.loads(grade(submit(course, f"answers:\n  hidden_delta: {written_out}\n"))
                        .output)["checks"]
    assert [c["verdict"] for c in checks if c["exercise"] == "hidden_delta"] == ["correct"]
    sigma = submit(course, "answers:\n  hidden_delta: ((out_o1 - target_o1)*out_o1*(1 - "
                   "out_o1)*w5 + (out_o2 - target_o2)*out_o2*(1 - out_o2)*w7)*"
                   "sigmoid_prime(log(out_h1/(1 - out_h1)))\n")
    refused(grade(sigma), "sigmoid_prime() is a derivative, and d is not allowed in this "
            "answer")  # written in out alone, but not written out
    network.write_text(network.read_text().replace("use: [out, weight, target]",
                                                   "use: [out, wieght]"))
    refused(grade(path), "use: 'wieght' is not a kind")


def test_a_teacher_s_own_checks_may_restate(tmp_path):
    """Outside answers files nothing is restricted unless `use:` says so."""
    result = CliRunner().invoke(main, ["check", str(ROOT / "specs" / "mazur.yaml"), "--wrt",
                                       "w5", "--claim", "d(E_total, w5)"])
    assert result.exit_code == 0, result.output


# --- 5. files -----------------------------------------------------------------------------

def test_fifos_devices_and_folders_are_not_read(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        result = CliRunner().invoke(main, ["check", str(path)])
        refused(result, "not a regular file")
    with pytest.raises(DeriveError, match="not a regular file"):
        api.check(tmp_path)


@pytest.mark.parametrize("written, phrase", [
    ("/etc/passwd", "is an absolute path"),
    ("../course/network.yaml", "leads outside the submission's folder"),
    ("link.yaml", "leads outside the submission's folder"),
    ("answers.derive.yaml", "names this answers file itself"),
    ("other.derive.yaml", "is not a valid network file"),
    ("secret.yaml", "is not a valid network file (line 1)"),
])
def test_an_unpinned_network_stays_inside_the_submission(course, written, phrase):
    folder = course / "sub"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(course / "course" / "network.yaml")
    submit(folder, "answers: {}\n", network="answers.derive.yaml", name="other.derive.yaml")
    (folder / "secret.yaml").write_text("the answer is 42\n")
    path = submit(folder, "answers: {}\n", network=written)
    result = grade(path, pinned=None)
    refused(result, phrase)
    assert "answer is" not in result.output and "42" not in result.output.replace(
        str(course), "")  # (the folder's own name may hold 42: pytest-42)


# --- 6. output a student controls ---------------------------------------------------------

NASTY = "x\n::add-mask::y\x1b[2J\u202e\r"


def test_a_file_name_cannot_break_a_line_or_steer_a_terminal(tmp_path):
    path = tmp_path / f"{NASTY}.derive.yaml"
    path.write_text(MAZUR + "checks:\n  - {wrt: w5, claim: delta_o1}\n")
    for fmt in ("text", "json", "github", "latex"):
        result = CliRunner().invoke(main, ["check", str(path), "--format", fmt])
        assert result.exit_code == 1, result.output
        assert not any(c in result.output for c in "\x1b\u202e\r"), fmt
        assert not any(line.startswith("::add-mask") for line in result.output.splitlines())
    broken = tmp_path / f"{NASTY}broken.yaml"
    broken.write_text("inputs: [")
    result = CliRunner().invoke(main, ["check", str(broken), "--format", "github"])
    annotation, line = result.output.splitlines()  # at the file and line, then on stderr
    assert annotation.startswith("::error file=") and "\\x0a%3A%3Aadd-mask" in annotation
    assert line.startswith("error: ") and "\\x0a::add-mask::" in line


def test_a_claim_with_control_characters_is_refused_in_one_line(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(MAZUR + 'checks:\n  - {wrt: w5, claim: "delta_o1\\e[2J\\u202e"}\n')
    refused(CliRunner().invoke(main, ["check", str(path)]), "unexpected character '\\x1b' at")


def test_json_never_holds_infinity_or_nan(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(MAZUR.replace("loss: sse", "loss: {custom: 'exp(exp(out_o1*10))'}"))
    result = CliRunner().invoke(main, ["grad", str(path), "--format", "json"])
    data = json.loads(result.output, parse_constant=lambda name: pytest.fail(name))
    assert data["loss"]["value"] == "inf"


@pytest.mark.parametrize("text", ["name: \"a\\nb\"", "name: \"\\e[31m\"",
                                  "name: \"\\u202e\""])
def test_a_spec_title_is_one_printable_line(tmp_path, text):
    path = tmp_path / "a.yaml"
    path.write_text(text + "\n" + MAZUR.replace("\nname: ", "\n# name: "))
    refused(CliRunner().invoke(main, ["draw", str(path)]), "name: expected one line")


# --- 7. no tracebacks ---------------------------------------------------------------------

@pytest.mark.parametrize("custom", ["x/0", "log(0)*x", "sqrt(-1)*x"])
def test_an_undefined_custom_activation_is_refused(tmp_path, custom):
    path = tmp_path / "a.yaml"
    path.write_text(f"inputs: 1\nlayers:\n  - {{name: o, units: 1, activation: {{custom: "
                    f"'{custom}'}}}}\n")
    refused(CliRunner().invoke(main, ["show", str(path)]), "undefined or complex as written")


@pytest.mark.parametrize("text, phrase", [
    ('aliases: {"\\udc80": w5}\nanswers: {}', "is not a valid alias name"),
    ('answers: {"\\udc80": w5}', "answers: no exercise '\\udc80'"),
])
def test_a_lone_surrogate_gets_one_clean_line(course, text, phrase):
    """libyaml refuses the escape itself; PyYAML's own parser lets it through to derive."""
    result = grade(submit(course, text + "\n"))
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert phrase in result.output or "invalid Unicode character escape" in result.output


@pytest.mark.parametrize("text, phrase", [
    ("answers: {output_weight: 9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9*w5}", "number too long"),
    ("answers: {output_weight: 2delta_o1*out_h1}", "write 2*delta_o1"),
    ("answers: {output_weight: {latex: '\u0663 w_5'}}", "unexpected"),
])
def test_odd_text_gets_one_clean_line(course, text, phrase):
    refused(grade(submit(course, text + "\n")), phrase)


# --- whole-run limits ---------------------------------------------------------------------

def test_a_file_holds_a_bounded_number_of_checks(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(MAZUR + "checks:\n" + "  - {wrt: w5, claim: delta_o1*out_h1}\n" * 501)
    refused(CliRunner().invoke(main, ["check", str(path)]), "checks: too many (501")


def test_a_file_makes_a_bounded_number_of_claims(tmp_path, monkeypatch):
    """At most MAX_FILE_CLAIMS, or the network's number of quantities where that is more
    (a template over every weight of a 784-input layer is no abuse)."""
    monkeypatch.setattr(claims, "MAX_FILE_CLAIMS", 6)
    size = len(api.load(yaml.safe_load(MAZUR)).quantities)
    path = tmp_path / "many.yaml"
    check = "  - {wrt: 'w_o[j, k]', claim: 'delta_o[j]*out_h[k]'}\n"
    path.write_text(MAZUR + "checks:\n" + check * (size // 4))
    assert CliRunner().invoke(main, ["check", str(path)]).exit_code == 0
    path.write_text(MAZUR + "checks:\n" + check * (size // 4 + 1))
    refused(CliRunner().invoke(main, ["check", str(path)]),
            f"too many claims (more than {size})")


def test_a_title_is_drawn_as_text_never_as_mathtext(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "a.yaml"
    path.write_text(f"name: '${'{' * 95}x{'}' * 95}$'\n" + MAZUR.replace("\nname: ", "\n# "))
    result = CliRunner().invoke(main, ["draw", str(path), "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.png").stat().st_size > 0


# --- found by review ----------------------------------------------------------------------

def test_a_sum_made_for_one_line_is_not_reused_under_another_line_s_rules(course):
    """A Sum's value was kept for the whole check: made in step 1, where d(...) is allowed,
    it came back in the last line without passing the rules."""
    path = submit(course, "aliases:\n  W5: Sum(d(2*E_total, w5), (m, 1, 1))/2\nanswers:\n"
                  "  output_weight: {steps: [W5, W5]}\n")
    refused(grade(path), "is the derivative this answer is asked for")
    path = submit(course, "aliases:\n  G: Sum(d(E_total, out_o1), (m, 1, 1))\nanswers:\n"
                  "  output_weight: {steps: ['G*d(out_o1, w5)', 'G*d(out_o1, w5)']}\n")
    refused(grade(path), "d(...) is not allowed in this answer")


@pytest.mark.parametrize("restated", ["d(2*E_total, w1)/2", "d(E_o1 + E_o2, w1)",
                                      "d(E_total + out_h1, w1) - d(out_h1, w1)"])
def test_the_asked_derivative_in_other_words_is_refused_too(course, restated):
    path = submit(course, f"answers:\n  hidden_weight:\n    steps:\n      - {restated}\n"
                  f"      - delta_h1*i1\n")
    refused(grade(path), "d(E_total, w1) is the derivative this answer is asked for")
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text().replace(
        "    wrt: w1\n", "    wrt: w1\n    use: [d, loss, out, weight, input, target]\n"))
    refused(grade(submit(course, f"answers:\n  hidden_weight: '{restated}'\n")),
            "d(E_total, w1) is the derivative")


def test_building_a_claim_is_bounded_in_time(course, monkeypatch):
    from derive import limits
    monkeypatch.setattr(limits, "BUILD", 0.5)
    monkeypatch.setattr(limits, "BUILD_EACH", 0)  # (the course network's share: none)
    slow = "Sum(Max(k*w1, k*w2, k*w3, k*w4, k*w5, k*w6, k*w7, k*w8), (k, 1, 3000))"
    path = submit(course, f"answers:\n  output_weight: delta_o1*out_h1 + 0*{slow}\n")
    refused(grade(path), "building the claim took more than 0.5 CPU seconds")


def test_kronecker_delta_compares_indices_only(course):
    path = submit(course, "answers:\n  output_weight: delta_o1*out_h1 + KroneckerDelta(w1, w2)\n")
    refused(grade(path), "KroneckerDelta (and an indicator [i = j]) compares indices")


@pytest.mark.parametrize("answer", [
    "{latex: '\\delta_{o1}\\cdot{}out_{h1}'}",
    "{latex: '\\delta_{o1} \\text{out}_{h1}'}",
    "{latex: '(out_{o1} - target_{o1}) out_{o1}\\left[1 - out_{o1}\\right] out_{h1}'}",
])
def test_honest_latex_found_refused_by_review_now_reads(course, answer):
    checks = json.loads(grade(submit(course, f"answers:\n  output_weight: {answer}\n"))
                        .output)["checks"]
    assert [c["verdict"] for c in checks if c["exercise"] == "output_weight"] == ["correct"]


# --- found by code review -----------------------------------------------------------------

@pytest.mark.parametrize("answer", ["Max(1/0, out_h1)", "Min(out_h1, log(-1))",
                                    "Max(out_h1, sqrt(-1))"])
def test_sympy_refusing_to_build_a_formula_is_one_clean_line(course, answer):
    refused(grade(submit(course, f"answers:\n  output_weight: '{answer}'\n")),
            "the formula cannot be built")
    other = submit(course.parent / "other", "answers:\n  output_bias: delta_o1 + delta_o2\n"
                   f"  output_weight: '{answer}'\n")
    result = CliRunner().invoke(main, ["grade", str(other.parent), "--network",
                                       str(course / "course" / "network.yaml"),
                                       "--format", "json"])
    assert result.exit_code == 0  # the class goes on: this answer alone is lost
    marks = json.loads(result.output)["submissions"][0]["exercises"]
    assert marks["output_bias"]["score"] == 1 and marks["output_weight"]["score"] == 0


def test_a_nul_byte_in_network_is_a_clean_error(course):
    path = submit(course, "answers: {}\n", network='"course/net\\0work.yaml"')
    refused(grade(path), "this course's network is course/network.yaml")
    refused(grade(path, pinned=None), "network: ")


def test_the_verdict_level_hides_the_hint_s_term_from_the_api(course):
    network = course / "course" / "network.yaml"
    network.write_text(network.read_text() + "feedback: verdict\n")
    path = submit(course, "answers:\n  output_bias: delta_o1\n")
    [result] = [r for r in api.check(path, network="course/network.yaml")
                if r.claim.exercise == "output_bias"]
    assert result.verdict.hint is None and result.verdict.term is None
    assert result.judged.term is not None  # judged, but not shown


def test_pytest_ends_each_file_s_worker_with_its_items(pytester):
    """Unpinned, every file has a worker of its own: it ends when the file's items do."""
    for k in range(6):
        pytester.makefile(".derive.yaml", **{f"spec{k}": MAZUR + "checks:\n  - {wrt: w5, "
                                             "claim: delta_o1*out_h1}\n"})
    pytester.makeconftest(
        "import os, pathlib\nmost = [0]\n"
        "def pytest_runtest_teardown(item):\n"
        "    me = str(os.getpid())\n"
        "    kids = [p for p in pathlib.Path('/proc').iterdir() if p.name.isdigit() and\n"
        "            (p / 'stat').exists() and\n"
        "            (p / 'stat').read_text().split(')')[-1].split()[1] == me and\n"
        "            (p / 'stat').read_text().split(')')[-1].split()[0] != 'Z']\n"
        "    most[0] = max(most[0], len(kids))\n"
        "    pathlib.Path('most.txt').write_text(str(most[0]))\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    assert int((pytester.path / "most.txt").read_text()) <= 2
