"""Proofs by algebra that claim - truth is zero, and refutations the algebra can see.

The difference is rewritten in successively lower bases: deltas and loss terms by their
definitions, then each layer's outputs and nets, top to bottom. Each layer's outputs stay
atoms as long as possible, so most backprop identities are polynomial identities that
`expand` settles at once; exponentials become fresh positive symbols.

When no rewrite reaches zero, the last form may still show that the difference cannot be
zero: a nonzero constant, an exponential, a sign-definite term, a nonzero polynomial in
free leaves, or a product of these. Numbers alone can miss such a difference (it may be
e^-300 small, or vanish at every point drawn); the verdict then looks for it directly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import sympy as sp

from . import limits
from .assumptions import ONE_HOT, SUM_TO_ONE
from .network import Network

MAX_OPS = 1500  # larger expressions are not expanded (their expansion can explode)
MAX_TERMS = 20_000  # nor ones whose expansion would make more terms than this
ASK_OPS = 200  # nor asked about their sign (SymPy's assumptions can be slow)


@dataclass
class Outcome:
    """`proved`; or `nonzero`: the last form of a difference that cannot be zero; or
    neither: the algebra did not settle it (in the time it had)."""

    proved: bool = False
    nonzero: sp.Expr | None = None


def cases(network: Network, assume: str | None) -> list[dict]:
    """Assumptions as substitutions: the last target is 1 - the others, or each one-hot."""
    targets = [q.symbol for q in network.quantities.values() if q.kind == "target"]
    if assume is not None and len(network.suffixes) > 1:  # the spec reader refuses it
        raise ValueError("an assumption on the targets of several examples")
    if assume == SUM_TO_ONE:
        return [{targets[-1]: 1 - sp.Add(*targets[:-1])}]
    if assume == ONE_HOT:
        return [{t: sp.Integer(k == hot) for k, t in enumerate(targets)}
                for hot in range(len(targets))]
    return [{}]


def settle(network: Network, difference: sp.Expr, assume: str | None,
           budget: float) -> Outcome:
    """Prove `difference` zero in every case of the assumption, or show it nonzero in one,
    within `budget` CPU seconds."""
    deadline = limits.deadline(budget)
    try:
        with limits.time_limit(budget):
            for case in cases(network, assume):
                proved, last = reduce(network, difference, deadline, case)
                if not proved:
                    nonzero = last if _nonzero(last, _leaf_symbols(network), deadline) \
                        else None
                    return Outcome(False, nonzero)
            return Outcome(True)
    except limits.OutOfTime:
        return Outcome()


def _leaf_symbols(network: Network) -> set[sp.Symbol]:
    if "leaf symbols" not in network.cache:
        network.cache["leaf symbols"] = {q.symbol for q in network.quantities.values()
                                         if q.is_leaf}
    return network.cache["leaf symbols"]


def rewrites(network: Network):
    """Substitution maps from the most compact basis down to inputs and parameters."""
    for layer in network.spec.layers:  # deltas from the input side up, then loss terms
        yield {s: network[s.name].definition for s in network.every(layer, "delta")}
    yield {q.symbol: q.definition for q in network.quantities.values() if q.kind == "loss"}
    for layer in reversed(network.spec.layers):
        for kind in ("out", "net"):
            yield {s: network[s.name].definition for s in network.every(layer, kind)}


def reduce(network: Network, difference: sp.Expr, deadline: float,
           assumed: dict | None = None) -> tuple[bool, sp.Expr]:
    """(True, 0) only if `difference` is identically zero (sound: never True by luck);
    else (False, the lowest form reached).

    `assumed` substitutes a condition (on the targets) after every rewrite."""
    assumed = {**_simplex(network), **(assumed or {})}
    current = difference.xreplace(_folds(network)).xreplace(assumed)
    # Cheap first: after the backward rewrites a right claim is often the truth term for
    # term, and SymPy cancels it on construction, with no expansion at all.
    cheap = current
    for mapping in itertools.islice(rewrites(network), len(network.spec.layers) + 1):
        cheap = substitute(cheap, mapping).xreplace(assumed)
        if cheap == 0:
            return True, cheap
    if _is_zero(current, deadline):
        return True, sp.S.Zero
    for mapping in rewrites(network):
        if limits.passed(deadline):
            return False, current
        rewritten = substitute(current, mapping).xreplace(assumed)
        if rewritten != current:
            current = rewritten
            if _is_zero(current, deadline):
                return True, sp.S.Zero
    return False, current


def _folds(network: Network) -> dict:
    """Each net's and elementwise out's definition, mapped to its name: a claim written
    in the layer below (sigmoid(net_h1), from sigmoid_prime or \\sigma'(z)) meets the
    truth in its own basis (out_h1) before anything is expanded. Sound: the two are equal
    by definition."""
    if "folds" not in network.cache:
        network.cache["folds"] = {
            q.definition: q.symbol for q in network.quantities.values()
            if q.kind in ("net", "out") and q.definition is not None
            and not q.definition.is_Symbol
            and (q.kind == "net" or network.layer(q.layer).activation != "softmax")}
    return network.cache["folds"]


def _simplex(network: Network) -> dict:
    """A softmax layer's outputs sum to 1: an identity, so the last is 1 - the others."""
    identities = {}
    for layer in network.spec.layers:
        if layer.activation == "softmax":
            for n in _examples(network):  # each example's outputs, apart
                outs = network.units(layer, "out", n)
                identities[outs[-1]] = 1 - sp.Add(*outs[:-1])
    return identities


def _examples(network: Network) -> list:
    return list(range(1, len(network.suffixes) + 1)) if len(network.suffixes) > 1 else [None]


def substitute(e: sp.Expr, mapping: dict) -> sp.Expr:
    """Apply a rewrite until none of its symbols is left (deltas refer to deltas above)."""
    while e.free_symbols & mapping.keys():
        e = e.xreplace(mapping)
    return e


def _is_zero(e: sp.Expr, deadline: float) -> bool:
    if e == 0:
        return True
    if limits.passed(deadline) or sp.count_ops(e) > MAX_OPS:
        return False
    expanded = expand(e)
    if expanded is None or limits.passed(deadline):
        return False
    if expanded == 0:
        return True
    if sp.count_ops(expanded) > 4 * MAX_OPS:
        return False
    rational = _exponentials_as_symbols(expanded)
    if rational is not None:
        numerator, _ = sp.fraction(sp.together(rational))
        return expand(numerator) == 0
    return False


def expand(e: sp.Expr) -> sp.Expr | None:
    """sympy.expand, unless it would make more than MAX_TERMS terms (it cannot be stopped)."""
    return sp.expand(e) if _expansion_cost(e) <= MAX_TERMS else None


def _expansion_cost(e: sp.Expr) -> float:
    """An upper estimate of the terms expand() creates, (a+b)**200 included."""
    def walk(node) -> tuple[float, float]:  # (terms of node, work inside it)
        if node.is_Atom:
            return 1, 0
        inner = [walk(a) for a in node.args]
        work = sum(w for _, w in inner)
        if node.is_Add:
            terms = sum(t for t, _ in inner)
        elif node.is_Mul:
            terms = math.prod(t for t, _ in inner)
        elif node.is_Pow and node.exp.is_Integer and node.exp > 0:
            base = inner[0][0]
            terms = base ** int(node.exp) if base == 1 or \
                int(node.exp) * math.log(base) < math.log(MAX_TERMS + 1) else math.inf
        else:
            terms = 1
        return min(terms, math.inf), work + terms

    return walk(e)[1]


def _exponentials_as_symbols(e: sp.Expr) -> sp.Expr | None:
    """exp(a*x + b*y) -> z_x**a * z_y**b with fresh positive z: a rational function."""
    e = e.rewrite(sp.exp) if e.has(sp.tanh, sp.sinh, sp.cosh) else e
    if not e.has(sp.exp):
        return None
    fresh: dict[sp.Expr, sp.Symbol] = {}

    def atom(term: sp.Expr) -> sp.Expr:
        coefficient, rest = term.as_coeff_Mul()
        if rest not in fresh:
            fresh[rest] = sp.Symbol(f"_z{len(fresh)}", positive=True)
        return fresh[rest] ** coefficient

    def replace(arg: sp.Expr) -> sp.Expr:
        return sp.Mul(*(atom(t) for t in sp.Add.make_args(expand(arg) or arg)))

    return e.replace(lambda x: isinstance(x, sp.exp), lambda x: replace(x.args[0]))


# --- refutation ------------------------------------------------------------------------

def _nonzero(e: sp.Expr, leaves: set, deadline: float) -> bool:
    """Can `e` be seen, from its form, to be nonzero wherever it is defined?

    Every symbol is real. A factor counts when it is a nonzero number, an exponential, a
    power of such a factor, a sign-definite expression by SymPy's assumptions, or a
    polynomial in the network's free leaves that is not the zero polynomial (such a
    polynomial vanishes only on a set of measure zero)."""
    if e == 0 or limits.passed(deadline):
        return False
    if e.is_Mul:
        return all(_nonzero(f, leaves, deadline) for f in e.args)
    if e.is_number:
        return _nonzero_number(e)
    if isinstance(e, sp.exp):
        return True
    if e.is_Pow:
        return _nonzero(e.base, leaves, deadline)
    if e.free_symbols <= leaves and e.is_polynomial(*e.free_symbols):
        expanded = expand(e)
        return expanded is not None and expanded != 0
    if sp.count_ops(e) <= ASK_OPS:
        return bool(e.is_positive or e.is_negative)
    return False


def _nonzero_number(e: sp.Expr) -> bool:
    """A constant whose value is nonzero at two precisions that agree on it."""
    from . import screen  # the precision rules live with the numbers

    value = screen.constant(e)
    return value is not None and value != 0
