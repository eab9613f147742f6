"""The worked derivation of one gradient, as a textbook prints it (SPEC §10).

Mazur's article derives dE_total/dw5 as dE_total/dout_o1 * dout_o1/dnet_o1 *
dnet_o1/dw5, each factor symbolic and then numeric, and a hidden weight's gradient as a
sum over the paths to the loss. This module does that for any network: it walks the
quantity graph from the loss down to the asked name (the chain rule through each net,
each output, and a softmax layer's cross terms), and returns the equations in the order
a reader follows them. Rendering them (text, Markdown, LaTeX) is plain string work.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import sympy as sp

from . import calculus, forward, typeset
from .errors import DeriveError, did_you_mean
from .network import Network
from .notation import latex_name, number, to_latex, to_text

L2 = "E_l2"  # the l2 term of E_total, as the chain rule names it


@dataclass
class Partial:
    """d(of)/d(wrt) of two named quantities."""

    of: str
    wrt: str

    def text(self) -> str:
        return f"d{self.of}/d{self.wrt}"

    def latex(self) -> str:
        return rf"\frac{{\partial {latex_name(self.of)}}}{{\partial {latex_name(self.wrt)}}}"


@dataclass
class Equation:
    """partial = sum of products of partials (the chain rule) = compact form = number."""

    partial: Partial
    chain: list[list[Partial]] = field(default_factory=list)  # [] for a local derivative
    compact: sp.Expr = sp.S.Zero
    value: float | None = None
    depth: int = 0
    note: str = ""  # what the equation is: "the loss", "the activation", ...
    factors: list[list[float | None]] = field(default_factory=list)  # the chain's numbers


@dataclass
class Derivation:
    network: Network
    wrt: str
    equations: list[Equation]
    values: dict[str, float] = field(default_factory=dict)  # the forward pass it uses

    @property
    def result(self) -> Equation:
        return self.equations[0]


def derivation(network: Network, wrt: str, at: dict | None = None) -> Derivation:
    """The worked derivation of dE_total/d(wrt): a parameter, input, net or out."""
    if wrt not in network:
        raise DeriveError(f"--wrt: unknown name '{wrt}'"
                          f"{did_you_mean(wrt, network.quantities, cutoff=0.5)}")
    kind = network[wrt].kind
    if kind not in ("weight", "bias", "input", "net", "out"):
        raise DeriveError(f"--wrt: {wrt} is a {kind}; explain derives dE_total by a weight, "
                          f"bias, input, net or out")
    walk = _Walk(network)
    {"net": walk.net, "out": walk.out}.get(kind, walk.leaf)(wrt, 0)
    return Derivation(network, wrt, walk.equations, _numbers(network, walk.equations, at))


class _Walk:
    """Equations from the asked derivative down, each quantity derived once."""

    def __init__(self, network: Network):
        self.network = network
        self.equations: list[Equation] = []
        self.done: set[str] = set()

    def _first(self, name: str) -> bool:
        """Is this the first time the quantity is derived? (Later steps refer to it.)"""
        if name in self.done:
            return False
        self.done.add(name)
        return True

    def add(self, equation: Equation) -> Equation:
        self.equations.append(equation)
        return equation

    def leaf(self, name: str, depth: int) -> None:
        """dE/dp = sum over the nets that use p of dE/dnet * dnet/dp (+ the l2 term)."""
        network = self.network
        symbol = network[name].symbol
        nets = [q for q, _ in calculus._nets_using(network).get(symbol, [])]
        chain = [[Partial("E_total", q.name), Partial(q.name, name)] for q in nets]
        l2 = network.loss.partials.get(symbol)
        if l2 is not None and l2 != 0:
            chain.append([Partial(L2, name)])  # the l2 term, directly
        self.add(Equation(Partial("E_total", name), chain,
                          calculus.gradient(network, name), depth=depth,
                          note="through every net that uses it" if len(nets) > 1 else ""))
        for q in nets:
            self.net(q.name, depth + 1)
            self.add(Equation(Partial(q.name, name), [], q.partials[symbol], depth=depth + 1,
                              note="the net's weighted sum"))
        if l2 is not None and l2 != 0:
            self.add(Equation(Partial(L2, name), [], l2, depth=depth + 1,
                              note="the l2 term"))

    def net(self, name: str, depth: int) -> None:
        """dE/dnet_u = sum over the layer's outs of dE/dout_v * dout_v/dnet_u."""
        if not self._first(name):
            return
        network = self.network
        quantity = network[name]
        outs = [o for o in network.units(network.layer(quantity.layer), "out", quantity.example)
                if quantity.symbol in network[o.name].partials]
        chain = [[Partial("E_total", o.name), Partial(o.name, name)] for o in outs]
        delta = network[name.replace("net_", "delta_", 1)].symbol
        self.add(Equation(Partial("E_total", name), chain, delta, depth=depth,
                          note="the softmax couples the layer's outs" if len(outs) > 1
                          else ""))
        for o in outs:
            self.out(o.name, depth + 1)
            self.add(Equation(Partial(o.name, name), [],
                              network[o.name].partials[quantity.symbol], depth=depth + 1,
                              note="the activation's derivative"))

    def out(self, name: str, depth: int) -> None:
        """dE/dout_u: from the loss for an output, else over every net above that uses it."""
        if not self._first(name):
            return
        network = self.network
        symbol = network[name].symbol
        above = [q for q, _ in calculus._nets_using(network).get(symbol, [])]
        if not above:
            compact = calculus.derivative(network, network.loss.symbol, symbol)
            output = network[name].layer == network.spec.output.name
            self.add(Equation(Partial("E_total", name), [], compact, depth=depth,
                              note=f"the loss ({network.spec.loss})" if output else
                              "no later net uses it"))
            return
        chain = [[Partial("E_total", q.name), Partial(q.name, name)] for q in above]
        through = sp.Add(*(delta * q.partials[symbol] for q, delta in
                           calculus._nets_using(network).get(symbol, [])))
        self.add(Equation(Partial("E_total", name), chain, through, depth=depth,
                          note="summed over every path to the loss"))
        for q in above:
            self.net(q.name, depth + 1)
            self.add(Equation(Partial(q.name, name), [], q.partials[symbol], depth=depth + 1,
                              note="the weight"))


