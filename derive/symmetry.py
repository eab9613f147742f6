"""Relabelling a layer's units maps the network onto itself, so one proof serves a template.

Swap units 1 and 3 of layer h, and with them net_h1/net_h3, out_h1/out_h3, delta_h1/delta_h3,
their biases, the rows of h's weights and the columns of the weights above: the network is
the same network, every definition mapped onto a definition. A relabelling like that turns
an identity into an identity, so a template claim proved for w_h[1, 1] is proved for
w_h[3, 7] as soon as the relabelling sends that claim and its truth to w_h[3, 7]'s, term for
term. Tied weights, mixed biases or a custom loss that weighs one output apart break a
layer's symmetry: `Symmetry.symmetric` checks a swap and a cycle, which generate every
permutation, against every definition of the network before any relabelling is trusted.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import sympy as sp

from . import calculus
from .network import Network

Position = tuple  # (kind, ((layer, unit), ...)), 1-based units; layer 0 holds the inputs
Permutations = dict  # layer -> {unit: where it goes}, for the units that move only (a
# template over 25,088 weights relabels each from the first: full-width tuples were most
# of its cost)


class Symmetry:
    """Where each symbol sits in the network's layers, and which layers may be permuted."""

    def __init__(self, network: Network):
        self.network = network
        self.at: dict[Position, sp.Symbol | None] = {}
        self.sizes = [len(network.spec.inputs)] + [lay.units for lay in network.spec.layers]
        self.positions: dict[sp.Symbol, Position] = {}
        self._symmetric: dict[int, bool] = {}
        self._by_unit: dict | None = None
        self._at_names: dict | None = None
        self._name_counts: Counter | None = None
        self._linear_names: dict = {}
        self._by_name: dict | None = None
        self._with_definitions: list | None = None
        if len(network.suffixes) > 1:  # several examples: no relabelling is trusted yet,
            self._symmetric = dict.fromkeys(range(len(self.sizes)), False)  # each judged
            return                                                           # on its own
        for k, name in enumerate(network.spec.inputs, start=1):
            self._place(("input", ((0, k),)), name)
        where = {name: (0, k) for k, name in enumerate(network.spec.inputs, start=1)}
        for index, layer in enumerate(network.spec.layers, start=1):
            where.update({layer.unit(u): (index, u) for u in range(1, layer.units + 1)})
        for index, layer in enumerate(network.spec.layers, start=1):
            for u in range(1, layer.units + 1):
                unit = ((index, u),)
                for kind in ("net", "out", "delta", "target", "E"):
                    if f"{kind}_{layer.unit(u)}" in network:
                        self._place((kind, unit), f"{kind}_{layer.unit(u)}")
                self._place(("bias", unit), layer.biases[u - 1])
                for src, name in zip(layer.sources, layer.weights[u - 1]):
                    self._place(("weight", ((index, u), where[src])),  # from: too; a fixed
                                name if isinstance(name, str) else None)  # weight: the
                    # definitions' check below tells whether it breaks the symmetry
        self.positions: dict[sp.Symbol, Position] = {}
        for position, sym in self.at.items():
            if sym is not None:
                self.positions.setdefault(sym, position)
        self._symmetric: dict[int, bool] = {}

    def _place(self, position: Position, name: str | None) -> None:
        self.at[position] = self.network[name].symbol if name else None

    def symmetric(self, layer: int) -> bool:
        """Is every permutation of this layer's units an automorphism of the network?"""
        if layer not in self._symmetric:
            n = self.sizes[layer]
            swap = {1: 2, 2: 1}
            cycle = {u: u % n + 1 for u in range(1, n + 1)}
            self._symmetric[layer] = n < 2 or all(
                self._automorphism({layer: g}) for g in (swap, cycle))
        return self._symmetric[layer]

    def _automorphism(self, perms: Permutations) -> bool:
        """Does the relabelling map symbols one to one and every definition onto one?
        (By the symbols' names, which hash in C: a cycle of 784 inputs moves 25,000.)"""
        at, by_unit = self._names_at(), self._index()
        visited = dict.fromkeys(p for layer, perm in perms.items() for unit in perm
                                for p in by_unit.get((layer, unit), ()))
        mapping: dict[str | None, str | None] = {}  # (only the positions of units that
        for position in visited:  # move: every other position is its own image)
            moved, name = _moved(position, perms), at[position]
            if moved not in at:  # a weight with no counterpart (a partial from:)
                return False
            image = at[moved]
            if (name is None) != (image is None) or mapping.setdefault(name, image) != image:
                return False
        mapping.pop(None, None)
        if len(set(mapping.values())) != len(mapping):
            return False  # (the units that move are sent onto themselves: so are names)
        names = {s: t for s, t in mapping.items() if s != t}
        seen, counts = Counter(map(at.__getitem__, visited)), self._counts()
        if any(seen[s] != counts[s] for s in names):
            return False  # a name tied to a position that stays, so it must stay too
        network, symbols = self.network, self._symbols()
        mapping = {symbols[s]: symbols[t] for s, t in names.items()}
        moved = set(mapping)
        for quantity in self._defined():
            definition = quantity.definition
            image = mapping.get(quantity.symbol, quantity.symbol)
            if not (quantity.symbol in moved or calculus.parents(network, quantity) & moved):
                continue
            if quantity.symbol in network.linear and image in network.linear:
                if not self._sends_sum(quantity.symbol, image, names):
                    return False
            elif not sends(definition, network.quantity_of(image).definition, mapping):
                return False
        return True

    def _symbols(self) -> dict[str, sp.Symbol]:
        if self._by_name is None:
            self._by_name = {n: q.symbol for n, q in self.network.quantities.items()}
        return self._by_name

    def _defined(self) -> list:
        """The quantities with a definition (a few hundred of 784-32-10's 26,000)."""
        if self._with_definitions is None:
            self._with_definitions = [q for q in self.network.quantities.values()
                                      if q.definition is not None]
        return self._with_definitions

    def _names_at(self) -> dict[Position, str | None]:
        if self._at_names is None:
            self._at_names = {p: None if s is None else s.name for p, s in self.at.items()}
        return self._at_names

    def _sends_sum(self, net: sp.Symbol, image: sp.Symbol, names: dict) -> bool:
        """Is the image net's weighted sum the image of net's under the renaming `names`,
        product for product? (A net's definition is built from these lists; pairs counted
        with their repeats, numbers as written: never looser than the definitions.)"""
        (weights, sources, bias), (images, targets, image_bias) = \
            self._linear(net), self._linear(image)
        if len(weights) != len(images) or names.get(bias, bias) != image_bias:
            return False
        return dict.__eq__(Counter(zip(map(names.get, weights, weights),  # (dict's own ==
                                       map(names.get, sources, sources))),  # is C's: both
                           Counter(zip(images, targets)))  # count only what is there)

    def _linear(self, net: sp.Symbol) -> tuple:
        """A net's weights, sources and bias by name (a fixed weight as its number)."""
        if net not in self._linear_names:
            weights, sources, bias = self.network.linear[net]
            self._linear_names[net] = (
                [w.name if w.is_Symbol else w for w in weights], [s.name for s in sources],
                None if bias is None else bias.name)
        return self._linear_names[net]

    def _counts(self) -> Counter:
        """How many positions each name holds (more than one: tied)."""
        if self._name_counts is None:
            self._name_counts = Counter(self._names_at().values())
        return self._name_counts

    def _index(self) -> dict:
        """Each unit's positions."""
        if self._by_unit is None:
            self._by_unit = defaultdict(list)
            for position in self.at:
                for unit in set(position[1]):
                    self._by_unit[unit].append(position)
        return self._by_unit

    def relabelling(self, anchors: list[sp.Symbol]) -> tuple[list[sp.Symbol], Permutations] | None:
        """The first-numbered instance like `anchors`, and the permutations from it to them.

        w_h[3, 7] -> (w_h[1, 1], {h: 1->3, inputs: 1->7}); out_h[4], net_h[2] -> out_h[1],
        net_h[2] with 1->4, 2->2. None when a layer that would move is not symmetric."""
        positions = [self.positions.get(a) for a in anchors]
        seen: dict[int, list[int]] = {}
        for position in filter(None, positions):
            for layer, unit in position[1]:
                if unit not in seen.setdefault(layer, []):
                    seen[layer].append(unit)
        perms: Permutations = {}
        for layer, units in seen.items():
            perm = completed(dict(enumerate(units, start=1)))
            if perm:
                if not self.symmetric(layer):
                    return None
                perms[layer] = perm
        inverse = {layer: _inverse(perm) for layer, perm in perms.items()}
        first = [a if p is None else self.at[_moved(p, inverse)]
                 for a, p in zip(anchors, positions)]
        return first, perms

    def renumbering(self, values: dict[int, int]) -> Permutations:
        """Permutations that send unit v to unit values[v] in every symmetric layer where
        they fit: for claims whose index runs over one layer and indexes another
        (w_o[j, k] with out_h[j]), which `relabelling` cannot follow."""
        perms: Permutations = {}
        for layer, size in enumerate(self.sizes):
            perm = completed({v: w for v, w in values.items() if v <= size and w <= size})
            if perm and self.symmetric(layer):
                perms[layer] = perm
        return perms

    def mapping(self, symbols, perms: Permutations) -> dict[sp.Symbol, sp.Symbol]:
        """Where the relabelling sends each of `symbols` that it moves (valid once
        `relabelling` or `renumbering` made the permutations)."""
        if len(symbols) > MANY:
            moved = self._moved_symbols(perms)
            return {s: moved[s] for s in symbols if s in moved}
        images = {}
        for sym in symbols:
            position = self.positions.get(sym)
            if position is not None and any(layer in perms for layer, _ in position[1]):
                image = self.at[_moved(position, perms)]
                if image != sym:
                    images[sym] = image
        return images


    def _moved_symbols(self, perms: Permutations) -> dict[sp.Symbol, sp.Symbol]:
        """Every symbol the relabelling moves, found from the units it moves: a
        counterexample's point names every leaf, and a few hundred of them move."""
        by_unit = self._index()
        images = {}
        for layer, perm in perms.items():
            for unit in perm:
                for position in by_unit.get((layer, unit), ()):
                    sym, image = self.at[position], self.at[_moved(position, perms)]
                    if sym is not None and image != sym:
                        images[sym] = image
        return images


