"""Each activation's formula beside its local derivative.

The derivative is written through the unit's own output where that is the textbook form
(sigmoid: out(1-out), tanh: 1-out^2, softmax: out_i(δ_ij - out_j)). That keeps gradients
compact and turns most backprop identities into polynomial ones, which are quick to prove.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

H = sp.Heaviside  # H(x, 0): relu's derivative at the kink is 0, as PyTorch takes it


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


@dataclass(frozen=True)
class Activation:
    """forward(x, alpha) -> out; derivative(net, out, alpha) -> dout/dnet."""

    forward: Callable
    derivative: Callable
    alpha: sp.Rational | None = None  # the default, for activations that take one
    about: str = ""


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(lambda x, a: _sigmoid(x), lambda n, o, a: o * (1 - o),
                          about="1/(1+e^-x)"),
    "tanh": Activation(lambda x, a: sp.tanh(x), lambda n, o, a: 1 - o**2, about="tanh x"),
    "relu": Activation(lambda x, a: sp.Max(0, x), lambda n, o, a: H(n, 0), about="max(0, x)"),
    "leaky_relu": Activation(lambda x, a: x * (a + (1 - a) * H(x, 0)),
                             lambda n, o, a: a + (1 - a) * H(n, 0),
                             alpha=sp.Rational(1, 100), about="x if x > 0 else alpha*x"),
    "linear": Activation(lambda x, a: x, lambda n, o, a: sp.S.One, about="x"),
    "softplus": Activation(lambda x, a: sp.log(1 + sp.exp(x)), lambda n, o, a: 1 - sp.exp(-o),
                           about="log(1+e^x)"),
    "elu": Activation(lambda x, a: H(x, 0) * x + (1 - H(x, 0)) * a * (sp.exp(x) - 1),
                      lambda n, o, a: H(n, 0) + (1 - H(n, 0)) * (o + a),
                      alpha=sp.S.One, about="x if x > 0 else alpha*(e^x - 1)"),
    "swish": Activation(lambda x, a: x * _sigmoid(x),
                        lambda n, o, a: o + _sigmoid(n) * (1 - o), about="x*sigmoid(x)"),
    "gelu": Activation(lambda x, a: x / 2 * (1 + sp.erf(x / sp.sqrt(2))),
                       lambda n, o, a: (1 + sp.erf(n / sp.sqrt(2))) / 2
                       + n * sp.exp(-n**2 / 2) / sp.sqrt(2 * sp.pi),
                       about="x/2*(1+erf(x/sqrt 2))"),
}
ACTIVATIONS["silu"] = ACTIVATIONS["swish"]
COUPLED = {"softmax"}  # each output depends on the whole layer's nets
NAMES = sorted([*ACTIVATIONS, *COUPLED, "custom"])


def custom(formula: sp.Expr, x: sp.Symbol) -> Activation:
    """An activation the spec writes as an expression in x."""
    slope = sp.diff(formula, x)
    return Activation(lambda v, a: formula.xreplace({x: v}),
                      lambda n, o, a: slope.xreplace({x: n}), about=str(formula))


def softmax(nets: list[sp.Symbol]) -> list[sp.Expr]:
    total = sp.Add(*(sp.exp(n) for n in nets))
    return [sp.exp(n) / total for n in nets]


def softmax_derivative(outs: list[sp.Symbol], i: int, j: int) -> sp.Expr:
    """d out_i / d net_j of a softmax layer."""
    return outs[i] * (1 - outs[i]) if i == j else -outs[i] * outs[j]
