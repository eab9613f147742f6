"""Templates judged together (one proof per orbit) against each instance judged on its own.

The oracle is derive's own per-instance path (`verdicts.judge` on every instance), which the
rest of the suite checks against finite differences: batching may change how fast a
verdict comes, never which verdict, which hint or whether a counterexample holds.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import api, claims, forward, numeric, symmetry, templates, verdicts
from derive.spec import Check, Formula

HIDDEN = "Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))*d(out_h[j], net_h[j])*i[k]"


def network_of(inputs=3, hidden=3, outputs=2, activation="sigmoid", loss="sse", **extra):
    return api.load({"inputs": inputs, "loss": loss, "layers": [
        {"name": "h", "units": hidden, "activation": activation, **extra},
        {"name": "o", "units": outputs, "activation": "sigmoid"}]})


def instances(network, wrt, claim, of="E_total", **kwargs):
    check = Check(wrt=wrt, of=of, claim=Formula(claim, "sympy", 1), **kwargs)
    return claims.claims_of(network, check)


def together(network, items, budget=verdicts.BUDGET):
    return templates.judge(network, items, budget)


def one_by_one(network, items, budget=verdicts.BUDGET):
    return [verdicts.judge(network, c.claim, c.truth, c.assume, budget) for c in items]


def summary(verdict):
    return verdict.verdict, verdict.shown_by, verdict.hint


def assert_same_verdicts(network, items, budget=verdicts.BUDGET):
    batched, alone = together(network, items, budget), one_by_one(network, items, budget)
    assert [summary(v) for v in batched] == [summary(v) for v in alone]
    for claim, verdict in zip(items, batched):
        if verdict.verdict == "incorrect":
            assert_counterexample_holds(network, claim, verdict)
    return batched


def assert_counterexample_holds(network, claim, verdict):
    """The reported point really separates this instance's claim from its truth."""
    example = verdict.counterexample
    with mpmath.workdps(50):
        env = forward.point_values(network, example["point"])
        got = numeric.evaluate(claim.claim, env), numeric.evaluate(claim.truth, env)
        assert abs(got[0] - got[1]) > mpmath.mpf(10)**-40 * max(1, abs(got[1]))
    assert float(got[0]) == pytest.approx(example["claim"], rel=1e-9)
    assert float(got[1]) == pytest.approx(example["truth"], rel=1e-9)


@pytest.fixture(autouse=True)
def every_template_together(monkeypatch):
    """The small networks here would otherwise be judged one by one."""
    monkeypatch.setattr(templates, "TOGETHER", 1)


@pytest.fixture
def judged(monkeypatch):
    """How many claims verdicts.judge saw."""
    calls = []
    judge = verdicts.judge

    def counting(*args, **kwargs):
        calls.append(args[1])
        return judge(*args, **kwargs)

    monkeypatch.setattr(verdicts, "judge", counting)
    return calls


# --- the symmetry itself ---------------------------------------------------------------------

def test_plain_layers_are_symmetric_and_relabelling_finds_the_first_instance():
    network = network_of(inputs=4, hidden=3)
    table = symmetry.of(network)
    assert all(table.symmetric(layer) for layer in range(3))
    first, perms = table.relabelling([network.loss.symbol, network["w_h3_i2"].symbol])
    assert [s.name for s in first] == ["E_total", "w_h1_i1"]
    assert perms == {1: {1: 3, 3: 1}, 0: {1: 2, 2: 1}}  # only the units that move
    assert table.renumbering({1: 3, 2: 1}) == {0: {1: 3, 2: 1, 3: 2}, 1: {1: 3, 2: 1, 3: 2},
                                               2: {1: 2, 2: 1}}
    mapping = table.mapping([network["delta_h1"].symbol, network["i1"].symbol], perms)
    assert {s.name: t.name for s, t in mapping.items()} == {"delta_h1": "delta_h3",
                                                            "i1": "i2"}


