"""The names a formula may use in a network (SPEC §2, §6): quantities, indexed families,
and the vectors and matrices of each layer.

Between the network and the claims: a claim, a check's `of` and `wrt`, and `use:` lists
all resolve names here, so every syntax (SymPy's, LaTeX, an alias) means the same thing.
"""

from __future__ import annotations

import re

import sympy as sp

from . import calculus, expr, matrices
from .errors import ClaimError
from .network import Network

FAMILY = re.compile(r"(out|net|delta|target|b|w|E)_([A-Za-z](?:[A-Za-z_]*[A-Za-z])?)")
VECTOR = re.compile(r"(out|net|delta|target|b|W)_([A-Za-z](?:[A-Za-z_]*[A-Za-z])?)")
INPUTS = "inputs"


class Vocabulary(expr.Scope):
    """Every name a formula may use in this network."""

    def __init__(self, network: Network):
        self.network = network
        self._members: dict[tuple, sp.Symbol | None] = {}  # a template asks again and again

    def name(self, name):
        network = self.network
        if name in network:
            return network[name].symbol
        if name.startswith("n_") and (layer := network.layer(name[2:])):
            return sp.Integer(layer.units)
        return self.vector(name)

    def vector(self, name):
        """net_h, out_h, delta_h, target_o, b_h (columns), W_h (rows: the units fed)."""
        network = self.network
        if name == INPUTS:
            return matrices.column(network[x].symbol for x in network.spec.inputs)
        match = VECTOR.fullmatch(name)
        layer = match and network.layer(match.group(2))
        if not layer:
            return None
        prefix = match.group(1)
        if prefix == "W":
            return matrices.made(tuple(network[w].symbol for w in row) for row in layer.weights)
        if prefix == "b":
            if not any(layer.biases):
                raise ClaimError(f"layer {layer.name} has no bias")
            return matrices.column(network[b].symbol if b else sp.S.Zero
                                   for b in layer.biases)
        names = [f"{prefix}_{layer.unit(j)}" for j in range(1, layer.units + 1)]
        if names[0] not in network:  # target_h: only the output layer has targets
            return None
        return matrices.column(network[n].symbol for n in names)

    def family(self, name, indices):
        key = (name, *indices)
        if key not in self._members:
            self._members[key] = self._member(name, indices)
        return self._members[key]

    def _member(self, name, indices):
        network = self.network
        if name == network.input_family:
            _in_range(name, indices, [len(network.spec.inputs)])
            return network[f"{name}{indices[0]}"].symbol
        match = FAMILY.fullmatch(name)
        layer = match and network.layer(match.group(2))
        if not layer:
            return None
        prefix = match.group(1)
        if prefix == "w":
            below = network.below(layer)
            _in_range(name, indices, [layer.units, len(below)])
            return network[layer.weights[indices[0] - 1][indices[1] - 1]].symbol
        _in_range(name, indices, [layer.units])
        if prefix == "b":
            bias = layer.biases[indices[0] - 1]
            if bias is None:
                raise ClaimError(f"layer {layer.name} has no bias")
            return network[bias].symbol
        member = f"{prefix}_{layer.unit(indices[0])}"
        return network[member].symbol if member in network else None

    def range_of(self, name, position):
        network = self.network
        if name == network.input_family:
            return len(network.spec.inputs) if position == 0 else None
        match = FAMILY.fullmatch(name)
        layer = match and network.layer(match.group(2))
        if not layer:
            return None
        if position == 0:
            return layer.units
        if position == 1 and match.group(1) == "w":
            return len(network.below(layer))
        return None

    def derivative(self, of, wrt):
        return matrices.derivative(of, wrt, lambda a, b: calculus.derivative(self.network, a, b))

    def known_names(self):
        network = self.network
        names = list(network.quantities) + [f"n_{layer.name}" for layer in network.spec.layers]
        for layer in network.spec.layers:
            names += [f"{prefix}_{layer.name}" for prefix in ("net", "out", "delta", "W")]
        return names + [f"target_{network.spec.output.name}", INPUTS]


def _in_range(name, indices, sizes):
    if len(indices) != len(sizes):
        raise ClaimError(f"{name}[...] takes {len(sizes)} "
                         f"ind{'ices' if len(sizes) > 1 else 'ex'}, got {len(indices)}")
    for index, size in zip(indices, sizes):
        if not 1 <= index <= size:
            raise ClaimError(f"{name}[{', '.join(map(str, indices))}]: index {index} is "
                             f"out of range (1 to {size})")
