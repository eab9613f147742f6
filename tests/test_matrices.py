"""Vectors, matrices and matrix checks (SPEC §6, §11).

The oracle is test_oracle's: mpmath central differences of a forward pass written from the
spec dict alone. Every entry of every gradient matrix, delta vector and Jacobian that a
matrix check compares with, and every entry of the textbook matrix formulas evaluated by
the claim reader, must match it on random networks; then the verdict rules on Mazur's
network, as a student meets them.
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath
import pytest
from click.testing import CliRunner
from hypothesis import given
from test_oracle import DPS, FEW, build, cases, close, finite_difference, unit_names, usable

from derive import api, calculus, claims, expr, forward, matrices, numeric
from derive.cli import main
from derive.errors import ClaimError
from derive.vocabulary import Vocabulary

SPECS = Path(__file__).parent.parent / "specs"


@pytest.fixture(scope="module")
def mazur():
    return api.load(SPECS / "mazur.yaml")


def value(network, text: str):
    return expr.evaluate(expr.parse(text), Vocabulary(network))


def difference(spec, point, of, wrt):
    with mpmath.workdps(DPS):
        return finite_difference(spec, point, of, wrt)


def entries_of(value) -> list:
    return value.entries if matrices.is_matrix(value) else [value]


def numbers(network, point, entries):
    with mpmath.workdps(DPS):
        env = forward.point_values(network, point)
        return [numeric.evaluate(e, env) for e in entries]


# --- the oracle: every entry, on random networks --------------------------------------------

@FEW
@given(case=cases(max_layers=3, max_units=3))
def test_every_entry_of_every_gradient_matrix_matches_finite_differences(case):
    """d(E_total, W_L), d(E_total, b_L), d(E_total, net_L), d(out_L, net_L): each entry is
    the oracle's derivative of the quantity at that position (a tied name: its total)."""
    usable(case)
    network = build(case)
    scope = Vocabulary(network)
    for layer in network.spec.layers:
        name = layer.name
        pairs = [("E_total", f"W_{name}"), ("E_total", f"net_{name}"),
                 (f"out_{name}", f"net_{name}")]
        if any(layer.biases):
            pairs.append(("E_total", f"b_{name}"))
        for of, wrt in pairs:
            of_value, wrt_value = scope.name(of), scope.name(wrt)
            truth = matrices.derivative(of_value, wrt_value, scope.derivative)
            n, m = matrices.shape(truth)
            positions = [(r, c) for r in range(n) for c in range(m)]
            for (r, c), got in zip(positions, numbers(network, case.point, entries_of(truth))):
                of_name = of_value.name if not matrices.is_matrix(of_value) else \
                    of_value.entries[r].name
                wrt_name = wrt_value.rows[r][c].name if of == "E_total" and \
                    matrices.is_matrix(wrt_value) else \
                    (wrt_value.entries[c].name if matrices.is_matrix(wrt_value) else
                     wrt_value.name)
                want = difference(case.spec, case.point, of_name, wrt_name)
                assert close(got, want), (of, wrt, (r + 1, c + 1), got, want)


@FEW
@given(case=cases(max_layers=3, max_units=3))
def test_textbook_matrix_formulas_match_finite_differences_entry_by_entry(case):
    """delta_L @ transpose(out below) is the weight gradient (as finite differences and
    the scalar engine's gradients have it), and transpose(W above) @ delta above is
    dE/d(out_L), entry by entry, whatever the activations and the loss
    (tied weights and l2 are left out: there the textbook's formula is not the gradient)."""
    spec = {**case.spec, "layers": [{k: v for k, v in layer.items() if k != "weights"}
                                    for layer in case.spec["layers"]]}
    spec.pop("l2", None)
    case = type(case)(spec, {k: v for k, v in case.point.items()
                             if not k.startswith("w") and k != "lam"})
    names = [n for layer in spec["layers"] for n in _default_weights(spec, layer)]
    case.point.update({w: 0.3 + 0.1 * (k % 7) - 0.25 * (k % 3) for k, w in enumerate(names)})
    usable(case)
    network = build(case)
    layers = network.spec.layers
    for index, layer in enumerate(layers):
        below = "inputs" if index == 0 else f"out_{layers[index - 1].name}"
        formula = value(network, f"delta_{layer.name} @ transpose({below})")
        got = numbers(network, case.point, entries_of(formula))
        wanted = [difference(spec, case.point, "E_total", w)
                  for row in layer.weights for w in row]
        assert all(close(g, w) for g, w in zip(got, wanted, strict=True))
        scalar = numbers(network, case.point, [calculus.gradient(network, w)
                                               for row in layer.weights for w in row])
        assert all(close(g, s) for g, s in zip(got, scalar, strict=True))  # the scalar engine
        if index + 1 < len(layers):
            above = layers[index + 1].name
            formula = value(network, f"transpose(W_{above}) @ delta_{above}")
            got = numbers(network, case.point, entries_of(formula))
            wanted = [difference(spec, case.point, "E_total", f"out_{u}")
                      for u in unit_names(case.spec["layers"][index])]
            assert all(close(g, w) for g, w in zip(got, wanted, strict=True))


