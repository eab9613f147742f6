"""The engine against an independent oracle: mpmath finite differences of our own forward pass.

Nothing here reuses derive's network construction to get the expected numbers. The oracle
(`by_hand`) reads the spec *dict* itself — default weight and bias names, tying, shared
biases, every activation and loss, l2 — and computes every net, out and E_total with
mpmath at DPS digits. Derivatives are central differences of that forward pass with a step
of STEP: at DPS = 50 the truncation error (~STEP**2) and the rounding error
(~10**-DPS / STEP) are both far below RTOL, so any disagreement at RTOL is the engine's.

What is compared:
- every parameter's compact gradient (`calculus.gradient`, evaluated through
  `forward.point_values` + `numeric.evaluate`) on random networks drawn by hypothesis,
  once per activation and once per loss, plus one test per naming feature (tying within a
  row, across layers, shared and per-unit biases, no bias, numeric and named l2);
- the expanded gradient (`calculus.expand`) against the compact one, on small networks;
- `d(A, B)` for nets, outs and E_total against differences in which B alone is bumped and
  B's layer-mates of its kind are held (SPEC §2's meaning), and the textbook identities
  d(out_h1, net_h2) = -out_h1*out_h2 (softmax), d(net_o1, out_h1) = weight,
  d(E_total, net_h1) = delta_h1;
- Matt Mazur's published worked example, digit for digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mpmath import mpf

from derive import calculus, forward, numeric
from derive.network import Network
from derive.spec import from_data

# --- precision and tolerances: the one place to tune them ------------------------------------

DPS = 50  # working precision of the oracle and of the engine's numbers
STEP = mpf("1e-15")  # central-difference step
RTOL = mpf("1e-12")  # engine vs finite difference, relative ...
ATOL = mpf("1e-20")  # ... with this floor for (near-)zero gradients (dead relus, 1-unit softmax)
SAME_RTOL = mpf("1e-30")  # two exact evaluations of the same number (compact vs expanded, E)
SAME_ATOL = mpf("1e-35")
KINK_MARGIN = 1e-6  # nets of piecewise activations must stay this far from 0

# Each example builds a SymPy network, so keep them few; derandomize so runs are repeatable.
FEW = settings(max_examples=15, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])


def close(got, want, rtol=RTOL, atol=ATOL) -> bool:
    return abs(got - want) <= rtol * abs(want) + atol


# --- the oracle: activations and losses written again, in mpmath ------------------------------

def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


# name -> (f(x, alpha), default alpha as text: an mpf made at import would carry only 53
# bits into the DPS-digit arithmetic). Written from the textbook definitions, not from
# derive/activations.py.
SCALAR = {
    "sigmoid": (lambda x, a: _sigmoid(x), None),
    "tanh": (lambda x, a: mpmath.tanh(x), None),
    "relu": (lambda x, a: x if x > 0 else mpf(0), None),
    "leaky_relu": (lambda x, a: x if x > 0 else a * x, "0.01"),
    "linear": (lambda x, a: x, None),
    "softplus": (lambda x, a: mpmath.log(1 + mpmath.exp(x)), None),
    "elu": (lambda x, a: x if x > 0 else a * (mpmath.exp(x) - 1), "1"),
    "swish": (lambda x, a: x * _sigmoid(x), None),
    "silu": (lambda x, a: x * _sigmoid(x), None),
    "gelu": (lambda x, a: x / 2 * (1 + mpmath.erf(x / mpmath.sqrt(2))), None),
}
CUSTOM_ACTIVATIONS = {
    "x/(1+abs(x))": lambda x: x / (1 + abs(x)),
    "x**3/3 + x": lambda x: x**3 / 3 + x,
}

# The activation variants a layer can get, as the spec writes them.
ACTIVATIONS = {
    "sigmoid": {"activation": "sigmoid"},
    "tanh": {"activation": "tanh"},
    "relu": {"activation": "relu"},
    "leaky_relu": {"activation": "leaky_relu"},  # default alpha 0.01
    "leaky_relu(alpha=0.2)": {"activation": "leaky_relu", "alpha": 0.2},
    "linear": {"activation": "linear"},
    "softmax": {"activation": "softmax"},
    "softplus": {"activation": "softplus"},
    "elu": {"activation": "elu"},  # default alpha 1
    "elu(alpha=0.5)": {"activation": "elu", "alpha": 0.5},
    "swish": {"activation": "swish"},
    "silu": {"activation": "silu"},
    "gelu": {"activation": "gelu"},
    "custom softsign": {"activation": {"custom": "x/(1+abs(x))"}},
    "custom cubic": {"activation": {"custom": "x**3/3 + x"}},
    "default (sigmoid)": {},
}
# Not differentiable (or not twice) at net = 0: a difference across the kink means nothing.
KINKED = {"relu", "leaky_relu", "elu", "x/(1+abs(x))"}
# Output activations each loss's domain allows: log(out) needs out > 0, log(1 - out) out < 1.
POSITIVE_OUT = {"sigmoid", "softmax", "softplus", "default (sigmoid)"}
UNIT_INTERVAL_OUT = {"sigmoid", "softmax", "default (sigmoid)"}
LOSSES = ["sse", "mse", "cross_entropy", "binary_cross_entropy", "custom"]


def activation_key(layer: dict) -> str:
    act = layer.get("activation", "sigmoid")
    return act["custom"] if isinstance(act, dict) else act


def activate(layer: dict, nets: list) -> list:
    act = layer.get("activation", "sigmoid")
    if isinstance(act, dict):
        return [CUSTOM_ACTIVATIONS[act["custom"]](n) for n in nets]
    if act == "softmax":
        exps = [mpmath.exp(n) for n in nets]
        total = mpmath.fsum(exps)
        return [e / total for e in exps]
    f, default_alpha = SCALAR[act]
    alpha = layer.get("alpha", default_alpha)
    alpha = None if alpha is None else mpf(str(alpha))
    return [f(n, alpha) for n in nets]


def custom_loss_text(units: list[str]) -> str:
    """A quartic error per unit, plus a term coupling two outputs when there are two."""
    text = " + ".join(f"(out_{u} - target_{u})**4" for u in units)
    if len(units) > 1:
        text += f" + out_{units[0]}*out_{units[1]}*target_{units[1]}"
    return text


def custom_loss_value(outs: list, targets: list):
    value = mpmath.fsum((y - t) ** 4 for y, t in zip(outs, targets))
    if len(outs) > 1:
        value += outs[0] * outs[1] * targets[1]
    return value


def loss_value(spec: dict, units: list[str], outs: list, targets: list):
    loss = spec.get("loss", "sse")
    n = len(outs)
    if loss == "sse":
        return mpmath.fsum((t - y) ** 2 for y, t in zip(outs, targets)) / 2
    if loss == "mse":
        return mpmath.fsum((t - y) ** 2 for y, t in zip(outs, targets)) / n
    if loss == "cross_entropy":
        return -mpmath.fsum(t * mpmath.log(y) for y, t in zip(outs, targets))
    if loss == "binary_cross_entropy":
        return -mpmath.fsum(t * mpmath.log(y) + (1 - t) * mpmath.log(1 - y)
                            for y, t in zip(outs, targets))
    assert loss == {"custom": custom_loss_text(units)}, loss
    return custom_loss_value(outs, targets)


# --- the oracle: reading the spec dict --------------------------------------------------------

def input_names(spec: dict) -> list[str]:
    inputs = spec["inputs"]
    return [f"i{k}" for k in range(1, inputs + 1)] if isinstance(inputs, int) else list(inputs)


def unit_names(layer: dict) -> list[str]:
    return [f"{layer['name']}{j}" for j in range(1, layer["units"] + 1)]


def weight_names(layer: dict, below: list[str]) -> list[list[str]]:
    """Rows = destination unit; the default is w_<dst>_<src>."""
    if "weights" in layer:
        return layer["weights"]
    return [[f"w_{u}_{src}" for src in below] for u in unit_names(layer)]


def bias_names(layer: dict) -> list[str | None]:
    bias = layer.get("bias", ...)
    if bias is ...:
        return [f"b_{u}" for u in unit_names(layer)]
    if bias == "none":
        return [None] * layer["units"]
    if isinstance(bias, list):
        return list(bias)
    return [bias] * layer["units"]


def structure(spec: dict):
    """(inputs, weight names in order, bias names in order, targets): the leaves of E_total."""
    below = input_names(spec)
    weights, biases = [], []
    for layer in spec["layers"]:
        for w in (w for row in weight_names(layer, below) for w in row):
            if w not in weights:
                weights.append(w)
        for b in bias_names(layer):
            if b and b not in biases:
                biases.append(b)
        below = unit_names(layer)
    targets = [f"target_{u}" for u in below]
    return input_names(spec), weights, biases, targets


def by_hand(spec: dict, point: dict, bump: tuple[str, object] | None = None) -> dict:
    """Every net_<u>, out_<u> and E_total at `point`, computed from the spec dict alone.

    `bump=(name, h)` adds h to one quantity: a leaf (input, parameter, target, l2 name) before
    anything is computed, or a net_/out_ the moment it is computed, so that its layer-mates
    of the same kind keep their values and everything above is recomputed. That is exactly
    what d(A, B) means for a net or out B.
    """
    leaves = {name: mpf(value) for name, value in point.items()}
    name, h = bump if bump else (None, 0)
    if name in leaves:
        leaves[name] += h

    def bumped(key, value):
        return value + h if key == name else value

    q: dict[str, object] = {}
    below_names = input_names(spec)
    below = [leaves[i] for i in below_names]
    for layer in spec["layers"]:
        units = unit_names(layer)
        weights, biases = weight_names(layer, below_names), bias_names(layer)
        nets = [bumped(f"net_{u}", mpmath.fsum(leaves[w] * x for w, x in zip(row, below))
                       + (leaves[b] if b else 0))
                for u, row, b in zip(units, weights, biases)]
        outs = [bumped(f"out_{u}", y) for u, y in zip(units, activate(layer, nets))]
        q.update({f"net_{u}": v for u, v in zip(units, nets)})
        q.update({f"out_{u}": v for u, v in zip(units, outs)})
        below_names, below = units, outs
    targets = [leaves[f"target_{u}"] for u in below_names]
    loss = loss_value(spec, below_names, below, targets)
    l2 = spec.get("l2")
    if l2 is not None:
        lam = leaves[l2] if isinstance(l2, str) else mpf(str(l2))
        loss += lam / 2 * mpmath.fsum(leaves[w] ** 2 for w in structure(spec)[1])
    q["E_total"] = loss
    return q


def finite_difference(spec: dict, point: dict, of: str, wrt: str):
    """d(of)/d(wrt) by a central difference of the oracle's forward pass."""
    up = by_hand(spec, point, (wrt, STEP))[of]
    down = by_hand(spec, point, (wrt, -STEP))[of]
    return (up - down) / (2 * STEP)


