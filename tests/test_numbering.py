"""Numbered layers (SPEC §7, §11): the textbooks' letters, in both claim syntaxes.

Table-driven, as SymPy's own parser tests are: each LaTeX spelling is read in a numbered
network and must build exactly what its SymPy-syntax spelling builds, which must be the
network's own quantity (or vector, or matrix) of that meaning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive import api, claims, expr, latex, spec
from derive.errors import ClaimError, SpecError
from derive.vocabulary import Vocabulary

SPECS = Path(__file__).parent.parent / "specs"

NIELSEN = {"inputs": 2, "notation": {"first": 1}, "loss": "sse",
           "layers": [{"name": "h", "units": 3, "activation": "sigmoid"},
                      {"name": "o", "units": 2, "activation": "sigmoid"}]}


@pytest.fixture(scope="module")
def nielsen():
    return api.load(NIELSEN)


def built(network, text: str, syntax: str = "sympy", env: dict | None = None):
    node = latex.parse(text) if syntax == "latex" else expr.parse(text)
    return expr.evaluate(node, Vocabulary(network), env or {})


# SymPy syntax -> the network's own name for it (first: 1, so layer 2 is h, L = 3 is o)
NAMES = {
    "a[2, 1]": "out_h1", "z[3, 2]": "net_o2", "delta[2, 3]": "delta_h3",
    "b[3, 1]": "b_o1", "w[2, 3, 1]": "w_h3_i1", "w[3, 1, 2]": "w_o1_h2",
    "a[1, 2]": "i2",  # a[first, k] is input k
    "y[2]": "target_o2", "x[1]": "i1", "C": "E_total",
    "a[L, 1]": "out_o1", "z[L - 1, 1]": "net_h1",
    "a[2]": "out_h", "z[3]": "net_o", "delta[2]": "delta_h", "b[2]": "b_h", "W[3]": "W_o",
    "w[3]": "W_o",  # Nielsen's w^l is the matrix
    "a[1]": "inputs", "x": "inputs", "y": "target_o", "n[2]": "n_h", "n[1]": "2", "L": "3",
}


@pytest.mark.parametrize("text", NAMES)
def test_numbered_names_are_the_networks_own(nielsen, text):
    assert built(nielsen, text) == built(nielsen, NAMES[text])


# LaTeX as the textbooks print it -> the same in SymPy syntax (l = 2, j = 1, k = 2 bound)
READINGS = {
    r"a^{l}_{j}": "a[l, j]", r"a^l_j": "a[l, j]", r"a^{[l]}_j": "a[l, j]",
    r"a_j^l": "a[l, j]", r"a^{l-1}_k": "a[l - 1, k]", r"z^{l}_j": "z[l, j]",
    r"w^{l}_{jk}": "w[l, j, k]", r"w^{l+1}_{kj}": "w[l + 1, k, j]",
    r"w^{3}_{12}": "w[3, 1, 2]", r"w^l_{j,k}": "w[l, j, k]", r"b^l_j": "b[l, j]",
    r"\delta^{l}_j": "delta[l, j]", r"\delta^L": "delta[L]", r"\delta^{3}": "delta[3]",
    r"a^3_j": "a[3, j]", r"W^{l}": "W[l]", r"W^{[l]}": "W[l]", r"\mathbf{W}^{l+1}": "W[l + 1]",
    r"(W^{l+1})^T": "transpose(W[l + 1])", r"(w^{l+1})^T \delta^{l+1}":
        "transpose(W[l + 1]) @ delta[l + 1]",
    r"W^{[l+1]T}": "transpose(W[l + 1])", r"a^{[l-1]T}": "transpose(a[l - 1])",
    r"(a^{l-1})^\top": "transpose(a[l - 1])", r"(a^{l-1})^{\mathsf{T}}": "transpose(a[l - 1])",
    r"C": "C", r"y_j": "y[j]", r"x_k": "x[k]", r"y_1": "y[1]", r"x_2": "x[2]", "y": "y",
    r"\nabla_a C": "d(C, a[L])", r"\sigma'(z^l)": "sigmoid_prime(z[l])",
    r"\tanh'(z^l_j)": "tanh_prime(z[l, j])",
    r"\delta^{l} \odot \sigma'(z^l)": "delta[l] * sigmoid_prime(z[l])",
    r"\delta^{l} \circ \sigma'(z^l)": "delta[l] * sigmoid_prime(z[l])",
    r"\operatorname{diag}(a^l)": "diag(a[l])", r"a^{l} \cdot (a^{l})^T": "a[l] @ a[l].T",
    r"\frac{\partial C}{\partial w^l_{jk}}": "d(C, w[l, j, k])",
    r"\frac{\partial C}{\partial W^{l}}": "d(C, W[l])",
    r"\sum_k w^{l+1}_{kj} \delta^{l+1}_k": "Sum(w[l + 1, k, j] * delta[l + 1, k], (k, 1, 2))",
    r"out_{h1}^2": "out_h1**2",  # not a numbered letter: a power, as before
    r"\delta_{o1}^2": "delta_o1**2",  # a unit's own name: the superscript is a power
    r"2 a^l_j \cdot 3": "6 * a[l, j]",
    r"\sigma'(z^l) \odot (w^{l+1})^T \delta^{l+1}":  # \odot binds below the product
        "sigmoid_prime(z[l]) * (transpose(W[l + 1]) @ delta[l + 1])",
}


@pytest.mark.parametrize("text", READINGS)
def test_latex_reads_as_the_textbooks_write(nielsen, text):
    env = {"l": 2, "j": 1, "k": 2}
    assert built(nielsen, text, "latex", env) == built(nielsen, READINGS[text], env=env)


def test_a_course_may_choose_its_letters():
    network = api.load({**NIELSEN, "notation": {"first": 0, "letters": {
        "h": "out", "J": "E_total", "dZ": "delta", "A": "out"}}})
    assert built(network, "h[1, 2]") == built(network, "out_h2")
    assert built(network, "J") == built(network, "E_total")
    assert built(network, r"dZ^{[2]}", "latex") == built(network, "delta_o")
    assert built(network, r"A^{[0]}", "latex") == built(network, "inputs")  # Ng: first 0


BAD_NOTATION = {
    "notation: {first: 2}": "notation.first: expected the number of the input layer",
    "notation: {start: 1}": "notation: unknown key 'start'",
    "notation: {letters: {h: outs}}": "unknown meaning 'outs' (did you mean 'out'?)",
    "notation: {letters: {w1: out}}": "notation.letters: 'w1' is also a name of this network",
    "notation: {letters: {L: out}}": "'L' is also a name",
    "notation: [1]": "notation: expected a mapping",
    "notation: {letters: {j: out}}": "'j' is an index letter, a function or a constant",
    "notation: {letters: {exp: out}}": "'exp' is an index letter, a function or a constant",
}


@pytest.mark.parametrize("line", BAD_NOTATION)
def test_a_bad_notation_is_refused_at_its_line(line):
    text = ("inputs: 2\n" + line + "\nlayers:\n  - {name: o, units: 2, activation: sigmoid,"
            " weights: [[w1, w2], [w3, w4]]}\n")
    with pytest.raises(SpecError) as error:
        spec.from_text(text, "net.yaml")
    assert BAD_NOTATION[line] in error.value.message
    assert error.value.line == 2


def test_a_default_letter_that_is_a_network_name_stays_that_name():
    network = api.load({**NIELSEN, "inputs": ["a", "b"]})  # inputs named a and b
    assert str(built(network, "a")) == "a"
    assert built(network, "z[2, 1]") == built(network, "net_h1")  # the other letters stay


# --- templates over layers ----------------------------------------------------------------

def instances(network, **check):
    return claims.plan(network, spec.Check(**check))


def test_a_layer_template_runs_over_every_layer_where_every_name_exists(nielsen):
    formula = spec.Formula("(transpose(W[l + 1]) @ delta[l + 1]) * sigmoid_prime(z[l])",
                           "sympy", 1)
    planned = instances(nielsen, wrt="z[l]", claim=formula)  # BP2 with l+1: up to L - 1
    assert [p.index for p in planned] == [{"l": 2}]
    weights = instances(nielsen, wrt="w[l, j, k]", claim=spec.Formula("0", "sympy", 1))
    assert len(weights) == 3 * 2 + 2 * 3  # every weight of every layer, once
    assert {p.wrt for p in weights} == {f"w_{u}_{s}" for u, b in
                                        (("h1", "i"), ("h2", "i"), ("h3", "i"))
                                        for s in (f"{b}1", f"{b}2")} | \
        {f"w_o{j}_h{k}" for j in (1, 2) for k in (1, 2, 3)}
    biases = instances(nielsen, wrt="b[l, j]", claim=spec.Formula("delta[l, j]", "sympy", 1))
    assert [p.index for p in biases][:2] == [{"l": 2, "j": 1}, {"l": 2, "j": 2}]


def test_layer_arithmetic_in_wrt_and_numbered_names_inside_aliases(nielsen):
    planned = instances(nielsen, wrt="W[l + 1]", claim=spec.Formula("0", "sympy", 1))
    assert [p.index for p in planned] == [{"l": 1}, {"l": 2}]
    planned = instances(nielsen, wrt="w[l + 1, j, k]", claim=spec.Formula("0", "sympy", 1))
    assert len(planned) == 3 * 2 + 2 * 3
    network = api.load({**NIELSEN, "aliases": {"G": "transpose(W[l + 1]) @ delta[l + 1]"}})
    results = api.check_one(network, "z[l]", "G * sigmoid_prime(z[l])", isolated=False)
    assert [r.claim.index for r in results] == [{"l": 2}]  # BP2: up to L - 1, through G
    assert results[0].verdict.verdict == "correct"


def test_a_template_layers_delta_j_under_a_notation_and_a_bare_letter(nielsen):
    [*results] = api.check_one(nielsen, "w_o[j, k]", r"\delta_j out_{hk}", syntax="latex",
                               isolated=False)
    assert len(results) == 6 and all(r.verdict.verdict == "correct" for r in results)
    with pytest.raises(ClaimError, match=r"a needs its layer's number: a\[l\]"):
        built(nielsen, "a * 2")


def test_a_layer_template_whose_names_exist_in_no_layer_is_an_error(nielsen):
    check = spec.Check(wrt="z[l]", claim=spec.Formula("delta[l + 2]", "sympy", 1))
    with pytest.raises(ClaimError, match="no layer has every name this check uses"):
        claims.claims_of(nielsen, check)


def test_a_fixed_layer_that_does_not_exist_is_an_error_not_skipped(nielsen):
    check = spec.Check(wrt="W[4]", claim=spec.Formula("0", "sympy", 1))
    with pytest.raises(ClaimError, match="there is no layer 4"):
        claims.claims_of(nielsen, check)


@pytest.mark.parametrize("text, message", [
    (r"\delta^{l}_{o}", "'o' in the subscript of delta"),
    (r"a^{l/3}_k", "is its layer's number: it must be a whole number"),
    (r"w^{l}_{qk}", "'q' in the subscript of w"),
    (r"a^{0}", "there is no layer 0"),
    (r"z^{1}", "layer 1 is the input layer, which has no net"),
    (r"a^{l}_{7}", "index 7 is out of range in layer 2"),
])
def test_numbered_mistakes_are_explained(nielsen, text, message):
    with pytest.raises(ClaimError) as error:
        built(nielsen, text, "latex", {"l": 2, "k": 1})
    assert message in error.value.message


# --- messages that say what to write ---------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("2delta_o1", "write 2*delta_o1"),
    ("2 delta_o1", "write 2*delta_o1"),
    ("out_h1 out_h2", "two factors side by side at column 8: write out_h1*out_h2"),
    ("w_o[1, 2] delta_o1", "write * between ']' and 'delta_o1'"),
    ("(out_h1)(out_h2)", "write * between ')' and '('"),
    ("delta_o1(out_h1)", "to multiply, write delta_o1*(...)"),
    ("out_h1 +", "the claim ends too early"),
    ("out_h1 if w1 else 2", "'if' is not allowed in a claim"),
])
def test_syntax_mistakes_say_what_to_write(text, message):
    mazur = api.load(SPECS / "mazur.yaml")
    with pytest.raises(ClaimError) as error:
        expr.evaluate(expr.parse(text), Vocabulary(mazur))
    assert message in error.value.message
    assert "invalid decimal literal" not in error.value.message
