"""Hostile input: untrusted claims and specs never run code, never hang, always explain.

Every entry goes through the CLI as a student's submission would. Injected code would
create the canary file; each run must exit 2 with exactly one line naming the file (and
the line, where the input has one), print no traceback, and finish within the guard.
"""

import json
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.cli import main

SPECS = Path(__file__).parent.parent / "specs"
MAZUR = (SPECS / "mazur.yaml").read_text().split("checks:")[0]
GUARD_SECONDS = 10


@contextmanager
def guard(seconds=GUARD_SECONDS):
    """Fail, rather than hang, if a run takes longer than the bound."""
    def expired(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def canary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "CANARY"
    yield path
    assert not path.exists(), "injected code ran"


def run(*args):
    with guard():
        result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"crashed: {result.exception!r}"
    return result


def last_line(path) -> int:
    """The line of the claim: these specs end with it."""
    return len(path.read_text().splitlines())


def assert_one_line_error(result, prefix, phrase):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {prefix}"), lines[0]
    assert phrase in lines[0], lines[0]
    assert not any(line.startswith("::") for line in lines)


# --- claims, written into a spec's checks (so the message carries the line) -------------

CLAIMS = [
    ("__import__('os').system('touch CANARY')", "unexpected character"),
    ("__import__(w1)", "unknown function '__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", "unexpected character '.'"),
    ("w1.__class__", "unexpected character '.'"),
    ("lambda: 1", "'lambda' is not allowed in a claim"),
    ("eval(w1)", "unknown function 'eval'"),
    ("exec(w1)", "unknown function 'exec'"),
    ("open(w1)", "unknown function 'open'"),
    ("getattr(w1, w2)", "unknown function 'getattr'"),
    ("w1; import os", "unexpected character ';'"),
    ("10**10**10", "number too large"),
    ("factorial(10**9)", "unknown function 'factorial'"),
    ("2**(2**64)", "number too large"),
    ("(" * 5000 + "w1" + ")" * 5000, "nested too deeply"),
    ("-" * 5000 + "w1", "too many tokens"),
    ("w1 + " * 20_000 + "w1", "too long"),
    ("w9", "unknown name 'w9'"),
    ("out_h[3]", "index 3 is out of range (1 to 2)"),
    ("w_o[1]", "takes 2 indices, got 1"),
    ("w1 +* w2", "syntax error"),
    ("", "the claim is empty"),
    ("Sum(w1, (j, 1, 10**9))", "too many terms"),
    ("exp(w1, w2)", "exp() takes 1 argument"),
    ("*".join(["9" * 40] * 120) + "*w1", "number too large"),
    ("w1\n::error::owned", "unexpected character ':' at column 4"),
    ("9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9_9*w1", "number too long"),  # separators count
    ("2delta_o1*out_h1", "a number runs into the name 'delta_o1' at column 2: write 2*"),
    ("delta_o1\x1b[2J\u202e", "unexpected character '\\x1b' at column 9"),
    ("\u0663*w1", "unexpected character '\u0663'"),  # a digit, but not an ASCII one
    ("Sum(Sum(Sum(w1*a*b*c, (a, 1, 10000)), (b, 1, 10000)), (c, 1, 10000))",
     "too large once its aliases and sums are written out"),
]


@pytest.mark.parametrize("claim, phrase", CLAIMS, ids=range(len(CLAIMS)))
def test_hostile_claims(canary, claim, phrase):
    spec = canary.parent / "answer.yaml"
    spec.write_text(MAZUR + f"checks:\n  - wrt: w5\n    claim: {json.dumps(claim)}\n")
    assert_one_line_error(run("check", spec), f"{spec}:{last_line(spec)}: ", phrase)


LATEX = [
    (r"\def\x{1} \x", r"macros are not expanded: \def"),
    (r"\newcommand{\x}{1}", r"macros are not expanded: \newcommand"),
    (r"\input{/etc/passwd}", r"macros are not expanded: \input"),
    (r"\csname relax\endcsname", r"macros are not expanded: \csname"),
    (r"\immediate\write18{touch CANARY}", r"unsupported command: \immediate"),
    (r"out_{h1", "unbalanced braces"),
    (r"out_{h1}}", "unbalanced '}'"),
    ("{" * 5000 + "w_1" + "}" * 5000, "nested too deeply"),
    ("\u0663 w_1", "unexpected"),  # non-ASCII digits are no numbers
]


@pytest.mark.parametrize("text, phrase", LATEX, ids=range(len(LATEX)))
def test_hostile_latex(canary, text, phrase):
    spec = canary.parent / "answer.yaml"
    spec.write_text(MAZUR + f"checks:\n  - wrt: w5\n    latex: {json.dumps(text)}\n")
    assert_one_line_error(run("check", spec), f"{spec}:{last_line(spec)}: ", phrase)


def test_a_one_megabyte_claim_on_the_command_line(canary):
    result = run("check", SPECS / "mazur.yaml", "--wrt", "w5", "--claim", "w1+" * 350_000)
    assert_one_line_error(result, f"{SPECS / 'mazur.yaml'}: ", "too long")


# --- specs --------------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + k)}: &{chr(98 + k)} [*{chr(97 + k)}, *{chr(97 + k)}, *{chr(97 + k)}]\n"
    for k in range(8))