# --- random networks ---------------------------------------------------------------------------

@dataclass
class Case:
    spec: dict
    point: dict[str, float] = field(default_factory=dict)

    def __repr__(self):  # what hypothesis prints for a failing example: paste-able
        return f"Case(spec={self.spec!r}, point={self.point!r})"


FEATURES = ["tie within a row", "tie across layers", "shared bias", "bias list with repeats",
            "shared bias across layers", "no bias", "default names", "l2 number", "l2 named",
            "inputs by name"]


@st.composite
def cases(draw, activation: str | None = None, loss: str | None = None,
          feature: str | None = None, max_layers: int = 3, max_units: int = 3):
    """A random spec dict (1-3 layers of 1-3 units, 1-3 inputs) and a point in its domain.

    `activation`, `loss` and `feature` force one ingredient in, so every one of them is
    exercised whatever hypothesis happens to draw for the rest.
    """
    loss = loss or draw(st.sampled_from(LOSSES))
    n_layers = draw(st.integers(1, max_layers))
    allowed_out = {"cross_entropy": POSITIVE_OUT,
                   "binary_cross_entropy": UNIT_INTERVAL_OUT}.get(loss, set(ACTIVATIONS))
    if activation is not None and activation not in allowed_out:
        n_layers = max(n_layers, 2)  # the forced activation goes on a hidden layer
    if feature in ("tie across layers", "shared bias across layers"):
        n_layers = max(n_layers, 2)
    units = [draw(st.integers(1, max_units)) for _ in range(n_layers)]
    if feature == "tie within a row":
        units = [max(n, 2) for n in units]  # the last layer's row needs two sources
    if feature in ("bias list with repeats", "shared bias"):
        units[-1] = max(units[-1], 2)
    acts = [draw(st.sampled_from(sorted(ACTIVATIONS))) for _ in range(n_layers - 1)]
    acts.append(draw(st.sampled_from(sorted(allowed_out))))
    if activation is not None:
        where = draw(st.integers(0, n_layers - 1 if activation in allowed_out else n_layers - 2))
        acts[where] = activation
    if loss == "binary_cross_entropy" and acts[-1] == "softmax":
        units[-1] = max(units[-1], 2)  # a 1-unit softmax outputs exactly 1: log(1 - 1)

    n_inputs = draw(st.integers(2 if feature == "tie within a row" else 1, 3))
    by_name = feature == "inputs by name" or draw(st.booleans())
    spec: dict = {"inputs": [f"x{k}" for k in range(1, n_inputs + 1)] if by_name else n_inputs}
    names = ["h", "g"][: n_layers - 1] + ["o"]
    weight_pool: list[str] = []
    bias_pool: list[str] = []

    def fresh(pool, prefix):
        pool.append(f"{prefix}{len(pool) + 1}")
        return pool[-1]

    def weight():
        if weight_pool and draw(st.booleans()):
            return draw(st.sampled_from(weight_pool))  # tie to a weight already used
        return fresh(weight_pool, "w")

    below = n_inputs
    layers = []
    for k, (name, n, act) in enumerate(zip(names, units, acts)):
        layer = {"name": name, "units": n, **ACTIVATIONS[act]}
        last = k == n_layers - 1
        if feature == "default names" or (feature is None and draw(st.booleans())):
            pass  # w_<dst>_<src>
        else:
            rows = []
            for _ in range(n):
                row = [weight() for _ in range(below)]
                if feature == "tie within a row" and last and not rows:
                    row[1] = row[0]
                rows.append(row)
            if feature == "tie across layers" and last:
                rows[0][0] = weight_pool[0]  # the first weight of the first layer
            layer["weights"] = rows
        mode = draw(st.sampled_from(["default", "none", "shared", "list"]))
        if feature == "no bias" and last:
            mode = "none"
        elif feature in ("shared bias", "shared bias across layers") or \
                (feature == "bias list with repeats" and not last):
            mode = "shared"
        elif feature == "bias list with repeats":
            mode = "list"
        if feature == "default names":
            mode = "default"
        if mode == "shared":
            reuse = bias_pool and (feature == "shared bias across layers" or draw(st.booleans()))
            layer["bias"] = draw(st.sampled_from(bias_pool)) if reuse else fresh(bias_pool, "b")
        elif mode == "list":
            biases = [draw(st.sampled_from(bias_pool)) if bias_pool and draw(st.booleans())
                      else fresh(bias_pool, "b") for _ in range(n)]
            if feature == "bias list with repeats":
                biases[-1] = biases[0]
            layer["bias"] = biases
        elif mode == "none":
            layer["bias"] = "none"
        layers.append(layer)
        below = n
    spec["layers"] = layers
    out_units = unit_names(layers[-1])
    spec["loss"] = {"custom": custom_loss_text(out_units)} if loss == "custom" else loss
    l2 = {"l2 number": "number", "l2 named": "named"}.get(feature) or \
        draw(st.sampled_from(["none", "number", "named"]))
    if l2 == "number":
        spec["l2"] = draw(st.sampled_from([0.01, 0.1, 0.5, 1]))
    elif l2 == "named":
        spec["l2"] = "lam"

    def number(low, high):
        return draw(st.floats(low, high, allow_nan=False, allow_infinity=False))

    inputs, weights, biases, targets = structure(spec)
    point = {}
    point.update({i: number(-2, 2) for i in inputs})
    point.update({w: number(-1.5, 1.5) for w in weights})
    point.update({b: number(-1, 1) for b in biases})
    point.update({t: number(0.05, 0.95) for t in targets})
    if l2 == "named":
        point["lam"] = number(0.001, 1)
    return Case(spec, point)


