"""Is a claim equal to the truth? Numbers first, then a proof, then a reason when it is not.

1. Screen: evaluate claim and truth at seeded random points in 50-digit arithmetic, at
   several scales (so a claim wrong only where |w| > 3 is still caught), inside the domain
   (targets in (0,1), away from relu's kink). A disagreement is confirmed at 100 digits
   before it may become a counterexample, so rounding can never fake an `incorrect`.
2. Prove: claim - truth is zero after successively lower rewrites: deltas and loss terms
   by their definitions, then each layer's outputs and nets, top to bottom. Each layer's
   outputs stay atoms as long as possible, so most backprop identities are polynomial
   identities that `expand` settles at once; exponentials become fresh positive symbols.
3. Explain: wrong sign, constant factor, identically zero, one term off, a condition on
   the targets, by comparing the numbers gathered in step 1.
Steps 1 and 2 interleave: a few points, then the proof, then all points if still open.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from . import calculus, numeric
from .network import Network
from .notation import to_text

DIGITS = 50
CONFIRM_DIGITS = 100
POINTS = 32
QUICK_POINTS = 2  # screened before a proof is tried (an ordering, not evidence)
MIN_POINTS = 6
EQUAL = mpmath.mpf(10) ** -38  # relative, at DIGITS
EQUAL_CONFIRM = mpmath.mpf(10) ** -80  # relative, at CONFIRM_DIGITS
SCALES = (1, 6, 2, 10, 1, 4, 3, 8)  # parameter ranges [-s, s], cycled over the points
SEED = 20240229
BUDGET = 10.0  # seconds of symbolic work per claim
MAX_OPS = 1500  # larger expressions are not expanded (their expansion can explode)
MAX_TERMS = 20_000  # nor ones whose expansion would make more terms than this
HINT_OPS = 300  # nor factored for a hint
KINKED = {"relu", "leaky_relu", "elu", "custom"}


@dataclass
class Verdict:
    verdict: str  # correct, incorrect, undecided
    shown_by: str | None = None  # symbolic or numeric, for correct
    hint: str | None = None
    counterexample: dict | None = None  # {"point": {...}, "claim": x, "truth": y}
    term: tuple[str, sp.Expr] | None = field(default=None, repr=False)  # the hint's term

    def relabelled(self, network: Network, rename) -> Verdict:
        """The same verdict for another instance of a template: `rename(symbols)` gives
        the new name of each symbol (of the hint's term, of the counterexample's point)."""
        hint, term, example = self.hint, self.term, self.counterexample
        if term is not None:
            term = (term[0], term[1].xreplace(rename(term[1].free_symbols)))
            hint = _worded(term)
        if example is not None:
            names = {s.name: t.name for s, t in
                     rename([network[name].symbol for name in example["point"]]).items()}
            renamed = {names.get(k, k): x for k, x in example["point"].items()}
            example = {**example, "point": {name: renamed[name] for name in network.quantities
                                            if name in renamed}}
        return Verdict(self.verdict, self.shown_by, hint, example, term)


@dataclass
class _Sample:
    point: dict[str, Fraction]
    claim: mpmath.mpf
    truth: mpmath.mpf
    env: dict


def judge(network: Network, claim: sp.Expr, truth: sp.Expr, assume: str | None = None,
          budget: float = BUDGET) -> Verdict:
    """The verdict on `claim == truth` for every value of the network's free symbols.

    A few points first (most wrong claims fail there), then the proof, and all the points
    only when the proof does not settle it: a proof needs no numbers, and an `incorrect`
    always rests on a confirmed counterexample."""
    _, wrong = _screen(network, claim, truth, assume, QUICK_POINTS)
    if wrong is None and budget > 0:
        deadline = time.monotonic() + budget
        try:
            with time_limit(budget):
                proved = all(prove_zero(network, claim - truth, deadline, case)
                             for case in _cases(network, assume))
        except OutOfTime:
            proved = False
        if proved:
            return Verdict("correct", "symbolic")
    samples, wrong = _screen(network, claim, truth, assume, known=wrong)
    if wrong is not None:
        with mpmath.workdps(DIGITS):
            hint = _hint(network, claim, truth, samples, assume)
        shown = set(_leaves(network, claim, truth))
        if assume:
            shown |= {q.name for q in network.quantities.values() if q.kind == "target"}
        term = hint if isinstance(hint, tuple) else None
        return Verdict("incorrect", hint=_worded(term) if term else hint,
                       counterexample=_counterexample(wrong, shown), term=term)
    if len(samples) < MIN_POINTS:
        return Verdict("undecided", hint="the claim or the truth is undefined at most "
                       "points tried")
    return Verdict("correct", "numeric")


class OutOfTime(Exception):
    """The budget ran out in the middle of a SymPy call."""


def interruptible() -> bool:
    """Can time_limit stop a SymPy call here?"""
    return hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread() and \
        signal.getitimer(signal.ITIMER_REAL)[0] == 0


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the block after `seconds`, even inside one long SymPy call.

    A timer signal: on POSIX, in the main thread, and only when no other timer is running
    (pytest-timeout's, say). Elsewhere the deadline checks between steps are the limit."""
    if not interruptible():
        yield
        return

    active = [True]

    def stop(signum, frame):
        if active[0]:  # a late signal, once the block is left, does nothing
            raise OutOfTime

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            yield
        finally:
            active[0] = False
    finally:  # reached even if the signal lands between the block's end and the line above
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def unanswered() -> Verdict:
    return Verdict("undecided", hint="no answer given")


