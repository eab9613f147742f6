"""A spec as a graph of named quantities, each defined compactly by the ones just below it.

net_h1 = w1*i1 + w2*i2 + b1, out_h1 = sigmoid(net_h1), ..., E_total, and by backprop
delta_o1 = (out_o1 - target_o1)*out_o1*(1 - out_o1), delta_h1 = (delta_o1*w5 + ...)*....
Every quantity keeps its local partial derivatives, so the chain rule is one generic walk
(calculus.py) and nothing is ever one huge nested expression unless asked to expand.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass

import sympy as sp
from sympy.core.add import _addsort
from sympy.core.mul import _mulsort

from . import activations, expr, losses
from .errors import ClaimError, SpecError
from .spec import Layer, Spec

LEAVES = ("input", "weight", "bias", "target", "constant")


def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


@dataclass
class Quantity:
    """A named thing a claim can mention; `definition` is None for leaves."""

    symbol: sp.Symbol
    kind: str  # input, weight, bias, target, constant, net, out, loss, delta
    meaning: str
    layer: str | None = None
    definition: sp.Expr | None = None
    known_partials: dict[sp.Symbol, sp.Expr] | None = None
    example: int | None = None  # which training example (SPEC §8), if there are several

    @property
    def partials(self) -> dict[sp.Symbol, sp.Expr]:
        """d(definition)/d(parent) for each symbol the definition uses, made on first use."""
        if self.known_partials is None:
            definition = self.definition if self.definition is not None else sp.S.Zero
            self.known_partials = {s: sp.diff(definition, s) for s in definition.free_symbols}
        return self.known_partials

    @property
    def name(self) -> str:
        return self.symbol.name

    @property
    def is_leaf(self) -> bool:
        return self.kind in LEAVES


class Network:
    """The quantities of a spec, in the order they are computed (inputs to deltas)."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.quantities: dict[str, Quantity] = {}
        self.params: list[str] = []  # distinct weights and biases, in order of appearance
        self.cache: dict = {}  # calculus keeps expansions and derivatives here
        self.linear: dict[sp.Symbol, tuple] = {}  # net -> (weights, sources, bias): its
        # weighted sum as lists, for a forward pass a layer at a time (calculus.py)
        self.input_family = _input_family(spec.inputs)
        try:
            self._build()
        except SpecError as exc:
            raise exc.located(spec.file) from None

    def _repr_html_(self) -> str:  # in a notebook: its layers and the names of a claim
        from . import display

        return display.network_html(self)

    def __repr__(self) -> str:
        from . import display

        return display.network_text(self)

    def reading(self, spec: Spec) -> Network:
        """This network read with another spec's checks and aliases (a student's answers
        to its exercises), sharing its quantities and caches: a class's submissions are
        read against one network, built once."""
        view = copy.copy(self)
        view.spec = spec
        return view

    def _build(self) -> None:
        """Each example's inputs, layers and loss (SPEC §8: the parameters are shared,
        every other quantity is per example, named out_h1(2)), then E_total, then the
        deltas."""
        spec = self.spec
        several = spec.examples > 1
        self.suffixes = [f"({n})" for n in range(1, spec.examples + 1)] if several else [""]
        losses_of = []
        for n, suffix in enumerate(self.suffixes, start=1):
            self.suffix, self.example = suffix, (n if several else None)
            for name in spec.inputs:
                self._add(name + suffix, "input", f"input {name}" +
                          (f" of example {n}" if several else ""))
            for layer in spec.layers:
                self._layer(layer, [self.source(name) for name in self.below(layer)])
            losses_of.append(self._loss())
        self.suffix, self.example = "", None
        total = sp.Add(*losses_of)
        if spec.reduction == "mean":
            total = total / spec.examples
        self._add("E_total", "loss", f"the loss ({spec.loss}"
                  + (f", the {spec.reduction} over {spec.examples} examples)" if several
                     else ")"), None, total + self._l2())
        self._backprop()

    # --- lookups ---------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Quantity:
        return self.quantities[name]

    def __contains__(self, name: str) -> bool:
        return name in self.quantities

    def quantity_of(self, sym: sp.Basic) -> Quantity | None:
        return self.quantities.get(getattr(sym, "name", None)) if sym.is_Symbol else None

    def layer(self, name: str) -> Layer | None:
        return next((layer for layer in self.spec.layers if layer.name == name), None)

    def below(self, layer: Layer) -> list[str]:
        """Names of the units (or inputs) that feed a layer, in its weights' column order:
        the layer below, or its `from:` (SPEC §9)."""
        return layer.sources

    def source(self, name: str) -> sp.Symbol:
        """What a source of a layer contributes, in the example being built: an input
        itself, or a unit's out."""
        if name in self.spec.inputs:
            return self[name + self.suffix].symbol
        return self[f"out_{name}{self.suffix}"].symbol

    def units(self, layer: Layer, prefix: str, example: int | None = None) -> list[sp.Symbol]:
        """A layer's nets, outs, deltas or targets in one example (the only one, if
        `example` is None)."""
        suffix = f"({example})" if example is not None else ""
        return [self[f"{prefix}_{layer.unit(j)}{suffix}"].symbol
                for j in range(1, layer.units + 1)]

    def every(self, layer: Layer, prefix: str) -> list[sp.Symbol]:
        """... in every example."""
        examples = range(1, len(self.suffixes) + 1) if len(self.suffixes) > 1 else [None]
        return [s for n in examples for s in self.units(layer, prefix, n)]

    @property
    def loss(self) -> Quantity:
        return self["E_total"]

    # --- building ----------------------------------------------------------------------------

    def _add(self, name: str, kind: str, meaning: str, layer: str | None = None,
             definition: sp.Expr | None = None, partials: dict | None = None) -> Quantity:
        if name in self.quantities:
            known = self.quantities[name]
            if known.kind in ("weight", "bias") and kind in ("weight", "bias"):
                return known  # tying: one name, one parameter
            raise SpecError(f"'{name}' is used both as {known.meaning} and as {meaning}")
        example = None if kind in ("weight", "bias", "constant") or name == "E_total" else \
            getattr(self, "example", None)
        quantity = Quantity(symbol(name), kind, meaning, layer, definition, partials, example)
        self.quantities[name] = quantity
        if kind in ("weight", "bias"):
            self.params.append(name)
        return quantity

    def _layer(self, layer: Layer, below: list[sp.Symbol]) -> None:
        for j in range(1, layer.units + 1):  # parameters first, in reading order
            for src, wname in zip(self.below(layer), layer.weights[j - 1]):
                if isinstance(wname, str):
                    self._add(wname, "weight", f"weight {src} -> {layer.unit(j)}")
        for j, bias in enumerate(layer.biases, start=1):
            if bias:
                self._add(bias, "bias", f"bias of {layer.unit(j)}")
        nets, suffix = [], self.suffix
        for j in range(1, layer.units + 1):
            unit = layer.unit(j)
            terms, partials = [], defaultdict(list)
            for src, name in zip(below, layer.weights[j - 1]):
                if name is None:  # no connection
                    continue
                if not isinstance(name, str):  # a fixed weight
                    terms.append(name * src)
                    partials[src].append(name)
                    continue
                weight = self[name].symbol
                terms.append(product(weight, src))
                partials[weight].append(src)  # a weight tied within the row sums its inputs
                partials[src].append(weight)
            bias = None
            if layer.biases[j - 1]:
                bias = self[layer.biases[j - 1]].symbol
                terms.append(bias)
                partials[bias].append(sp.S.One)
            joined = [(name, src) for src, name in zip(below, layer.weights[j - 1])
                      if name is not None]
            linear = ([self[w].symbol if isinstance(w, str) else w for w, _ in joined],
                      [src for _, src in joined], bias)
            nets.append(self._add(f"net_{unit}{suffix}", "net", f"pre-activation of {unit}",
                                  layer.name, weighted_sum(terms),
                                  {s: p[0] if len(p) == 1 else sp.Add(*p)
                                   for s, p in partials.items()}).symbol)
            self.linear[nets[-1]] = linear
        outs = [symbol(f"out_{layer.unit(j)}{suffix}") for j in range(1, layer.units + 1)]
        if layer.activation == "softmax":
            forward = activations.softmax(nets)
            local = [{nets[k]: activations.softmax_derivative(outs, j, k)
                      for k in range(layer.units)} for j in range(layer.units)]
        else:
            act = self._activation(layer)
            forward = [act.forward(n, layer.alpha) for n in nets]
            local = [{n: act.derivative(n, o, layer.alpha)} for n, o in zip(nets, outs)]
        for j, out in enumerate(outs):
            self._add(out.name, "out", f"activation of {layer.unit(j + 1)} "
                      f"({layer.activation})", layer.name, forward[j], local[j])

    def _activation(self, layer: Layer) -> activations.Activation:
        if layer.activation != "custom":
            return activations.ACTIVATIONS[layer.activation]
        x = symbol("x")
        formula = expr.evaluate(layer.custom, _Variable(x))
        _defined(formula, f"layer {layer.name}: activation.custom", layer.line)
        return activations.custom(formula, x)

    def _loss(self) -> sp.Expr:
        """The loss of the example being built: E_total(n) with several, else its formula."""
        spec, output, suffix = self.spec, self.spec.output, self.suffix
        outs = self.units(output, "out", self.example)
        targets = [self._add(f"target_{output.unit(j)}{suffix}", "target",
                             f"target of {output.unit(j)}", output.name).symbol
                   for j in range(1, output.units + 1)]
        if spec.loss == "custom":
            try:
                total = expr.evaluate(spec.custom_loss, _LossNames(self))
            except ClaimError as exc:
                raise SpecError(f"loss.custom: {exc.message}", line=spec.loss_line) from None
            _defined(total, "loss.custom", spec.loss_line)
        elif spec.loss in losses.NAMED_TERMS:
            terms = losses.LOSSES[spec.loss](outs, targets)
            total = sp.Add(*(self._add(f"E_{output.unit(j + 1)}{suffix}", "loss",
                                       f"loss term of {output.unit(j + 1)}", output.name,
                                       term).symbol
                             for j, term in enumerate(terms)))
        else:
            total = sp.Add(*losses.LOSSES[spec.loss](outs, targets))
        if not suffix:
            return total
        return self._add(f"E_total{suffix}", "loss", f"the loss of example {self.example}",
                         None, total).symbol

    def _l2(self) -> sp.Expr:
        if self.spec.l2 is None:
            return sp.S.Zero
        lam = self.spec.l2
        if isinstance(lam, str):
            lam = self._add(lam, "constant", "the L2 coefficient").symbol
        weights = [self[p].symbol for p in self.params if self[p].kind == "weight"]
        return lam / 2 * sp.Add(*(w**2 for w in weights))

    def _backprop(self) -> None:
        """delta = dE_total/dnet for every unit, each written through the nets that use
        its output (the layer above, or any later layer that takes it with `from:`)."""
        layers = self.spec.layers
        loss = self.loss
        users: dict[sp.Symbol, list[Quantity]] = defaultdict(list)
        for layer in layers:
            for net in self.every(layer, "net"):
                for parent in self[net.name].partials:
                    users[parent].append(self[net.name])
        examples = range(1, len(self.suffixes) + 1) if len(self.suffixes) > 1 else [None]
        for example in examples:
            for index in range(len(layers) - 1, -1, -1):
                layer = layers[index]
                outs = self.units(layer, "out", example)
                if index == len(layers) - 1:
                    own = loss if example is None else self[f"E_total({example})"]
                    scale = 1 if example is None else loss.partials[own.symbol]
                    grads = [scale * _total_partial(self, own.symbol, out) for out in outs]
                    # through this example's own loss: E_total's other terms do not
                    # depend on its outputs (the walk over them all was quadratic)
                else:
                    grads = [sp.Add(*(self[net.name.replace("net_", "delta_", 1)].symbol
                                      * net.partials[out] for net in users[out]))
                             for out in outs]
                self.example = example
                for net in self.units(layer, "net", example):
                    delta = sp.Add(*(grad * self[out.name].partials.get(net, 0)
                                     for grad, out in zip(grads, outs)))
                    self._add(net.name.replace("net_", "delta_", 1), "delta",
                              f"dE_total/d{net.name}", layer.name, delta)
        self.example = None


