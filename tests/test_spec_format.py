"""The spec format (SPEC section 1): defaults, tying, and a message for every mistake."""

import pytest
import sympy as sp

from derive import api, calculus
from derive import spec as specs
from derive.errors import SpecError

MAZUR = """name: m
inputs: [i1, i2]
layers:
  - name: h
    units: 2
    weights: [[w1, w2], [w3, w4]]
    bias: b1
  - name: o
    units: 2
    weights: [[w5, w6], [w7, w8]]
    bias: b2
"""


def load(text):
    return specs.from_text(text, "s.yaml")


def test_defaults_name_inputs_weights_and_biases():
    spec = load("inputs: 2\nlayers:\n  - {name: h, units: 2}\n  - {name: o, units: 1}\n")
    assert spec.inputs == ["i1", "i2"]
    assert spec.layers[0].weights == [["w_h1_i1", "w_h1_i2"], ["w_h2_i1", "w_h2_i2"]]
    assert spec.layers[1].weights == [["w_o1_h1", "w_o1_h2"]]
    assert spec.layers[0].biases == ["b_h1", "b_h2"]
    assert spec.layers[0].activation == "sigmoid" and spec.loss == "sse"


@pytest.mark.parametrize("bias, expected", [
    ("none", [None, None]), ("b", ["b", "b"]), ("[c1, c2]", ["c1", "c2"]),
])
def test_bias_forms(bias, expected):
    spec = load(f"inputs: 1\nlayers:\n  - {{name: h, units: 2, bias: {bias}}}\n")
    assert spec.layers[0].biases == expected


def test_alpha_defaults_and_overrides():
    spec = load("inputs: 1\nlayers:\n  - {name: a, units: 1, activation: leaky_relu}\n"
                "  - {name: b, units: 1, activation: elu, alpha: 0.5}\n")
    assert spec.layers[0].alpha == sp.Rational(1, 100)
    assert spec.layers[1].alpha == sp.Rational(1, 2)


def test_a_name_used_twice_is_one_parameter_whose_gradient_sums_its_uses():
    network = api.load({"inputs": 2, "layers": [
        {"name": "h", "units": 2, "weights": [["u", "v"], ["v", "u"]], "bias": "c"},
        {"name": "o", "units": 1, "weights": [["v", "s"]], "bias": "none"}]})
    assert network.params == ["u", "v", "c", "s"]
    assert str(calculus.gradient(network, "v")) == "delta_h1*i2 + delta_h2*i1 + delta_o1*out_h1"
    assert str(calculus.gradient(network, "c")) == "delta_h1 + delta_h2"


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear",
                                        "softmax", "softplus", "elu", "swish", "silu", "gelu",
                                        '{custom: "x / (1 + abs(x))"}'])
def test_every_activation_builds(activation):
    network = api.load(specs.from_text(
        f"inputs: 2\nlayers:\n  - {{name: h, units: 2, activation: {activation}}}\n"
        "  - {name: o, units: 1}\n"))
    assert network["out_h1"].definition is not None


@pytest.mark.parametrize("loss, expected", [
    ("sse", "E_o1 + E_o2"),
    ("mse", "(-out_o1 + target_o1)**2/2 + (-out_o2 + target_o2)**2/2"),
    ("cross_entropy", "-target_o1*log(out_o1) - target_o2*log(out_o2)"),
    ("binary_cross_entropy", "-target_o1*log(out_o1) - target_o2*log(out_o2) - "
                             "(1 - target_o1)*log(1 - out_o1) - (1 - target_o2)*log(1 - out_o2)"),
    ('{custom: "(out_o1 - target_o1)**4 + out_o[2]"}', "out_o2 + (out_o1 - target_o1)**4"),
])
def test_every_loss(loss, expected):
    network = api.load(specs.from_text(MAZUR + f"loss: {loss}\n"))
    assert network.loss.definition == sp.sympify(expected, locals={
        n: q.symbol for n, q in network.quantities.items()})


def test_l2_adds_half_lambda_times_each_distinct_weight_squared():
    network = api.load(specs.from_text(MAZUR.replace("w8", "w1") + "l2: lam\n"))
    terms = network.loss.definition - network["E_o1"].symbol - network["E_o2"].symbol
    lam = network["lam"].symbol
    weights = [network[w].symbol for w in ("w1", "w2", "w3", "w4", "w5", "w6", "w7")]
    assert sp.expand(terms - lam / 2 * sum(w**2 for w in weights)) == 0
    assert str(calculus.gradient(network, "b1")) == "delta_h1 + delta_h2"  # biases excluded


def test_values_and_checks_keep_their_lines():
    spec = load(MAZUR + "values: {i1: 0.05, target_o1: 1}\nchecks:\n  - wrt: w5\n"
                "    claim: delta_o1*out_h1\n  - wrt: w1\n    steps:\n      - delta_h1*i1\n"
                "      - latex: '\\delta_{h1} i_1'\n")
    assert spec.values == {"i1": 0.05, "target_o1": 1}
    assert [c.line for c in spec.checks] == [15, 18]
    assert [s.syntax for s in spec.checks[1].steps] == ["sympy", "latex"]


