"""Numbers: every quantity's value at a point, a layer at a time.

A net is a weighted sum over its sources (`Network.linear`), and most of a forward pass
is those sums: 25,000 products for a 784-input layer. They are summed as integers (each
operand a fixed-point integer with the precision's bits and a margin), the way mpmath
sums exactly, but without an mpf object per operand. The point's own numbers become mpf
only when a formula reads them one by one (`Values`), and few formulas do.
"""

from __future__ import annotations

import itertools
import operator
from fractions import Fraction

import mpmath
import sympy as sp
from mpmath import libmp

from . import numeric
from .calculus import parents
from .network import Network

DIGITS = 30  # working precision of reported numbers
MARGIN = 64  # bits of a fixed-point operand below the precision's (a draw's coordinate
# is at least 2**-41 in size, so it keeps the precision and 23 bits more)
ROUND = libmp.round_nearest


class Values(dict):
    """The values of a forward pass by symbol, the point's leaves converted when read.

    Besides the converted values (the dict itself) it holds the point's numbers as given
    (`pending`, kept once converted: a pass at another precision starts from them) and
    each operand of a weighted sum as an integer, value times 2**shift (`fixed`; None
    where that would lose bits of the precision)."""

    def __init__(self, known=(), prec: int | None = None):
        super().__init__(known)
        self.pending: dict = {}
        self.fixed: dict = {}
        self.swept = False
        self.prec = prec or mpmath.mp.prec
        self.shift = self.prec + MARGIN

    def __missing__(self, sym):
        if sym not in self.pending:
            raise KeyError(sym)
        value = self[sym] = mpmath.mp.make_mpf(_raw(self.pending[sym], self.prec))
        return value

    def __contains__(self, sym) -> bool:
        return dict.__contains__(self, sym) or sym in self.pending

    def __len__(self) -> int:
        return dict.__len__(self) + sum(1 for s in self.pending if not dict.__contains__(self, s))

    def get(self, sym, default=None):
        return self[sym] if sym in self else default

    def complete(self) -> Values:
        for sym in self.pending:
            if not dict.__contains__(self, sym):
                self[sym]
        return self

    def __iter__(self):
        return iter(self.keys())

    def keys(self):
        return dict.keys(self.complete())

    def items(self):
        return dict.items(self.complete())

    def values(self):
        return dict.values(self.complete())

    def floats(self) -> dict:
        """Every value as a float, the pending ones straight from the point's numbers."""
        return {**{s: float(v) for s, v in dict.items(self)},
                **{s: float(v) for s, v in self.pending.items()}}

    def __reduce__(self):  # pickled (sent from a worker) as a plain dict
        return dict, (dict(self.items()),)

    def given(self, sym, value) -> None:
        """A leaf's number at this point, replacing what it had."""
        self.forget(sym)
        self.pending[sym] = value

    def forget(self, sym) -> None:
        dict.pop(self, sym, None)
        self.pending.pop(sym, None)
        self.fixed.pop(sym, None)

    def copy(self) -> Values:
        """A copy, to compute a near point's pass from (point_values makes sure the
        precision is the same)."""
        other = Values(dict.items(self))
        other.pending = dict(self.pending)
        if other.prec == self.prec:
            other.fixed, other.swept = dict(self.fixed), self.swept
        return other

    def fix_pending(self) -> None:
        """Every pending Fraction as an operand, in one sweep (a draw's are all Fractions);
        leaves given after it are fixed one by one."""
        if self.swept:
            return
        self.swept = True
        fractions = {sym: v for sym, v in self.pending.items()
                     if sym not in self.fixed and type(v) is Fraction}
        self.fixed.update(Leaves.of(fractions).fixed(self.shift, self.prec))

    def as_fixed(self, sym) -> int | None:
        """The operand `sym` (a symbol, or a fixed weight's number) times 2**shift."""
        if sym in self.fixed:
            return self.fixed[sym]
        if not sym.is_Symbol:
            value = Fraction(int(sym.p), int(sym.q))
        elif sym in self.pending:
            value = self.pending[sym]
        elif dict.__contains__(self, sym):
            value = dict.__getitem__(self, sym)
        else:
            raise numeric.Missing(str(sym))
        self.fixed[sym] = fixed = _fixed(value, self.shift, self.prec)
        return fixed


