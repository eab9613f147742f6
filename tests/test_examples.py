"""Several training examples (SPEC §8): a minibatch, its reduction, per-example names.

The oracle is a forward pass over every example written here from the spec dict, in
mpmath, differentiated by central differences; and PyTorch's autograd in float64 where
torch is installed.
"""

from __future__ import annotations

import random
from pathlib import Path

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_wiring import gradients_match

from derive import api, calculus, expr, forward
from derive.errors import ClaimError, SpecError
from derive.vocabulary import Vocabulary

SPECS = Path(__file__).parent.parent / "specs"
ACT = {"tanh": mpmath.tanh, "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
       "linear": lambda x: x}


def batch(units: list[int], examples: int, reduction: str, activation: str) -> dict:
    layers = [{"name": name, "units": n, "activation": activation}
              for name, n in zip(["h", "g", "o"][-len(units):], units)]
    return {"inputs": 2, "loss": "sse", "examples": examples, "reduction": reduction,
            "layers": layers}


def by_hand(spec: dict, point: dict) -> mpmath.mpf:
    """E_total: each example's sse, summed or averaged, every layer dense."""
    count, total = spec["examples"], mpmath.mpf(0)
    for n in range(1, count + 1):
        below = [f"i{k}" for k in range(1, spec["inputs"] + 1)]
        values = {name: mpmath.mpf(point[f"{name}({n})"]) for name in below}
        for layer in spec["layers"]:
            units = [f"{layer['name']}{j}" for j in range(1, layer["units"] + 1)]
            for unit in units:
                net = mpmath.fsum(mpmath.mpf(point[f"w_{unit}_{src}"]) * values[src]
                                  for src in below) + mpmath.mpf(point[f"b_{unit}"])
                values[unit] = ACT[layer["activation"]](net)
            below = units
        total += mpmath.fsum((values[u] - mpmath.mpf(point[f"target_{u}({n})"])) ** 2
                             for u in below) / 2
    return total / count if spec["reduction"] == "mean" else total


def point_for(network, seed: int) -> dict:
    rng = random.Random(seed)
    return {name: round(rng.uniform(-1, 1), 6)
            for name in sorted(api.specs.settable_names(network.spec))}


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(units=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       examples=st.integers(2, 4), reduction=st.sampled_from(["sum", "mean"]),
       activation=st.sampled_from(["tanh", "sigmoid"]), seed=st.integers(0, 99))
def test_every_gradient_of_a_batch_matches_finite_differences(units, examples, reduction,
                                                              activation, seed):
    gradients_match(batch(units, examples, reduction, activation), seed, loss=by_hand)


def test_a_batch_against_torch_autograd():
    torch = pytest.importorskip("torch")
    spec = batch([3, 2], 4, "mean", "tanh")
    network = api.load(spec)
    point = point_for(network, 7)
    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in point.items()}
    x = torch.stack([torch.stack([t[f"i{k}({n})"] for k in (1, 2)]) for n in range(1, 5)])
    w1 = torch.stack([torch.stack([t[f"w_g{j}_i{k}"] for k in (1, 2)]) for j in (1, 2, 3)])
    b1 = torch.stack([t[f"b_g{j}"] for j in (1, 2, 3)])
    w2 = torch.stack([torch.stack([t[f"w_o{j}_g{k}"] for k in (1, 2, 3)]) for j in (1, 2)])
    b2 = torch.stack([t[f"b_o{j}"] for j in (1, 2)])
    y = torch.tanh(torch.tanh(x @ w1.T + b1) @ w2.T + b2)
    target = torch.stack([torch.stack([t[f"target_o{j}({n})"] for j in (1, 2)])
                          for n in range(1, 5)])
    loss = ((y - target) ** 2 / 2).sum(dim=1).mean()  # CS231n's mean over the batch
    loss.backward()
    for name in network.params:
        got = forward.values(network, [calculus.gradient(network, name)], point)[0]
        assert got == pytest.approx(t[name].grad.item(), rel=1e-9, abs=1e-12), name


@pytest.fixture(scope="module")
def two():
    return api.load(SPECS / "minibatch.yaml")