ERRORS = {
    "inputs: 2\nlayer: []\n": "s.yaml:2: spec: unknown key 'layer' (did you mean 'layers'?)",
    "inputs: 2\n": "s.yaml:1: spec: missing 'layers'",
    "inputs: 2\nlayers: [{name: h, units: 1, size: 2}]\n":
        "s.yaml:2: layers[1]: unknown key 'size'",
    "inputs: 2\nlayers: [{name: h, units: 2, weights: [[a, b]]}]\n":
        "s.yaml:2: layers[1].weights: expected 2 rows (one per unit of h) of 2 names; got 1 rows",
    "inputs: 2\nlayers:\n  - name: h\n    units: 1\n    weights:\n      - [a]\n":
        "s.yaml:6: layers[1].weights row 1: expected 2 names (one per unit below); got 1 names",
    "inputs: 2\nlayers: [{name: h, units: 1, activation: sigmoidd}]\n":
        "s.yaml:2: layers[1].activation: unknown 'sigmoidd' (did you mean 'sigmoid'?)",
    "inputs: 2\nlayers: [{name: h, units: 1}]\nloss: sse2\n":
        "s.yaml:3: loss: unknown 'sse2' (did you mean 'sse'?)",
    "inputs: 2\nlayers: [{name: h, units: 1, alpha: 0.1}]\n":
        "s.yaml:2: layers[1].alpha: the sigmoid activation takes no alpha",
    "inputs: 2\nlayers: [{name: h, units: 1, bias: out_h1}]\n":
        "s.yaml:2: layers[1].bias: 'out_h1' looks like a derived quantity (out_...)",
    "inputs: [net_x]\nlayers: [{name: h, units: 1}]\n":
        "s.yaml:1: inputs[1]: 'net_x' looks like a derived quantity",
    "inputs: 1\nlayers: [{name: h, units: 1, weights: [[pi]]}]\n":
        "s.yaml:2: layers[1].weights[1][1]: 'pi' is reserved",
    "inputs: 1\nlayers: [{name: h, units: 1, weights: [[lambda]]}]\n":
        "s.yaml:2: layers[1].weights[1][1]: 'lambda' is reserved",
    "inputs: [i1]\nlayers: [{name: h, units: 1, weights: [[i1]]}]\n":
        "s.yaml:2: layer h: 'i1' is already an input",
    "inputs: [a, a]\nlayers: [{name: h, units: 1}]\n": "s.yaml:1: inputs: 'a' appears twice",
    "inputs: 1\nlayers: [{name: h, units: 1}, {name: h, units: 1}]\n":
        "s.yaml:2: layers[2].name: 'h' is used by another layer",
    "inputs: [h1, y]\nlayers: [{name: h, units: 2}]\n":
        "s.yaml:2: layers[1]: its unit h1 has an input's name; rename the input or the layer",
    "inputs: 1\nexamples: 2\nlayers: [{name: examples, units: 1}]\n":
        "s.yaml:3: layers[1].name: 'examples' is reserved (n_examples counts",
    "inputs: 1\nlayers: [{name: h2, units: 1}]\n":
        "s.yaml:2: layers[1].name: 'h2' is not a valid layer name",
    "inputs: 1\nlayers: [{name: h, units: 1.5}]\n":
        "s.yaml:2: layers[1].units: expected a whole number, got the number 1.5",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nvalues: {w_h1_i9: 1}\n":
        "s.yaml:3: values: 'w_h1_i9' is not an input, parameter or target of this network "
        "(did you mean 'w_h1_i1'?)",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nvalues: {i1: abc}\n":
        "s.yaml:3: values.i1: expected a number, got the text 'abc'",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nchecks: [{wrt: b_h1, claim: 1, latex: '1'}]\n":
        "s.yaml:3: checks[1]: give exactly one of claim, latex or steps",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nchecks: [{wrt: b_h1}]\n":
        "s.yaml:3: checks[1]: give exactly one of claim, latex or steps",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nchecks: [{wrt: b_h1, claim: '1', "
    "expect: maybe}]\n": "s.yaml:3: checks[1].expect: expected 'correct' or 'incorrect'",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nchecks: [{wrt: b_h1, claim: '1', "
    "assume: lucky}]\n": "s.yaml:3: checks[1].assume: unknown assumption 'lucky'",
    "inputs: 1\nlayers: [{name: h, units: 1, activation: {custom: 'y + 1'}}]\n":
        "s.yaml:2: layers[1].activation.custom: unknown name 'y' (write the activation in x)",
    "inputs: 1\nlayers: [{name: h, units: 1, activation: {custom: 'x +'}}]\n":
        "s.yaml:2: layers[1].activation.custom: the claim ends too early",
    "inputs: 1\nlayers: [{name: h, units: 1}]\nloss: {custom: 'w_h1_i1 * out_h1'}\n":
        "s.yaml:3: loss.custom: unknown name 'w_h1_i1'",
}


@pytest.mark.parametrize("text", ERRORS)
def test_every_mistake_has_a_one_line_message_with_its_line(text):
    with pytest.raises(SpecError) as error:
        api.load(specs.from_text(text, "s.yaml"))
    assert str(error.value).startswith(ERRORS[text])
    assert "\n" not in str(error.value)
