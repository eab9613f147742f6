"""The Python API that the CLI, the pytest plugin and coursework tests all use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from . import calculus, claims, verdicts
from . import spec as specs
from .errors import DeriveError
from .network import Network, suggest
from .notation import to_latex, to_text


def load(source: str | Path | dict) -> Network:
    """A network from a spec file's path or from a dict in the spec's shape."""
    spec = specs.from_data(source) if isinstance(source, dict) else specs.load(source)
    return Network(spec)


@dataclass
class Gradient:
    wrt: str
    expr: sp.Expr
    value: float | None = None
    updated: float | None = None

    @property
    def text(self) -> str:
        return to_text(self.expr)

    @property
    def latex(self) -> str:
        return to_latex(self.expr)


@dataclass
class Gradients:
    """Every requested dE_total/dX, with numbers where the point fixes them."""

    network: Network
    loss: float | None
    items: list[Gradient]
    expanded: bool = False


def point(network: Network, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The spec's `values`, with overrides (e.g. from --at) checked against the network."""
    values = dict(network.spec.values)
    known = specs.settable_names(network.spec)
    for name, number in (overrides or {}).items():
        if name not in known:
            raise DeriveError(f"--at: '{name}' is not an input, parameter or target of this "
                              f"network{suggest(name, sorted(known))}")
        values[name] = number
    return values


def gradients(network: Network, wrt: list[str] | None = None, *, at: dict | None = None,
              lr: float | None = None, expanded: bool = False) -> Gradients:
    names = wrt or network.params
    for name in names:
        if name not in network:
            raise DeriveError(f"--wrt: unknown name '{name}'"
                              f"{suggest(name, list(network.quantities))}")
        calculus.kind_of_variable(network, network[name].symbol)
    values = point(network, at)
    compact = [calculus.gradient(network, name) for name in names]
    loss, *numbers = calculus.values(network, [network.loss.symbol, *compact], values)
    items = []
    for name, formula, number in zip(names, compact, numbers):
        item = Gradient(name, calculus.expand(network, formula) if expanded else formula,
                        number)
        if lr is not None and number is not None and network[name].kind in ("weight", "bias") \
                and name in values:
            item.updated = values[name] - lr * number
        items.append(item)
    return Gradients(network, loss, items, expanded)


@dataclass
class Result:
    """A judged claim: what was claimed, the verdict, and whether it met its `expect`."""

    claim: claims.Claim
    verdict: verdicts.Verdict

    @property
    def ok(self) -> bool:
        return self.verdict.verdict == self.claim.expect

    @property
    def truth_text(self) -> str:
        return to_text(self.claim.truth)

    def to_json(self) -> dict:
        c, v = self.claim, self.verdict
        entry = {"file": c.file, "line": c.line, "of": c.of, "wrt": c.wrt, "index": c.index,
                 "verdict": v.verdict, "shown_by": v.shown_by, "expect": c.expect,
                 "ok": self.ok, "hint": v.hint, "counterexample": v.counterexample}
        if c.step is not None:
            entry["step"] = c.step
        return entry


def check_claims(network: Network, items: list[claims.Claim],
                 budget: float = verdicts.BUDGET) -> list[Result]:
    results = [Result(c, verdicts.judge(network, c.claim, c.truth, c.assume, budget))
               for c in items]
    _first_wrong_step(results)
    return results


def _first_wrong_step(results: list[Result]) -> None:
    """In a steps chain, name the first step that breaks the equality."""
    seen: set = set()
    for result in results:
        c = result.claim
        key = (c.file, c.of, c.wrt, tuple(c.index.items()))
        if c.step is not None and result.verdict.verdict == "incorrect" and key not in seen:
            seen.add(key)
            note = f"step {c.step} is the first wrong step"
            hint = result.verdict.hint
            result.verdict.hint = f"{note}; {hint}" if hint else note


def check(source: str | Path | dict, budget: float = verdicts.BUDGET) -> list[Result]:
    """Judge every check of a spec."""
    network = load(source)
    items = [c for check in network.spec.checks for c in claims.claims_of(network, check)]
    return check_claims(network, items, budget)


def check_one(network: Network, wrt: str, claim: str, of: str = "E_total",
              syntax: str = "sympy", budget: float = verdicts.BUDGET,
              assume: str | None = None) -> list[Result]:
    """Judge one claim given as text, e.g. from the command line."""
    items = claims.one_claim(network, wrt, claim, of, syntax, assume)
    return check_claims(network, items, budget)
