"""What an answer may be written in: a teacher's `use:` list, and the default for answers.

Restating the question is not an answer: `d(E_total, w5)` for dE/dw5, its LaTeX
`\\frac{\\partial E_{total}}{\\partial w_5}`, or `delta_h1` for d(E_total, net_h1) would all
be proved equal to the truth. So a student's answer (an answers file) may never use `d(...)`
nor the quantity asked for; an exercise's (or a check's) `use:` narrows the last line of an
answer further, to the kinds (`out`, `weight`, `d`, ...), families (`delta_o`) and names
it lists. Earlier lines of a `steps:` chain are the derivation: they may use `d(...)`, but
never the asked derivative itself. An activation's derivative by name (`sigmoid_prime`)
never answers an exercise asking for one, and counts as `d` under a `use:` list. The
rules are applied where names are resolved, so aliases and LaTeX spellings cannot get
around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from . import matrices
from .errors import ClaimError, echo
from .network import Network
from .vocabulary import FAMILY

KINDS = ("input", "weight", "bias", "target", "constant", "net", "out", "delta", "loss")
DERIVATIVE = "d"


@dataclass(frozen=True)
class Usage:
    """The names (None: any) and whether `d(...)` may appear in one line of an answer."""

    asked: frozenset[tuple[sp.Symbol, sp.Symbol]]  # (of, wrt): d(of, wrt) is never an
    # answer; a matrix check asks for every entry's pair
    asked_names: frozenset[tuple[str, sp.Symbol, sp.Symbol]]  # named quantities that are
    # an asked d(of, wrt): (delta_h1, E_total, net_h1)
    names: frozenset[str] | None
    derivatives: bool
    listed: tuple[str, ...] | None  # the teacher's `use:`, for messages

    def admit(self, network: Network, symbol) -> None:
        if matrices.is_matrix(symbol):
            for entry in symbol.entries:
                self.admit(network, entry)
            return
        quantity = network.quantity_of(symbol)
        if quantity is None:
            return
        name = quantity.name
        if name in self._named:
            of, wrt = self._named[name]
            raise ClaimError(f"{name} is d({of}, {wrt}), the quantity this answer is asked "
                             f"to derive: write it out")
        if self.names is not None and name not in self.names:
            raise ClaimError(f"{name} is not allowed in this answer{self._allowed()}")

    def admit_derivative(self, network: Network, of, wrt) -> None:
        for one_of in matrices.entries(of):
            for one_wrt in matrices.entries(wrt):
                self._admit_derivative(network, one_of, one_wrt)

    def _admit_derivative(self, network: Network, of: sp.Basic, wrt: sp.Basic) -> None:
        for asked_of in self._by_wrt.get(wrt, ()):
            asked_wrt = wrt
            if _restates(network, of, asked_of):
                said = "" if of == asked_of else \
                    f" (d({echo(str(of), 40)}, {wrt}) restates it)"
                raise ClaimError(f"d({asked_of}, {asked_wrt}) is the derivative this answer "
                                 f"is asked for: derive it{said}")
        if not self.derivatives:
            raise ClaimError(f"d(...) is not allowed in this answer: write the derivative "
                             f"out{self._allowed()}")

    def admit_activation_derivative(self, network: Network, name: str) -> None:
        """An activation's derivative by its name (sigmoid_prime, LaTeX's \\sigma'): never
        in an answer asked for an activation's derivative, d(out_h1, net_h1), which it
        would name (whatever the argument: tanh' is 4*sigmoid_prime(2*x)); under a `use:`
        list, only where d is listed, as it is a derivative."""
        for of, wrt in self.asked:
            out, net = network.quantity_of(of), network.quantity_of(wrt)
            if out is not None and net is not None and (out.kind, net.kind) == ("out", "net"):
                raise ClaimError(f"{name}() is a derivative of an activation, which this "
                                 f"answer is asked for (d({of}, {wrt})): derive it")
        if self.listed is not None and not self.derivatives:
            raise ClaimError(f"{name}() is a derivative, and d is not allowed in this "
                             f"answer: write it out{self._allowed()}")

    @cached_property
    def _named(self) -> dict:
        return {name: (of, wrt) for name, of, wrt in self.asked_names}

    @cached_property
    def _by_wrt(self) -> dict:
        found: dict = {}
        for of, wrt in self.asked:
            found.setdefault(wrt, []).append(of)
        return found

    def _allowed(self) -> str:
        if self.listed is None:
            return ""
        return f" (it may use: {echo(', '.join(self.listed), 120)})"


def _restates(network: Network, of: sp.Basic, asked_of: sp.Symbol) -> bool:
    """Is d(of, .) the asked derivative in other words? When `of` is built on the asked
    quantity (2*E_total), or on the loss's own terms when the loss is asked (E_o1 + E_o2)."""
    used = of.free_symbols
    if asked_of in used:
        return True
    return asked_of == network.loss.symbol and any(
        network.quantity_of(s) is not None and network.quantity_of(s).kind == "loss"
        for s in used)


def of(network: Network, check, of_value, wrt_value, last: bool) -> Usage | None:
    """The rules for one line of the answer to `check` (None: anything goes); `of_value`
    and `wrt_value` are quantities, or vectors and matrices of them."""
    if not check.restricted and check.use is None:
        return None
    asked = frozenset(_pairs(of_value, wrt_value))
    asked_names = set()
    for of_symbol, wrt_symbol in asked:
        quantity = network.quantity_of(wrt_symbol)
        if of_symbol == network.loss.symbol and quantity is not None and quantity.kind == "net":
            name = "delta_" + wrt_symbol.name.removeprefix("net_")
            if check.use is None or name not in check.use:  # the teacher may allow it
                asked_names.add((name, of_symbol, wrt_symbol))
    asked_names = frozenset(asked_names)
    if not last:
        return Usage(asked, asked_names, None, True, None)
    if check.use is None:
        return Usage(asked, asked_names, None, False, None)
    return Usage(asked, asked_names, _names(network, check.use), DERIVATIVE in check.use,
                 check.use)


def _pairs(of_value, wrt_value):
    return [(a, b) for a in matrices.entries(of_value) for b in matrices.entries(wrt_value)]


def _names(network: Network, listed: tuple[str, ...]) -> frozenset[str]:
    """The names that kinds, families and names in `use:` stand for (made once per list:
    a template asks again for every instance)."""
    key = ("use", listed)
    if key not in network.cache:
        network.cache[key] = _resolved(network, listed)
    return network.cache[key]


def _resolved(network: Network, listed: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for item in listed:
        if item == DERIVATIVE:
            continue
        if item in KINDS:
            found.update(n for n, q in network.quantities.items() if q.kind == item)
        elif item in network:
            found.add(item)
        elif members := _family(network, item):
            found.update(members)
        else:
            raise ClaimError(f"use: '{echo(item)}' is not a kind ({', '.join(KINDS)}, "
                             f"{DERIVATIVE}), a family or a name of this network")
    return frozenset(found)


def _family(network: Network, name: str) -> list[str]:
    """The members of a family (`delta_o`, `w_h`, the inputs' `i`), or []."""
    if name == network.input_family:
        return list(network.spec.inputs)
    match = FAMILY.fullmatch(name)
    layer = match and network.layer(match.group(2))
    if not layer:
        return []
    prefix = match.group(1)
    if prefix == "w":
        return [w for row in layer.weights for w in row if isinstance(w, str)]
    if prefix == "b":
        return [b for b in layer.biases if b]
    return [f"{prefix}_{layer.unit(j)}" for j in range(1, layer.units + 1)
            if f"{prefix}_{layer.unit(j)}" in network]