def _cases(network: Network, assume: str | None) -> list[dict]:
    """Assumptions as substitutions: the last target is 1 - the others, or each one-hot."""
    targets = [q.symbol for q in network.quantities.values() if q.kind == "target"]
    if assume == "targets sum to 1":
        return [{targets[-1]: 1 - sp.Add(*targets[:-1])}]
    if assume == "targets are one-hot":
        return [{t: sp.Integer(k == hot) for k, t in enumerate(targets)}
                for hot in range(len(targets))]
    return [{}]


# --- 1. numbers ---------------------------------------------------------------------------

def _leaves(network: Network, *exprs: sp.Expr) -> list[str]:
    """The inputs, parameters and targets the expressions depend on, in network order."""
    seen: set[sp.Symbol] = set()
    stack = [s for e in exprs for s in e.free_symbols]
    while stack:
        sym = stack.pop()
        if sym in seen:
            continue
        seen.add(sym)
        quantity = network.quantity_of(sym)
        if quantity is not None and quantity.definition is not None:
            stack.extend(calculus.parents(network, quantity))
    return [q.name for q in network.quantities.values() if q.is_leaf and q.symbol in seen]


def _screen(network, claim, truth, assume, limit: int = POINTS, known=None):
    """Samples at the network's points, and the first disagreement, confirmed (`known`:
    one confirmed before, at one of the first points)."""
    samples: list[_Sample] = []
    wrong = None
    with mpmath.workdps(DIGITS):
        for point, env in points(network, assume, limit):
            sample = _sample(claim, truth, point, env)
            if sample is None:
                continue
            if wrong is None and _differ(sample.claim, sample.truth, EQUAL):
                wrong = known if known is not None and known.point == sample.point else \
                    _confirm(network, claim, truth, sample)
            samples.append(sample)
    return samples, wrong


def points(network: Network, assume: str | None, limit: int) -> list[tuple[dict, dict]]:
    """The first `limit` seeded points over every leaf, with the network's values there.

    Made once per network and only as far as asked: the sequence is the same whatever
    the order of the requests."""
    state = network.cache.setdefault(("points", assume),
                                     {"rng": random.Random(SEED), "attempt": 0, "points": []})
    if len(state["points"]) >= limit or state["attempt"] >= POINTS * 4:
        return state["points"][:limit]
    leaves = [q.name for q in network.quantities.values() if q.is_leaf]
    with mpmath.workdps(DIGITS):
        while len(state["points"]) < limit and state["attempt"] < POINTS * 4:
            scale = SCALES[state["attempt"] % len(SCALES)]
            state["attempt"] += 1
            point = _draw(network, leaves, state["rng"], scale, assume)
            env = _environment(network, point)
            if not _near_kink(network, env):
                state["points"].append((point, env))
    return state["points"][:limit]


def _draw(network: Network, leaves: list[str], rng: random.Random, scale: int,
          assume: str | None) -> dict[str, Fraction]:
    """Short decimals, so that a counterexample reads well."""
    def decimal(low: float, high: float) -> Fraction:
        return Fraction(round(rng.uniform(low, high) * 100), 100)

    point = {}
    for name in leaves:
        kind = network[name].kind
        if kind == "input":
            point[name] = decimal(-2, 2)
        elif kind == "target":
            point[name] = decimal(0.01, 0.99)
        elif kind == "constant":
            point[name] = decimal(0.01, 1)
        else:
            point[name] = decimal(-scale, scale) or Fraction(scale, 7)
    if assume:
        names = [q.name for q in network.quantities.values() if q.kind == "target"]
        drawn = [Fraction(rng.randint(1, 9), 10) for _ in names]
        point.update(zip(names, CONDITIONS[assume](drawn)))
    return point