def built(network, text: str, syntax: str = "sympy", env=None):
    from derive import latex
    node = latex.parse(text) if syntax == "latex" else expr.parse(text)
    return expr.evaluate(node, Vocabulary(network), env or {})


NAMES = {
    "out_h1(2)": "out_h1(2)", "delta_o[1](2)": "delta_o1(2)", "i1(1)": "i1(1)",
    "E_total(2)": "E_total(2)", "target_o[2](1)": "target_o2(1)",
    "n_examples": "2", "w_o1_h1": "w_o1_h1", "E_total": "E_total",
}


@pytest.mark.parametrize("text", NAMES)
def test_per_example_names(two, text):
    value = built(two, text)
    assert str(value) == NAMES[text]


def test_vectors_are_one_column_per_example_and_one_with_n(two):
    matrix = built(two, "out_h")
    assert matrix.shape == (2, 2) and str(matrix.rows[1][0]) == "out_h2(1)"
    assert built(two, "out_h(2)").shape == (2, 1)
    assert built(two, "inputs").shape == (2, 2)
    assert built(two, r"\delta_{o1}^{(2)}", "latex") == built(two, "delta_o1(2)")
    assert built(two, r"out_{hj}^{(n)}", "latex", {"j": 1, "n": 2}) == built(two, "out_h1(2)")


@pytest.mark.parametrize("text, message", [
    ("out_h1", "out_h1 is one per training example here: write out_h1(n)"),
    ("delta_o[1]", "write delta_o1(n)"),
    ("out_h1(3)", "there is no example 3 (examples 1 to 2)"),
    ("foo(2)", "unknown function 'foo'"),
    ("w_o1_h1(2)", "w_o1_h1 is shared by every training example: write it without (2)"),
    ("W_o(1)", "W_o is shared by every training example: write it without (1)"),
])
def test_per_example_mistakes_are_explained(two, text, message):
    with pytest.raises(ClaimError) as error:
        built(two, text)
    assert message in error.value.message


def test_values_per_example_and_their_mistakes():
    spec = batch([1], 2, "sum", "tanh")
    spec["values"] = {"i1": [0.1, 0.2], "i2": 0.5, "w_o1_i1": 0.3}
    network = api.load(spec)
    assert network.spec.values == {"i1(1)": 0.1, "i1(2)": 0.2, "i2(1)": 0.5, "i2(2)": 0.5,
                                   "w_o1_i1": 0.3}
    spec["values"] = {"i1": [0.1, 0.2, 0.3]}
    with pytest.raises(SpecError, match="expected 2 numbers"):
        api.load(spec)
    spec["values"] = {"i1": [0.1, 0.2], "i1(2)": 0.3}
    with pytest.raises(SpecError, match=r"values: i1\(2\) is given twice"):
        api.load(spec)
    with pytest.raises(SpecError, match="reduction: expected sum or mean"):
        api.load({**batch([1], 2, "sum", "tanh"), "reduction": "avg"})


def test_a_template_over_examples_and_an_assumption_refused(two):
    results = api.check_one(two, "net_o1(n)",
                            "(out_o1(n) - target_o1(n))*out_o1(n)*(1 - out_o1(n))/n_examples",
                            isolated=False)
    assert [r.claim.index for r in results] == [{"n": 1}, {"n": 2}]
    assert all(r.verdict.verdict == "correct" for r in results)
    with pytest.raises(ClaimError, match="assume: is not available"):
        api.check_one(two, "net_o1(1)", "out_o1(1) - target_o1(1)",
                      assume="targets sum to 1", isolated=False)


def test_no_condition_on_the_targets_is_hinted_across_examples():
    """The targets' condition is each example's: projected over the whole batch it would
    be said of claims it does not rescue."""
    spec = {"inputs": ["x1", "x2"], "loss": "cross_entropy", "examples": 2,
            "layers": [{"name": "o", "units": 2, "activation": "softmax"}]}
    claim = ("out_o1(1)*(target_o1(1) + target_o2(1)) - target_o1(1) + (target_o1(1) + "
             "target_o2(1) + target_o1(2) + target_o2(2) - 1)")
    [result] = api.check_one(api.load(spec), "net_o1(1)", claim, isolated=False)
    assert result.verdict.verdict == "incorrect"
    assert "targets sum to 1" not in (result.verdict.hint or "")