def usable(case: Case) -> dict:
    """The oracle's values at the case's point, after rejecting points on a kink."""
    q = by_hand(case.spec, case.point)
    for layer in case.spec["layers"]:
        if activation_key(layer) in KINKED:
            assume(all(abs(q[f"net_{u}"]) > KINK_MARGIN for u in unit_names(layer)))
    return q


def build(case: Case) -> Network:
    return Network(from_data(case.spec))


def leaves_of(case: Case) -> list[str]:
    inputs, weights, biases, targets = structure(case.spec)
    return inputs + weights + biases + targets + (["lam"] if "lam" in case.point else [])


# --- gradients of E_total against finite differences ------------------------------------------

def assert_gradients_match(case: Case) -> None:
    """Every parameter's compact gradient equals the oracle's central difference."""
    q = usable(case)
    network = build(case)
    _, weights, biases, _ = structure(case.spec)
    assert sorted(network.params) == sorted(weights + biases)  # one name, one parameter
    with mpmath.workdps(DPS):
        env = forward.point_values(network, case.point)
        assert close(env[network.loss.symbol], q["E_total"], SAME_RTOL, SAME_ATOL)
        for name in network.params:
            got = numeric.evaluate(calculus.gradient(network, name), env)
            want = finite_difference(case.spec, case.point, "E_total", name)
            assert close(got, want), (f"dE_total/d{name}: engine {mpmath.nstr(got, 20)}, "
                                      f"finite difference {mpmath.nstr(want, 20)}")


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@FEW
@given(data=st.data())
def test_gradient_matches_finite_differences_for_every_activation(activation, data):
    """One random network per example with `activation` on some layer, any loss."""
    with mpmath.workdps(DPS):
        assert_gradients_match(data.draw(cases(activation=activation)))


