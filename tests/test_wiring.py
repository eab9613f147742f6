"""Wiring beyond dense layers (SPEC §9): from:, absent and fixed edges, convolutions.

Two oracles, neither of which reuses derive's wiring: a forward pass written here from
the spec dict in mpmath (convolutions by their defining sum, not by a weight matrix),
differentiated by central differences; and PyTorch's autograd in float64 (its own conv1d
and conv2d), where torch is installed.
"""

from __future__ import annotations

import random
from pathlib import Path

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import api, calculus, claims, forward
from derive.errors import ClaimError, SpecError
from derive.spec import Check, Formula

SPECS = Path(__file__).parent.parent / "specs"
DPS, STEP, RTOL = 40, mpmath.mpf("1e-12"), mpmath.mpf("1e-10")
ACT = {"tanh": mpmath.tanh, "relu": lambda x: x if x > 0 else mpmath.mpf(0),
       "linear": lambda x: x, "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x))}
FEW = settings(max_examples=12, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow])


# --- the oracle: a forward pass from the spec dict ------------------------------------------

def inputs_of(spec: dict) -> list[str]:
    n = spec["inputs"]
    return [f"i{k}" for k in range(1, n + 1)] if isinstance(n, int) else list(n)


def by_hand(spec: dict, point: dict) -> mpmath.mpf:
    """E_total (sse) at `point`, every layer computed from its definition in the spec."""
    value = {name: mpmath.mpf(point[name]) for name in inputs_of(spec)}
    param = lambda name: mpmath.mpf(point[name])  # noqa: E731
    below: list[str] = inputs_of(spec)
    units = below
    for layer in spec["layers"]:
        sources = _sources(spec, layer, below)
        xs = [value[s] for s in sources]
        kind = layer.get("type", "dense")
        if kind == "conv1d":
            nets = _conv1d(layer, xs, param)
        elif kind == "conv2d":
            nets = _conv2d(layer, xs, param)
        else:
            nets = []
            for j in range(layer["units"]):
                row = layer["weights"][j] if "weights" in layer else \
                    [f"w_{layer['name']}{j + 1}_{s}" for s in sources]
                nets.append(mpmath.fsum(_weight(w, param) * x for w, x in zip(row, xs)))
        bias = layer.get("bias", "default" if kind == "dense" else f"b_{layer['name']}")
        units = [f"{layer['name']}{j + 1}" for j in range(len(nets))]
        for j, unit in enumerate(units):
            b = {"none": 0, "default": None}.get(bias, bias) if not isinstance(bias, list) \
                else bias[j]
            b = param(f"b_{unit}") if b is None else (param(b) if b else 0)
            value[unit] = ACT[layer.get("activation", "sigmoid")](nets[j] + b)
        below = units
    return mpmath.fsum((value[u] - mpmath.mpf(point[f"target_{u}"])) ** 2 for u in units) / 2


def _sources(spec, layer, below):
    if "from" not in layer:
        return below
    found = []
    for item in layer["from"]:
        named = [other for other in spec["layers"] if other["name"] == item]
        if named:
            found += [f"{item}{j}" for j in range(1, named[0]["units"] + 1)]
        else:
            found.append(item)
    return found


def _weight(w, param):
    return mpmath.mpf(w) if isinstance(w, int | float) else param(w)


def _conv1d(layer, xs, param):
    kernel, s, p = layer["kernel"], layer.get("stride", 1), layer.get("padding", 0)
    out = (len(xs) + 2 * p - len(kernel)) // s + 1
    return [mpmath.fsum(param(k) * xs[j * s - p + t] for t, k in enumerate(kernel)
                        if 0 <= j * s - p + t < len(xs)) for j in range(out)]


def _conv2d(layer, xs, param):
    (h, w), kernel = layer["input_shape"], layer["kernel"]
    s, p = layer.get("stride", 1), layer.get("padding", 0)
    oh, ow = (h + 2 * p - len(kernel)) // s + 1, (w + 2 * p - len(kernel[0])) // s + 1
    nets = []
    for r in range(oh):
        for c in range(ow):
            nets.append(mpmath.fsum(
                param(kernel[dy][dx]) * xs[(r * s - p + dy) * w + (c * s - p + dx)]
                for dy in range(len(kernel)) for dx in range(len(kernel[0]))
                if 0 <= r * s - p + dy < h and 0 <= c * s - p + dx < w))
    return nets


def gradients_match(spec: dict, seed: int = 1, loss=by_hand) -> None:
    """Every parameter's gradient, at a random point, against central differences of
    `loss` (an independent forward pass from the spec dict)."""
    network = api.load(spec)
    rng = random.Random(seed)
    point = {name: round(rng.uniform(-1, 1), 6)
             for name in sorted(api.specs.settable_names(network.spec))}
    with mpmath.workdps(DPS):
        env = forward.point_values(network, point)
        for name in network.params:
            got = forward.values(network, [calculus.gradient(network, name)], point)[0]
            up, down = dict(point), dict(point)
            up[name] += STEP
            down[name] -= STEP
            want = (loss(spec, up) - loss(spec, down)) / (2 * STEP)
            assert abs(got - want) <= RTOL * max(1, abs(want)), (name, got, want)
        assert env[network.loss.symbol] == pytest.approx(float(loss(spec, point)))


