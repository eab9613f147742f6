"""Read and validate a spec file (SPEC §1) into plain dataclasses, every error with its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from . import expr, feedback, files, losses, numbering, safeyaml
from .assumptions import ASSUMPTIONS  # noqa: F401 (claims and the CLI read it here)
from .errors import DeriveError, SpecError, did_you_mean, echo
from .fields import Fields
from .layers import MAX_UNITS, Layer
from .layers import read as read_layers
from .questions import Check, Exercise, Formula, Questions  # noqa: F401
from .safeyaml import kind_of, line_of

TOP_KEYS = ("name", "inputs", "layers", "loss", "l2", "examples", "reduction", "notation",
            "values", "checks", "aliases", "exercises", "feedback")
MAX_EXAMPLES = 256
REDUCTIONS = ("sum", "mean")


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


class Reader(Fields):
    """A spec file's sections, each read and checked where it is (its layers by
    layers.py, its questions by questions.py)."""

    def spec(self, data) -> Spec:
        top = self.mapping(data, getattr(data, "line", 1), "spec", TOP_KEYS,
                           required=("inputs", "layers"))
        at = lambda key: line_of(top, key)  # noqa: E731
        inputs = self.inputs(top["inputs"], at("inputs"))
        layers = read_layers(self, top["layers"], at("layers"), inputs)
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
