"""A template whose indices only number units: each instance is its first, relabelled.

`Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))*out_h[j]*(1 - out_h[j])*i[k]` over `w_h[j, k]`:
j numbers h's units wherever it appears, k the inputs', and m runs over all of o. Renumber
h and the inputs (symmetry.py) and the claim read at (1, 1) becomes, symbol for symbol,
the claim read at (j, k); so do `of` and `wrt`, and with them the truth, since the
relabelling maps the network onto itself. Read off the formula once, that replaces
building and comparing 25,088 claims of the first layer of an MNIST network.

`layout` reads the formula once: every family it names is looked up at every index value
the template and its sums give, and each index must be the unit number of one renumbered
layer (or of no renumbered layer at all). Anything else an index does (arithmetic, a sum
over part of a renumbered layer or named like a template variable, a constant unit of a
renumbered layer, a LaTeX name, an alias, a matrix) and there is no layout: the instances
are built and compared one by one, as before.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from . import expr
from .errors import DeriveError
from .symmetry import Permutations, Symmetry, completed

LOOKUPS = 200_000  # family lookups one template's reading may spend (25,088 for w_h[j, k]
# of a 784-32-10 network): past that, the instances are compared one by one
PLAIN = {"num", "add", "mul", "pow", "neg", "indicator"}  # nodes that only combine values


class Unproved(Exception):
    """The formula does something with an index this reading does not follow."""


@dataclass
class Layout:
    """Which layer's units each template variable numbers, by layer in order of use."""

    variables: tuple[str, ...]
    by_layer: dict[int, tuple[str, ...]]

    def orbit(self, env: dict) -> tuple[tuple, Permutations]:
        """The first instance like `env` (its index values) and the permutations from it
        to env: w_h[3, 7] is w_h[1, 1] with h's unit 1 sent to 3, the inputs' 1 to 7."""
        first, perms = dict(env), {}
        for layer, names in self.by_layer.items():
            if len(names) == 1:  # the common case, and what completed makes of it
                x, first[names[0]] = env[names[0]], 1
                if x != 1:
                    perms[layer] = {1: x, x: 1}
                continue
            values = list(dict.fromkeys(env[v] for v in names))
            for v in names:
                first[v] = values.index(env[v]) + 1
            perm = completed({k: x for k, x in enumerate(values, start=1)})
            if perm:
                perms[layer] = perm
        return tuple(first[v] for v in self.variables), perms


def layout(table: Symmetry, names, of: expr.Node, wrt: expr.Node, bodies, ranges: dict) \
        -> Layout | None:
    """The layout of a template (`ranges`: each variable's values), or None when one of
    `bodies` (its claims' formulas) or its of and wrt may not be relabelled."""
    try:
        return _Reading(table, names, ranges).read(of, wrt, bodies)
    except (Unproved, DeriveError, RecursionError):
        return None


