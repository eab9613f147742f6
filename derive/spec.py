"""Read and validate a spec file (SPEC §1) into plain dataclasses, every error with its line."""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from . import activations, expr, feedback, files, losses, numbering, safeyaml, wiring
from .assumptions import ASSUMPTIONS  # noqa: F401 (claims and the CLI read it here)
from .errors import DeriveError, SpecError, did_you_mean, echo
from .questions import IDENTIFIER, MAX_NAME, Check, Exercise, Formula, Questions  # noqa: F401
from .safeyaml import kind_of, line_of

MAX_UNITS = 1024
MAX_LAYERS = 32
MAX_EDGES = 250_000

LAYER_NAME = re.compile(r"[A-Za-z](?:[A-Za-z_]*[A-Za-z])?")
DERIVED = re.compile(r"(net|out|delta|target|E|n|d)_.*")
RESERVED = {"E", "I", "S", "N", "O", "Q", "pi", "oo", "nan", "zoo", "E_total", "x",
            *expr.FUNCTIONS, "Sum"}

RESERVED_LAYERS = {"examples": "n_examples counts the training examples"}
TOP_KEYS = ("name", "inputs", "layers", "loss", "l2", "examples", "reduction", "notation",
            "values", "checks", "aliases", "exercises", "feedback")
MAX_EXAMPLES = 256
REDUCTIONS = ("sum", "mean")
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


@dataclass
class Spec:
    file: str
    inputs: list[str]
    layers: list[Layer]
    loss: str = "sse"
    custom_loss: expr.Node | None = None
    l2: sp.Rational | str | None = None
    values: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    alias_places: dict[str, tuple[str, int]] = field(default_factory=dict)  # file, line
    name: str | None = None
    loss_line: int = 0
    exercises: list[Exercise] = field(default_factory=list)
    feedback: str | None = None  # what verdicts may show (feedback.py); None: the default
    problems: list[DeriveError] = field(default_factory=list)  # answers to no exercise
    notation: numbering.Numbering | None = None  # numbered layers (SPEC §7), if asked for
    examples: int = 1  # training examples (SPEC §8): E_total sums (or averages) their losses
    reduction: str = "sum"

    @property
    def output(self) -> Layer:
        return self.layers[-1]


def load(path: str | Path) -> Spec:
    """Read a network spec file; SpecError names file and line. (An answers file, which
    names its network, is read by answers.load.)"""
    return from_data(read(path), str(path))


def read(path: str | Path):
    """The YAML data of a file (a regular file, of bounded size)."""
    return safeyaml.load(files.read(path), str(path))


def from_text(text: str, file: str = "<spec>") -> Spec:
    return from_data(safeyaml.load(text.encode(), file), file)


def from_data(data, file: str = "<spec>") -> Spec:
    """Validate already-loaded YAML data (a Map from safeyaml, or a plain dict)."""
    try:
        return Reader(file).spec(data)
    except SpecError as exc:
        raise exc.located(file) from None


