"""Where a wrong claim goes wrong: the smallest edit that makes it right, once proved.

A teaching assistant reads a wrong derivation and says which part is wrong: "w6 where w7
belongs", "the claim lacks the factor out_h1*(1 - out_h1)", "1 - out_h1 where
1 - out_h1**2 belongs", "net_s2 where exp(net_s2) belongs". This module proposes such
edits, smallest first, comparing the claim with the truth in each basis the proof uses
(the compact one, then deltas and loss terms written out). A hint is only ever said of
an edit whose result is *proved* equal to the truth: a guess is never a hint.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import mpmath
import sympy as sp

from . import limits, numeric, proof
from .network import Network

BUDGET = 3.0  # CPU seconds for all the candidates of one claim
EACH = 1.0  # ... and for the proof of one
MAX_CANDIDATES = 12  # proofs tried (candidates that numbers already refute cost none)
MAX_OPS = 400  # larger formulas are not searched for a factor
FUNCTIONS = (sp.exp, lambda x: x**2, lambda x: 1 - x, lambda x: -x)  # x where f(x) belongs


@dataclass(frozen=True)
class Edit:
    """The hint's words, with the expressions it names (relabelled with a template's
    instances, like a term)."""

    words: str  # with {0}, {1} for the expressions
    exprs: sp.Tuple

    def said(self, printer) -> str:
        return self.words.format(*(printer(e) for e in self.exprs.args))


def localise(network: Network, claim: sp.Expr, truth: sp.Expr, assume: str | None,
             samples=(), digits: int = 30) -> Edit | None:
    """The smallest proved edit of the claim that gives the truth, or None.

    `samples`: (the truth's value, the network's values) at a few points, where an edit
    that does not even agree in numbers is dropped before any proof is tried."""
    deadline = limits.deadline(BUDGET)
    tried = 0
    for candidate, edit in _candidates(network, claim, truth):
        if tried >= MAX_CANDIDATES or limits.passed(deadline):
            return None
        if candidate == claim or not _agrees(candidate, samples, digits):
            continue
        tried += 1
        budget = min(EACH, max(deadline - limits.clock(), 0.05))
        if proof.settle(network, candidate - truth, assume, budget).proved:
            return edit
    return None


def _agrees(candidate: sp.Expr, samples, digits: int) -> bool:
    with mpmath.workdps(digits):
        for truth, env in samples:
            try:
                value = numeric.evaluate(candidate, env)
            except (numeric.Missing, numeric.Undefined):
                continue  # the proof will tell
            if abs(value - truth) > mpmath.mpf(10) ** -(digits // 2) * max(abs(truth), 1):
                return False
    return True


def _candidates(network: Network, claim: sp.Expr, truth: sp.Expr):
    """(edited claim, the edit) pairs, the smallest edits first."""
    forms = list(_forms(network, claim, truth))
    yield from _names(network, claim, forms)
    yield from _factors(network, reversed(forms))  # the basis most written out says most
    yield from _functions(network, claim)


def _forms(network: Network, claim: sp.Expr, truth: sp.Expr):
    """(claim, truth) in the compact basis, then with each layer's deltas and the loss
    terms written out, as far as the formulas stay small."""
    yield claim, truth
    for mapping in itertools.islice(proof.rewrites(network), len(network.spec.layers) + 1):
        rewritten = proof.substitute(claim, mapping), proof.substitute(truth, mapping)
        if rewritten != (claim, truth):
            claim, truth = rewritten
            if sp.count_ops(truth) > MAX_OPS:
                return
            yield claim, truth


def _names(network: Network, claim: sp.Expr, forms):
    """One name where another of its kind (and layer) belongs, w6 for w7; then two or
    three at once (w5 and w7 where w6 and w8 belong: a unit's weights for another's).
    The names wanted are those of the truth in one basis at a time."""
    used = _quantities(network, claim)

    def alike(a, b):
        a, b = network.quantity_of(a), network.quantity_of(b)
        return (a.kind, a.layer) == (b.kind, b.layer)

    seen = set()
    for _, truth in forms:
        wanted = _quantities(network, truth)
        wrong, right = sorted(used - wanted, key=str), sorted(wanted - used, key=str)
        edits = [[(a, b)] for a in wrong for b in right if alike(a, b)]
        if 2 <= len(wrong) <= 3 and len(right) >= len(wrong):
            edits += [list(zip(wrong, chosen))
                      for chosen in itertools.permutations(right, len(wrong))
                      if all(alike(a, b) for a, b in zip(wrong, chosen))]
        for pairs in edits:
            if tuple(pairs) in seen:
                continue
            seen.add(tuple(pairs))
            said = ", and ".join(f"{{{2 * k}}} where {{{2 * k + 1}}} belongs"
                                 for k in range(len(pairs)))
            yield claim.xreplace(dict(pairs)), \
                Edit(said, sp.Tuple(*(x for pair in pairs for x in pair)))


def _quantities(network: Network, e: sp.Expr) -> set[sp.Symbol]:
    return {s for s in e.free_symbols if network.quantity_of(s) is not None}


def _factors(network: Network, forms):
    """A factor too few, too many, or one in place of another, in some basis."""
    for claim, truth in forms:
        if max(sp.count_ops(claim), sp.count_ops(truth)) > MAX_OPS:
            continue
        have, want = _factor_list(claim), _factor_list(truth)
        extra = list((Counter(have) - Counter(want)).elements())  # counted: out_h1**2 has
        missing = list((Counter(want) - Counter(have)).elements())  # one out_h1 too many
        wrong, right = sp.Mul(*extra), sp.Mul(*missing)
        if not extra and missing:
            yield claim * right, Edit("the claim lacks the factor {0}", sp.Tuple(right))
        elif extra and not missing:
            yield claim / wrong, Edit("the claim has an extra factor {0}", sp.Tuple(wrong))
        elif extra and missing and _replaces_a_part(network, have, extra, wrong, right):
            yield claim / wrong * right, Edit("{0} where {1} belongs", sp.Tuple(wrong, right))


def _replaces_a_part(network: Network, have: list, extra: list, wrong: sp.Expr,
                     right: sp.Expr) -> bool:
    """A factor in place of another is a hint when the rest of the claim stands (or the
    claim is small), when it does not send the student back to a delta the claim wrote
    out, and when the two do not differ by whole terms (a term too few or too many says
    that better)."""
    if len(extra) == len(have) and sp.count_ops(wrong) + sp.count_ops(right) > 10:
        return False
    if _named(network, right) - _named(network, wrong):
        return False
    return not any(sp.Add.make_args(big) and small in sp.Add.make_args(big)
                   for small, big in ((wrong, right), (right, wrong)) if big.is_Add)


def _named(network: Network, e: sp.Expr) -> set[sp.Symbol]:
    return {s for s in _quantities(network, e)
            if network.quantity_of(s).kind in ("delta", "loss")}


def _factor_list(e: sp.Expr) -> list[sp.Expr]:
    """The non-numeric factors of a product (a power counts as its base, repeated)."""
    found = []
    for factor in sp.Mul.make_args(sp.factor_terms(e)):
        if factor.is_number:
            continue
        base, power = factor.as_base_exp()
        found += [base] * int(power) if power.is_Integer and 0 < power < 5 else [factor]
    return found


def _functions(network: Network, claim: sp.Expr):
    """A name where a function of it belongs (net_s2 where exp(net_s2)): every bare
    occurrence of the names of one kind in one layer, the function's own left alone."""
    groups: dict[tuple, list[sp.Symbol]] = {}
    for s in sorted(_quantities(network, claim), key=str):
        q = network.quantity_of(s)
        groups.setdefault((q.kind, q.layer), []).append(s)
    for names in groups.values():
        for function in FUNCTIONS:
            kept = {function(s): sp.Dummy() for s in names}
            bare = claim.xreplace(kept)
            changed = [s for s in names if s in bare.free_symbols]
            if not changed:
                continue
            edited = bare.xreplace({s: function(s) for s in changed}).xreplace(
                {d: f for f, d in kept.items()})
            pairs = sp.Tuple(*(x for s in changed for x in (s, function(s))))
            said = ", and ".join(f"{{{2 * k}}} where {{{2 * k + 1}}} belongs"
                                 for k in range(len(changed)))
            yield edited, Edit(said, pairs)