@pytest.mark.parametrize("loss", LOSSES)
@FEW
@given(data=st.data())
def test_gradient_matches_finite_differences_for_every_loss(loss, data):
    """Random networks with `loss` (a custom quartic one built from the output unit names)."""
    with mpmath.workdps(DPS):
        assert_gradients_match(data.draw(cases(loss=loss)))


@pytest.mark.parametrize("feature", FEATURES)
@FEW
@given(data=st.data())
def test_gradient_matches_finite_differences_for_every_naming_feature(feature, data):
    """Tying (within a row, across layers), shared/per-unit/absent biases and l2: a tied
    name's gradient must sum over every use, and l2 counts each distinct weight once."""
    with mpmath.workdps(DPS):
        assert_gradients_match(data.draw(cases(feature=feature)))


@settings(FEW, max_examples=40)
@given(case=cases(max_layers=2, max_units=2))
def test_expanded_gradient_is_the_compact_one(case):
    """`expand` rewrites a gradient in leaves only, and the number must not change."""
    usable(case)
    network = build(case)
    leaves = {network[name].symbol for name in leaves_of(case)}
    with mpmath.workdps(DPS):
        env = forward.point_values(network, case.point)
        leaf_env = {s: v for s, v in env.items() if s in leaves}
        for name in network.params:
            compact = calculus.gradient(network, name)
            expanded = calculus.expand(network, compact)
            assert expanded.free_symbols <= leaves, name
            assert close(numeric.evaluate(expanded, leaf_env), numeric.evaluate(compact, env),
                         SAME_RTOL, SAME_ATOL), name


