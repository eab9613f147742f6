"""The names a formula may use in a network (SPEC §2, §6): quantities, indexed families,
and the vectors and matrices of each layer.

Between the network and the claims: a claim, a check's `of` and `wrt`, and `use:` lists
all resolve names here, so every syntax (SymPy's, LaTeX, an alias) means the same thing.
"""

from __future__ import annotations

import contextlib
import re

import sympy as sp

from . import calculus, expr, matrices
from .errors import ClaimError, NoLayer
from .network import Network
from .numbering import BY_LAYER, LAST

FAMILY = re.compile(r"(out|net|delta|target|b|w|E)_([A-Za-z](?:[A-Za-z_]*[A-Za-z])?)")
VECTOR = re.compile(r"(out|net|delta|target|b|W)_([A-Za-z](?:[A-Za-z_]*[A-Za-z])?)")
INPUTS = "inputs"


class Vocabulary(expr.Scope):
    """Every name a formula may use in this network."""

    def __init__(self, network: Network):
        self.network = network
        # a template asks again and again, of its every vocabulary: kept with the network
        self._members: dict[tuple, sp.Symbol | None] = network.cache.setdefault("members", {})
        self._layers: dict[str, tuple] = {}  # a family's prefix and layer, by its name
        self.template_layer: str | None = None  # the layer a check's template indexes
        self.several = network.spec.examples > 1  # training examples (SPEC §8)
        self.example: int | None = None  # the one a name is being read in: out_h1(2)

    def examples(self) -> int:
        return self.network.spec.examples if self.several else 0

    def shared(self, value) -> bool:
        """Is `value` made of what every example shares (parameters, constants) alone?"""
        quantities = [self.network.quantity_of(s) for e in matrices.entries(value)
                      for s in getattr(e, "free_symbols", ())]
        return bool(quantities) and all(q is not None and q.example is None and
                                        q.kind != "loss" for q in quantities)

    def name(self, name, example=None):
        with self._in(example):
            return self._name(name)

    @contextlib.contextmanager
    def _in(self, example):
        if example is not None and not 1 <= example <= self.network.spec.examples:
            raise ClaimError(f"there is no example {example} (examples 1 to "
                             f"{self.network.spec.examples})")
        outer, self.example = self.example, example if self.several else None
        try:
            yield
        finally:
            self.example = outer

    def _q(self, name: str) -> sp.Symbol:
        """A per-example quantity by its own name (out_h1), in the example being read."""
        if not self.several:
            return self.network[name].symbol
        if self.example is None:
            raise ClaimError(f"{name} is one per training example here: write {name}(n)")
        return self.network[f"{name}({self.example})"].symbol

    def _has(self, name: str) -> bool:
        return f"{name}(1)" in self.network if self.several else name in self.network

    def _name(self, name):
        network = self.network
        if name in network and network[name].example is None:
            if name == network.loss.name and self.example is not None:
                return network[f"{name}({self.example})"].symbol  # E_total(n)
            return network[name].symbol  # a parameter is every example's
        if self.several and self._has(name):
            return self._q(name)
        if name == "n_examples":
            return sp.Integer(network.spec.examples)
        if name.startswith("n_") and (layer := network.layer(name[2:])):
            return sp.Integer(layer.units)
        if network.spec.notation is not None:
            found = self._numbered_name(name)
            if found is not None:
                return found
        return self.vector(name)

    # --- numbered layers (SPEC §7) -----------------------------------------------------------

    def _numbered_name(self, name):
        """L, C (the loss), x and y (the inputs and targets as vectors)."""
        network, numbering = self.network, self.network.spec.notation
        if name == LAST:
            return sp.Integer(numbering.last(len(network.spec.layers)))
        meaning = numbering.meaning(name)
        if meaning == "E_total":
            return self._name(network.loss.name)
        if meaning == "input":
            return self.vector(INPUTS)
        if meaning == "target":
            return self.vector(f"target_{network.spec.output.name}")
        return None

    def layered(self, letter: str) -> str | None:
        """What a numbered letter stands for (out, net, weight, ...), or None."""
        numbering = self.network.spec.notation
        return numbering.meaning(letter) if numbering is not None else None

    def by_layer(self, letter: str) -> bool:
        return self.layered(letter) in BY_LAYER

    def index_count(self, letter: str) -> int:
        return 2 if self.layered(letter) in ("weight", "weights") else 1

    def layer_of(self, letter: str, number: int):
        """The layer that `letter` at layer `number` names (None: the inputs), or NoLayer
        when there is none: a template over layers skips such numbers."""
        network, numbering = self.network, self.network.spec.notation
        layers = network.spec.layers
        position = numbering.index(number, len(layers))
        meaning = numbering.meaning(letter)
        if position is None:
            raise NoLayer(f"{letter}[{number}]: there is no layer {number} (the layers are "
                          f"numbered {numbering.first} to {numbering.last(len(layers))})")
        if position == -1:
            if meaning in ("out", "units"):
                return None
            raise NoLayer(f"{letter}[{number}]: layer {number} is the input layer, which "
                          f"has no {meaning}")
        layer = layers[position]
        if meaning == "bias" and not any(layer.biases):
            raise NoLayer(f"{letter}[{number}]: layer {number} has no bias")
        return layer

    def _numbered(self, letter: str, indices: tuple[int, ...]):
        meaning = self.layered(letter)
        network = self.network
        if meaning == "input":
            return self._nth(letter, network.spec.inputs, indices)
        if meaning == "target":
            output = network.spec.output
            return self._nth(letter, [f"target_{output.unit(j)}"
                                      for j in range(1, output.units + 1)], indices)
        if meaning not in ("out", "net", "delta", "bias", "weight", "weights", "units"):
            return None
        if not indices:
            raise ClaimError(f"{letter}[...] needs the layer's number first: {letter}[l, ...]")
        number, *rest = indices
        layer = self.layer_of(letter, number)
        matrix = meaning in ("weight", "weights")  # Nielsen's w^l: the matrix; w^l_jk: entry
        if len(rest) not in ((0, 2) if matrix else (0,) if meaning == "units" else (0, 1)):
            shape = f"{letter}[l] or {letter}[l, j, k]" if matrix else f"{letter}[l]" \
                if meaning == "units" else f"{letter}[l] or {letter}[l, j]"
            raise ClaimError(f"{letter}[{', '.join(map(str, indices))}]: write {shape}")
        meaning = ("weight" if rest else "weights") if matrix else meaning
        if meaning == "units":
            return sp.Integer(len(network.spec.inputs) if layer is None else layer.units)
        units = len(network.spec.inputs) if layer is None else layer.units
        sizes = [units, len(network.below(layer))] if meaning == "weight" else [units]
        for index, size in zip(rest, sizes):
            if not 1 <= index <= size:
                raise ClaimError(f"{letter}[{', '.join(map(str, indices))}]: index {index} "
                                 f"is out of range in layer {number} (1 to {size})")
        if layer is None:  # the input layer's outs are the inputs
            return self._nth(letter, network.spec.inputs, rest) if rest else \
                self.vector(INPUTS)
        prefix = {"weight": "w", "weights": "W", "bias": "b"}.get(meaning, meaning)
        if not rest:
            return self.vector(f"{prefix}_{layer.name}")
        return self._member(f"{prefix}_{layer.name}", tuple(rest))

    def _nth(self, letter: str, names: list[str], indices: tuple[int, ...]):
        if len(indices) != 1:
            raise ClaimError(f"{letter}[...] takes 1 index, got {len(indices)}")
        _in_range(letter, indices, [len(names)])
        return self._q(names[indices[0] - 1])

    def numbered_range(self, letter: str, number: int, position: int) -> int | None:
        """How many members `letter[number, ...]` has along an index position."""
        meaning = self.layered(letter)
        network = self.network
        if meaning == "input":
            return len(network.spec.inputs) if position == 0 else None
        if meaning == "target":
            return network.spec.output.units if position == 0 else None
        try:
            layer = self.layer_of(letter, number)
        except NoLayer:
            return None
        units = len(network.spec.inputs) if layer is None else layer.units
        if position == 1 and meaning in ("out", "net", "delta", "bias", "weight", "weights"):
            return units
        if position == 2 and meaning in ("weight", "weights"):
            return len(network.below(layer))
        return None

    def layers(self) -> range:
        """Every layer number, the input layer's first (none without `notation:`)."""
        numbering = self.network.spec.notation
        if numbering is None:
            return range(0)
        return range(numbering.first, numbering.last(len(self.network.spec.layers)) + 1)

    def exists(self, letter: str, number: int) -> bool:
        try:
            self.layer_of(letter, number)
        except NoLayer:
            return False
        return True

    def vector(self, name):
        """net_h, out_h, delta_h, target_o, b_h (columns), W_h (rows: the units fed); with
        several examples, out_h is one column per example (Ng's layout), out_h(n) one."""
        network = self.network
        if name == INPUTS:
            return self._columns(list(network.spec.inputs))
        match = VECTOR.fullmatch(name)
        layer = match and network.layer(match.group(2))
        if not layer:
            return None
        prefix = match.group(1)
        if prefix == "W":
            return matrices.made(tuple(_weight(network, w) for w in row)
                                 for row in layer.weights)
        if prefix == "b":
            if not any(layer.biases):
                raise ClaimError(f"layer {layer.name} has no bias")
            return matrices.column(network[b].symbol if b else sp.S.Zero
                                   for b in layer.biases)
        names = [f"{prefix}_{layer.unit(j)}" for j in range(1, layer.units + 1)]
        if not self._has(names[0]):  # target_h: only the output layer has targets
            return None
        return self._columns(names)

    def _columns(self, names: list[str]):
        """The per-example quantities as a column, or one column per example."""
        network = self.network
        if self.several and self.example is None:
            return matrices.made(tuple(network[f"{n}({k})"].symbol
                                       for k in range(1, network.spec.examples + 1))
                                 for n in names)
        return matrices.column(self._q(n) for n in names)

    def family(self, name, indices, example=None):
        key = (name, *indices, example)
        if key not in self._members:
            if example is None and not self.several:  # (the context costs as much as
                found = self._member(name, indices)  # the lookup, 25,088 times a template)
            else:
                with self._in(example):
                    found = self._member(name, indices)
            if found is None and self.layered(name):
                with self._in(example):
                    found = self._numbered(name, indices)
            self._members[key] = found
        return self._members[key]

    def _member(self, name, indices):
        network = self.network
        if name == network.input_family:
            _in_range(name, indices, [len(network.spec.inputs)])
            return self._q(f"{name}{indices[0]}")
        if name not in self._layers:
            match = FAMILY.fullmatch(name)
            self._layers[name] = (match.group(1), network.layer(match.group(2))) if match \
                else (None, None)
        prefix, layer = self._layers[name]
        if not layer:
            return None
        if prefix == "w":
            below = network.below(layer)
            _in_range(name, indices, [layer.units, len(below)])
            return _weight(network, layer.weights[indices[0] - 1][indices[1] - 1])
        _in_range(name, indices, [layer.units])
        if prefix == "b":
            bias = layer.biases[indices[0] - 1]
            if bias is None:
                raise ClaimError(f"layer {layer.name} has no bias")
            return network[bias].symbol
        member = f"{prefix}_{layer.unit(indices[0])}"
        return self._q(member) if self._has(member) else None

    def range_of(self, name, position):
        network = self.network
        if name == network.input_family or self.layered(name) == "input":
            return len(network.spec.inputs) if position == 0 else None
        if self.layered(name) == "target":
            return network.spec.output.units if position == 0 else None
        match = FAMILY.fullmatch(name)
        layer = match and network.layer(match.group(2))
        if not layer:
            return None
        if position == 0:
            return layer.units
        if position == 1 and match.group(1) == "w":
            return len(network.below(layer))
        return None

    def in_template_layer(self, base, sub, env):
        """In a template over a layer's weights (wrt: w_o[j, k]), LaTeX's w_{jk}, b_j and
        \\delta_j are that layer's, as a course writes them."""
        layer = self.template_layer
        if layer is None or sub is None:
            return None
        letters = list(sub.replace(",", "").replace("_", ""))
        if not all(letter in env for letter in letters):
            return None
        if base == "w" and len(letters) == 2:
            return self.family(f"w_{layer}", tuple(env[x] for x in letters))
        if base in ("delta", "b") and len(letters) == 1:
            return self.family(f"{base}_{layer}", (env[letters[0]],))
        return None

    def derivative(self, of, wrt):
        return matrices.derivative(of, wrt, lambda a, b: calculus.derivative(self.network, a, b))

    def activation_derivative(self, name: str) -> None:
        """An activation's derivative is used by its name (sigmoid_prime, LaTeX's \\sigma'):
        anything goes here; an answer's rules may refuse it (claims.Names)."""

    def known_names(self):
        network = self.network
        names = list(network.quantities) + [f"n_{layer.name}" for layer in network.spec.layers]
        for layer in network.spec.layers:
            names += [f"{prefix}_{layer.name}" for prefix in ("net", "out", "delta", "W")]
        names += [f"target_{network.spec.output.name}", INPUTS]
        if network.spec.notation is not None:
            names += [*network.spec.notation.letters, LAST]
        return names


def _weight(network: Network, weight) -> sp.Expr:
    """A weight entry's value: its parameter, a fixed number, or 0 (no connection)."""
    if isinstance(weight, str):
        return network[weight].symbol
    return sp.S.Zero if weight is None else weight


def _in_range(name, indices, sizes):
    if len(indices) != len(sizes):
        raise ClaimError(f"{name}[...] takes {len(sizes)} "
                         f"ind{'ices' if len(sizes) > 1 else 'ex'}, got {len(indices)}")
    for index, size in zip(indices, sizes):
        if not 1 <= index <= size:
            raise ClaimError(f"{name}[{', '.join(map(str, indices))}]: index {index} is "
                             f"out of range (1 to {size})")
