"""Fuzzing the untrusted-input paths: nothing but a domain error may ever come out.

The normal suite runs a bounded number of examples; `make fuzz` sets DERIVE_FUZZ_EXAMPLES
high and leaves it running. A crash found here becomes an entry of test_hostile.py.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import api, claims, expr, latex, safeyaml, spec
from derive.claims import Names
from derive.errors import DeriveError
from derive.network import Network

EXAMPLES = int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="DERIVE_FUZZ_EXAMPLES"
                not in os.environ, suppress_health_check=list(HealthCheck))
NETWORK = api.load(Path(__file__).parent.parent / "specs" / "mazur.yaml")

SYMPY_TOKENS = ["w1", "w5", "out_h1", "delta_o[1]", "w_o[1, 2]", "i[2]", "n_o", "j", "(", ")",
                "[", "]", ",", "+", "-", "*", "/", "**", "^", "Sum", "d", "exp", "log",
                "KroneckerDelta", "Heaviside", "1", "2.5", "10", " ", "(j, 1, n_o)", "E_total",
                "net_h1", "sigmoid", "pi", "Max", "1e400", "0"]
LATEX_TOKENS = [r"\frac", r"\partial", r"\sum", "_", "^", "{", "}", "(", ")", "[", "]", "=",
                "j", "i", "1", "2", "out", "h1", "oj", "w", "5", r"\delta", r"\cdot", r"\left",
                r"\right", "+", "-", "e", r"\sigma", r"\mathbb", r"\mathrm", ",", " ",
                r"\sqrt", r"\log", r"\theta", r"\max", r"\operatorname", "erf", r"\pi", "|"]


def survives(parse, text):
    """Parse and evaluate; only a DeriveError (a clear message) may escape."""
    try:
        expr.evaluate(parse(text), Names(NETWORK))
    except DeriveError as error:
        assert error.message and str(error).isprintable()


TEXTS = {
    "sympy, any text": (expr.parse, st.text(max_size=200)),
    "sympy, near-valid": (expr.parse, st.lists(st.sampled_from(SYMPY_TOKENS), max_size=40)
                          .map("".join)),
    "latex, any text": (latex.parse, st.text(max_size=200)),
    "latex, near-valid": (latex.parse, st.lists(st.sampled_from(LATEX_TOKENS), max_size=40)
                          .map("".join)),
}


@pytest.mark.parametrize("case", TEXTS)
@FUZZ
@given(data=st.data())
def test_claim_parsers(case, data):
    parse, texts = TEXTS[case]
    survives(parse, data.draw(texts))


YAML_PIECES = ["inputs: ", "layers:", "\n  - ", "name: h", "units: ", "2", "-1", "[", "]",
               "{", "}", ",", "activation: ", "softmax", "weights: ", "[[w1, w2]]", "bias: ",
               "b1", "none", "loss: ", "sse", "values: ", "checks: ", "wrt: ", "claim: ",
               "w1", "\n", "  ", "&a ", "*a", "!!python/name:os.system", "'", '"', "#", ":",
               "l2: ", "0.5", "aliases: ", "\n    ", "~", "yes"]


@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.sampled_from(YAML_PIECES), max_size=40)
                 .map(lambda parts: "".join(parts).encode())))
def test_spec_loader_on_any_bytes(data):
    try:
        network = Network(spec.from_data(safeyaml.load(data, "fuzz.yaml"), "fuzz.yaml"))
    except DeriveError as error:
        assert error.message and str(error).isprintable()
    else:
        api.gradients(network)


# --- answers files, as a student may write them, against a pinned course ------------------

COURSE = Path(__file__).parent.parent / "examples" / "coursework" / "grading" / "course"
ANSWER_PIECES = ["network: ", "course/network.yaml", "../", "/", "answers:", "aliases:",
                 "\n  ", "\n    ", "output_weight: ", "hidden_delta: ", "output_bias: ",
                 "sigmoid_derivative: ", "steps:", "\n      - ", "latex: ", "claim: ",
                 "d(E_total, w5)", "d(E_total, net_h1)", "d(out_h1, net_h1)", "delta_h1",
                 "delta_h[1]", "delta_o1", "out_h1", "*", "+", "(1 - out_h1)", "E_total",
                 "'\\frac{\\partial E_{total}}{\\partial w_5}'", "'\\delta_{h1}'", "grad",
                 "grad: ", "E_total: ", "w5: ", "out_{h1}: ", "'0'", "{", "}", "[", "]", ",",
                 "use: ", "\x1b", "\u202e", "\n"]


FORMULA_PIECES = ["d(E_total, net_h1)", "d(E_total, out_h1)", "d(out_h1, net_h1)", "delta_h1",
                  "delta_h[1]", "delta_o1", "delta_o2", "w5", "w7", "out_h1", "grad", "*",
                  " + ", "(1 - out_h1)", "Sum(delta_o[j]*w_o[j, 1], (j, 1, n_o))", "1",
                  "KroneckerDelta(1, 1)*"]
STRUCTURED = st.builds(
    lambda alias, exercise, formula: f"network: course/network.yaml\n{alias}answers:\n"
                                     f"  {exercise}: {formula}\n",
    st.sampled_from(["", "aliases: {grad: 'd(E_total, net_h1)'}\n",
                     "aliases: {grad: delta_h1}\n", "aliases: {grad: 'delta_h[1]'}\n"]),
    st.sampled_from(["hidden_delta", "output_weight", "sigmoid_derivative"]),
    st.lists(st.sampled_from(FORMULA_PIECES), min_size=1, max_size=8).map("".join))


@FUZZ
@given(st.one_of(STRUCTURED, st.lists(st.sampled_from(ANSWER_PIECES), max_size=40)
                 .map("".join)))
def test_answers_files_never_restate_the_question(tmp_path_factory, text):
    """Whatever a submission holds: a clean one-line error, or the course's network and
    claims that never use the asked quantity's own name (delta_h1 for d(E_total, net_h1))."""
    folder = tmp_path_factory.mktemp("submission")
    path = folder / "answers.derive.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        network = api.load(path, COURSE / "network.yaml")
        every = claims.every_check(network)
    except DeriveError as error:
        assert error.message and str(error).isprintable()
        return
    assert network.spec.file == str(COURSE / "network.yaml")
    for _, group in every:
        for claim in group:
            if claim.claim is not None and claim.wrt.startswith("net_"):
                asked = "delta_" + claim.wrt.removeprefix("net_")
                assert asked not in {s.name for s in claim.claim.free_symbols}, text