MANY = 64  # symbols past which the moved units are walked, not the symbols


def sends(a: sp.Basic, b: sp.Basic, mapping: dict) -> bool:
    """Is `b` the image of `a` under the renaming, up to the order of commutative arguments?

    A comparison, not a rebuild: xreplace would re-create and re-sort every product."""
    if a.is_Symbol:
        return mapping.get(a, a) == b
    if not a.args or not b.args:
        return a == b
    if a.func != b.func or len(a.args) != len(b.args):
        return False
    if not isinstance(a, COMMUTATIVE):
        return all(sends(x, y, mapping) for x, y in zip(a.args, b.args))
    many = len(a.args) > 16  # then sorted by the shape of the image: no n**2 search
    unmatched: dict[int, list] = defaultdict(list)
    for y in b.args:
        unmatched[_shape(y, {}) if many else 0].append(y)
    for x in a.args:  # two candidates for x are equal (both are x's image): any will do
        candidates = unmatched[_shape(x, mapping) if many else 0]
        k = next((k for k, y in enumerate(candidates) if sends(x, y, mapping)), None)
        if k is None:
            return False
        del candidates[k]
    return True


COMMUTATIVE = (sp.Add, sp.Mul, sp.Max, sp.Min)


def _shape(e: sp.Basic, mapping: dict) -> int:
    """A hash of e's image that ignores the order of commutative arguments."""
    if e.is_Symbol:
        return hash(mapping.get(e, e))
    if not e.args:
        return hash(e)
    shapes = [_shape(a, mapping) for a in e.args]
    if isinstance(e, COMMUTATIVE):
        shapes.sort()
    return hash((e.func, *shapes))


def of(network: Network) -> Symmetry:
    if "symmetry" not in network.cache:
        network.cache["symmetry"] = Symmetry(network)
    return network.cache["symmetry"]


def _moved(position: Position, perms: Permutations) -> Position:
    kind, units = position
    return kind, tuple([(layer, perms[layer].get(unit, unit) if layer in perms else unit)
                        for layer, unit in units])  # (a list first: faster than a generator)


def completed(images: dict[int, int]) -> dict[int, int]:
    """A permutation that sends each v to images[v] (distinct) and moves as few other
    units as it can: each unit that is an image but no source goes to a source that is no
    image, in order. Only the units that move are kept."""
    sources, targets = set(images), set(images.values())
    perm = {**images, **dict(zip(sorted(targets - sources), sorted(sources - targets)))}
    return {u: v for u, v in perm.items() if u != v}


def _inverse(perm: dict[int, int]) -> dict[int, int]:
    return {image: source for source, image in perm.items()}