class _Reading:
    def __init__(self, table: Symmetry, names, ranges: dict):
        self.table, self.names, self.ranges = table, names, ranges
        self.layers: dict[str, int] = {}  # variable -> its layer
        self.sums: dict[int, tuple[str, range]] = {}  # Sum node -> (variable, values)
        self.moved_sums: dict[int, int] = {}  # Sum node -> the renumbered layer it covers
        self.fixed_sums: set[int] = set()  # Sum nodes whose variable numbers no such layer
        self.lookups = 0

    def read(self, of, wrt, bodies) -> Layout:
        variables = tuple(self.ranges)
        for node in (of, wrt):  # first: the layer of each variable, from of and wrt
            if node.kind == "family":
                self._family(node, {}, discover=True)
            elif node.kind != "name":
                raise Unproved
        if set(self.layers) != set(variables):
            raise Unproved
        for node in (of, wrt):  # then a name (of: out_h1) must be no renumbered unit
            if node.kind == "name":
                self._name(node.value, {})
        for layer in set(self.layers.values()):
            if not self.table.symmetric(layer):
                raise Unproved
        for body in bodies:
            self._walk(body, {})
        if self.moved_sums.keys() & self.fixed_sums:
            raise Unproved  # a sum variable that numbers a renumbered layer and another
        by_layer: dict[int, list[str]] = {}
        for v in variables:
            by_layer.setdefault(self.layers[v], []).append(v)
        return Layout(variables, {layer: tuple(vs) for layer, vs in by_layer.items()})

    # --- the formula, node by node ----------------------------------------------------------

    def _walk(self, node: expr.Node, bound: dict) -> None:
        """`bound`: the sums around this node, by variable name -> the Sum node."""
        kind = node.kind
        if kind in PLAIN:
            for arg in node.args:
                self._walk(arg, bound)
        elif kind == "name":
            self._name(node.value, bound)
        elif kind == "family":
            self._family(node, bound)
        elif kind == "sum":
            self._sum(node, bound)
        elif kind == "call" and (node.value == "d" or not expr.FUNCTIONS[node.value].whole) \
                and node.value != "hadamard":
            for arg in node.args:
                self._walk(arg, bound)
        else:  # a LaTeX name, an example's (n), a matrix product, a whole-matrix function
            raise Unproved

    def _name(self, name: str, bound: dict) -> None:
        if name in bound:
            self.fixed_sums.add(id(bound[name]))  # a sum variable used as a number
            return
        if name in self.ranges:
            raise Unproved  # a template variable used as a number
        if self.names.alias(name) is not None:
            raise Unproved
        value = self.names.name(name)
        if value is None:
            value = expr.CONSTANTS.get(name)
        if not isinstance(value, sp.Basic) or not (value.is_Symbol or value.is_Number):
            raise Unproved  # unknown (the build will say so), or a vector
        position = self.table.positions.get(value) if value.is_Symbol else None
        if position is not None and self._renumbered(position[1]):
            raise Unproved  # a unit of a renumbered layer, named as a constant

    def _sum(self, node: expr.Node, bound: dict) -> None:
        body, low, high = node.args
        if node.value in self.ranges or not (low.kind == "num" and low.value == 1):
            raise Unproved  # (a sum's variable named like the template's hides it)
        if high is None:
            if any(n.kind == "family" and self.names.by_layer(n.value) for n in body.walk()):
                raise Unproved  # its range may hang on the layer an instance reads
            size = expr.implied_range(body, node.value, self.names, {})
        elif high.kind == "num" and high.value.is_Integer:
            size = int(high.value)
        elif high.kind == "name" and high.value not in bound and \
                high.value not in self.ranges and self.names.alias(high.value) is None:
            size = self.names.name(high.value)  # (read as _name reads a name: an alias is
            # what the build would read, and is refused)
            size = int(size) if isinstance(size, sp.Integer) else None
        else:
            size = None
        if size is None or size < 0:
            raise Unproved
        self.sums[id(node)] = (node.value, range(1, size + 1))
        self._walk(body, {**bound, node.value: node})

    def _renumbered(self, units) -> bool:
        """Is one of these (layer, unit) pairs in a layer a template variable numbers?"""
        layers = set(self.layers.values())
        return any(layer in layers for layer, _ in units)

    # --- a family: every index value looked up --------------------------------------------

    def _family(self, node: expr.Node, bound: dict, discover: bool = False) -> None:
        """Each index of a family is a template variable, a sum's variable or a number.
        Looked up at every value they take, the family must give the symbol at one
        position of the network whose units are, for the indices that renumber a layer,
        (that layer, the index's value) in a fixed place, and besides those units only
        units of layers no variable renumbers, which the other indices alone decide."""
        slots = []  # (values, what: ("var", v) | ("sum", node) | ("num", None))
        for arg in node.args:  # (a sum's variable first, as evaluate reads it)
            if arg.kind == "name" and arg.value in bound:
                slots.append((list(self.sums[id(bound[arg.value])][1]),
                              ("sum", bound[arg.value])))
            elif arg.kind == "name" and arg.value in self.ranges:
                slots.append((list(self.ranges[arg.value]), ("var", arg.value)))
            elif arg.kind == "num" and arg.value.is_Integer:
                slots.append(([int(arg.value)], ("num", None)))
            else:
                raise Unproved
        if any(not values for values, _ in slots):
            return  # an empty sum: nothing to look up
        first = tuple(values[0] for values, _ in slots)
        start = self._position(node.value, first)
        places = {}  # slot -> (layer, place of its unit in the position)
        for i, (values, what) in enumerate(slots):
            if len(values) < 2:
                continue  # one value: no renumbering moves it
            probe = self._position(node.value, first[:i] + (values[1],) + first[i + 1:])
            place = changed(start, probe, values[0], values[1])
            if what[0] == "var":
                layer = place[0]
                if discover and self.layers.setdefault(what[1], layer) != layer:
                    raise Unproved  # one variable numbering two layers
                if self.layers.get(what[1]) != layer:
                    raise Unproved
                places[i] = place
            elif what[0] == "sum" and place[0] in self.layers.values():
                size = self.table.sizes[place[0]]
                if values != list(range(1, size + 1)):
                    raise Unproved  # a sum over part of a renumbered layer
                if self.moved_sums.setdefault(id(what[1]), place[0]) != place[0]:
                    raise Unproved  # one sum variable numbering two layers
                places[i] = place
            elif what[0] == "sum":
                self.fixed_sums.add(id(what[1]))
        for values, what in slots:
            if what[0] == "var" and len(values) > 1 and \
                    values != list(range(1, self.table.sizes[self.layers[what[1]]] + 1)):
                raise Unproved  # a variable over part of its layer
        rests: dict[tuple, tuple] = {}
        taken = {place for _, place in places.values()}
        for t in itertools.product(*(values for values, _ in slots)):
            kind, units = self._position(node.value, t)
            for i, (layer, place) in places.items():
                if place >= len(units) or units[place] != (layer, t[i]):
                    raise Unproved
            rest = (kind, tuple(u for p, u in enumerate(units) if p not in taken))
            if self._renumbered(rest[1]):
                raise Unproved  # a constant unit of a renumbered layer
            key = tuple(x for i, x in enumerate(t) if i not in places)
            if rests.setdefault(key, rest) != rest:
                raise Unproved

    def _position(self, family: str, indices: tuple) -> tuple:
        self.lookups += 1
        if self.lookups > LOOKUPS:
            raise Unproved
        value = self.names.family(family, indices)
        if not isinstance(value, sp.Symbol):
            raise Unproved  # a fixed weight, an absent edge, a vector, or no such name
        position = self.table.positions.get(value)
        if position is None or self.table.at.get(position) != value:
            raise Unproved
        return position


def changed(start: tuple, probe: tuple, before: int, after: int) -> tuple[int, int]:
    """Where one index's change shows in a position: (the layer, the unit's place)."""
    (kind, units), (other_kind, other) = start, probe
    if kind != other_kind or len(units) != len(other):
        raise Unproved
    changed = [p for p, (u, v) in enumerate(zip(units, other)) if u != v]
    if len(changed) != 1:
        raise Unproved
    (layer, unit), (other_layer, other_unit) = units[changed[0]], other[changed[0]]
    if layer != other_layer or (unit, other_unit) != (before, after):
        raise Unproved  # the index is not the unit's number
    return layer, changed[0]