def _default_weights(spec: dict, layer: dict) -> list[str]:
    layers = spec["layers"]
    index = layers.index(layer)
    inputs = spec["inputs"]
    below = ([f"i{k}" for k in range(1, inputs + 1)] if isinstance(inputs, int) else inputs) \
        if index == 0 else unit_names(layers[index - 1])
    return [f"w_{u}_{s}" for u in unit_names(layer) for s in below]


# --- the algebra of SPEC §11 ----------------------------------------------------------------

ALGEBRA = {
    # claim text                         its value, in the scalar names
    "1 - out_h": "[[1 - out_h1], [1 - out_h2]]",
    "out_h ** 2": "[[out_h1**2], [out_h2**2]]",
    "2 * out_h / 4": "[[out_h1/2], [out_h2/2]]",
    "out_h * out_o": "[[out_h1*out_o1], [out_h2*out_o2]]",
    "hadamard(out_h, out_o)": "[[out_h1*out_o1], [out_h2*out_o2]]",
    "transpose(out_h) @ out_o": "out_h1*out_o1 + out_h2*out_o2",
    "out_h.T @ out_o + 1": "out_h1*out_o1 + out_h2*out_o2 + 1",
    "outer(out_h, out_o)": "[[out_h1*out_o1, out_h1*out_o2], [out_h2*out_o1, out_h2*out_o2]]",
    "diag(out_h)": "[[out_h1, 0], [0, out_h2]]",
    "sum(out_h)": "out_h1 + out_h2",
    "ones(2)": "[[1], [1]]",
    "ones(1, 2) @ out_h": "out_h1 + out_h2",
    "W_o @ out_h + b_o": "[[w5*out_h1 + w6*out_h2 + b2], [w7*out_h1 + w8*out_h2 + b2]]",
    "sigmoid_prime(net_h)": "[[sigmoid(net_h1)*(1 - sigmoid(net_h1))], "
                            "[sigmoid(net_h2)*(1 - sigmoid(net_h2))]]",
    "exp(inputs)": "[[exp(i1)], [exp(i2)]]",
    "Sum(out_h * j, (j, 1, 2))": "[[3*out_h1], [3*out_h2]]",
    "d(E_total, net_h)": "[[delta_h1], [delta_h2]]",
    "d(E_total, W_o)": "[[delta_o1*out_h1, delta_o1*out_h2], [delta_o2*out_h1, delta_o2*out_h2]]",
    "out_h.T.T": "[[out_h1], [out_h2]]",
}


def _as_rows(text: str):
    """'[[a, b], [c, d]]' or a scalar, in derive's own syntax, as nested lists of values."""
    if not text.startswith("["):
        return [[text]]
    return [[cell.strip() for cell in row.split(",")]
            for row in text[2:-2].split("], [")]


@pytest.mark.parametrize("text", ALGEBRA)
def test_the_algebra_of_spec_11(mazur, text):
    got = value(mazur, text)
    rows = _as_rows(ALGEBRA[text])
    want = matrices.made(tuple(value(mazur, cell) for cell in row) for row in rows)
    assert got == want


