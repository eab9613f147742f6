"""What an answer may be written in: a teacher's `use:` list, and the default for answers.

Restating the question is not an answer: `d(E_total, w5)` for dE/dw5, its LaTeX
`\\frac{\\partial E_{total}}{\\partial w_5}`, or `delta_h1` for d(E_total, net_h1) would all
be proved equal to the truth. So a student's answer (an answers file) may never use `d(...)`
nor the quantity asked for; an exercise's (or a check's) `use:` narrows the last line of an
answer further, to the kinds (`out`, `weight`, `d`, ...), families (`delta_o`) and names
it lists. Earlier lines of a `steps:` chain are the derivation: they may use `d(...)`, but
never the asked derivative itself. The rules are applied where names are resolved, so
aliases and LaTeX spellings cannot get around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .errors import ClaimError, echo
from .network import Network
from .vocabulary import FAMILY

KINDS = ("input", "weight", "bias", "target", "constant", "net", "out", "delta", "loss")
DERIVATIVE = "d"


@dataclass(frozen=True)
class Usage:
    """The names (None: any) and whether `d(...)` may appear in one line of an answer."""

    asked: tuple[sp.Symbol, sp.Symbol]  # (of, wrt): d(of, wrt) itself is never an answer
    asked_name: str | None  # the named quantity that is d(of, wrt), e.g. delta_h1
    names: frozenset[str] | None
    derivatives: bool
    listed: tuple[str, ...] | None  # the teacher's `use:`, for messages

    def admit(self, network: Network, symbol: sp.Basic) -> None:
        quantity = network.quantity_of(symbol)
        if quantity is None:
            return
        name = quantity.name
        if name == self.asked_name:
            of, wrt = self.asked
            raise ClaimError(f"{name} is d({of}, {wrt}), the quantity this answer is asked "
                             f"to derive: write it out")
        if self.names is not None and name not in self.names:
            raise ClaimError(f"{name} is not allowed in this answer{self._allowed()}")

    def admit_derivative(self, network: Network, of: sp.Basic, wrt: sp.Basic) -> None:
        asked_of, asked_wrt = self.asked
        if wrt == asked_wrt and _restates(network, of, asked_of):
            said = "" if of == asked_of else f" (d({echo(str(of), 40)}, {wrt}) restates it)"
            raise ClaimError(f"d({asked_of}, {asked_wrt}) is the derivative this answer is "
                             f"asked for: derive it{said}")
        if not self.derivatives:
            raise ClaimError(f"d(...) is not allowed in this answer: write the derivative "
                             f"out{self._allowed()}")

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


def of(network: Network, check, of_symbol: sp.Symbol, wrt_symbol: sp.Symbol,
       last: bool) -> Usage | None:
    """The rules for one line of the answer to `check` (None: anything goes)."""
    if not check.restricted and check.use is None:
        return None
    asked_name = None
    if of_symbol == network.loss.symbol and network.quantity_of(wrt_symbol).kind == "net":
        asked_name = "delta_" + wrt_symbol.name.removeprefix("net_")
    if check.use is not None and asked_name in check.use:
        asked_name = None  # the teacher allowed it by name
    if not last:
        return Usage((of_symbol, wrt_symbol), asked_name, None, True, None)
    if check.use is None:
        return Usage((of_symbol, wrt_symbol), asked_name, None, False, None)
    return Usage((of_symbol, wrt_symbol), asked_name, _names(network, check.use),
                 DERIVATIVE in check.use, check.use)


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
        return [w for row in layer.weights for w in row]
    if prefix == "b":
        return [b for b in layer.biases if b]
    return [f"{prefix}_{layer.unit(j)}" for j in range(1, layer.units + 1)
            if f"{prefix}_{layer.unit(j)}" in network]
