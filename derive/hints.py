"""Why a claim is wrong, in words: wrong sign, a constant factor, identically zero, a
condition on the targets, the part that is wrong (localise.py), a term too few or too
many.

Read off claim and truth at a few points (a hint is words, not a verdict: one precision
is enough), and, for a term, off the two formulas themselves.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import sympy as sp

from . import calculus, limits, localise, proof
from .assumptions import SUM_TO_ONE
from .network import Network
from .notation import to_text
from .screen import CONDITIONS, Sample, Screen

POINTS = 8  # where claim and truth are compared for a hint ...
FEW_POINTS = 3  # ... or, when the formulas rest on many quantities, this many
LARGE = 2_000  # quantities: a forward pass through them costs a good part of a second
HINT_OPS = 300  # formulas larger than this are not factored for a hint
TERM_BUDGET = 2.0  # CPU seconds to find and print a missing or extra term


def hint(screen: Screen, wrong: Sample) -> str | tuple[str, tuple[str, sp.Expr]] | None:
    """A reason in words, or (words, (what, term)) when it names a term of the formulas.

    `wrong` is the confirmed counterexample: every hint must hold there too."""
    count = POINTS if len(screen.cone) < LARGE else FEW_POINTS
    samples = [(point, s) for point in screen.draws(count)
               if (s := screen.glance(point)) is not None]
    pairs = [(wrong.claim, wrong.truth)] + [(c, t) for _, (c, t, _) in samples]
    with mpmath.workdps(screen.digits):
        equal = mpmath.mpf(10) ** -(screen.digits - 10)
        scale = max(abs(t) for _, t in pairs) * mpmath.mpf(10) ** -(screen.digits // 2)
        if all(abs(c) <= scale for c, _ in pairs) and _proved(screen, screen.claim):
            return "the claim is identically zero"
        ratio = _constant_ratio(pairs, equal)
        if ratio is not None and len([t for _, t in pairs if _differ(t, 0, equal)]) < 3 and \
                not _proved(screen, screen.claim - _rational(ratio) * screen.truth):
            ratio = None  # too few points to say so from numbers alone
        if ratio == -1:
            return "wrong sign"
        if ratio is not None and ratio != 1:
            return f"off by a constant factor {ratio} (the claim is {ratio} times the truth)"
        if screen.assume is None:
            for condition in CONDITIONS:
                if _holds_under(screen, wrong, samples, condition, equal):
                    return f"holds only when the {condition}"
    try:
        with limits.time_limit(localise.BUDGET + TERM_BUDGET):
            edit = localise.localise(screen.network, screen.claim, screen.truth, screen.assume,
                                     [(t, env) for _, (_, t, env) in samples[:3]],
                                     screen.digits)
            if edit is not None:
                term = (edit.words, edit.exprs)
                return worded(term), term
            term = _one_term(screen.network, screen.claim, screen.truth)
            return term and (worded(term), term)
    except limits.OutOfTime:
        return None


def worded(term: tuple[str, sp.Expr]) -> str:
    """("the claim lacks the term", delta_o2*out_h1) -> the hint as printed; an edit's
    words name its expressions in place ("{0} where {1} belongs")."""
    if isinstance(term[1], sp.Tuple):
        return localise.Edit(term[0], term[1]).said(to_text)
    return f"{term[0]} {to_text(term[1])}"


def _rational(ratio: Fraction) -> sp.Rational:
    return sp.Rational(ratio.numerator, ratio.denominator)


def _differ(a, b, equal) -> bool:
    return abs(a - b) > equal * max(abs(a), abs(b))


def _holds_under(screen: Screen, wrong: Sample, samples, condition: str, equal) -> bool:
    """Equal at the counterexample and the other points once their targets are made to
    meet the condition."""
    network = screen.network
    if network.spec.examples > 1:  # the condition is each example's: not projected yet
        return False
    names = [q.name for q in network.quantities.values() if q.kind == "target"]
    if not set(names) & set(calculus.leaves(network, screen.claim, screen.truth)):
        return False
    projected = screen.measure(_project(wrong.point, names, condition), near=wrong)
    if projected is None or projected.differ or not projected.reliable or \
            not _differ(projected.truth, 0, equal):  # agreeing at 0 = 0 says nothing
        return False
    for point, (_, _, env) in samples:
        values = screen.glance(_project(point, names, condition), (point, env))
        if values is None or _differ(values[0], values[1], equal):
            return False
    return True


def _project(point: dict, names: list[str], condition: str) -> dict:
    targets = [point.get(n, Fraction(1, 2)) for n in names]
    if condition == SUM_TO_ONE and sum(targets) == 0:
        targets = [t + 1 for t in targets]
    return {**point, **dict(zip(names, CONDITIONS[condition](targets)))}


def _proved(screen: Screen, difference: sp.Expr) -> bool:
    return proof.settle(screen.network, difference, screen.assume, TERM_BUDGET).proved


def _constant_ratio(pairs, equal) -> Fraction | None:
    ratios = [c / t for c, t in pairs if _differ(t, 0, equal)]
    if not ratios or any(_differ(r, ratios[0], equal) for r in ratios):
        return None
    guess = Fraction(str(mpmath.nstr(ratios[0], 30))).limit_denominator(1000)
    if _differ(mpmath.mpf(guess.numerator) / guess.denominator, ratios[0], equal):
        return None
    return guess


def _one_term(network: Network, claim: sp.Expr, truth: sp.Expr) -> tuple[str, sp.Expr] | None:
    """When the claim lacks some of the truth's terms, or has a few extra, name them."""
    difference, candidates = truth - claim, []
    for mapping in [{}, *itertools.islice(proof.rewrites(network), len(network.spec.layers) + 1)]:
        difference = proof.substitute(difference, mapping)
        truth, claim = proof.substitute(truth, mapping), proof.substitute(claim, mapping)
        if sp.count_ops(difference) > HINT_OPS:
            break
        expanded = [proof.expand(e) for e in (difference, truth, claim)]
        if any(e is None for e in expanded) or expanded[0] == 0:
            continue
        terms = _shapes(expanded[0])
        if len(terms) > 3:
            continue
        if terms <= _shapes(expanded[1]):  # the truth's terms, perhaps with other numbers
            candidates.append((1, _factored(expanded[0])))
        elif terms <= _shapes(expanded[2]):  # the claim's own terms
            candidates.append((-1, _factored(-expanded[0])))
        if len(candidates) == 2:
            break
    if not candidates:
        return None
    direction, missing = min(candidates, key=lambda c: sp.count_ops(c[1]))
    noun = "term" if len(sp.Add.make_args(missing)) == 1 else "terms"
    if len(sp.Add.make_args(missing)) == 1:
        sign, missing = _tidy(missing)
        direction *= sign
    if direction < 0:
        return f"the claim has {'an extra term' if noun == 'term' else 'extra terms'}", missing
    return f"the claim lacks the {noun}", missing