@pytest.mark.parametrize("name", ["rnn", "conv1d", "residual"])
def test_the_shipped_wiring_specs_match_finite_differences(name):
    import yaml
    gradients_match(yaml.safe_load((SPECS / f"{name}.yaml").read_text()))


@FEW
@given(n=st.integers(3, 9), size=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.integers(0, 2), seed=st.integers(0, 99))
def test_conv1d_gradients_match_the_defining_sum(n, size, stride, padding, seed):
    if (n + 2 * padding - size) // stride + 1 < 1:
        return
    spec = {"inputs": n, "loss": "sse", "layers": [
        {"name": "c", "type": "conv1d", "kernel": [f"k{t}" for t in range(1, size + 1)],
         "stride": stride, "padding": padding, "activation": "tanh"},
        {"name": "o", "units": 2, "activation": "linear"}]}
    gradients_match(spec, seed)


@FEW
@given(h=st.integers(2, 4), w=st.integers(2, 4), kh=st.integers(1, 2), kw=st.integers(1, 2),
       stride=st.integers(1, 2), padding=st.integers(0, 1), seed=st.integers(0, 99))
def test_conv2d_gradients_match_the_defining_sum(h, w, kh, kw, stride, padding, seed):
    spec = {"inputs": h * w, "loss": "sse", "layers": [
        {"name": "c", "type": "conv2d", "input_shape": [h, w], "stride": stride,
         "padding": padding, "activation": "sigmoid",
         "kernel": [[f"k{r}{c}" for c in range(1, kw + 1)] for r in range(1, kh + 1)]},
        {"name": "o", "units": 1, "activation": "linear"}]}
    gradients_match(spec, seed)


def test_skip_absent_and_fixed_edges_match_finite_differences():
    spec = {"inputs": ["x1", "x2", "x3"], "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": "tanh",
         "weights": [["a", 0, "b"], [0, "c", 2.5]]},
        {"name": "g", "units": 2, "activation": "sigmoid", "from": ["h", "x1"]},
        {"name": "o", "units": 2, "activation": "linear", "from": ["g2", "h1", "x3"],
         "weights": [["p", "q", 0], ["p", 1, "r"]]}]}
    gradients_match(spec, 5)


# --- PyTorch's autograd, float64 --------------------------------------------------------------

def test_against_torch_autograd():
    torch = pytest.importorskip("torch")
    import yaml

    rng = random.Random(3)
    for name in ["rnn", "conv1d", "residual"]:
        spec = yaml.safe_load((SPECS / f"{name}.yaml").read_text())
        network = api.load(spec)
        point = {n: rng.uniform(-1, 1) for n in api.specs.settable_names(network.spec)}
        tensors = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                   for n, v in point.items()}
        loss = _torch_loss(torch, name, tensors)
        loss.backward()
        for param in network.params:
            got = forward.values(network, [calculus.gradient(network, param)], point)[0]
            assert got == pytest.approx(tensors[param].grad.item(), rel=1e-9, abs=1e-12), \
                (name, param)


def _torch_loss(torch, name, t):
    f = torch.nn.functional
    if name == "rnn":
        h = torch.zeros((), dtype=torch.float64)
        for step, x in enumerate(["x1", "x2", "x3"]):
            h = torch.tanh(t["u"] * t[x] + (t["w"] * h if step else 0) + t["b"])
        y = t["v"] * h + t["c"]
        return (y - t["target_y1"]) ** 2 / 2
    if name == "conv1d":
        x = torch.stack([t[f"i{k}"] for k in range(1, 7)]).reshape(1, 1, 6)
        kernel = torch.stack([t["k1"], t["k2"], t["k3"]]).reshape(1, 1, 3)
        c = torch.relu(f.conv1d(x, kernel, t["b_c"].reshape(1))).reshape(4)
        o = sum(t[f"w_o1_c{j}"] * c[j - 1] for j in range(1, 5)) + t["b_o1"]
        return (o - t["target_o1"]) ** 2 / 2
    x = torch.stack([t["x1"], t["x2"]])
    wf = torch.stack([torch.stack([t[f"w_f{j}_x{k}"] for k in (1, 2)]) for j in (1, 2)])
    fo = torch.relu(wf @ x + torch.stack([t["b_f1"], t["b_f2"]]))
    wg = torch.stack([torch.stack([t[f"w_g{j}_f{k}"] for k in (1, 2)]) for j in (1, 2)])
    g = wg @ fo + torch.stack([t["b_g1"], t["b_g2"]])
    r = torch.relu(g + x)  # the identity skip
    o = t["w_o1_r1"] * r[0] + t["w_o1_r2"] * r[1] + t["b_o1"]
    return (o - t["target_o1"]) ** 2 / 2


# --- what is refused ------------------------------------------------------------------------