def _numbers(network: Network, equations: list[Equation], at: dict | None) -> dict:
    """Each equation's number, and its chain's factors', where the point fixes them; the
    values of the quantities the compact forms use (the forward pass), in network order."""
    from .api import point

    values = point(network, at)
    used = set().union(*(eq.compact.free_symbols for eq in equations))
    names = [q.name for q in network.quantities.values() if q.symbol in used]
    passed = forward.values(network, [network[n].symbol for n in names], values)
    figures = forward.values(network, [eq.compact for eq in equations], values)
    for eq, figure in zip(equations, figures):
        eq.value = figure
    by_partial = {}
    for eq in equations:  # the first equation for a partial holds its number
        by_partial.setdefault((eq.partial.of, eq.partial.wrt), eq.value)
    for eq in equations:
        eq.factors = [[by_partial.get((p.of, p.wrt)) for p in term] for term in eq.chain]
    return {n: x for n, x in zip(names, passed) if x is not None}


# --- rendering -------------------------------------------------------------------------------

def _chain_text(eq: Equation, latex: bool = False) -> str:
    join, times = (" + ", r" \cdot ") if latex else (" + ", " * ")
    return join.join(times.join(p.latex() if latex else p.text() for p in term)
                     for term in eq.chain)


def _numbers_text(eq: Equation, latex: bool = False) -> str | None:
    if not eq.chain or any(x is None for term in eq.factors for x in term):
        return None
    times = r" \times " if latex else " * "
    terms = [times.join(number(x) for x in term) for term in eq.factors]
    return " + ".join(f"({t})" if len(eq.factors) > 1 and len(term) > 1 else t
                      for t, term in zip(terms, eq.factors))