def _environment(network: Network, point: dict[str, Fraction],
                 near: tuple[dict, dict] | None = None) -> dict:
    """The network's values at a point; `near` = (a point, its values) where only a few
    leaves differ (targets made to meet a condition), whose other values are reused."""
    def exact(v: Fraction) -> mpmath.mpf:
        return mpmath.mpf(v.numerator) / v.denominator

    if near is None:
        return calculus.point_values(network, {k: exact(v) for k, v in point.items()})
    changed = {k: exact(v) for k, v in point.items() if near[0].get(k) != v}
    return calculus.point_values(network, changed, near[1])


def _sample(claim, truth, point, env) -> _Sample | None:
    try:
        return _Sample(point, numeric.evaluate(claim, env), numeric.evaluate(truth, env), env)
    except (numeric.Undefined, numeric.Missing):
        return None


def _evaluate(network, claim, truth, point, near=None) -> _Sample | None:
    """A sample at a new point (at the current precision)."""
    env = _environment(network, point, near)
    return None if _near_kink(network, env) else _sample(claim, truth, point, env)


def _near_kink(network: Network, env) -> bool:
    for layer in network.spec.layers:
        if layer.activation in KINKED:
            for net in network.units(layer, "net"):
                if net in env and abs(env[net]) < 1e-3:
                    return True
    return False


def _differ(a, b, tolerance) -> bool:
    return abs(a - b) > tolerance * max(1, abs(a), abs(b))


def _confirm(network, claim, truth, first: _Sample) -> _Sample | None:
    """The same point at twice the precision: a real difference stays the same size."""
    with mpmath.workdps(CONFIRM_DIGITS):
        sample = _evaluate(network, claim, truth, first.point)
        if sample is None or not _differ(sample.claim, sample.truth, EQUAL_CONFIRM):
            return None
        difference, before = sample.claim - sample.truth, first.claim - first.truth
        if abs(difference - before) > abs(difference) / 100:
            return None  # it moved with the precision: rounding, not a difference
        return sample


def _counterexample(sample: _Sample, shown: set[str]) -> dict:
    return {"point": {name: float(value) for name, value in sample.point.items()
                      if name in shown},
            "claim": _plain(sample.claim), "truth": _plain(sample.truth)}


def _plain(x: mpmath.mpf) -> float | str:
    """A float, or a decimal string where a float would overflow (JSON has no inf)."""
    value = float(x)
    return value if math.isfinite(value) else mpmath.nstr(x, 17)


# --- 2. proof -----------------------------------------------------------------------------

def rewrites(network: Network):
    """Substitution maps from the most compact basis down to inputs and parameters."""
    for layer in network.spec.layers:  # deltas from the input side up, then loss terms
        yield {s: network[s.name].definition for s in network.units(layer, "delta")}
    yield {q.symbol: q.definition for q in network.quantities.values() if q.kind == "loss"}
    for layer in reversed(network.spec.layers):
        for kind in ("out", "net"):
            yield {s: network[s.name].definition for s in network.units(layer, kind)}


def prove_zero(network: Network, difference: sp.Expr, deadline: float,
               assumed: dict | None = None) -> bool:
    """True only if `difference` is identically zero (sound: never True by luck).

    `assumed` substitutes a condition (on the targets) after every rewrite."""
    assumed = {**_simplex(network), **(assumed or {})}
    current = difference.xreplace(assumed)
    # Cheap first: after the backward rewrites a right claim is often the truth term for
    # term, and SymPy cancels it on construction, with no expansion at all.
    cheap = current
    for mapping in itertools.islice(rewrites(network), len(network.spec.layers) + 1):
        cheap = _substitute(cheap, mapping).xreplace(assumed)
        if cheap == 0:
            return True
    if _is_zero(current, deadline):
        return True
    for mapping in rewrites(network):
        if time.monotonic() > deadline:
            return False
        rewritten = _substitute(current, mapping).xreplace(assumed)
        if rewritten != current:
            current = rewritten
            if _is_zero(current, deadline):
                return True
    return False


def _simplex(network: Network) -> dict:
    """A softmax layer's outputs sum to 1: an identity, so the last is 1 - the others."""
    identities = {}
    for layer in network.spec.layers:
        if layer.activation == "softmax":
            outs = network.units(layer, "out")
            identities[outs[-1]] = 1 - sp.Add(*outs[:-1])
    return identities


def _substitute(e: sp.Expr, mapping: dict) -> sp.Expr:
    """Apply a rewrite until none of its symbols is left (deltas refer to deltas above)."""
    while e.free_symbols & mapping.keys():
        e = e.xreplace(mapping)
    return e