# --- d(A, B) against finite differences -----------------------------------------------------

def unit_quantities(spec: dict) -> list[str]:
    return [f"{kind}_{u}" for layer in spec["layers"] for u in unit_names(layer)
            for kind in ("net", "out")]


@settings(FEW, max_examples=30)
@given(case=cases(max_layers=2, max_units=2))
def test_d_of_units_and_loss_matches_finite_differences(case):
    """d(A, B) for A a net, out or E_total and B a net, out, input or target: bump B alone
    (its layer-mates of its kind held), recompute what lies above, difference A."""
    usable(case)
    network = build(case)
    inputs, _, _, targets = structure(case.spec)
    with mpmath.workdps(DPS):
        env = forward.point_values(network, case.point)
        for a in ["E_total", *unit_quantities(case.spec)]:
            for b in unit_quantities(case.spec) + inputs + targets:
                got = numeric.evaluate(calculus.derivative(
                    network, network[a].symbol, network[b].symbol), env)
                want = finite_difference(case.spec, case.point, a, b)
                assert close(got, want), (f"d({a}, {b}): engine {mpmath.nstr(got, 20)}, "
                                          f"finite difference {mpmath.nstr(want, 20)}")


def two_two_two(hidden: str, output: str = "sigmoid", loss: str = "sse") -> Case:
    """Mazur's shape with another hidden activation, at a generic point."""
    spec = {"inputs": ["i1", "i2"],
            "layers": [{"name": "h", "units": 2, "activation": hidden,
                        "weights": [["w1", "w2"], ["w3", "w4"]], "bias": "b1"},
                       {"name": "o", "units": 2, "activation": output,
                        "weights": [["w5", "w6"], ["w7", "w8"]], "bias": "b2"}],
            "loss": loss}
    point = {"i1": 0.3, "i2": -0.7, "w1": 0.15, "w2": -0.4, "w3": 0.9, "w4": 0.3,
             "w5": -0.6, "w6": 0.45, "w7": 0.5, "w8": 1.1, "b1": 0.2, "b2": -0.3,
             "target_o1": 0.2, "target_o2": 0.7}
    return Case(spec, point)