def test_two_indices_in_one_layer_give_two_orbits():
    network = network_of(hidden=4, activation="softmax")
    table = symmetry.of(network)
    same, _ = table.relabelling([network["out_h3"].symbol, network["net_h3"].symbol])
    other, _ = table.relabelling([network["out_h3"].symbol, network["net_h2"].symbol])
    assert [s.name for s in same] == ["out_h1", "net_h1"]
    assert [s.name for s in other] == ["out_h1", "net_h2"]


@pytest.mark.parametrize("extra, layer", [
    ({"weights": [["a1", "a1", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a9"]]}, 1),  # tied in a row
    ({"bias": ["b1", "b2", "b2"]}, 1),  # a bias shared by some units only
    ({"weights": [["a1", "a2", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a1"]]}, 0),  # tied
    ({"weights": [["a1", "a2", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a1"]]}, 1),  # to a
])  # unit the swap of units 1 and 2 leaves in place
def test_what_singles_a_unit_out_breaks_the_symmetry(extra, layer):
    network = network_of(**extra)
    assert not symmetry.of(network).symmetric(layer)


@pytest.mark.parametrize("weights, hidden, inputs", [
    ([[2, "a2", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a9"]], False, False),  # fixed in one
    ([[2, "a2", "a3"], [2, "a5", "a6"], [2, "a8", "a9"]], True, False),  # row; in every row
    ([[0, "a2", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a9"]], False, False),  # an absent edge
    ([[2, "a2", "a3"], [3, "a5", "a6"], [2, "a8", "a9"]], False, False),
])
def test_fixed_weights_and_absent_edges_keep_or_break_the_symmetry(weights, hidden, inputs):
    """Nets are compared as lists of (weight, source) products: never looser than their
    definitions, which the relabelled network must reproduce."""
    network = network_of(weights=weights)
    table = symmetry.of(network)
    assert (table.symmetric(1), table.symmetric(0)) == (hidden, inputs)
    for q in network.quantities.values():  # the definitions are what Add would build
        if q.kind == "net":
            assert q.definition.args == sp.Add(*q.definition.args).args


def test_a_custom_loss_that_weighs_one_output_apart_breaks_the_symmetry():
    network = network_of(loss={"custom": "(out_o1 - target_o1)**2 + "
                                         "3*(out_o2 - target_o2)**2"})
    table = symmetry.of(network)
    assert table.symmetric(1) and not table.symmetric(2)


def test_a_long_list_of_symbols_is_renamed_as_each_symbol_would_be():
    """Past MANY symbols (a counterexample's point), the moved units are walked instead."""
    network = network_of(inputs=40, hidden=5, outputs=3)
    table = symmetry.of(network)
    symbols = [q.symbol for q in network.quantities.values()]
    _, perms = table.relabelling([network["w_h3_i7"].symbol])
    assert len(symbols) > symmetry.MANY
    each = {}
    for k in range(0, len(symbols), symmetry.MANY):
        each.update(table.mapping(symbols[k:k + symmetry.MANY], perms))
    assert table.mapping(symbols, perms) == each
    assert each[network["w_h1_i1"].symbol] == network["w_h3_i7"].symbol


def test_sends_compares_images_up_to_order():
    x, y, z = sp.symbols("x y z")
    assert symmetry.sends(x * (1 - y) + z, y * (1 - x) + z, {x: y, y: x})
    assert not symmetry.sends(x * (1 - y) + z, y * (1 - x) + 2 * z, {x: y, y: x})
    assert not symmetry.sends(sp.exp(x) - y, sp.exp(x) - y, {x: y, y: x})


# --- together equals one by one ------------------------------------------------------------

def test_small_templates_are_judged_one_by_one(monkeypatch, judged):
    monkeypatch.setattr(templates, "TOGETHER", 64)
    network = network_of()
    items = instances(network, "w_h[j, k]", HIDDEN)
    assert {summary(v) for v in together(network, items)} == {("correct", "symbolic", None)}
    assert len(judged) == 9


def test_a_correct_template_is_proved_once(judged):
    network = network_of(inputs=8, hidden=6, outputs=3)
    items = instances(network, "w_h[j, k]", HIDDEN)
    results = together(network, items)
    assert len(results) == 48
    assert {summary(v) for v in results} == {("correct", "symbolic", None)}
    assert len(judged) == 1


@pytest.mark.parametrize("claim, wrong", [
    (f"(1 + KroneckerDelta(j, 2))*{HIDDEN}", lambda j, k: j == 2),  # off for one unit
    (f"j*{HIDDEN}", lambda j, k: j > 1),  # the index as a number
    ("delta_h[1]*i[k]", lambda j, k: j > 1),  # a fixed unit
    ("delta_h[j]*i[j]", lambda j, k: j != k),  # the wrong index on the input
])
def test_a_template_wrong_for_some_instances(claim, wrong):
    network = network_of()
    items = instances(network, "w_h[j, k]", claim)
    results = assert_same_verdicts(network, items)
    for c, v in zip(items, results):
        assert (v.verdict == "incorrect") == wrong(c.index["j"], c.index["k"]), (c.index, v)


@pytest.mark.parametrize("claim", [
    "delta_h[j]*i[k]*out_h[j]",  # a wrong factor
    "Sum(delta_o[m]*w_o[m, j], (m, 1, 1))*d(out_h[j], net_h[j])*i[k]",  # a term lacking
    "-delta_h[j]*i[k]",  # wrong sign
])
def test_a_wrong_template_is_wrong_everywhere_with_each_instance_s_own_hint(claim, judged):
    network = network_of()
    items = instances(network, "w_h[j, k]", claim)
    results = assert_same_verdicts(network, items)
    assert {v.verdict for v in results} == {"incorrect"}


@pytest.mark.parametrize("claim, expected", [
    # wrong only where w_h[j, k] < -9: every instance reaches that branch (coverage)
    ("delta_h[j]*i[k] + Max(0, -w_h[j, k] - 9)", "incorrect"),
    # equal wherever it is defined, but undefined where the truth is not: never correct
    ("delta_h[j]*i[k]*sqrt(w_h[j, k]*i[k])/sqrt(w_h[j, k])/sqrt(i[k])", "undecided"),
])
def test_numbers_at_the_first_instance_s_points_are_not_copied(claim, expected):
    # no proof exists: spend little on one; each instance is screened at its own points
    network = network_of()
    results = assert_same_verdicts(network, instances(network, "w_h[j, k]", claim), budget=0.5)
    assert {v.verdict for v in results} == {expected}


def test_a_counterexample_carries_over_and_holds():
    network = network_of()
    items = instances(network, "w_h[j, k]", "delta_h[j]*i[k] + Max(0, w_h[j, k] - 9)")
    batched, alone = together(network, items), one_by_one(network, items)
    # wrong only where w_h[j, k] > 9: no instance may pass, batched or alone
    assert {v.verdict for v in batched} == {v.verdict for v in alone} == {"incorrect"}
    for claim, verdict in zip(items, batched):
        assert_counterexample_holds(network, claim, verdict)


def test_an_index_that_runs_over_one_layer_and_indexes_another(judged):
    # j numbers o's units in wrt and h's in the claim: right only where j = k. Renumbering
    # the values themselves in every layer makes two orbits, j = k and j != k.
    network = network_of(outputs=3)
    items = instances(network, "w_o[j, k]", "delta_o[j]*out_h[j]")
    results = assert_same_verdicts(network, items)
    assert [v.verdict == "correct" for v in results] == [c.index["j"] == c.index["k"]
                                                        for c in items]
    judged.clear()
    together(network, items)
    assert len(judged) == 2


def test_a_softmax_jacobian_template_has_two_orbits(judged):
    network = network_of(hidden=4, activation="softmax")
    items = instances(network, "net_h[j]", "out_h[i]*(KroneckerDelta(i, j) - out_h[j])",
                      of="out_h[i]")
    results = together(network, items)
    assert {summary(v) for v in results} == {("correct", "symbolic", None)}
    assert len(judged) == 2


def test_a_tied_layer_is_judged_instance_by_instance(judged):
    network = network_of(weights=[["a1", "a1", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a9"]])
    items = instances(network, "w_o[j, k]", "delta_o[j]*out_h[k]")
    assert_same_verdicts(network, items)
    judged.clear()
    together(network, items)
    # w_o[j, 1] only moves o's units: one orbit; w_o[j, k > 1] moves h's too, which the
    # tying pins: each alone.
    assert len(judged) == 1 + sum(c.index["k"] > 1 for c in items)


def test_targets_conditions_carry_over():
    network = api.load({"inputs": 2, "loss": "cross_entropy", "layers": [
        {"name": "o", "units": 3, "activation": "softmax"}]})
    items = instances(network, "w_o[j, k]", "(out_o[j] - target_o[j])*i[k]")
    results = assert_same_verdicts(network, items)
    assert {v.hint for v in results} == {"holds only when the targets sum to 1"}
    items = instances(network, "w_o[j, k]", "(out_o[j] - target_o[j])*i[k]",
                      assume="targets sum to 1")
    assert {summary(v) for v in together(network, items)} == {("correct", "symbolic", None)}


def test_numbers_that_disagree_send_an_instance_to_be_judged_alone(judged):
    # Symbolically right, but 10**20 swamps float64: the NumPy look disagrees, so every
    # instance is judged on its own, and each is still proved.
    network = network_of()
    items = instances(network, "w_h[j, k]", "(delta_h[j] + 10**20)*i[k] - 10**20*i[k]")
    results = together(network, items)
    assert {summary(v) for v in results} == {("correct", "symbolic", None)}
    assert len(judged) == len(items)  # the first, then every other one on its own


ACTIVATIONS = ["sigmoid", "tanh", "relu", "softplus", "elu", "swish", "gelu", "softmax",
               "leaky_relu", "linear"]
TEMPLATES = [
    ("w_h[j, k]", HIDDEN),
    ("w_h[j, k]", "delta_h[j]*i[k]*(1 + KroneckerDelta(k, 2)/10**30)"),
    ("w_o[j, k]", "delta_o[j]*out_h[k]"),
    ("w_o[j, k]", "(out_o[j] - target_o[j])*out_h[k]"),
    ("b_h[j]", "delta_h[j]"),
    ("b_h[j]", "Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))"),
    ("net_h[j]", "d(out_h[j], net_h[j])*Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))"),
]


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 3), st.sampled_from(ACTIVATIONS),
       st.sampled_from(["sse", "mse", "cross_entropy"]), st.sampled_from(TEMPLATES))
def test_together_equals_one_by_one_on_random_networks(inputs, hidden, outputs, activation,
                                                      loss, template):
    network = network_of(inputs, hidden, outputs, activation, loss)
    wrt, claim = template
    assert_same_verdicts(network, instances(network, wrt, claim))


# --- the vectorized numbers ----------------------------------------------------------------

def test_array_evaluation_matches_mpmath_for_every_function():
    x, y = sp.symbols("x y", real=True)
    exprs = [sp.exp(x) * y - sp.log(y), sp.tanh(x) + sp.sinh(y) / sp.cosh(x), sp.erf(x),
             sp.Heaviside(x, 0) * y, sp.Max(x, y, 0) - sp.Min(x, 1), sp.Abs(x) * sp.sign(y),
             sp.sqrt(y) + x**3 / (1 + x**2), sp.sin(x) * sp.cos(y) + sp.tan(x / 3) + sp.pi]
    xs, ys = np.array([-1.5, 0.0, 0.3, 2.0]), np.array([0.2, 1.0, 3.0, 0.7])
    for e in exprs:
        arrays = numeric.evaluate_arrays(e, {x: xs, y: ys})
        for k in range(len(xs)):
            expected = numeric.evaluate(e, {x: mpmath.mpf(xs[k]), y: mpmath.mpf(ys[k])})
            assert arrays[k] == pytest.approx(float(expected), rel=1e-12, abs=1e-15), e


def test_array_evaluation_gives_nan_outside_the_domain():
    x = sp.Symbol("x", real=True)
    values = numeric.evaluate_arrays(sp.log(x) + sp.sqrt(x), {x: np.array([-1.0, 4.0])})
    assert math.isnan(values[0]) and values[1] == pytest.approx(math.log(4) + 2)
