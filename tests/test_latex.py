"""LaTeX claims as people write them, the errors they get, and the printer's round trip."""

from pathlib import Path

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import api, calculus, claims, expr, forward, latex, numeric
from derive.claims import Names
from derive.errors import ClaimError
from derive.notation import to_latex

SPECS = Path(__file__).parent.parent / "specs"


@pytest.fixture(scope="module")
def mazur():
    return api.load(SPECS / "mazur.yaml")


def read(network, text, env=None):
    return expr.evaluate(latex.parse(text), Names(network), env)


def sym(network, name):
    return network[name].symbol


# What people write -> what it means (in SymPy syntax, read by the other parser).
CONSTRUCTS = {
    r"out_{h1}": "out_h1",
    r"out_{h_1}": "out_h1",
    r"out_h1": "out_h1",
    r"\mathrm{out}_{h1}": "out_h1",
    r"w_{5}": "w5",
    r"w_5": "w5",
    r"w5": "w5",
    r"i_1": "i1",
    r"E_{total}": "E_total",
    r"E_{\mathrm{total}}": "E_total",
    r"\delta_{o1}": "delta_o1",
    r"target_{o2}": "target_o2",
    r"\frac{\partial E_{total}}{\partial w_5}": "delta_o1*out_h1",
    r"\frac{\partial out_{h1}}{\partial net_{h1}}": "out_h1*(1 - out_h1)",
    r"\frac{w_1}{w_2}": "w1/w2",
    r"w_1 \cdot w_2 \times w_3 * w_4": "w1*w2*w3*w4",
    r"w_1 w_2 (1 - w_3)": "w1*w2*(1 - w3)",
    r"\left( w_1 + w_2 \right)^2": "(w1 + w2)**2",
    r"w_1^{2} + w_2^3": "w1**2 + w2**3",
    r"e^{w_1}": "exp(w1)",
    r"\exp(w_1) + \exp{w_2}": "exp(w1) + exp(w2)",
    r"\log(w_1) + \ln w_2": "log(w1) + log(w2)",
    r"\sigma(net_{o1})": "sigmoid(net_o1)",
    r"\tanh(w_1)": "tanh(w1)",
    r"\sqrt{w_1}": "sqrt(w1)",
    r"-w_1 + -w_2": "-w1 - w2",
    r"w_1 \, w_2 \; w_3 \! w_4 \quad w_5": "w1*w2*w3*w4*w5",
    r"\sum_{j=1}^{2} \delta_{oj}": "delta_o1 + delta_o2",
    r"\sum_j \delta_{oj} out_{h1}": "(delta_o1 + delta_o2)*out_h1",
    r"\sum_{k} w_1 i_k": "w1*(i1 + i2)",
    r"\sum_{j} 1_{j=1} \delta_{oj}": "delta_o1",
    r"\sum_{j} [j = 2] \delta_{oj}": "delta_o2",
    r"\sum_{j} \mathbb{1}_{j=1} out_{oj}": "out_o1",
    r"\sum_i \sum_j out_{hi} out_{oj}": "(out_h1 + out_h2)*(out_o1 + out_o2)",
    r"w_1 \sum_j \delta_{oj} + w_2": "w1*(delta_o1 + delta_o2) + w2",
    r"\theta\left(w_1, 0\right) + \max\left(0, w_2\right) + \left|{w_3}\right|":
        "Heaviside(w1, 0) + Max(0, w2) + Abs(w3)",
    r"\operatorname{erf}{\left(w_1 \right)} + \pi": "erf(w1) + pi",
    r"\tanh^{2}{\left(w_1 \right)}": "tanh(w1)**2",
}


@pytest.mark.parametrize("text", CONSTRUCTS)
def test_constructs(mazur, text):
    expected = expr.evaluate(expr.parse(CONSTRUCTS[text]), Names(mazur))
    assert sp.expand(read(mazur, text) - expected) == 0


def test_default_weight_names_read_with_a_comma():
    network = api.load(SPECS / "tanh_relu.yaml")
    assert read(network, r"w_{a1,i2} + b_{a1}") == sym(network, "w_a1_i2") + sym(network, "b_a1")


def test_bound_index_letters_make_families(mazur):
    assert read(mazur, r"out_{hi}", {"i": 2}) == sym(mazur, "out_h2")
    assert read(mazur, r"net_{oj} + target_{oj}", {"j": 1}) == \
        sym(mazur, "net_o1") + sym(mazur, "target_o1")


def test_aliases_match_as_written_and_as_normalized(tmp_path):
    spec = (SPECS / "hidden_sigmoid.yaml")
    network = api.load(spec)
    j_sum = read(network, r"\sum_j \delta_j w_{oj}")  # both via aliases
    assert j_sum == (sym(network, "delta_o1") * sym(network, "w5")
                     + sym(network, "delta_o2") * sym(network, "w7"))


