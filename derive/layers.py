"""A spec's layers (SPEC §1, §9): each one's units, activation, weights and biases, read
from YAML with every error at its line (by the spec's Reader, whose shapes it uses)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from . import activations, expr, wiring
from .errors import did_you_mean, echo
from .safeyaml import kind_of, line_of

MAX_UNITS = 1024
MAX_LAYERS = 32
MAX_EDGES = 250_000
LAYER_NAME = re.compile(r"[A-Za-z](?:[A-Za-z_]*[A-Za-z])?")
RESERVED_LAYERS = {"examples": "n_examples counts the training examples"}
LAYER_KEYS = ("name", "units", "activation", "alpha", "weights", "bias", "from", "type",
              *wiring.CONV_KEYS)


@dataclass
class Layer:
    name: str
    units: int
    activation: str
    weights: list[list[str | sp.Rational | None]]  # [destination unit][source]: a name,
    # a fixed number, or None for no connection
    biases: list[str | None]  # one per unit
    alpha: sp.Rational | None = None
    custom: expr.Node | None = None
    line: int = 0
    sources: list[str] = field(default_factory=list)  # the units and inputs that feed it
    conv: wiring.Convolution | None = None

    def unit(self, j: int) -> str:
        return f"{self.name}{j}"


def read(reader, value, line: int, inputs: list[str]) -> list[Layer]:
    """The `layers:` list, each layer fed by the one below (or its `from:`)."""
    if not isinstance(value, list) or not value:
        raise reader.fail(line, f"layers: expected a list of layers, got {kind_of(value)}")
    if len(value) > MAX_LAYERS:
        raise reader.fail(line, f"layers: too many ({len(value)}; the limit is {MAX_LAYERS})")
    layers: list[Layer] = []
    edges = 0
    for k, item in enumerate(value):
        layer = _layer(reader, item, line_of(value, k), f"layers[{k + 1}]", inputs, layers)
        if any(other.name == layer.name for other in layers):
            raise reader.fail(layer.line, f"layers[{k + 1}].name: '{layer.name}' is "
                              f"used by another layer")
        if layer.name in RESERVED_LAYERS:
            raise reader.fail(layer.line, f"layers[{k + 1}].name: '{layer.name}' is "
                              f"reserved ({RESERVED_LAYERS[layer.name]}); choose another")
        clash = next((layer.unit(j) for j in range(1, layer.units + 1)
                      if layer.unit(j) in inputs), None)
        if clash is not None:  # from: [h1] would name either
            raise reader.fail(layer.line, f"layers[{k + 1}]: its unit {clash} has an "
                              f"input's name; rename the input or the layer")
        edges += layer.units * len(layer.sources)
        if edges > MAX_EDGES:
            raise reader.fail(layer.line, f"the network is too large (more than "
                              f"{MAX_EDGES:,} weights)")
        layers.append(layer)
    return layers


def _layer(reader, value, line: int, where: str, inputs: list[str], earlier: list[Layer]) \
        -> Layer:
    node = reader.mapping(value, line, where, LAYER_KEYS, required=("name",))
    at = lambda key: line_of(node, key)  # noqa: E731
    name = node["name"]
    if not isinstance(name, str) or not LAYER_NAME.fullmatch(name) or len(name) > 16:
        raise reader.fail(at("name"), f"{where}.name: '{echo(str(name))}' is not a valid "
                          f"layer name (letters, not ending in a digit or _)")
    kind = node.get("type", "dense")
    if kind not in wiring.TYPES:
        raise reader.fail(at("type"), f"{where}.type: unknown '{echo(str(kind))}'"
                          f"{did_you_mean(str(kind), wiring.TYPES, n=1)} (known: "
                          f"{', '.join(wiring.TYPES)})")
    if kind == "dense":
        for key in wiring.CONV_KEYS:
            if key in node:
                raise reader.fail(at(key), f"{where}.{key}: only a conv1d or conv2d layer "
                                  f"takes {key}")
    if "from" in node:
        sources = wiring.sources(reader, node["from"], at("from"), where, inputs, earlier)
    else:
        below = earlier[-1] if earlier else None
        sources = [below.unit(j) for j in range(1, below.units + 1)] if below else inputs
    layer = Layer(name=name, units=0, activation="sigmoid", weights=[], biases=[],
                  line=line, sources=sources)
    if kind == "dense":
        if "units" not in node:
            raise reader.fail(line, f"{where}: missing 'units'")
        layer.units = reader.count(node["units"], at("units"), f"{where}.units", MAX_UNITS)
        layer.weights = _weights(reader, node.get("weights"), at("weights"), where, layer,
                                 sources)
    else:
        if "weights" in node:
            raise reader.fail(at("weights"), f"{where}.weights: a {kind} layer's weights "
                              f"are its kernel's")
        layer.weights, layer.conv = wiring.convolution(reader, node, where, len(sources))
        layer.units = len(layer.weights)
        if layer.units > MAX_UNITS:
            raise reader.fail(at("kernel"), f"{where}: {layer.units} units is too many "
                              f"(the limit is {MAX_UNITS})")
        if "units" in node and reader.count(node["units"], at("units"), f"{where}.units",
                                            MAX_UNITS) != layer.units:
            raise reader.fail(at("units"), f"{where}.units: the kernel, stride and "
                              f"padding give {layer.units} units, not {node['units']}")
    _activation(reader, layer, node, where)
    default = ... if kind == "dense" else f"b_{name}"  # a conv layer shares one bias
    layer.biases = _biases(reader, node.get("bias", default), at("bias"), where, layer)
    return layer


def _activation(reader, layer: Layer, node: dict, where: str) -> None:
    line = line_of(node, "activation")
    value = node.get("activation", "sigmoid")
    if isinstance(value, dict):
        reader.mapping(value, line, f"{where}.activation", ("custom",), ("custom",))
        layer.activation = "custom"
        layer.custom = reader.formula(value["custom"], line_of(value, "custom"),
                                      f"{where}.activation.custom")
        unknown = expr.free_names(layer.custom) - {"x", "pi"}
        if unknown:
            raise reader.fail(line, f"{where}.activation.custom: unknown name "
                              f"'{echo(sorted(unknown)[0])}' (write the activation in x)")
    elif isinstance(value, str) and value in activations.NAMES and value != "custom":
        layer.activation = value
    else:
        shown = echo(str(value))
        hint = did_you_mean(shown, activations.NAMES, n=1) or \
            f" (known: {', '.join(activations.NAMES)})"
        raise reader.fail(line, f"{where}.activation: unknown '{shown}'{hint}")
    default = activations.ACTIVATIONS.get(layer.activation)
    if "alpha" in node:
        if default is None or default.alpha is None:
            raise reader.fail(line_of(node, "alpha"), f"{where}.alpha: the "
                              f"{layer.activation} activation takes no alpha")
        alpha = reader.number(node["alpha"], line_of(node, "alpha"), f"{where}.alpha")
        layer.alpha = sp.Rational(str(alpha))
    elif default is not None:
        layer.alpha = default.alpha


def _weights(reader, value, line: int, where: str, layer: Layer, below: list[str]):
    if value is None:
        return [[f"w_{layer.unit(j)}_{src}" for src in below]
                for j in range(1, layer.units + 1)]
    below = len(below)
    shape = f"{layer.units} rows (one per unit of {layer.name}) of {below} names"
    if not isinstance(value, list) or len(value) != layer.units:
        got = f"{len(value)} rows" if isinstance(value, list) else kind_of(value)
        raise reader.fail(line, f"{where}.weights: expected {shape}; got {got}")
    rows = []
    for j, row in enumerate(value):
        row_line = line_of(value, j)
        if not isinstance(row, list) or len(row) != below:
            got = f"{len(row)} names" if isinstance(row, list) else kind_of(row)
            raise reader.fail(row_line, f"{where}.weights row {j + 1}: expected {below} "
                              f"names (one per unit below); got {got}")
        rows.append([_weight(reader, w, line_of(row, k), f"{where}.weights[{j + 1}][{k + 1}]")
                     for k, w in enumerate(row)])
    return rows


def _weight(reader, value, line: int, where: str):
    """A weight's name; 0, no connection (None); another number, a fixed weight (a
    residual block's identity connection is 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return reader.name(value, line, where)
    if value == 0:
        return None
    return sp.Rational(str(reader.number(value, line, where)))


def _biases(reader, value, line: int, where: str, layer: Layer) -> list[str | None]:
    if value is ...:
        return [f"b_{layer.unit(j)}" for j in range(1, layer.units + 1)]
    if value is None or value == "none":
        return [None] * layer.units
    if isinstance(value, list):
        if len(value) != layer.units:
            raise reader.fail(line, f"{where}.bias: expected {layer.units} names (one per "
                              f"unit), got {len(value)}")
        return [reader.name(b, line_of(value, j), f"{where}.bias[{j + 1}]")
                for j, b in enumerate(value)]
    return [reader.name(value, line, f"{where}.bias")] * layer.units