def weighted_sum(terms: list[sp.Expr]) -> sp.Expr:
    """sp.Add(*terms), for distinct products of two symbols (and symbols): sorted as Add
    sorts them, without its flattening (a sixth of building 784-32-10)."""
    plain = all(t.is_Symbol or (t.is_Mul and len(t.args) == 2 and t.args[0].is_Symbol
                                and t.args[1].is_Symbol) for t in terms)
    if len(terms) < 2 or not plain or len(set(terms)) != len(terms):
        return sp.Add(*terms)
    args = list(terms)
    if all(_ours(s) for t in args for s in (t.args or (t,))):
        args.sort(key=_by_names)
    else:
        _addsort(args)
    return sp.Add._from_args(args)


def product(a: sp.Symbol, b: sp.Symbol) -> sp.Expr:
    """a*b for two distinct symbols, the very object SymPy's Mul would build, without its
    general flattening: a tenth of the cost, so the largest network builds in seconds."""
    if a == b:
        return a * b
    if _ours(a) and _ours(b):
        return sp.Mul._from_args((a, b) if a.name < b.name else (b, a))
    args = [a, b]
    _mulsort(args)
    return sp.Mul._from_args(tuple(args))


def _ours(s: sp.Basic) -> bool:
    """A symbol made by `symbol`: SymPy orders two of them by their names alone (their
    class and assumptions are the same), a symbol before a product (class order)."""
    return type(s) is sp.Symbol and s._assumptions0 == _REAL


