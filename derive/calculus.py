"""Derivatives over the quantity graph: gradients, d(A, B), expansion, cones.

The chain rule is one generic walk over each quantity's local partials (micrograd's
`_backward`, run forward from B). Gradients of E_total take the backprop shortcut through
the named deltas, so they stay compact: dE/dw5 = delta_o1*out_h1.
"""

from __future__ import annotations

import sympy as sp

from .errors import ClaimError
from .network import Network, Quantity, product


def kind_of_variable(network: Network, wrt: sp.Basic) -> Quantity:
    """The quantity B of d(A, B): a net, an out, a parameter, an input or a target."""
    quantity = network.quantity_of(wrt)
    if quantity is None or quantity.kind in ("loss", "delta"):
        raise ClaimError(f"cannot differentiate with respect to {wrt}: the second argument "
                         f"of d(A, B) must be a net, out, weight, bias, input or target")
    return quantity


def gradient(network: Network, name: str) -> sp.Expr:
    """dE_total/d(name), compact: in terms of deltas and outputs."""
    return derivative(network, network.loss.symbol, network[name].symbol)


def derivative(network: Network, of: sp.Expr, wrt: sp.Symbol) -> sp.Expr:
    """d(of, wrt) with SPEC §2's meaning: `of` as a function of wrt's layer-mates of its kind."""
    variable = kind_of_variable(network, wrt)
    if of == network.loss.symbol:
        if variable.kind == "net":
            return network[variable.name.replace("net_", "delta_", 1)].symbol
        if variable.kind in ("weight", "bias", "input"):
            return _through_deltas(network, variable)
    return _chain(network, of, variable)


def _through_deltas(network: Network, variable: Quantity) -> sp.Expr:
    """dE/dp = sum over the nets that use p of delta * dnet/dp (+ the l2 term)."""
    key = ("grad", variable.name)
    if key not in network.cache:
        terms = [_times(delta, net.partials[variable.symbol])
                 for net, delta in _nets_using(network).get(variable.symbol, [])]
        if variable.symbol in network.loss.partials:  # l2
            terms.append(network.loss.partials[variable.symbol])
        network.cache[key] = terms[0] if len(terms) == 1 else sp.Add(*terms)
    return network.cache[key]


def _times(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a*b; for two distinct symbols (a delta and the weight's source, once per weight of
    a 25,088-weight template) without SymPy's general flattening."""
    return product(a, b) if a.is_Symbol and b.is_Symbol else a * b


def _nets_using(network: Network) -> dict[sp.Symbol, list]:
    """For each symbol, the nets whose definition uses it, with their deltas (built once)."""
    if "uses" not in network.cache:
        uses: dict[sp.Symbol, list] = {}
        for q in network.quantities.values():
            if q.kind == "net":
                delta = network[q.name.replace("net_", "delta_", 1)].symbol
                for parent in q.partials:
                    uses.setdefault(parent, []).append((q, delta))
        network.cache["uses"] = uses
    return network.cache["uses"]


def _chain(network: Network, of: sp.Expr, variable: Quantity) -> sp.Expr:
    """Forward-mode chain rule from `variable`, holding its layer-mates of its kind fixed."""
    wrt = variable.symbol
    if variable.kind in ("net", "out"):
        layer = network.layer(variable.layer)
        held = set(network.units(layer, variable.kind, variable.example)) - {wrt}
    else:
        held = set()
    memo: dict[sp.Symbol, sp.Expr] = {}

    def along(sym: sp.Symbol) -> sp.Expr:
        if sym == wrt:
            return sp.S.One
        if sym in held:
            return sp.S.Zero
        if sym not in memo:
            quantity = network.quantity_of(sym)
            if quantity is None or quantity.is_leaf:
                memo[sym] = sp.S.Zero
            else:
                memo[sym] = sp.Add(*(partial * along(parent)
                                     for parent, partial in quantity.partials.items()))
        return memo[sym]

    return sp.Add(*(sp.diff(of, s) * along(s) for s in of.free_symbols))


def expand(network: Network, expr: sp.Expr) -> sp.Expr:
    """Rewrite in inputs, parameters and targets only."""
    return expr.xreplace({s: _expanded(network, s) for s in expr.free_symbols})


def _expanded(network: Network, sym: sp.Symbol) -> sp.Expr:
    quantity = network.quantity_of(sym)
    if quantity is None or quantity.is_leaf:
        return sym
    table = network.cache.setdefault("expanded", {})
    if sym not in table:
        parents = quantity.definition.free_symbols
        table[sym] = quantity.definition.xreplace({p: _expanded(network, p) for p in parents})
    return table[sym]


def cone(network: Network, *exprs: sp.Expr) -> set[sp.Symbol]:
    """The quantities the expressions rest on, themselves included."""
    seen: set[sp.Symbol] = set()
    stack = [s for e in exprs for s in e.free_symbols]
    while stack:
        sym = stack.pop()
        if sym in seen:
            continue
        seen.add(sym)
        quantity = network.quantity_of(sym)
        if quantity is not None and quantity.definition is not None:
            stack.extend(parents(network, quantity))
    return seen


def leaves(network: Network, *exprs: sp.Expr) -> list[str]:
    """The inputs, parameters and targets the expressions rest on, in network order."""
    seen = cone(network, *exprs)
    return [q.name for q in network.quantities.values() if q.is_leaf and q.symbol in seen]


def parents(network: Network, quantity: Quantity) -> set[sp.Symbol]:
    """The symbols a quantity's definition uses (SymPy recomputes free_symbols each time)."""
    table = network.cache.setdefault("parents", {})
    if quantity.symbol not in table:
        linear = network.linear.get(quantity.symbol)
        if linear is not None and all(w.is_Symbol for w in linear[0]):  # a net: read off
            weights, sources, bias = linear  # its lists, not its hundreds of products
            biases = [] if bias is None else [bias]
            table[quantity.symbol] = {*weights, *sources, *biases}
        else:  # (a fixed weight of 0 drops its source from the definition)
            table[quantity.symbol] = quantity.definition.free_symbols
    return table[quantity.symbol]