def text(d: Derivation) -> str:
    """Each equation's forms one under the other, aligned on =, as Mazur prints them."""
    lines = [f"dE_total/d{d.wrt}, by the chain rule", ""]
    if d.values:
        forward = ", ".join(f"{k} = {number(x)}" for k, x in d.values.items())
        lines += [textwrap.fill(f"the forward pass: {forward}", 88, subsequent_indent="  "),
                  ""]
    for eq in d.equations:
        pad = "  " * eq.depth
        head = eq.partial.text()
        parts = ([_chain_text(eq)] if eq.chain else []) + [to_text(eq.compact)]
        shown = _numbers_text(eq)
        if shown is not None:
            parts.append(shown)
        if eq.value is not None:
            parts.append(number(eq.value))
        note = f"   ({eq.note})" if eq.note else ""
        lines.append(f"{pad}{head} = {parts[0]}{note}")
        lines += [f"{pad}{' ' * len(head)} = {part}" for part in parts[1:]]
    last = d.result
    value = f" = {number(last.value)}" if last.value is not None else ""
    lines += ["", f"so dE_total/d{d.wrt} = {to_text(last.compact)}{value}"]
    return "\n".join(lines) + "\n"


def markdown(d: Derivation) -> str:
    """One $$ block a step, its note in italics after it (GitHub renders both)."""
    from .errors import printable

    title = printable(d.network.spec.name or d.network.spec.file)
    lines = [f"# dE_total/d{d.wrt} in {title}", "", "By the chain rule:", ""]
    if d.values:
        lines += ["The forward pass: " + ", ".join(f"${latex_name(k)} = {number(x)}$"
                                                   for k, x in d.values.items()), ""]
    for eq in d.equations:
        lines += [f"$$\n{_latex_line(eq)}\n$$", ""]
        if eq.note:
            lines += [f"*{eq.note}*", ""]
    return "\n".join(lines)


def to_json(d: Derivation) -> dict:
    """The same steps for programs: each partial, its chain (a sum of products of
    partials), its compact form in derive's syntax and LaTeX, its number, the chain's
    numbers, and the forward pass's values."""
    def name(p: Partial) -> dict:
        return {"of": p.of, "wrt": p.wrt}

    return {"wrt": d.wrt, "values": d.values, "steps": [
        {"partial": name(eq.partial), "chain": [[name(p) for p in term] for term in eq.chain],
         "expr": to_text(eq.compact), "latex": to_latex(eq.compact), "value": eq.value,
         "factors": eq.factors, "depth": eq.depth, "note": eq.note}
        for eq in d.equations]}


def _latex_forms(eq: Equation) -> list[str]:
    """The right-hand sides of one step: the chain, the compact form, the numbers."""
    parts = ([_chain_text(eq, latex=True)] if eq.chain else []) + [to_latex(eq.compact)]
    shown = _numbers_text(eq, latex=True)
    if shown is not None:
        parts.append(shown)
    if eq.value is not None:
        parts.append(number(eq.value))
    return parts


def _latex_line(eq: Equation) -> str:
    return " = ".join([eq.partial.latex(), *_latex_forms(eq)])


def latex(d: Derivation) -> str:
    """A standalone document: each step's forms one under the other, aligned on =."""
    title = typeset.text(d.network.spec.name or d.network.spec.file)
    rows = []
    for eq in d.equations:
        forms = _latex_forms(eq)
        note = rf" && \text{{({typeset.text(eq.note)})}}" if eq.note else ""
        rows.append(f"{eq.partial.latex()} &= {forms[0]}{note}")
        rows += [f"&= {form}" for form in forms[1:]]
    forward = ", ".join(f"${latex_name(k)} = {number(x)}$" for k, x in d.values.items())
    intro = f"\\noindent The forward pass: {forward}.\n\n" if d.values else ""
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
            "\\usepackage[margin=2cm]{geometry}\n\\allowdisplaybreaks\n\\begin{document}\n"
            f"\\section*{{$\\partial E_{{\\mathrm{{total}}}} / \\partial "
            f"{latex_name(d.wrt)}$ in {title}}}\n{intro}"
            "\\noindent By the chain rule:\n\\begin{align*}\n" + " \\\\\n".join(rows)
            + "\n\\end{align*}\n\\end{document}\n")
