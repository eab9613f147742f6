"""How quantities are written: plain text (parseable back as a claim) and LaTeX."""

from __future__ import annotations

import re

import sympy as sp

_WORDS = {"out": r"\mathrm{out}", "net": r"\mathrm{net}", "delta": r"\delta",
          "target": r"\mathrm{target}"}


def latex_name(name: str) -> str:
    """out_h1 -> \\mathrm{out}_{h1}, w5 -> w_{5}, w_h1_i2 -> w_{h1,i2}, E_total -> E_{total};
    a training example's out_h1(2) -> \\mathrm{out}_{h1}^{(2)}."""
    example = re.fullmatch(r"(.+)\((\d+)\)", name)
    if example:
        return f"{latex_name(example.group(1))}^{{({example.group(2)})}}"
    head, _, rest = name.partition("_")
    if rest:
        if name == "E_total":
            return r"E_{\mathrm{total}}"
        return f"{_WORDS.get(head, head)}_{{{rest.replace('_', ',')}}}"
    match = re.fullmatch(r"([A-Za-z]+?)(\d+)", name)
    if match:
        return f"{match.group(1)}_{{{match.group(2)}}}"
    return name if len(name) == 1 else rf"\mathrm{{{name}}}"


def to_latex(expr: sp.Basic) -> str:
    names = {s: latex_name(s.name) for s in expr.free_symbols if s.is_Symbol}
    return sp.latex(expr, symbol_names=names)


def to_text(expr: sp.Basic) -> str:
    """SymPy syntax that derive's own claim parser reads back; a matrix as its rows, on
    one line ([[a, b], [c, d]])."""
    if isinstance(expr, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(sp.sstr(x) for x in expr.row(r)) + "]"
                               for r in range(expr.rows)) + "]"
    return sp.sstr(expr)


def partial_latex(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}"


def number(value: float) -> str:
    """Nine significant digits: what worked examples publish."""
    return f"{value:.9g}"