def d(network: Network, of: str, wrt: str) -> sp.Expr:
    return calculus.derivative(network, network[of].symbol, network[wrt].symbol)


def test_softmax_cross_term_is_minus_out_out():
    """d(out_h1, net_h2) of a softmax layer is -out_h1*out_h2, in symbols and in numbers."""
    case = two_two_two("softmax")
    network = build(case)
    out_h1, out_h2 = network["out_h1"].symbol, network["out_h2"].symbol
    claim = d(network, "out_h1", "net_h2")
    assert sp.expand(claim - (-out_h1 * out_h2)) == 0, claim
    assert sp.expand(d(network, "out_h1", "net_h1") - out_h1 * (1 - out_h1)) == 0
    with mpmath.workdps(DPS):
        env = forward.point_values(network, case.point)
        want = finite_difference(case.spec, case.point, "out_h1", "net_h2")
        assert close(numeric.evaluate(claim, env), want)
        assert close(-env[out_h1] * env[out_h2], want)


@pytest.mark.parametrize("weights, expected", [([["w5", "w6"], ["w7", "w8"]], "w5"),
                                               ([["v", "v"], ["w7", "w8"]], "v")])
def test_d_net_by_out_below_is_the_weight(weights, expected):
    """d(net_o1, out_h1) is the weight h1 -> o1 — once, even when that name is tied to the
    weight h2 -> o1 too, since out_h2 is held."""
    case = two_two_two("tanh")
    case.spec["layers"][1]["weights"] = weights
    case.point["v"] = 0.8
    network = build(case)
    assert d(network, "net_o1", "out_h1") == network[expected].symbol
    with mpmath.workdps(DPS):
        want = finite_difference(case.spec, case.point, "net_o1", "out_h1")
        assert close(mpf(case.point[expected]), want)


