"""Evaluate SymPy expressions with mpmath at a chosen precision, without lambdify or eval.

A small table of the functions our formulas can contain. A point outside a formula's
domain (log of a negative, 1/0), a form with no real value (zoo, I), a function the table
lacks, or an argument too large to give a meaningful value (sin of 10**60 at 50 digits)
raises `Undefined`, which callers treat as "no information at this point".
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp


class Undefined(ArithmeticError):
    """The expression has no real value at this point."""


class Missing(KeyError):
    """A symbol the expression needs has no value."""


HUGE = 10**100  # exp of more: an exponent too large to write down (exp(exp(exp(w))))


def _heaviside(x, h0=0):
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(h0)


def _kronecker(a, b):
    return mpmath.mpf(1) if a == b else mpmath.mpf(0)


def _dirac(x, k=0):
    """Zero away from the origin, at any order; no value at it."""
    if x == 0:
        raise Undefined("DiracDelta at 0")
    return mpmath.mpf(0)


def _periodic(function):
    """A periodic function of an argument so large that its known digits do not reach the
    period's scale gives noise, and mpmath would spend its time reducing it: refused."""
    def guarded(x):
        if x != 0 and mpmath.mag(x) > mpmath.mp.prec // 2:
            raise Undefined(f"{function.__name__} of a number too large to reduce reliably")
        return function(x)
    return guarded


def _bounded(function):
    def guarded(x):
        if abs(x) > HUGE:
            raise Undefined(f"{function.__name__} of a number too large")
        return function(x)
    return guarded


FUNCTIONS = {
    sp.exp: _bounded(mpmath.exp), sp.log: mpmath.log, sp.tanh: mpmath.tanh,
    sp.erf: mpmath.erf, sp.sin: _periodic(mpmath.sin), sp.cos: _periodic(mpmath.cos),
    sp.tan: _periodic(mpmath.tan), sp.sinh: _bounded(mpmath.sinh),
    sp.cosh: _bounded(mpmath.cosh), sp.Abs: abs, sp.sign: mpmath.sign,
    sp.Heaviside: _heaviside, sp.KroneckerDelta: _kronecker, sp.DiracDelta: _dirac,
    sp.Max: lambda *a: max(a), sp.Min: lambda *a: min(a),
}


class Absorbed(Undefined):
    """A term vanished into a sum far larger than itself: at this precision the value has
    lost information (a saturated sigmoid's 1 - out, 1 + 10**-200)."""


# f(x) = f(0) + O(x**k) near 0: an x below 2**(-prec/k) leaves no trace (exp(1e-300) = 1)
FLAT_AT_ZERO = {sp.exp: 1, sp.cos: 2, sp.cosh: 2}
# f(x) = ±1 ∓ (a tail) far from 0: where the tail is below the precision, the value is its
# limit and keeps no trace of x (1 + tanh(-10**9) is exactly 0, not 2e**(-2*10**9): a
# claim wrong beyond a step made of it looked right everywhere before the step)
SATURATING = {sp.tanh, sp.erf}


def evaluate(expr: sp.Basic, env: dict[sp.Symbol, mpmath.mpf], strict: bool = False) \
        -> mpmath.mpf:
    """The value of `expr` at the current mpmath precision, symbols taken from `env`.

    `strict`: a sum that swallows a nonzero term whole raises `Absorbed` (evidence must not
    rest on digits the precision could not hold)."""
    return Walk(env, strict).value(expr)


def _real(value):
    """Every intermediate value is real: a complex one ends the evaluation here."""
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise Undefined("complex value")
        return value.real
    return value


