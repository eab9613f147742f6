"""The losses, each as one term per output unit (sse's terms are the named E_<unit>)."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

Terms = Callable[[list[sp.Symbol], list[sp.Symbol]], list[sp.Expr]]

LOSSES: dict[str, Terms] = {
    "sse": lambda y, t: [sp.Rational(1, 2) * (tk - yk) ** 2 for yk, tk in zip(y, t)],
    "mse": lambda y, t: [(tk - yk) ** 2 / len(y) for yk, tk in zip(y, t)],
    "cross_entropy": lambda y, t: [-tk * sp.log(yk) for yk, tk in zip(y, t)],
    "binary_cross_entropy": lambda y, t: [-(tk * sp.log(yk) + (1 - tk) * sp.log(1 - yk))
                                          for yk, tk in zip(y, t)],
}
NAMED_TERMS = {"sse"}  # losses whose per-unit terms a claim may name as E_<unit>
NAMES = sorted([*LOSSES, "custom"])