SPEC_FILES = [
    ("inputs: !!python/object/apply:os.system ['touch CANARY']\nlayers: []\n", 1,
     "YAML tags are not allowed"),
    ("!!python/object/new:os.system [touch CANARY]\n", 1, "YAML tags are not allowed"),
    (BOMB, 1, "YAML anchors"),
    ("inputs: 2\ninputs: 3\nlayers: []\n", 2, "duplicate key 'inputs' (first at line 1)"),
    ("- inputs: 2\n", 1, "spec: expected a mapping, got a list"),
    ("just text\n", 1, "spec: expected a mapping"),
    ("inputs: {a: 1}\nlayers: [{name: h, units: 1}]\n", 1, "inputs: expected a list of names"),
    ("inputs: 2\nlayers: 5\n", 2, "layers: expected a list of layers"),
    ("inputs: 2\nlayers: [{name: h, units: two}]\n", 2, "units: expected a whole number"),
    ("inputs: 2\nlayers: [{name: h, units: 0}]\n", 2, "units: 0 is out of range"),
    ("inputs: 2\nlayers: [{name: h, units: -1}]\n", 2, "units: -1 is out of range"),
    ("inputs: 2\nlayers: [{name: h, units: 100000}]\n", 2, "100000 is out of range"),
    ("inputs: 2\nlayers: [{name: h, units: 1, activation: [1]}]\n", 2,
     "activation: unknown"),
    ("inputs: 2\nlayers: [{name: h, units: 1, weights: w}]\n", 2,
     "weights: expected 1 rows"),
    ("inputs: 2\nlayers: [{name: h, units: 1, bias: 3}]\n", 2, "bias: expected a name"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nloss: 7\n", 3, "loss: unknown '7'"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nvalues: [1]\n", 3,
     "values: expected a mapping"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nchecks: {a: 1}\n", 3,
     "checks: expected a list"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\naliases: [1]\n", 3,
     "aliases: expected a mapping"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nl2: [1]\n", 3, "l2: expected a number"),
    ("name: [1]\ninputs: 2\nlayers: [{name: h, units: 1}]\n", 1, "name: expected text"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nvalues: {i1: 1e999}\n", 3,
     "values.i1: inf is out of range"),
    ("inputs: " + "[" * 500 + "]" * 500 + "\n", 1, "nested too deeply"),
    ("inputs: [i1, __import__]\nlayers: [{name: h, units: 1}]\n", 1,
     "is not a valid name"),
    ("inputs: [E, i2]\nlayers: [{name: h, units: 1}]\n", 1, "'E' is reserved"),
    ('name: "a\\n::error::b"\ninputs: 2\nlayers: [{name: h, units: 1}]\n', 1,
     "name: expected one line of printable text"),
    ("inputs: 2\nlayers: [{name: h, units: 1, activation: {custom: 'x/0'}}]\n", 2,
     "activation.custom: the formula is undefined"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nloss: {custom: 'log(0)'}\n", 3,
     "loss.custom: the formula is undefined"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\naliases: {out_h1: '0'}\n", 3,
     "aliases: 'out_h1' would shadow the network's out_h1"),
    ("inputs: 2\nlayers: [{name: h, units: 1}]\nchecks:\n" + "  - {wrt: b_h1, claim: '1'}\n"
     * 501, 3, "checks: too many (501"),
    ("network: network.yaml\nanswers: {}\n", 1, "network: 'network.yaml': cannot read the "
     "file: No such file or directory"),
    ("network: spec.yaml\nanswers: {}\n", 1, "network: names this answers file itself"),
    ("network: /dev/zero\nanswers: {}\n", 1, "is an absolute path"),
    ("network: ../../etc/passwd\nanswers: {}\n", 1, "leads outside the submission's folder"),
]


@pytest.mark.parametrize("text, line, phrase", SPEC_FILES, ids=range(len(SPEC_FILES)))
def test_hostile_specs(canary, text, line, phrase):
    spec = canary.parent / "spec.yaml"
    spec.write_text(text)
    assert_one_line_error(run("check", spec), f"{spec}:{line}: ", phrase)


def test_self_referring_aliases(canary):
    spec = canary.parent / "spec.yaml"
    spec.write_text(MAZUR + "aliases: {a: b, b: a}\nchecks:\n  - wrt: w5\n    claim: a\n")
    assert_one_line_error(run("check", spec), f"{spec}:{last_line(spec)}: ", "refers to itself")


@pytest.mark.parametrize("data, phrase", [
    (b"inputs: 2\nlayers: \xff\xfe\n", "not UTF-8 text"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "not a text file"),
    (b"inputs: 2\nlayers: \x01\n", "unacceptable character #x0001"),  # found by fuzzing
])
def test_binary_and_non_utf8_files(canary, data, phrase):
    spec = canary.parent / "spec.yaml"
    spec.write_bytes(data)
    assert_one_line_error(run("check", spec), f"{spec}:", phrase)


def test_a_fifty_megabyte_file_is_refused_unread(canary):
    spec = canary.parent / "big.yaml"
    with spec.open("wb") as out:
        out.truncate(50 * 1024 * 1024)
    assert_one_line_error(run("check", spec), f"{spec}:1: ", "file is too large")


def test_a_weight_named_like_a_yaml_boolean_is_a_name(canary):
    spec = canary.parent / "spec.yaml"
    spec.write_text("inputs: [i1]\nlayers:\n  - {name: o, units: 1, weights: [[on]], "
                    "bias: yes}\nchecks:\n  - wrt: 'on'\n    claim: delta_o1*i1\n")
    result = run("check", spec)
    assert result.exit_code == 0, result.output


def test_a_real_process_runs_no_injected_code(canary):
    exe = shutil.which("derive") or str(Path(sys.executable).parent / "derive")
    spec = canary.parent / "spec.yaml"
    spec.write_text("inputs: !!python/object/apply:os.system ['touch CANARY']\n")
    done = subprocess.run([exe, "check", str(spec)], capture_output=True, text=True,
                          timeout=GUARD_SECONDS * 3)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {spec}:1: YAML tags are not allowed")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("claim", [
    "(w1 + w2 + w3 + w4 + w5 + w6 + w7 + w8)**200",  # expand() would never finish
    "exp(exp(exp(1000*w1)))",
    "w1**(w2*10**30)",
    "delta_o1*out_h1 + (w1 + w2 + w3 + w4 + w5 + w6)**40 - (w1 + w2 + w3 + w4 + w5 + w6)**40",
])
def test_explosive_but_valid_claims_get_a_verdict_in_bounded_time(canary, claim):
    result = run("check", SPECS / "mazur.yaml", "--wrt", "w5", "--claim", claim,
                 "--format", "json")
    verdict = json.loads(result.output)["checks"][0]["verdict"]
    assert (result.exit_code, verdict) in ((1, "incorrect"), (0, "correct"))


def test_an_overflowing_counterexample_is_still_valid_json(canary):
    result = run("check", SPECS / "mazur.yaml", "--wrt", "w5", "--claim", "exp(1000)*delta_o1",
                 "--format", "json")
    example = json.loads(result.output, parse_constant=lambda name: pytest.fail(name))
    claim = example["checks"][0]["counterexample"]["claim"]
    assert isinstance(claim, str) and "e+" in claim