ILL_FORMED = {
    "out_h + transpose(out_o)": "a sum (+, -) needs equal shapes, got 2×1 and 1×2 (column 9)",
    "out_h - out_o.T": "a sum (+, -) needs equal shapes, got 2×1 and 1×2 (column 9)",
    "out_h * W_o.T @ out_h": "* needs equal shapes, got 2×1 and 2×2",
    "W_o.T @ out_h @ out_h": "@ needs the columns of the left to match the rows",
    "out_h @ out_h": "got 2×1 @ 2×1",
    "diag(W_o)": "diag(v) takes a vector, got a 2×2 matrix",
    "outer(W_o, out_h)": "outer(a, b) takes two column vectors",
    "ones(0)": "ones(n, m) takes whole numbers",
    "W_o[1]": "unknown family",
    "out_h.shape": "unexpected character '.'",
    "w_o[out_h, 1]": "an index must be a whole number",
    "KroneckerDelta(out_h, 1)": "KroneckerDelta",
    "d(E_total, 2*W_o)": "d(A, B): B must be a quantity",
    "d(out_h, W_o)": "with a matrix, the other must be a scalar",
    "ones(800, 800)": "too large",
    "out_h * W_o": "* needs equal shapes, got 2×1 and 2×2 (column 9): use @",
    "hadamard(out_h, W_o)": "hadamard (or \\odot) needs equal shapes",
}


@pytest.mark.parametrize("text", ILL_FORMED)
def test_ill_formed_matrix_claims_are_refused_naming_the_problem(mazur, text):
    with pytest.raises(ClaimError, match=None) as error:
        value(mazur, text)
    assert ILL_FORMED[text] in error.value.message


# --- verdicts, as a student meets them --------------------------------------------------------

def judged(network, wrt, claim, of="E_total"):
    [result] = api.check_one(network, wrt, claim, of, isolated=False)
    return result


VERDICTS = [
    # of, wrt, claim                        verdict, shown_by, hint contains
    ("E_total", "W_o", "delta_o @ transpose(out_h)", "correct", "symbolic", None),
    ("E_total", "W_o", "outer(delta_o, out_h)", "correct", "symbolic", None),
    ("E_total", "W_h", "delta_h @ inputs.T", "correct", "symbolic", None),
    ("E_total", "net_h", "(transpose(W_o) @ delta_o) * sigmoid_prime(net_h)", "correct",
     "symbolic", None),
    ("E_total", "net_h", "(W_o.T @ delta_o) * out_h * (1 - out_h)", "correct", "symbolic",
     None),
    ("E_total", "net_o", "(out_o - target_o) * out_o * (1 - out_o)", "correct", "symbolic",
     None),
    ("E_total", "b_o", "ones(2) * sum(delta_o)", "correct", "symbolic", None),
    ("out_o", "net_o", "diag(out_o * (1 - out_o))", "correct", "symbolic", None),
    ("E_total", "out_o", "out_o - target_o", "correct", "symbolic", None),
    ("E_total", "w5", "transpose(delta_o[1] * out_h[1] * ones(1)) @ ones(1)", "correct",
     "symbolic", None),  # a 1×1 claim answers a scalar truth
    ("E_total", "W_o", "out_h @ transpose(delta_o)", "incorrect", None,
     "the claim is the transpose of the truth"),
    ("E_total", "W_h", "transpose(delta_h @ inputs.T)", "incorrect", None,
     "the claim is the transpose of the truth"),
    ("E_total", "net_h", "(W_o @ delta_o) * out_h * (1 - out_h)", "incorrect", None,
     "2 of 2 entries are wrong: (1, 1), (2, 1)"),
    ("E_total", "net_h", "transpose(W_o) @ delta_o", "incorrect", None, "entries are wrong"),
    ("E_total", "W_o", "delta_o", "incorrect", None, "the claim is 2×1, the truth is 2×2"),
    ("E_total", "w5", "delta_o * out_h1", "incorrect", None,
     "the claim is 2×1, the truth is 1×1"),
    ("E_total", "b_o", "delta_o", "incorrect", None, "the claim lacks the term"),
]


@pytest.mark.parametrize("of, wrt, claim, verdict, shown_by, hint", VERDICTS,
                         ids=[f"{w}: {c}" for _, w, c, *_ in VERDICTS])