def _factored(e: sp.Expr) -> sp.Expr:
    """Common factors pulled out of the sum, but not out of a function's arguments: those
    stay as SymPy builds them, so a template's relabelled hint reads the same."""
    return sp.factor_terms(e).replace(
        lambda x: bool(x.args) and not (x.is_Add or x.is_Mul or x.is_Pow),
        lambda x: x.func(*(_rebuilt(a) for a in x.args)))


def _rebuilt(e: sp.Expr) -> sp.Expr:
    return e.func(*(_rebuilt(a) for a in e.args)) if e.args else e


def _shapes(e: sp.Expr) -> set[sp.Expr]:
    """The terms of a sum without their numeric coefficients."""
    return {t.as_coeff_Mul()[1] for t in sp.Add.make_args(e)}


def _tidy(term: sp.Expr) -> tuple[int, sp.Expr]:
    """-a*(b - 1) -> (+1, a*(1 - b)): the sign pulled out of a product, for reading."""
    coefficient, factors = term.as_coeff_mul()
    sign = -1 if coefficient < 0 else 1
    tidy = []
    for factor in factors:
        if factor.is_Add and sign < 0:
            sign, factor = 1, -factor  # -a*(b - 1) reads better as a*(1 - b)
        tidy.append(factor)
    return sign, abs(coefficient) * sp.Mul(*tidy, evaluate=False)