def _by_names(term: sp.Expr) -> tuple:
    """The key under which SymPy's Add orders symbols of ours and products of two."""
    return (0, term.name) if term.is_Symbol else (1, term.args[0].name, term.args[1].name)


_REAL = sp.Symbol("x", real=True)._assumptions0


def _defined(formula: sp.Expr, where: str, line: int) -> None:
    """A custom formula with a division by zero or an infinity in it defines nothing."""
    if formula.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I):
        raise SpecError(f"{where}: the formula is undefined or complex as written "
                        f"(a division by zero, log(0), sqrt(-1), ...)", line=line)


def _total_partial(network: Network, of: sp.Symbol, out: sp.Symbol) -> sp.Expr:
    """d(of)/d(out) through loss terms (E_total -> E_o1 -> out_o1), outputs held apart."""
    quantity = network.quantity_of(of)
    if quantity is None or quantity.definition is None or quantity.kind != "loss":
        return sp.S.One if of == out else sp.S.Zero
    return sp.Add(*(partial * _total_partial(network, parent, out)
                    for parent, partial in quantity.partials.items()))


def _input_family(inputs: list[str]) -> str | None:
    """`x` when the inputs are x1..xn in order: then `x[k]` names them."""
    matches = [re.fullmatch(r"([A-Za-z]+)(\d+)", name) for name in inputs]
    if all(matches) and len({m.group(1) for m in matches}) == 1 and \
            [int(m.group(2)) for m in matches] == list(range(1, len(inputs) + 1)):
        return matches[0].group(1)
    return None