class Walk:
    """Evaluates expressions over one `env`, remembering shared subexpressions."""

    def __init__(self, env, strict=False):
        self.env = env
        self.memo: dict = {}
        self.strict = strict

    def value(self, expr: sp.Basic) -> mpmath.mpf:
        try:
            value = self(expr)
        except ZeroDivisionError:
            raise Undefined("division by zero") from None
        except (ValueError, OverflowError, TypeError) as exc:
            raise Undefined(str(exc)) from None
        if not mpmath.isfinite(value):
            raise Undefined("not finite")
        return value

    def __call__(self, e):
        if e.is_Symbol:
            if e not in self.env:
                raise Missing(e.name)
            return self.env[e]
        if e.is_Rational:
            return mpmath.mpf(e.p) / e.q if e.q != 1 else mpmath.mpf(e.p)
        if e.is_Float:
            return mpmath.mpf(e)
        if e is sp.pi:
            return +mpmath.pi
        if e is sp.E:
            return +mpmath.e
        if e.is_Atom:  # zoo, oo, nan, I, EulerGamma, ...: none has a finite real value
            raise Undefined(f"{e} has no finite real value")
        if e in self.memo:
            return self.memo[e]
        value = _real(self._compound(e))
        self.memo[e] = value
        return value

    def _compound(self, e):
        if e.is_Add:
            terms = [self(a) for a in e.args]
            total = mpmath.fsum(terms)
            if self.strict and total:
                floor = mpmath.mag(total) - mpmath.mp.prec + 8
                if any(t and mpmath.mag(t) < floor for t in terms):
                    raise Absorbed("a term is lost in a much larger sum")
            return total
        if e.is_Mul:
            return mpmath.fprod(self(a) for a in e.args)
        if e.is_Pow:
            base, exponent = e.args
            if exponent.is_Integer:
                return self(base) ** int(exponent)
            value, power = self(base), self(exponent)
            if value < 0:
                raise Undefined("fractional power of a negative number")
            if value != 0 and abs(power * mpmath.log(value)) > HUGE:
                raise Undefined("a power too large")
            return value ** power
        function = FUNCTIONS.get(e.func)
        if function is None:
            raise Undefined(f"cannot evaluate {e.func.__name__} numerically")
        args = [self(a) for a in e.args]
        if self.strict and e.func in FLAT_AT_ZERO and args[0] and \
                FLAT_AT_ZERO[e.func] * mpmath.mag(args[0]) < -mpmath.mp.prec + 8:
            raise Absorbed(f"{e.func.__name__} of a number too small to change its value")
        value = function(*args)
        if self.strict and e.func in SATURATING and \
                1 - abs(value) < mpmath.mpf(2) ** (-mpmath.mp.prec + 8):
            raise Absorbed(f"{e.func.__name__} of a number so large that it is its limit")
        return value


def evaluate_arrays(expr: sp.Basic, env: dict) -> object:
    """The value of `expr` at many points at once: `env` maps symbols to float64 NumPy
    arrays (one entry per point), and the result is an array, nan outside the domain.

    Ordinary precision, for a fast look at many instances; evidence stays with `evaluate`."""
    import numpy as np

    functions = {
        sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.sin: np.sin, sp.cos: np.cos,
        sp.tan: np.tan, sp.sinh: np.sinh, sp.cosh: np.cosh, sp.Abs: np.abs, sp.sign: np.sign,
        sp.erf: np.vectorize(math.erf, otypes=[float]),
        sp.Heaviside: lambda x, h0=0.0: np.heaviside(x, h0),
        sp.KroneckerDelta: lambda a, b: np.where(a == b, 1.0, 0.0),
        sp.Max: lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)),
        sp.Min: lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)),
    }
    memo: dict = {}

    def walk(e):
        if e.is_Symbol:
            if e not in env:
                raise Missing(e.name)
            return env[e]
        if e.is_Number or e in (sp.pi, sp.E):
            return float(e)
        if e not in memo:
            args = [walk(a) for a in e.args]
            if e.is_Add:
                memo[e] = sum(args[1:], args[0])
            elif e.is_Mul:
                memo[e] = np.prod(np.broadcast_arrays(*args), axis=0)
            elif e.is_Pow:
                memo[e] = np.power(args[0], args[1])
            elif e.func in functions:
                memo[e] = functions[e.func](*args)
            else:
                raise TypeError(f"cannot evaluate {e.func.__name__} numerically")
        return memo[e]

    with np.errstate(all="ignore"):
        return np.asarray(walk(expr), dtype=float)