def test_matrix_verdicts_and_hints(mazur, of, wrt, claim, verdict, shown_by, hint):
    v = judged(mazur, wrt, claim, of).verdict
    assert (v.verdict, v.shown_by) == (verdict, shown_by)
    if hint is None:
        assert v.hint is None
    else:
        assert hint in v.hint


def test_only_the_wrong_entries_are_named_with_the_first_ones_counterexample(mazur):
    result = judged(mazur, "W_o", "delta_o @ transpose(out_h) + diag(out_h)")
    v = result.verdict
    assert v.verdict == "incorrect" and v.wrong == [[1, 1], [2, 2]]
    assert v.hint.startswith("2 of 4 entries are wrong: (1, 1), (2, 2)")
    assert v.counterexample["entry"] == [1, 1]
    example = v.counterexample
    assert example["claim"] - example["truth"] == pytest.approx(
        example["values"]["out_h1"])  # the extra diagonal entry, at the point shown


def test_json_names_the_wrong_entries_and_a_claim_of_another_shape(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text((SPECS / "mazur.yaml").read_text().split("checks:")[0] + """checks:
  - wrt: net_h
    claim: (W_o @ delta_o) * out_h * (1 - out_h)
    expect: incorrect
  - wrt: W_o
    claim: delta_o
    expect: incorrect
""")
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    wrong, other = json.loads(result.output)["checks"]
    assert wrong["shape"] == [2, 1] and wrong["wrong"] == [[1, 1], [2, 1]]
    assert wrong["counterexample"]["entry"] == [1, 1]
    assert "claim_shape" not in wrong
    assert other["shape"] == [2, 2] and other["claim_shape"] == [2, 1]
    assert "wrong" not in other and "2×1" in other["hint"] and "2×2" in other["hint"]


def test_an_ill_formed_matrix_claim_is_exit_2_naming_both_shapes(tmp_path):
    result = CliRunner().invoke(main, ["check", str(SPECS / "mazur.yaml"), "--wrt", "W_o",
                                       "--claim", "delta_o + transpose(out_h)"])
    assert result.exit_code == 2
    assert "a sum (+, -) needs equal shapes, got 2×1 and 1×2 (column 11)" in result.output
    assert "Traceback" not in result.output


def test_the_text_report_names_the_wrong_entry_and_how_to_reproduce_it(mazur):
    result = judged(mazur, "W_o", "out_h @ transpose(delta_o)")
    lines = result.explain()
    assert any(line.strip().startswith("entry (1, 2) is d(E_total, w6)") for line in lines)
    assert any("derive grad" in line and "--wrt w6" in line for line in lines)
    assert all("\n" not in line for line in lines)


def test_a_verdict_only_course_does_not_show_the_wrong_entries(mazur):
    network = api.load(SPECS / "mazur.yaml", level="verdict")
    [result] = api.check_one(network, "W_o", "out_h @ transpose(delta_o)", isolated=False)
    assert result.verdict.verdict == "incorrect"
    assert result.verdict.wrong is None and result.verdict.hint is None
    assert "wrong" not in result.to_json()


# --- restating the question in matrix form ---------------------------------------------------

@pytest.mark.parametrize("claim, refused", [
    ("d(E_total, W_o)", "d(E_total, w5) is the derivative this answer is asked for"),
    ("delta_h", "delta_h1 is d(E_total, net_h1)"),
])
def test_an_answer_may_not_restate_a_matrix_question(mazur, claim, refused):
    wrt = "W_o" if "W_o" in claim else "net_h"
    with pytest.raises(ClaimError) as error:
        claims.one_claim(mazur, wrt, claim, restricted=True)
    assert refused in error.value.message


def test_a_matrix_check_of_a_large_layer_is_one_result_judged_as_a_template():
    layers = [{"name": "h", "units": 16, "activation": "sigmoid"},
              {"name": "o", "units": 4, "activation": "sigmoid"}]
    network = api.load({"inputs": 24, "layers": layers, "loss": "sse"})
    [result] = api.check_one(network, "W_h", "delta_h @ transpose(inputs)", isolated=False)
    assert (result.verdict.verdict, result.verdict.shown_by) == ("correct", "symbolic")
    assert result.to_json()["shape"] == [16, 24]
