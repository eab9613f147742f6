"""Numbers as evidence: claim and truth at many points, each value kept only if it is stable.

A value counts only when two precisions (P and 2P digits) agree on it, and no sum at 2P
swallowed a term whole; P grows with the constants of the formulas (1 + 10**-60 needs 60
more digits, exp(-300) 130 more). Claim and truth differ at a point when they are further
apart than the error the two precisions reveal, or when claim - truth itself, as SymPy
leaves it after cancelling common terms, is stable and nonzero (a term of e^-300 is tiny
beside the truth, but not beside zero). A difference is confirmed again at 2P and 4P.

Points are drawn generic (twelve random decimals, from a generator seeded by the claim
itself, over several scales, inputs and regression targets over the whole real line), and
every case is visited: each one-hot class, each sign pattern of the branch conditions
(coverage.py), the spec's own `values`. `correct (numeric)` needs all of it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from . import calculus, coverage, forward, numeric
from .assumptions import ONE_HOT, SUM_TO_ONE
from .network import Network

DIGITS = 50  # the least working precision; the second precision is twice the first
SLACK = 12
MAX_DIGITS = 1200  # formulas needing more are not judged by numbers
QUICK_POINTS = 2  # screened before a proof is tried (an ordering, not evidence)
DRAWS = 16  # random points (two per one-hot class at least) before patterns are built
MIN_EVIDENCE = 12  # reliable, agreeing points needed for `correct (numeric)`
MAX_POINTS = 120  # points tried at the most
MAX_CASES = 256  # one-hot classes times branch patterns that numbers try to cover
STARTS = 3  # fresh points each missing pattern is constructed from
SEED = 20240229
PARAMS = (1, 4, Fraction(1, 2), 10, 2, 6, Fraction(1, 4), 3)  # ranges [-s, s], cycled
INPUTS = (2, 1, 4, 10, Fraction(1, 2), 3, 1, 50)
TARGETS = (1, 2, 5, Fraction(1, 2), 20, 1, 3, 100)  # regression targets: any real
PROBABILITY_LOSSES = {"cross_entropy", "binary_cross_entropy"}  # targets in [0, 1]
READABLE = (2, 4, 8)  # decimal places a counterexample is shown at, where it holds there
TAIL = 10**12  # a coordinate is a multiple of 1/q, q drawn from [TAIL, 2*TAIL): generic


@dataclass
class Sample:
    point: dict[str, Fraction]
    claim: mpmath.mpf  # at the higher precision
    truth: mpmath.mpf
    envs: tuple[dict, dict]  # the network's values at both precisions
    differ: bool
    reliable: bool  # both values stable across the two precisions
    difference: mpmath.mpf | None = None  # claim - truth as one formula, where stable
    key: tuple | None = None  # (one-hot case, branch pattern)


@dataclass
class Evidence:
    samples: list[Sample] = field(default_factory=list)  # reliable, agreeing
    wrong: Sample | None = None  # a confirmed difference
    gap: str | None = None  # why the samples do not make a `correct`, if they do not


CONDITIONS = {
    SUM_TO_ONE: lambda ts: [t / sum(ts) for t in ts],
    ONE_HOT: lambda ts: [Fraction(int(k == ts.index(max(ts))))
                                       for k in range(len(ts))],
}


def precision(*exprs: sp.Expr) -> int | None:
    """Digits to work at for these formulas, or None when they need more than MAX_DIGITS.

    DIGITS hold any constant of up to SLACK digits (or magnitudes within 10**±SLACK);
    larger ones add what they need."""
    extra = 0
    stack = list(exprs)
    while stack:
        node = stack.pop()
        if node.is_Rational:
            extra = max(extra, len(str(abs(node.p))), len(str(node.q)))
        elif node.is_number and not node.is_Atom:
            try:
                with mpmath.workdps(20):
                    value = numeric.evaluate(node, {})
                extra = max(extra, abs(int(mpmath.log10(abs(value)))) if value else 0)
            except numeric.Undefined:
                pass
            stack.extend(node.args)
        else:
            stack.extend(node.args)
    digits = DIGITS + max(0, extra - SLACK)
    return digits if digits <= MAX_DIGITS else None


def constant(e: sp.Expr) -> mpmath.mpf | None:
    """The value of a formula without symbols, if two precisions agree on it."""
    digits = precision(e)
    if digits is None:
        return None
    values = []
    for p in (digits, 2 * digits):
        with mpmath.workdps(p):
            try:
                values.append(numeric.evaluate(e, {}, strict=p > digits))
            except numeric.Undefined:
                return None
    return values[1] if _stable(*values, digits) else None


def _stable(low: mpmath.mpf, high: mpmath.mpf, digits: int) -> bool:
    """Two precisions agree on a value to half the lower one's digits."""
    return abs(low - high) <= mpmath.mpf(10) ** (-(digits // 2)) * abs(high)


def points(network: Network, assume: str | None, limit: int) -> list[tuple[dict, dict]]:
    """The first `limit` of the network's shared screening points, with its values there
    at DIGITS: the quick look before a proof, and the templates' NumPy pass."""
    state = network.cache.setdefault(("points", assume),
                                     {"rng": random.Random(SEED), "points": []})
    made = state["points"]
    with mpmath.workdps(DIGITS):
        while len(made) < limit:
            k = len(made)
            point = draw(network, state["rng"], k, assume,
                         k if assume == ONE_HOT else None)
            made.append((point, forward.point_values(network, point)))
    return made[:limit]


def draw(network: Network, rng: random.Random, attempt: int, assume: str | None,
         case: int | None = None) -> dict[str, Fraction]:
    """A generic point: every leaf in its domain, at the attempt's scale. A coordinate is
    p/q with a q of its own from [TAIL, 2*TAIL): a random denominator too, so that no
    frequency can vanish on every point's grid."""
    uniform = rng.random  # 53 random bits: more than a q or a p needs
    point = {}
    for name, low, high in _domains(network, attempt):
        q = TAIL + int(uniform() * TAIL)
        least = low * q if type(low) is int else _rounded(low, q)
        most = high * q if type(high) is int else _rounded(high, q)
        point[name] = Fraction(least + int(uniform() * (most - least + 1)), q) or SEVENTH
    return assumed(network, point, assume, rng, case)


SEVENTH = Fraction(1, 7)  # in place of a coordinate drawn as 0


def _domains(network: Network, attempt: int) -> list[tuple[str, object, object]]:
    """Each leaf's range at the attempt's scales (made once per network and scale)."""
    key = ("domains", attempt % math.lcm(len(INPUTS), len(PARAMS), len(TARGETS)))
    if key not in network.cache:
        kinds = network.cache.get("leaf kinds")
        if kinds is None:
            kinds = network.cache["leaf kinds"] = [(q.name, q.kind) for q in
                                                   network.quantities.values() if q.is_leaf]
        probability = network.spec.loss in PROBABILITY_LOSSES
        scale = {"input": INPUTS[attempt % len(INPUTS)],
                 "target": None if probability else TARGETS[attempt % len(TARGETS)]}
        params = PARAMS[attempt % len(PARAMS)]
        ranges = {kind: (0, 1) if s is None else (-s, s) for kind, s in scale.items()}
        ranges["constant"] = (Fraction(1, 100), 1)
        default = (-params, params)
        network.cache[key] = [(name, *ranges.get(kind, default)) for name, kind in kinds]
    return network.cache[key]


def _rounded(bound: Fraction, q: int) -> int:
    """round(bound * q), half to even, without a Fraction's arithmetic."""
    whole, rest = divmod(bound.numerator * q, bound.denominator)
    return whole + (2 * rest > bound.denominator or
                    (2 * rest == bound.denominator and whole & 1))


def assumed(network: Network, point: dict, assume: str | None, rng: random.Random,
            case: int | None = None) -> dict:
    """The point with its targets made to meet the assumption (the one-hot `case`: the
    class that is hot)."""
    names = [q.name for q in network.quantities.values() if q.kind == "target"]
    if assume == SUM_TO_ONE:
        drawn = [Fraction(rng.randrange(1, 10**6), 10**6) for _ in names]
        point = {**point, **dict(zip(names, CONDITIONS[assume](drawn)))}
    elif assume == ONE_HOT:
        hot = (case or 0) % len(names)
        point = {**point, **{n: Fraction(int(k == hot)) for k, n in enumerate(names)}}
    return point


class Screen:
    """Claim and truth at points, for one claim."""

    def __init__(self, network: Network, claim: sp.Expr, truth: sp.Expr,
                 assume: str | None):
        self.network, self.claim, self.truth, self.assume = network, claim, truth, assume
        self.difference = claim - truth
        self.digits = precision(claim, truth)
        self.tried = 0
        self.undefined = 0
        self.claim_only = 0  # points where the truth has a value and the claim has none

    @functools.cached_property
    def cone(self) -> set:
        return calculus.cone(self.network, self.claim, self.truth)

    @functools.cached_property
    def rng(self) -> random.Random:
        return random.Random(_fingerprint(self.claim, self.truth, self.assume))

    # --- one point ----------------------------------------------------------------------

    def measure(self, point: dict, digits: int | None = None, near: Sample | None = None,
                extra: sp.Expr | None = None, known: dict | None = None) -> Sample | None:
        """Claim, truth and their difference at P and 2P digits; None where undefined.

        `near`: a sample whose point differs from this one in a few leaves only (its
        values are reused); `extra`: a formula to judge as the difference instead (a
        refutation's reduced form); `known`: the point's values at P digits, if computed."""
        digits = digits or self.digits
        values, absorbed = [], False
        leaves = forward.Leaves(self.network, point) if near is None else None
        for k, p in enumerate((digits, 2 * digits)):
            with mpmath.workdps(p):
                base, given = None, leaves
                if near is not None:
                    base = near.envs[k]
                    given = {n: v for n, v in point.items() if near.point.get(n) != v}
                env = known if k == 0 and known is not None else \
                    forward.point_values(self.network, given, base, k == 1, self.cone)
                try:
                    c, t = (numeric.evaluate(e, env, k == 1) for e in (self.claim, self.truth))
                except numeric.Absorbed:
                    absorbed = True
                    try:
                        c, t = (numeric.evaluate(e, env) for e in (self.claim, self.truth))
                    except (numeric.Undefined, numeric.Missing):
                        return None
                except (numeric.Undefined, numeric.Missing):
                    return None
                try:
                    d = numeric.evaluate(self.difference if extra is None else extra, env,
                                         k == 1)
                except (numeric.Undefined, numeric.Missing):
                    d = None
                values.append((env, c, t, d))
        (env1, c1, t1, d1), (env2, c2, t2, d2) = values
        reliable = not absorbed and _stable(c1, c2, digits) and _stable(t1, t2, digits)
        error = (abs(c1 - c2) + abs(t1 - t2)) * mpmath.mpf(10) ** (-digits) * 100
        floor = mpmath.mpf(10) ** (-(2 * digits - 10)) * max(abs(c2), abs(t2))
        apart = not absorbed and abs(c2 - t2) > error + floor
        difference = d2 if d1 is not None and d2 is not None and d2 != 0 and \
            _stable(d1, d2, digits) else None
        return Sample(point, c2, t2, (env1, env2), apart or difference is not None,
                      reliable, difference)

    def confirmed(self, point: dict, extra: sp.Expr | None = None) -> Sample | None:
        """A point where claim and truth differ at twice the precisions: where a
        difference seen at the first ones is real, it stays."""
        again = self.measure(point, 2 * self.digits, extra=extra)
        return again if again is not None and again.differ else None

    def _confirmed_at(self, point: dict, known: dict | None = None) -> Sample | None:
        sample = self.measure(point, known=known)
        return self.confirmed(point) if sample is not None and sample.differ else None

    # --- the quick look -----------------------------------------------------------------

    def quick(self) -> Sample | None:
        """A confirmed difference at the network's first shared points, if there is one."""
        if self.digits != DIGITS:
            return None
        for k in range(QUICK_POINTS):  # one at a time: a wrong claim is seen at the first
            point, env = points(self.network, self.assume, k + 1)[k]
            try:
                with mpmath.workdps(DIGITS):
                    c = numeric.evaluate(self.claim, env)
                    t = numeric.evaluate(self.truth, env)
            except (numeric.Undefined, numeric.Missing):
                continue
            if abs(c - t) > mpmath.mpf(10) ** (-(DIGITS // 2)) * max(abs(c), abs(t)):
                # the readable point first: where the difference holds there, it is the
                # counterexample shown, and the raw point need not be confirmed as well
                found = self.confirmed(self._shortened(point, READABLE[0])) or \
                    self._confirmed_at(point, env)
                if found is not None:
                    return found
        return None

    # --- the whole screen ---------------------------------------------------------------

    def full(self) -> Evidence:
        """Every case visited, or a confirmed difference, or the reason numbers fall short."""
        evidence = Evidence()
        if self.digits is None:
            evidence.gap = (f"a constant in the claim needs more than {MAX_DIGITS} digits "
                            f"to evaluate reliably")
            return evidence
        conditions = coverage.branches(self.network, self.claim, self.truth)
        cases = self._cases()
        wanted: set[tuple] = set()
        if len(conditions) <= coverage.MAX_BRANCHES and \
                len(cases) * 2 ** len(conditions) <= MAX_CASES:
            patterns = coverage.patterns(len(conditions))
            wanted = {(case, p) for case in cases for p in patterns}
        else:
            evidence.gap = self._too_many(conditions, cases)
        covered: set[tuple] = set()

        def take(point) -> bool:
            """Measure a point; True when it settles the claim as incorrect."""
            self.tried += 1
            sample = self.measure(point)
            if sample is None:
                self.undefined += 1
                self.claim_only += self._claim_alone_undefined(point)
                return False
            if sample.differ:
                confirmed = self.confirmed(point)
                if confirmed is not None:
                    evidence.wrong = confirmed
                    return True
                return False
            if not sample.reliable:
                return False
            signs = coverage.pattern(conditions, sample.envs[0])
            if signs is None:
                return False
            sample.key = (self._case_of(point), signs)
            covered.add(sample.key)
            evidence.samples.append(sample)
            return False

        for point in self._given():
            if take(point):
                return evidence
        first = max(DRAWS, 2 * len(cases))
        for k in range(first):
            if take(self._draw(k)):
                return evidence
        for key in sorted(wanted - covered):
            for start in range(STARTS):
                if key in covered:
                    break
                point = self._construct(conditions, key, start)
                if point is not None and take(point):
                    return evidence
        if wanted:  # the kinks themselves, where a convention at 0 may differ
            for branch in conditions:
                point = self._on_kink(branch)
                if point is not None and take(point):
                    return evidence
        k = first
        while len(evidence.samples) < MIN_EVIDENCE and self.tried < MAX_POINTS:
            if take(self._draw(k)):
                return evidence
            k += 1
        if evidence.gap is None:
            evidence.gap = self._gap(conditions, wanted - covered, len(evidence.samples))
        return evidence

    def _draw(self, k: int) -> dict:
        """The k-th of this claim's own points, its one-hot classes taken in turn."""
        cases = self._cases()
        return draw(self.network, self.rng, k, self.assume, cases[k % len(cases)])

    def _cases(self) -> list[int | None]:
        if self.assume == ONE_HOT:
            return list(range(sum(q.kind == "target"
                                  for q in self.network.quantities.values())))
        return [None]

    def _case_of(self, point: dict) -> int | None:
        if self.assume != ONE_HOT:
            return None
        names = [q.name for q in self.network.quantities.values() if q.kind == "target"]
        return next(k for k, n in enumerate(names) if point[n] == 1)

    def _given(self) -> list[dict]:
        """The spec's own `values`, completed by a draw where they fall short, once per
        one-hot class."""
        given = {name: Fraction(str(value)) for name, value in self.network.spec.values.items()
                 if name in self.network and self.network[name].is_leaf}
        if not given:
            return []
        rng = random.Random(SEED)
        return [assumed(self.network, {**draw(self.network, rng, 0, None), **given},
                        self.assume, rng, case) for case in self._cases()]

    def _construct(self, conditions, key, start) -> dict | None:
        case, signs = key
        begin = draw(self.network, self.rng, start, self.assume, case)
        return coverage.reach(self.network, conditions, signs, begin, self._movable(),
                              self.rng, self._domain, self.cone)

    def _on_kink(self, branch) -> dict | None:
        start = draw(self.network, self.rng, 0, self.assume, self._cases()[0])
        movable = self._movable()
        keep = start.keys() - movable  # the targets an assumption fixes
        return coverage.on_kink(self.network, branch, start, movable, keep, self._domain,
                                self.rng)

    def _movable(self) -> set[str]:
        """The leaves a constructed point may move: all but targets an assumption fixes."""
        return {q.name for q in self.network.quantities.values() if q.is_leaf
                and not (self.assume and q.kind == "target")}

    def _domain(self, name: str, value: Fraction) -> Fraction:
        if self.network[name].kind == "target" and \
                self.network.spec.loss in PROBABILITY_LOSSES:
            return min(max(value, Fraction(0)), Fraction(1))
        if self.network[name].kind == "constant":
            return max(value, Fraction(1, 100))
        return value

    def _too_many(self, conditions, cases) -> str:
        labels = ", ".join(b.label for b in conditions[:6])
        more = ", ..." if len(conditions) > 6 else ""
        cased = f" in each of {len(cases)} one-hot classes" if len(cases) > 1 else ""
        return (f"not proved, and numbers cannot cover every case: the claim and the truth "
                f"branch at {len(conditions)} places ({labels}{more}){cased}")

    def _claim_alone_undefined(self, point: dict) -> bool:
        """The truth has a value at this point, and the claim has none."""
        with mpmath.workdps(self.digits):
            env = forward.point_values(self.network, point, only=self.cone)
            try:
                numeric.evaluate(self.truth, env)
            except (numeric.Undefined, numeric.Missing):
                return False
            try:
                numeric.evaluate(self.claim, env)
            except (numeric.Undefined, numeric.Missing):
                return True
        return False

    def _gap(self, conditions, missing, count) -> str | None:
        if count < MIN_EVIDENCE and self.undefined * 2 > self.tried:
            return "the claim or the truth is undefined at most points tried"
        if self.claim_only:
            return (f"the claim has no value at {self.claim_only} of the {self.tried} points "
                    f"tried, where the truth has one")
        if missing and conditions:
            case, signs = min(missing)
            where = " and ".join(b.describe(s) for b, s in zip(conditions, signs))
            cased = f" with class {case + 1} hot" if case is not None else ""
            return f"not proved, and no point was found where {where}{cased}"
        if missing or count < MIN_EVIDENCE:
            return "the claim or the truth cannot be evaluated reliably at most points tried"
        return None

    # --- a counterexample for a difference the algebra saw --------------------------------

    def witness(self, nonzero: sp.Expr) -> Sample | None:
        """A point where `nonzero` (claim - truth, reduced) is stably nonzero."""
        for k in range(DRAWS * len(self._cases())):
            sample = self.measure(self._draw(k), extra=nonzero)
            if sample is not None and sample.difference is not None:
                confirmed = self.confirmed(sample.point, extra=nonzero)
                if confirmed is not None and confirmed.difference is not None:
                    return confirmed
        return None

    # --- for hints ------------------------------------------------------------------------

    def glance(self, point: dict, near: tuple[dict, dict] | None = None) \
            -> tuple[mpmath.mpf, mpmath.mpf, dict] | None:
        """Claim, truth and the network's values at one precision: words, not verdicts.
        `near`: (a point, its values) from which only a few leaves differ."""
        with mpmath.workdps(self.digits):
            if near is None:
                env = forward.point_values(self.network, point, only=self.cone)
            else:
                changed = {n: v for n, v in point.items() if near[0].get(n) != v}
                env = forward.point_values(self.network, changed, near[1], only=self.cone)
            try:
                return (numeric.evaluate(self.claim, env), numeric.evaluate(self.truth, env),
                        env)
            except (numeric.Undefined, numeric.Missing):
                return None

    def draws(self, count: int) -> list[dict]:
        return [self._draw(k) for k in range(count)]

    # --- for people -----------------------------------------------------------------------

    def readable(self, sample: Sample) -> Sample:
        """The counterexample at a point of short decimals, where it still holds there."""
        for places in READABLE:
            point = self._shortened(sample.point, places)
            if point == sample.point:
                return sample
            again = self.confirmed(point)  # straight to the higher precisions
            if again is not None:
                return again
        return sample

    def _shortened(self, point: dict, places: int) -> dict:
        """The point at `places` decimals, but for targets an assumption fixes."""
        scale = 10**places
        short = {}
        for name, v in point.items():
            v = v if type(v) is Fraction else Fraction(v)
            short[name] = v if scale % v.denominator == 0 else \
                Fraction(_rounded(v, scale), scale)
        if self.assume:
            short.update({n: v for n, v in point.items() if self.network[n].kind == "target"})
        return short


def _fingerprint(*parts) -> int:
    """A seed from the formulas themselves, the same in every process: the points of one
    claim cannot be known to the person writing it. (No printing: SymPy's printers order
    terms by evaluating them, which can take forever for sin(exp(exp(20))).)"""
    digest = hashlib.sha256()
    for part in parts:
        nodes = sp.preorder_traversal(part) if isinstance(part, sp.Basic) else [part]
        for node in nodes:
            digest.update(f"{type(node).__name__}:{node if getattr(node, 'is_Atom', True) else ''};"
                          .encode())
    return int.from_bytes(digest.digest()[:8], "big")