class Leaves:
    """A point's numbers by symbol, their numerators and denominators as lists: made once
    for the precisions a point is measured at, each of which sums them as integers."""

    def __init__(self, network: Network, point: dict[str, object]):
        symbols = network.cache.get("symbols")
        if symbols is None:
            symbols = network.cache["symbols"] = {n: q.symbol
                                                  for n, q in network.quantities.items()}
        self._made({symbols[n]: v for n, v in point.items() if n in symbols})

    @classmethod
    def of(cls, given: dict) -> Leaves:
        """Leaves from numbers by symbol."""
        leaves = cls.__new__(cls)
        leaves._made(given)
        return leaves

    def _made(self, given: dict) -> None:
        self.given = given
        fractions = all(type(v) is Fraction for v in given.values())
        self.numerators = [v.numerator for v in given.values()] if fractions else None
        self.denominators = [v.denominator for v in given.values()] if fractions else None

    def fixed(self, shift: int, prec: int) -> dict | None:
        """Each as an operand (Values.fixed), or None unless all are Fractions."""
        if self.numerators is None:
            return None
        ints = list(map(operator.floordiv, map(operator.lshift, self.numerators,
                                                itertools.repeat(shift)), self.denominators))
        fixed = dict(zip(self.given, ints))
        least = prec + 8
        if min(map(int.bit_length, ints), default=least) < least:  # a zero, or a tiny one
            fixed.update({sym: None for sym, f, n in zip(self.given, ints, self.numerators)
                          if n and f.bit_length() < least})
        return fixed


def point_values(network: Network, point: dict[str, object] | Leaves,
                 base: Values | None = None, strict: bool = False,
                 only: set[sp.Symbol] | None = None) -> Values:
    """Every quantity's value at a point (at the current mpmath precision) that it fixes
    (`point`: numbers by name, or the Leaves made of them).

    With `base` (the values at another point), `point` holds only the leaves that differ,
    and only the quantities that depend on them are computed again. `strict` leaves out
    the quantities whose value lost a term to the precision (numeric.Absorbed); `only`
    limits the work to these quantities (those a formula rests on, see `cone`)."""
    leaves = point if isinstance(point, Leaves) else Leaves(network, point)
    if isinstance(base, Values) and base.prec != mpmath.mp.prec:  # at another precision:
        leaves = Leaves.of({**base.pending, **leaves.given})  # a fresh pass from its point
        base = None
    env = base.copy() if isinstance(base, Values) else Values(base or {})
    if base is None and not env:
        env.pending = dict(leaves.given)
        fixed = leaves.fixed(env.shift, env.prec)
        if fixed is not None:
            env.fixed, env.swept = fixed, True
    else:
        for sym, value in leaves.given.items():
            env.given(sym, value)
    dirty = set(leaves.given)
    walk = numeric.Walk(env, strict)  # one memo: a softmax's sum is summed once, not per unit
    for quantity in network.quantities.values():
        if quantity.definition is None or (only is not None and quantity.symbol not in only):
            continue
        if base is not None:
            if not parents(network, quantity) & dirty:
                continue
            dirty.add(quantity.symbol)
            env.forget(quantity.symbol)
        elif quantity.symbol in env:
            continue
        try:
            linear = network.linear.get(quantity.symbol)
            env[quantity.symbol] = weighted_sum(linear, env, strict) if linear else \
                walk.value(quantity.definition)
        except (numeric.Missing, numeric.Undefined):
            continue  # not fixed by the point, or undefined there: left out
    return env


def weighted_sum(linear: tuple, env: Values, strict: bool) -> mpmath.mpf:
    """A net's value from its weights and sources as lists: the products exact, their
    sum exact, and rounded once. `strict`: numeric.Absorbed if a term is below the sum's
    last bit (what the precision cannot tell from the sum without it)."""
    weights, sources, bias = linear
    try:
        ws, xs = (list(map(env.fixed.__getitem__, part)) for part in (weights, sources))
        b = env.fixed[bias] if bias is not None else 0
    except KeyError:
        env.fix_pending()
        for sym in [*weights, *sources] + ([bias] if bias is not None else []):
            env.as_fixed(sym)
        return weighted_sum(linear, env, strict)
    try:
        products = list(map(operator.mul, ws, xs))
        products.append(b << env.shift)
    except TypeError:  # an operand too small for its fixed point: as mpf numbers instead
        return _mpf_sum(linear, env, strict)
    total = sum(products)
    if strict and total:
        floor = total.bit_length() - env.prec + 8
        if any(t and t.bit_length() < floor for t in products):
            raise numeric.Absorbed("a term is lost in a much larger sum")
    return mpmath.mp.make_mpf(libmp.from_man_exp(total, -2 * env.shift, env.prec, ROUND))