class Reader:
    def __init__(self, file: str):
        self.file = file

    def fail(self, line: int, message: str) -> SpecError:
        return SpecError(message, file=self.file, line=line)

    # --- generic shapes ------------------------------------------------------------------

    def mapping(self, value, line: int, where: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(line, f"{where}: expected a mapping, got {kind_of(value)}")
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed, n=1) or f" (allowed: {', '.join(allowed)})"
                raise self.fail(line_of(value, key), f"{where}: unknown key "
                                f"'{echo(key)}'{hint}")
        for key in required:
            if key not in value:
                raise self.fail(line, f"{where}: missing '{key}'")
        return value

    def name(self, value, line: int, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(line, f"{where}: expected a name, got {kind_of(value)}")
        if len(value) > MAX_NAME or not IDENTIFIER.fullmatch(value):
            raise self.fail(line, f"{where}: '{echo(value)}' is not a valid name (letters, "
                            f"digits and _, starting with a letter)")
        if value in RESERVED or keyword.iskeyword(value):
            raise self.fail(line, f"{where}: '{value}' is reserved; choose another name")
        if DERIVED.fullmatch(value):
            raise self.fail(line, f"{where}: '{value}' looks like a derived quantity "
                            f"({value.split('_')[0]}_...); choose another name")
        return value

    def number(self, value, line: int, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(line, f"{where}: expected a number, got {kind_of(value)}")
        if not math.isfinite(value) or abs(value) > 1e12:
            raise self.fail(line, f"{where}: {value} is out of range")
        return value

    def count(self, value, line: int, where: str, most: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(line, f"{where}: expected a whole number, got {kind_of(value)}")
        if not 1 <= value <= most:
            raise self.fail(line, f"{where}: {value} is out of range (1 to {most})")
        return value

    def at_most(self, items, line: int, where: str, most: int) -> None:
        if len(items) > most:
            raise self.fail(line, f"{where}: too many ({len(items):,}; the limit is {most:,})")

    def text(self, value, line: int, where: str) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(line, f"{where}: expected text, got {kind_of(value)}")
        return str(value)

    def formula(self, value, line: int, where: str) -> expr.Node:
        try:
            return expr.parse(self.text(value, line, where))
        except SpecError:
            raise
        except Exception as exc:  # ClaimError: re-raise as a spec problem at this line
            raise self.fail(line, f"{where}: {getattr(exc, 'message', exc)}") from None

    # --- the spec ------------------------------------------------------------------------

    def spec(self, data) -> Spec:
        top = self.mapping(data, getattr(data, "line", 1), "spec", TOP_KEYS,
                           required=("inputs", "layers"))
        at = lambda key: line_of(top, key)  # noqa: E731
        inputs = self.inputs(top["inputs"], at("inputs"))
        layers = self.layers(top["layers"], at("layers"), inputs)
        spec = Spec(file=self.file, inputs=inputs, layers=layers, loss_line=at("loss"))
        if "name" in top:
            spec.name = self.title(top["name"], at("name"))
        if "loss" in top:
            spec.loss, spec.custom_loss = self.loss(top["loss"], at("loss"))
        if "l2" in top and top["l2"] is not None:
            value = top["l2"]
            spec.l2 = (self.name(value, at("l2"), "l2") if isinstance(value, str)
                       else sp.Rational(str(self.number(value, at("l2"), "l2"))))
        self.check_names(spec, at)
        if "examples" in top:
            spec.examples = self.count(top["examples"], at("examples"), "examples",
                                       MAX_EXAMPLES)
        if "reduction" in top:
            if top["reduction"] not in REDUCTIONS:
                raise self.fail(at("reduction"), f"reduction: expected sum or mean, got "
                                f"{kind_of(top['reduction'])}")
            spec.reduction = top["reduction"]
        if "notation" in top:
            spec.notation = numbering.read(top["notation"], at("notation"), line_of,
                                           settable_names(spec))
        if top.get("values") is not None:
            spec.values = self.values(top["values"], at("values"), spec)
        if top.get("aliases") is not None:
            spec.aliases = self.aliases(top["aliases"], at("aliases"), spec.alias_places)
        if top.get("checks") is not None:
            spec.checks = Questions(self).checks(top["checks"], at("checks"))
        if top.get("exercises") is not None:
            spec.exercises = Questions(self).exercises(top["exercises"], at("exercises"))
        if "feedback" in top:
            spec.feedback = self.feedback(top["feedback"], at("feedback"), "feedback")
        return spec

    def feedback(self, value, line: int, where: str) -> str:
        if value not in feedback.LEVELS:
            raise self.fail(line, f"{where}: expected one of {', '.join(feedback.LEVELS)}, "
                            f"got {kind_of(value)}")
        return value

    def inputs(self, value, line: int) -> list[str]:
        if isinstance(value, int) and not isinstance(value, bool):
            return [f"i{k}" for k in range(1, self.count(value, line, "inputs", MAX_UNITS) + 1)]
        if not isinstance(value, list) or not value:
            raise self.fail(line, f"inputs: expected a list of names or a count, "
                            f"got {kind_of(value)}")
        if len(value) > MAX_UNITS:
            raise self.fail(line, f"inputs: too many ({len(value)}; the limit is {MAX_UNITS})")
        names = [self.name(v, line_of(value, k), f"inputs[{k + 1}]") for k, v in enumerate(value)]
        self.distinct(names, value, "inputs")
        return names

    def distinct(self, names: list[str], node, where: str) -> None:
        seen: set[str] = set()
        for k, name in enumerate(names):
            if name in seen:
                raise self.fail(line_of(node, k), f"{where}: '{name}' appears twice")
            seen.add(name)

    def layers(self, value, line: int, inputs: list[str]) -> list[Layer]:
        if not isinstance(value, list) or not value:
            raise self.fail(line, f"layers: expected a list of layers, got {kind_of(value)}")
        if len(value) > MAX_LAYERS:
            raise self.fail(line, f"layers: too many ({len(value)}; the limit is {MAX_LAYERS})")
        layers: list[Layer] = []
        edges = 0
        for k, item in enumerate(value):
            layer = self.layer(item, line_of(value, k), f"layers[{k + 1}]", inputs, layers)
            if any(other.name == layer.name for other in layers):
                raise self.fail(layer.line, f"layers[{k + 1}].name: '{layer.name}' is "
                                f"used by another layer")
            if layer.name in RESERVED_LAYERS:
                raise self.fail(layer.line, f"layers[{k + 1}].name: '{layer.name}' is "
                                f"reserved ({RESERVED_LAYERS[layer.name]}); choose another")
            clash = next((layer.unit(j) for j in range(1, layer.units + 1)
                          if layer.unit(j) in inputs), None)
            if clash is not None:  # from: [h1] would name either
                raise self.fail(layer.line, f"layers[{k + 1}]: its unit {clash} has an "
                                f"input's name; rename the input or the layer")
            edges += layer.units * len(layer.sources)
            if edges > MAX_EDGES:
                raise self.fail(layer.line, f"the network is too large (more than "
                                f"{MAX_EDGES:,} weights)")
            layers.append(layer)
        return layers

    def layer(self, value, line: int, where: str, inputs: list[str], earlier: list[Layer]) \
            -> Layer:
        node = self.mapping(value, line, where, LAYER_KEYS, required=("name",))
        at = lambda key: line_of(node, key)  # noqa: E731
        name = node["name"]
        if not isinstance(name, str) or not LAYER_NAME.fullmatch(name) or len(name) > 16:
            raise self.fail(at("name"), f"{where}.name: '{echo(str(name))}' is not a valid "
                            f"layer name (letters, not ending in a digit or _)")
        kind = node.get("type", "dense")
        if kind not in wiring.TYPES:
            raise self.fail(at("type"), f"{where}.type: unknown '{echo(str(kind))}'"
                            f"{did_you_mean(str(kind), wiring.TYPES, n=1)} (known: "
                            f"{', '.join(wiring.TYPES)})")
        if kind == "dense":
            for key in wiring.CONV_KEYS:
                if key in node:
                    raise self.fail(at(key), f"{where}.{key}: only a conv1d or conv2d layer "
                                    f"takes {key}")
        if "from" in node:
            sources = wiring.sources(self, node["from"], at("from"), where, inputs, earlier)
        else:
            below = earlier[-1] if earlier else None
            sources = [below.unit(j) for j in range(1, below.units + 1)] if below else inputs
        layer = Layer(name=name, units=0, activation="sigmoid", weights=[], biases=[],
                      line=line, sources=sources)
        if kind == "dense":
            if "units" not in node:
                raise self.fail(line, f"{where}: missing 'units'")
            layer.units = self.count(node["units"], at("units"), f"{where}.units", MAX_UNITS)
            layer.weights = self.weights(node.get("weights"), at("weights"), where, layer,
                                         sources)
        else:
            if "weights" in node:
                raise self.fail(at("weights"), f"{where}.weights: a {kind} layer's weights "
                                f"are its kernel's")
            layer.weights, layer.conv = wiring.convolution(self, node, where, len(sources))
            layer.units = len(layer.weights)
            if layer.units > MAX_UNITS:
                raise self.fail(at("kernel"), f"{where}: {layer.units} units is too many "
                                f"(the limit is {MAX_UNITS})")
            if "units" in node and self.count(node["units"], at("units"), f"{where}.units",
                                              MAX_UNITS) != layer.units:
                raise self.fail(at("units"), f"{where}.units: the kernel, stride and "
                                f"padding give {layer.units} units, not {node['units']}")
        self.activation(layer, node, where)
        default = ... if kind == "dense" else f"b_{name}"  # a conv layer shares one bias
        layer.biases = self.biases(node.get("bias", default), at("bias"), where, layer)
        return layer

    def activation(self, layer: Layer, node: dict, where: str) -> None:
        line = line_of(node, "activation")
        value = node.get("activation", "sigmoid")
        if isinstance(value, dict):
            self.mapping(value, line, f"{where}.activation", ("custom",), ("custom",))
            layer.activation = "custom"
            layer.custom = self.formula(value["custom"], line_of(value, "custom"),
                                        f"{where}.activation.custom")
            unknown = expr.free_names(layer.custom) - {"x", "pi"}
            if unknown:
                raise self.fail(line, f"{where}.activation.custom: unknown name "
                                f"'{echo(sorted(unknown)[0])}' (write the activation in x)")
        elif isinstance(value, str) and value in activations.NAMES and value != "custom":
            layer.activation = value
        else:
            shown = echo(str(value))
            hint = did_you_mean(shown, activations.NAMES, n=1) or \
                f" (known: {', '.join(activations.NAMES)})"
            raise self.fail(line, f"{where}.activation: unknown '{shown}'{hint}")
        default = activations.ACTIVATIONS.get(layer.activation)
        if "alpha" in node:
            if default is None or default.alpha is None:
                raise self.fail(line_of(node, "alpha"), f"{where}.alpha: the "
                                f"{layer.activation} activation takes no alpha")
            alpha = self.number(node["alpha"], line_of(node, "alpha"), f"{where}.alpha")
            layer.alpha = sp.Rational(str(alpha))
        elif default is not None:
            layer.alpha = default.alpha

    def weights(self, value, line: int, where: str, layer: Layer, below: list[str]):
        if value is None:
            return [[f"w_{layer.unit(j)}_{src}" for src in below]
                    for j in range(1, layer.units + 1)]
        below = len(below)
        shape = f"{layer.units} rows (one per unit of {layer.name}) of {below} names"
        if not isinstance(value, list) or len(value) != layer.units:
            got = f"{len(value)} rows" if isinstance(value, list) else kind_of(value)
            raise self.fail(line, f"{where}.weights: expected {shape}; got {got}")
        rows = []
        for j, row in enumerate(value):
            row_line = line_of(value, j)
            if not isinstance(row, list) or len(row) != below:
                got = f"{len(row)} names" if isinstance(row, list) else kind_of(row)
                raise self.fail(row_line, f"{where}.weights row {j + 1}: expected {below} "
                                f"names (one per unit below); got {got}")
            rows.append([self.weight(w, line_of(row, k), f"{where}.weights[{j + 1}][{k + 1}]")
                         for k, w in enumerate(row)])
        return rows

    def weight(self, value, line: int, where: str):
        """A weight's name; 0, no connection (None); another number, a fixed weight (a
        residual block's identity connection is 1)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.name(value, line, where)
        if value == 0:
            return None
        return sp.Rational(str(self.number(value, line, where)))

    def biases(self, value, line: int, where: str, layer: Layer) -> list[str | None]:
        if value is ...:
            return [f"b_{layer.unit(j)}" for j in range(1, layer.units + 1)]
        if value is None or value == "none":
            return [None] * layer.units
        if isinstance(value, list):
            if len(value) != layer.units:
                raise self.fail(line, f"{where}.bias: expected {layer.units} names (one per "
                                f"unit), got {len(value)}")
            return [self.name(b, line_of(value, j), f"{where}.bias[{j + 1}]")
                    for j, b in enumerate(value)]
        return [self.name(value, line, f"{where}.bias")] * layer.units

    def loss(self, value, line: int):
        if isinstance(value, dict):
            self.mapping(value, line, "loss", ("custom",), ("custom",))
            return "custom", self.formula(value["custom"], line_of(value, "custom"),
                                          "loss.custom")
        if isinstance(value, str) and value in losses.LOSSES:
            return value, None
        shown = echo(str(value))
        hint = did_you_mean(shown, losses.NAMES, n=1) or f" (known: {', '.join(losses.NAMES)})"
        raise self.fail(line, f"loss: unknown '{shown}'{hint}")

    def check_names(self, spec: Spec, at) -> None:
        """One name, one role: an input cannot also be a weight, nor a layer's name reused."""
        roles: dict[str, str] = {name: "an input" for name in spec.inputs}
        for layer in spec.layers:
            params = [w for row in layer.weights for w in row if isinstance(w, str)]
            params += [b for b in layer.biases if b]
            for name in params:
                if roles.get(name, "a parameter") != "a parameter":
                    raise self.fail(layer.line, f"layer {layer.name}: '{name}' is already "
                                    f"{roles[name]}")
                roles[name] = "a parameter"
        if isinstance(spec.l2, str) and spec.l2 in roles:
            raise self.fail(at("l2"), f"l2: '{spec.l2}' is already {roles[spec.l2]}")

    def values(self, value, line: int, spec: Spec) -> dict[str, float]:
        """Numbers by name; with several examples an input or target takes a list, one
        per example (or one number for all), and out_h1(2)-style names are per example."""
        if not isinstance(value, dict):
            raise self.fail(line, f"values: expected a mapping of names to numbers, "
                            f"got {kind_of(value)}")
        known = settable_names(spec)
        per_example = _per_example(spec) if spec.examples > 1 else set()
        out, given_at = {}, {}
        for key, number in value.items():
            key_line = line_of(value, key)
            for name in ([f"{key}({n})" for n in range(1, spec.examples + 1)]
                         if key in per_example else [key]):
                if name in given_at:  # i1(2): 0.5 beside i1: [0.1, 0.2]
                    raise self.fail(key_line, f"values: {name} is given twice (at lines "
                                    f"{given_at[name]} and {key_line})")
                given_at[name] = key_line
            if key in per_example:
                numbers = number if isinstance(number, list) else [number] * spec.examples
                if len(numbers) != spec.examples:
                    raise self.fail(key_line, f"values.{key}: expected {spec.examples} numbers "
                                    f"(one per example), got {len(numbers)}")
                for n, item in enumerate(numbers, start=1):
                    out[f"{key}({n})"] = self.number(item, line_of(number, n - 1)
                                                     if isinstance(number, list) else key_line,
                                                     f"values.{key}[{n}]")
                continue
            if key not in known:
                hint = did_you_mean(key, sorted(known), n=1)
                raise self.fail(key_line, f"values: '{echo(key)}' is not an input, parameter "
                                f"or target of this network{hint}")
            out[key] = self.number(number, key_line, f"values.{key}")
        return out

    def aliases(self, value, line: int, places: dict) -> dict[str, str]:
        """Keys as written, whitespace dropped; `places` learns where each is defined."""
        if not isinstance(value, dict):
            raise self.fail(line, f"aliases: expected a mapping, got {kind_of(value)}")
        found = {}
        for key, text in value.items():
            name = "".join(key.split())
            if not name or not name.isprintable():
                raise self.fail(line_of(value, key), f"aliases: '{echo(key)}' is not a "
                                f"valid alias name")
            found[name] = self.text(text, line_of(value, key), f"aliases.{echo(key)}")
            places[name] = (self.file, line_of(value, key))
        return found

    def title(self, value, line: int) -> str:
        text = self.text(value, line, "name")
        if len(text) > 200 or not text.isprintable():
            raise self.fail(line, "name: expected one line of printable text (at most 200 "
                            "characters)")
        return text

def settable_names(spec: Spec) -> set[str]:
    """Names a `values:` entry may fix: inputs, parameters, targets and a named l2 (each
    example's inputs and targets by their own names, i1(2), with several examples)."""
    names = set()
    for layer in spec.layers:
        names.update(w for row in layer.weights for w in row if isinstance(w, str))
        names.update(b for b in layer.biases if b)
    if isinstance(spec.l2, str):
        names.add(spec.l2)
    leaves = _per_example(spec)
    if spec.examples == 1:
        return names | leaves
    return names | {f"{name}({n})" for name in leaves for n in range(1, spec.examples + 1)}


def _per_example(spec: Spec) -> set[str]:
    """The leaves each example has its own of: inputs and targets."""
    return set(spec.inputs) | {f"target_{spec.output.unit(j)}"
                               for j in range(1, spec.output.units + 1)}