@pytest.mark.parametrize("hidden", ["sigmoid", "softmax", "relu", "custom cubic"])
def test_d_loss_by_net_is_delta_and_by_out_holds_layer_mates(hidden):
    """d(E_total, net_h1) is the symbol delta_h1, whose value is E's difference for net_h1;
    d(E_total, out_h1) is E's difference with out_h1 bumped and out_h2 held fixed."""
    case = two_two_two("sigmoid")
    case.spec["layers"][0].update(ACTIVATIONS[hidden])
    network = build(case)
    for j in (1, 2):
        assert d(network, "E_total", f"net_h{j}") == network[f"delta_h{j}"].symbol
    with mpmath.workdps(DPS):
        env = forward.point_values(network, case.point)
        for j in (1, 2):
            want = finite_difference(case.spec, case.point, "E_total", f"net_h{j}")
            assert close(env[network[f"delta_h{j}"].symbol], want)
            got = numeric.evaluate(d(network, "E_total", f"out_h{j}"), env)
            assert close(got, finite_difference(case.spec, case.point, "E_total", f"out_h{j}"))


# --- Mazur's worked example -------------------------------------------------------------------

MAZUR = Case(
    spec={"inputs": ["i1", "i2"],
          "layers": [{"name": "h", "units": 2, "activation": "sigmoid",
                      "weights": [["w1", "w2"], ["w3", "w4"]], "bias": "b1"},
                     {"name": "o", "units": 2, "activation": "sigmoid",
                      "weights": [["w5", "w6"], ["w7", "w8"]], "bias": "b2"}],
          "loss": "sse"},
    point={"i1": 0.05, "i2": 0.10, "w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30,
           "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55, "b1": 0.35, "b2": 0.60,
           "target_o1": 0.01, "target_o2": 0.99})
# The figures as published in "A Step by Step Backpropagation Example", as strings so that
# the number of digits published is the number of digits compared.
MAZUR_LOSS = "0.298371109"
MAZUR_GRADIENTS = {"w5": "0.082167041", "w6": "0.082667628", "w7": "-0.022602540",
                   "w8": "-0.022740242", "w1": "0.000438568", "w2": "0.000877135",
                   "w3": "0.000497713", "w4": "0.000995425"}
MAZUR_UPDATED = {"w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270",
                 "w8": "0.561370121", "w1": "0.149780716", "w2": "0.19956143",
                 "w3": "0.24975114", "w4": "0.29950229"}
MAZUR_LR = mpf("0.5")


def agrees_to_published_digits(value, published: str) -> bool:
    """`value` rounds to `published` at the number of decimals published."""
    decimals = len(published.split(".")[1])
    return abs(value - mpf(published)) <= mpf(10) ** -decimals / 2


def test_mazur_worked_example():
    """E_total, the eight weight gradients and one step at learning rate 0.5, as published."""
    network = build(MAZUR)
    with mpmath.workdps(DPS):
        env = forward.point_values(network, MAZUR.point)
        loss = env[network.loss.symbol]
        assert agrees_to_published_digits(loss, MAZUR_LOSS), loss
        for name, published in MAZUR_GRADIENTS.items():
            grad = numeric.evaluate(calculus.gradient(network, name), env)
            assert agrees_to_published_digits(grad, published), (name, grad)
            assert close(grad, finite_difference(MAZUR.spec, MAZUR.point, "E_total", name))
            updated = mpf(MAZUR.point[name]) - MAZUR_LR * grad
            assert agrees_to_published_digits(updated, MAZUR_UPDATED[name]), (name, updated)
