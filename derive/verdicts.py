"""Is a claim equal to the truth? A quick look at numbers, a proof, then the full screen.

1. Quick look (screen.py): claim and truth at the network's first two points; most wrong
   claims fail there, with a difference confirmed at twice the precision.
2. Proof (proof.py): claim - truth rewritten down to inputs and parameters until it is
   zero. When it is not, its last form may show that it cannot be zero (a constant, an
   exponential, a nonzero polynomial): then a point where it is nonzero is looked for.
3. Full screen (screen.py, coverage.py): every one-hot class and every branch pattern of
   the formulas visited, values kept only when stable. `correct (numeric)` needs all of
   that; short of it the verdict is `undecided`, with the reason.
4. Hints (hints.py) for an incorrect claim.
A `correct` therefore rests on a proof, or on agreement in every case at stable values;
an `incorrect` always on a counterexample confirmed at two pairs of precisions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from . import calculus, hints, proof
from .limits import BUDGET
from .network import Network
from .screen import Sample, Screen

__all__ = ["BUDGET", "Verdict", "judge", "unanswered"]


@dataclass
class Verdict:
    verdict: str  # correct, incorrect, undecided
    shown_by: str | None = None  # symbolic or numeric, for correct
    hint: str | None = None
    counterexample: dict | None = None  # {"point": {...}, "claim": x, "truth": y}
    term: tuple[str, sp.Expr] | None = field(default=None, repr=False)  # the hint's term
    wrong: list[list[int]] | None = None  # a matrix check's wrong entries (row, column)
    source: Verdict | None = field(default=None, repr=False, compare=False)  # the verdict
    # this one is a relabelled image of (a template's first instance's)

    def relabelled(self, network: Network, rename) -> Verdict:
        """The same verdict for another instance of a template: `rename(symbols)` gives
        the new name of each symbol (of the hint's term, of the counterexample's point)."""
        hint, term, example = self.hint, self.term, self.counterexample
        if term is not None:
            term = (term[0], term[1].xreplace(rename(term[1].free_symbols)))
            hint = hints.worded(term)
        if example is not None:
            example = {**example, **{key: Renamed(network, example[key], rename)
                                     for key in ("point", "values") if key in example}}
        return Verdict(self.verdict, self.shown_by, hint, example, term,
                       source=self.source or self)


def judge(network: Network, claim: sp.Expr, truth: sp.Expr, assume: str | None = None,
          budget: float = BUDGET, hinted: bool = True) -> Verdict:
    """The verdict on `claim == truth` for every value of the network's free symbols.

    `budget`: CPU seconds for the proof (0: numbers only); `hinted`: look for a hint
    when it is wrong (a matrix check's entries do not: only its first wrong one's shows)."""
    screen = Screen(network, claim, truth, assume)
    wrong = screen.quick()
    if wrong is None and budget > 0:
        outcome = proof.settle(network, screen.difference, assume, budget)
        if outcome.proved:
            return Verdict("correct", "symbolic")
        if outcome.nonzero is not None:
            wrong = screen.witness(outcome.nonzero)
    if wrong is None:
        evidence = screen.full()
        wrong = evidence.wrong
        if wrong is None:
            if evidence.gap is not None:
                return Verdict("undecided", hint=evidence.gap)
            return Verdict("correct", "numeric")
    return _incorrect(network, screen, wrong, hinted)


def unanswered() -> Verdict:
    return Verdict("undecided", hint="no answer given")


def _incorrect(network: Network, screen: Screen, wrong: Sample, hinted: bool = True) \
        -> Verdict:
    wrong = screen.readable(wrong)
    found = hints.hint(screen, wrong) if hinted else None
    found, term = found if isinstance(found, tuple) else (found, None)
    shown = set(calculus.leaves(network, screen.claim, screen.truth))
    if screen.assume:
        shown |= {q.name for q in network.quantities.values() if q.kind == "target"}
    used = {s.name for s in screen.claim.free_symbols if network.quantity_of(s) is not None}
    return Verdict("incorrect", hint=found,
                   counterexample=_counterexample(network, wrong, shown, used), term=term)


def _counterexample(network: Network, sample: Sample, shown: set[str], used: set[str]) \
        -> dict:
    """The point (the leaves that matter), and the values there of the quantities the
    claim is written in: what a student compares a hand computation with."""
    env = sample.envs[1]
    symbols = {name: network[name].symbol for name in used if name in network}
    example = {"point": {name: float(value) for name, value in sample.point.items()
                         if name in shown},
               "values": _in_order(network, {name: _plain(env[s]) for name, s in
                                             symbols.items() if s in env}),
               "claim": _plain(sample.claim), "truth": _plain(sample.truth)}
    if example["claim"] == example["truth"]:  # apart by less than a float can show
        difference = sample.difference if sample.difference is not None else \
            sample.claim - sample.truth
        example["difference"] = _plain(difference)
    return example


def _in_order(network: Network, found: dict) -> dict:
    """In the network's order of quantities (inputs to deltas), as `show` lists them."""
    if "order" not in network.cache:
        network.cache["order"] = {name: k for k, name in enumerate(network.quantities)}
    return dict(sorted(found.items(), key=lambda item: network.cache["order"][item[0]]))


class Renamed(Mapping):
    """A counterexample's point for another instance of a template, renamed when read: a
    wrong template over 25,088 weights would otherwise rename (and keep) a point of 25,800
    values for each instance, of which a report shows the first."""

    def __init__(self, network: Network, found: Mapping, rename):
        self._network, self._found, self._rename = network, found, rename
        self._kept: dict | None = None  # for reading by key (a whole read keeps nothing)

    def _renamed(self) -> dict:
        network, found = self._network, self._found
        names = {s.name: t.name for s, t in
                 self._rename([network[name].symbol for name in found]).items()}
        return _in_order(network, {names.get(k, k): x for k, x in found.items()})

    def __getitem__(self, name):
        if self._kept is None:
            self._kept = self._renamed()
        return self._kept[name]

    def __iter__(self):
        return iter(self._renamed())

    def items(self):
        return self._renamed().items()

    def __len__(self) -> int:
        return len(self._found)  # a renaming is one to one


def _plain(x) -> float | str:
    """A float, or a decimal string where a float would overflow or underflow to 0."""
    value = float(x)
    if x != 0 and (value == 0 or not math.isfinite(value)):
        return mpmath.nstr(x, 17)
    return value