LAYER = "  - {name: o, units: 1, activation: linear}\n"
BAD = {
    "  - {name: h, units: 2, from: [x3]}\n": "'x3' is no input, unit or layer below this one",
    "  - {name: h, units: 2, from: [x1, x1]}\n": "'x1' is taken twice",
    "  - {name: h, units: 2, from: [o]}\n" + LAYER: "'o' is no input, unit or layer below",
    "  - {name: h, type: conv1d}\n": "a conv1d layer needs kernel:",
    "  - {name: h, type: conv1d, kernel: [a, b, c]}\n": "leave no output unit",
    "  - {name: h, type: conv1d, kernel: [a], units: 3}\n": "give 2 units, not 3",
    "  - {name: h, type: conv2d, kernel: [[a]]}\n": "needs input_shape: [H, W]",
    "  - {name: h, type: conv2d, kernel: [[a]], input_shape: [2, 2]}\n":
        "2×2 is 4 inputs, but 2 feed this layer",
    "  - {name: h, type: conv1d, kernel: [a], weights: [[b]]}\n": "weights are its kernel's",
    "  - {name: h, units: 1, stride: 2}\n": "only a conv1d or conv2d layer takes stride",
    "  - {name: h, type: dense2}\n": "unknown 'dense2'",
    "  - {name: h, type: conv1d, kernel: [a], stride: 0}\n": "expected a whole number from 1",
    "  - {name: h, units: 2, from: []}\n": "expected a list of inputs, units or layers, got an "
                                           "empty list",
    "  - {name: h, type: conv1d, kernel: [a], input_shape: [1, 2]}\n":
        "a conv1d layer takes its units' number from the inputs",
}


@pytest.mark.parametrize("layer", BAD)
def test_bad_wiring_is_refused_at_its_line(layer):
    text = "inputs: [x1, x2]\nlayers:\n" + layer + (LAYER if "name: o" not in layer else "")
    with pytest.raises(SpecError) as error:
        api.specs.from_text(text, "net.yaml")
    assert BAD[layer] in error.value.message
    assert error.value.line == 3


def test_a_template_over_a_layer_that_a_partial_from_takes_is_judged_not_crashed():
    """w_h[j, k] over 64 instances: a relabelling of h would send h2 -> r1 to a weight
    that does not exist (r takes h1 alone), so h is not symmetric."""
    spec = {"inputs": 64, "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": "sigmoid"},
        {"name": "r", "units": 1, "activation": "sigmoid", "from": ["h1", "i1"]},
        {"name": "o", "units": 1, "activation": "sigmoid"}]}
    results = api.check_one(api.load(spec), "w_h[j, k]", "delta_h[j] * i[k]",
                            isolated=False)
    assert len(results) == 128 and all(r.verdict.verdict == "correct" for r in results)


def test_a_fixed_weight_is_no_parameter_of_its_weight_matrix():
    """wrt: W_r with a fixed weight in it: that entry of the gradient is 0, as at an
    absent edge (a frozen weight is not trained)."""
    network = api.load({"inputs": 2, "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": "sigmoid"},
        {"name": "r", "units": 1, "activation": "sigmoid", "from": ["h1", "i1"],
         "weights": [["w1", 2]]},
        {"name": "o", "units": 1, "activation": "sigmoid", "from": ["r", "h2"]}]})
    items = claims.claims_of(network, Check(wrt="W_r", claim=Formula(
        "delta_r1*out_h1*transpose(ones(2))", "sympy", 1)))
    assert [(c.entry, str(c.truth)) for c in items] == [((1, 1), "delta_r1*out_h1"),
                                                         ((1, 2), "0")]
    [result] = api.check_claims(network, items)
    assert result.verdict.verdict == "incorrect" and result.verdict.wrong == [[1, 2]]


def test_a_template_runs_over_the_weights_there_are():
    """w_r[j, k] over a layer with a fixed weight and an absent edge: those instances are
    no parameters, and the template makes claims of the others (it exited 2)."""
    network = api.load({"inputs": 2, "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": "sigmoid"},
        {"name": "r", "units": 2, "activation": "sigmoid", "from": ["h1", "i1"],
         "weights": [["w1", 2], [0, "w4"]]},
        {"name": "o", "units": 1, "activation": "sigmoid", "from": ["r", "h2"]}]})
    items = claims.claims_of(network, Check(wrt="w_r[j, k]", claim=Formula(
        "delta_r[j]*out_h1", "sympy", 1)))
    assert [c.wrt for c in items] == ["w1", "w4"]
    verdicts = [r.verdict.verdict for r in api.check_claims(network, items, isolated=False)]
    assert verdicts == ["correct", "incorrect"]  # w4 joins i1, not out_h1
    with pytest.raises(ClaimError, match="every w_q\\[j, k\\] is a fixed weight or an absent"):
        claims.claims_of(api.load({"inputs": 1, "loss": "sse", "layers": [
            {"name": "q", "units": 1, "weights": [[3]]}]}),
            Check(wrt="w_q[j, k]", claim=Formula("0", "sympy", 1)))
