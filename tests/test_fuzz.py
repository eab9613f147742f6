"""Fuzzing the untrusted-input paths: nothing but a domain error may ever come out.

The normal suite runs a bounded number of examples; `make fuzz` sets DERIVE_FUZZ_EXAMPLES
high and leaves it running. A crash found here becomes an entry of test_hostile.py.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import api, expr, latex, safeyaml, spec
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
        assert error.message and "\n" not in error.message


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
        assert error.message and "\n" not in error.message
    else:
        api.gradients(network)