def _mpf_sum(linear: tuple, env: Values, strict: bool) -> mpmath.mpf:
    """The same sum on mpmath's raw tuples, for operands of any size."""
    weights, sources, bias = linear
    mul = libmp.mpf_mul
    try:
        terms = [mul((env[w] if w.is_Symbol else _exact(Fraction(int(w.p), int(w.q))))._mpf_,
                     env[x]._mpf_) for w, x in zip(weights, sources)]
        if bias is not None:
            terms.append(env[bias]._mpf_)
    except KeyError as exc:
        raise numeric.Missing(str(exc)) from None
    total = libmp.mpf_sum(terms, env.prec, ROUND)
    if strict and total != libmp.fzero:
        floor = total[2] + total[3] - env.prec + 8
        if any(man and exp + bits < floor for _, man, exp, bits in terms):
            raise numeric.Absorbed("a term is lost in a much larger sum")
    return mpmath.mp.make_mpf(total)


def _fixed(value, shift: int, prec: int) -> int | None:
    """value * 2**shift as an integer (floored), or None if it keeps fewer than prec + 8
    bits (a tiny number) or is not finite."""
    if isinstance(value, Fraction):
        if not value:
            return 0
        fixed = (value.numerator << shift) // value.denominator
    elif isinstance(value, int):
        return value << shift
    else:
        raw = value._mpf_ if isinstance(value, mpmath.mpf) else _raw(value, prec)
        sign, man, exp, _ = raw
        if not man:
            return 0 if raw == libmp.fzero else None
        exp += shift
        fixed = (man << exp if exp >= 0 else man >> -exp) * (-1 if sign else 1)
    return fixed if fixed.bit_length() >= prec + 8 else None


def _raw(value, prec: int) -> tuple:
    """A number as mpmath's raw tuple at prec bits; a Fraction rounded once, not twice."""
    if isinstance(value, Fraction):
        return _rounded(value.numerator, value.denominator, prec)
    if isinstance(value, int):
        return libmp.from_int(value, prec, ROUND)
    if isinstance(value, float):
        return libmp.from_float(value, prec, ROUND)
    if isinstance(value, mpmath.mpf):
        return libmp.mpf_pos(value._mpf_, prec, ROUND)
    with mpmath.workprec(prec):
        return mpmath.mpf(value)._mpf_


def _exact(value) -> mpmath.mpf:
    """A number at the current precision."""
    return mpmath.mp.make_mpf(_raw(value, mpmath.mp.prec))


def _rounded(p: int, q: int, prec: int) -> tuple:
    """p/q correctly rounded to prec bits, by one integer division (libmp's from_rational
    divides at full precision: it was half of a 784-input forward pass). The quotient has
    at least prec + 4 bits, and a sticky bit keeps a remainder from reading as a tie."""
    if q == 1:
        return libmp.from_int(p, prec, ROUND)
    shift = prec + q.bit_length() + 4
    quotient, rest = divmod(p << shift, q)
    return libmp.from_man_exp((quotient << 1) | bool(rest), -shift - 1, prec, ROUND)


def values(network: Network, exprs: list[sp.Expr], point: dict[str, object]) -> list:
    """Each expression's value at a point (one forward pass), None where the point falls short."""
    with mpmath.workdps(DIGITS):
        env = point_values(network, point)
        out = []
        for e in exprs:
            try:
                out.append(float(numeric.evaluate(e, env)))
            except numeric.Missing:
                out.append(None)
        return out


def value(network: Network, expr: sp.Expr, point: dict[str, object]) -> float | None:
    """The value of a compact expression at a point, or None if the point does not fix it."""
    return values(network, [expr], point)[0]