class _Variable(expr.Scope):
    """The scope of a custom activation: just x."""

    def __init__(self, x: sp.Symbol):
        self.x = x

    def name(self, name, example=None):
        return self.x if name == "x" else None

    def known_names(self):
        return ["x"]


class _LossNames(expr.Scope):
    """The scope of a custom loss: the outputs and the targets, by name or by family."""

    def __init__(self, network: Network):
        output, suffix = network.spec.output, network.suffix
        self.members = {f"{prefix}_{output.name}":
                        [network[f"{prefix}_{output.unit(j)}{suffix}"]
                         for j in range(1, output.units + 1)]
                        for prefix in ("out", "target")}
        self.suffix = suffix

    def name(self, name, example=None):
        found = [q for members in self.members.values() for q in members
                 if q.name == name + self.suffix]
        if found:
            return found[0].symbol
        return sp.Integer(len(self.members["out_" + name[2:]])) \
            if "out_" + name[2:] in self.members and name.startswith("n_") else None

    def family(self, name, indices, example=None):
        members = self.members.get(name)
        if members is None or len(indices) != 1:
            return None
        if not 1 <= indices[0] <= len(members):
            raise ClaimError(f"{name}[{indices[0]}]: index {indices[0]} is out of range "
                             f"(1 to {len(members)})")
        return members[indices[0] - 1].symbol

    def range_of(self, name, position):
        return len(self.members[name]) if name in self.members and position == 0 else None

    def known_names(self):
        return [q.name.removesuffix(self.suffix) if self.suffix else q.name
                for members in self.members.values() for q in members]
