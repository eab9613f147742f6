"""Evaluate SymPy expressions with mpmath at a chosen precision, without lambdify or eval.

A small table of the functions our formulas can contain; anything else is a bug, not user
input, so it raises. A point outside a formula's domain (log of a negative, 1/0) raises
`Undefined`, which callers treat as "no information at this point".
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp


class Undefined(ArithmeticError):
    """The expression has no real value at this point."""


class Missing(KeyError):
    """A symbol the expression needs has no value."""


def _heaviside(x, h0=0):
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(h0)


def _kronecker(a, b):
    return mpmath.mpf(1) if a == b else mpmath.mpf(0)


FUNCTIONS = {
    sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh, sp.erf: mpmath.erf,
    sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.sinh: mpmath.sinh,
    sp.cosh: mpmath.cosh, sp.Abs: abs, sp.sign: mpmath.sign, sp.Heaviside: _heaviside,
    sp.KroneckerDelta: _kronecker, sp.DiracDelta: lambda x: mpmath.inf if x == 0 else 0,
    sp.Max: lambda *a: max(a), sp.Min: lambda *a: min(a),
}


def evaluate(expr: sp.Basic, env: dict[sp.Symbol, mpmath.mpf]) -> mpmath.mpf:
    """The value of `expr` at the current mpmath precision, symbols taken from `env`."""
    try:
        value = _Walk(env)(expr)
    except ZeroDivisionError:
        raise Undefined("division by zero") from None
    except (ValueError, OverflowError) as exc:
        raise Undefined(str(exc)) from None
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise Undefined("complex value")
        value = value.real
    if not mpmath.isfinite(value):
        raise Undefined("not finite")
    return value


class _Walk:
    def __init__(self, env):
        self.env = env
        self.memo: dict = {}

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
            return mpmath.e
        if e in self.memo:
            return self.memo[e]
        value = self._compound(e)
        self.memo[e] = value
        return value

    def _compound(self, e):
        if e.is_Add:
            return mpmath.fsum(self(a) for a in e.args)
        if e.is_Mul:
            return mpmath.fprod(self(a) for a in e.args)
        if e.is_Pow:
            base, exponent = e.args
            if exponent.is_Integer:
                return self(base) ** int(exponent)
            value = self(base)
            if value < 0:
                raise Undefined("fractional power of a negative number")
            return value ** self(exponent)
        function = FUNCTIONS.get(e.func)
        if function is None:
            raise TypeError(f"cannot evaluate {e.func.__name__} numerically")
        return function(*(self(a) for a in e.args))


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