ERRORS = {
    r"\def\x{1} \x": r"macros are not expanded: \def at column 1",
    r"\newcommand{\w}{1}": r"macros are not expanded: \newcommand",
    r"\input{/etc/passwd}": r"macros are not expanded: \input",
    r"\csname x\endcsname": r"macros are not expanded: \csname",
    r"\foo{w_1}": r"unsupported command: \foo at column 1",
    r"\operatorname{evil}(w_1)": r"unsupported \operatorname{evil}",
    r"out_{h1": "unbalanced braces or parentheses",
    r"w_1)": "unbalanced ')' at column 4",
    r"": "the claim is empty",
    r"w_1 +": "ends too early",
    r"w_1 + + ": "ends too early",
    r"w_1 ? w_2": "unexpected character '?' at column 5",
    r"out_{h9}": "unknown name 'out_{h9}' at column 1",
    r"\delta_j": r"unknown name '\delta_j'",
    r"\sum_j \delta_{oj} w_{oj}": "aliases",
    r"2_{i=1}": "only 1_{...} is an indicator",
    "(" * 100 + "w_1" + ")" * 100: "nested too deeply",
}


@pytest.mark.parametrize("text", ERRORS)
def test_errors_point_at_the_problem(mazur, text):
    with pytest.raises(ClaimError) as error:
        read(mazur, text)
    assert ERRORS[text] in error.value.message


def test_a_long_claim_is_refused_before_parsing(mazur):
    with pytest.raises(ClaimError, match="too long"):
        latex.parse("w_1 + " * 10_000)


# --- round trip: what derive prints parses back to the same expression -----------------

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax", "softplus",
               "elu", "swish", "gelu"]


@st.composite
def networks(draw):
    layers = [{"name": "h", "units": draw(st.integers(1, 2)),
               "activation": draw(st.sampled_from(ACTIVATIONS))},
              {"name": "o", "units": draw(st.integers(1, 2)),
               "activation": draw(st.sampled_from(["sigmoid", "linear", "tanh"]))}]
    return api.load({"inputs": 2, "layers": layers,
                     "loss": draw(st.sampled_from(["sse", "mse"])),
                     "l2": draw(st.sampled_from([None, 0.5]))})


def equal_at_a_point(network, a, b) -> bool:
    leaves = [q for q in network.quantities.values() if q.is_leaf]
    with mpmath.workdps(30):
        env = forward.point_values(network, {q.name: mpmath.mpf(k + 1) / 7 - 0.3
                                              for k, q in enumerate(leaves)})
        x, y = numeric.evaluate(a, env), numeric.evaluate(b, env)
    return abs(x - y) <= mpmath.mpf(10) ** -20 * max(1, abs(x))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.data())
def test_printed_latex_parses_back_to_the_same_expression(network, data):
    name = data.draw(st.sampled_from(network.params))
    compact = calculus.gradient(network, name)
    assert sp.expand(read(network, to_latex(compact)) - compact) == 0
    expanded = calculus.expand(network, compact)
    assert equal_at_a_point(network, read(network, to_latex(expanded)), expanded)


def test_seed_latex_examples_meet_their_expectations():
    for name in ("hidden_sigmoid", "hidden_softmax", "softmax_jacobian"):
        results = api.check(SPECS / f"{name}.yaml")
        latex_results = [r for r in results if "\\" in r.claim.text or "_{" in r.claim.text]
        assert latex_results and all(r.ok for r in latex_results)


def test_kronecker_delta_is_available_only_through_an_alias(tmp_path):
    base = (SPECS / "hidden_softmax.yaml").read_text().split("aliases:")[0]
    spec = tmp_path / "kronecker.yaml"
    spec.write_text(base + "aliases:\n  '\\delta_{ij}': KroneckerDelta(i, j)\nchecks:\n"
                    "  - of: out_h[i]\n    wrt: net_h[j]\n"
                    "    latex: 'out_{hi} (\\delta_{ij} - out_{hj})'\n")
    results = api.check(spec)
    assert len(results) == 4 and all(r.verdict.shown_by == "symbolic" for r in results)
    without = tmp_path / "without.yaml"
    without.write_text(spec.read_text().replace("'\\delta_{ij}'", "'\\delta_{xy}'"))
    with pytest.raises(ClaimError, match=r"unknown name '\\delta_\{ij\}'"):
        api.check(without)


GAPS = r"""inputs: 2
layers:
  - {name: h, units: 2, activation: sigmoid}
  - {name: o, units: 2, activation: sigmoid}
loss: sse
aliases:
  "w2_{jk}": "w_o[j, k]"
checks:
  - wrt: w_o[j, k]
    latex: '\delta_j \, out_{hk}'
  - wrt: w_o[j, k]
    latex: 'b_j w_{jk} \delta_j'
    expect: incorrect
  - wrt: w_h[j, k]
    latex: '\sum_m \delta_{om} w2_{mj} \, out_{hj} (1 - out_{hj}) \, i_k'
  - wrt: w_h[j, k]
    latex: '\sum_m \delta_{om} w2_{jm} \, out_{hj} (1 - out_{hj}) \, i_k'
    expect: incorrect
"""


def test_a_template_layers_own_names_and_aliases_with_index_letters(tmp_path):
    """As a student writes a layer's weights in a template over them (w_{jk}, \\delta_j),
    and a course's alias with index letters read with the letters swapped."""
    path = tmp_path / "gaps.yaml"
    path.write_text(GAPS)
    results = api.check(path, isolated=False)
    assert len(results) == 16 and all(r.ok for r in results)
    network = api.load(path)
    [check] = [c for c in network.spec.checks if "w2_{mj}" in (c.claim.text if c.claim else "")]
    first = claims.claims_of(network, check)[0]  # j = 1, k = 1
    assert first.claim == read(network, "delta_o1*w_o1_h1*out_h1*(1 - out_h1)*i1 + "
                               "delta_o2*w_o2_h1*out_h1*(1 - out_h1)*i1")