def _is_zero(e: sp.Expr, deadline: float) -> bool:
    if e == 0:
        return True
    if time.monotonic() > deadline or sp.count_ops(e) > MAX_OPS:
        return False
    expanded = _expand(e)
    if expanded is None or time.monotonic() > deadline:
        return False
    if expanded == 0:
        return True
    if sp.count_ops(expanded) > 4 * MAX_OPS:
        return False
    rational = _exponentials_as_symbols(expanded)
    if rational is not None:
        numerator, _ = sp.fraction(sp.together(rational))
        return _expand(numerator) == 0
    return False


def _expand(e: sp.Expr) -> sp.Expr | None:
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
        return sp.Mul(*(atom(t) for t in sp.Add.make_args(_expand(arg) or arg)))

    return e.replace(lambda x: isinstance(x, sp.exp), lambda x: replace(x.args[0]))


# --- 3. hints -----------------------------------------------------------------------------

def _hint(network, claim, truth, samples, assume) -> str | tuple[str, sp.Expr] | None:
    """A reason in words, or (words, term) when it names a term of the formulas."""
    pairs = [(s.claim, s.truth) for s in samples]
    if pairs and all(not _differ(c, 0, EQUAL) for c, _ in pairs) and \
            any(_differ(t, 0, EQUAL) for _, t in pairs):
        return "the claim is identically zero"
    ratio = _constant_ratio(pairs)
    if ratio == -1:
        return "wrong sign"
    if ratio is not None:
        return f"off by a constant factor {ratio} (the claim is {ratio} times the truth)"
    if assume is None:
        for condition in CONDITIONS:
            if _holds_under(network, claim, truth, samples, condition):
                return f"holds only when the {condition}"
    return _one_term(network, claim, truth)


CONDITIONS = {
    "targets sum to 1": lambda ts: [t / sum(ts) for t in ts],
    "targets are one-hot": lambda ts: [Fraction(int(k == ts.index(max(ts))))
                                       for k in range(len(ts))],
}


def _holds_under(network, claim, truth, samples, condition) -> bool:
    """Equal at the same points once their targets are made to meet the condition."""
    names = [q.name for q in network.quantities.values() if q.kind == "target"]
    if not samples or not set(names) & set(_leaves(network, claim, truth)):
        return False
    for sample in samples:
        point = dict(sample.point)
        targets = [point.get(n, Fraction(1, 2)) for n in names]
        point.update(zip(names, CONDITIONS[condition](targets)))
        projected = _evaluate(network, claim, truth, point, (sample.point, sample.env))
        if projected is None or _differ(projected.claim, projected.truth, EQUAL):
            return False
    return True


def _constant_ratio(pairs) -> Fraction | None:
    ratios = [c / t for c, t in pairs if _differ(t, 0, EQUAL)]
    if len(ratios) < MIN_POINTS // 2 or any(_differ(r, ratios[0], EQUAL) for r in ratios):
        return None
    guess = Fraction(str(mpmath.nstr(ratios[0], 30))).limit_denominator(1000)
    if _differ(mpmath.mpf(guess.numerator) / guess.denominator, ratios[0], EQUAL):
        return None
    return guess


def _one_term(network: Network, claim: sp.Expr, truth: sp.Expr) -> tuple[str, sp.Expr] | None:
    """When the claim lacks some of the truth's terms, or has a few extra, name them."""
    difference, candidates = truth - claim, []
    for mapping in [{}, *itertools.islice(rewrites(network), len(network.spec.layers) + 1)]:
        difference = _substitute(difference, mapping)
        truth, claim = _substitute(truth, mapping), _substitute(claim, mapping)
        if sp.count_ops(difference) > HINT_OPS:
            break
        expanded = [_expand(e) for e in (difference, truth, claim)]
        if any(e is None for e in expanded) or expanded[0] == 0:
            continue
        terms = _shapes(expanded[0])
        if len(terms) > 3:
            continue
        if terms <= _shapes(expanded[1]):  # the truth's terms, perhaps with other numbers
            candidates.append((1, sp.factor_terms(expanded[0])))
        elif terms <= _shapes(expanded[2]):  # the claim's own terms
            candidates.append((-1, sp.factor_terms(-expanded[0])))
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
        return f"the claim has an extra {noun}", missing
    return f"the claim lacks the {noun}", missing


def _worded(term: tuple[str, sp.Expr]) -> str:
    """("the claim lacks the term", delta_o2*out_h1) -> the hint as printed."""
    return f"{term[0]} {to_text(term[1])}"


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
