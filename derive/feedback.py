"""How much a verdict tells (SPEC 10): a course decides what its students see.

`verdict`: right or wrong only; `hint`: and the hint (and a matrix's wrong entries);
`counterexample`: and the point where the claim fails, with both values (the default for
answers files); `truth`: and the true expression (the default for plain specs). Every
output goes through `shown`, so no format can show more than the level allows.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

LEVELS = ("verdict", "hint", "counterexample", "truth")
FOR_ANSWERS = "counterexample"
FOR_SPECS = "truth"


def level(chosen: str | None, answers: bool) -> str:
    """The level in force: the course's choice, else the default for the kind of file."""
    return chosen or (FOR_ANSWERS if answers else FOR_SPECS)


def allows(current: str, wanted: str) -> bool:
    return LEVELS.index(current) >= LEVELS.index(wanted)


GIVEN_AWAY = ("most of the truth is missing from the claim (a hint that says where would "
              "give the answer away at this course's feedback level)")
OUTWEIGH = 3  # a hint naming more than this many times what the claim holds of the truth
# (more than three quarters of the claim as it should be) hands over the truth


def shown(verdict, current: str, claim=None):
    """The verdict with what the level does not allow taken out. Below `truth`, a hint
    that names most of the truth (`1 where <the truth> belongs`, for a claim of 1) is
    the truth too: it gives way to GIVEN_AWAY where the claim is known."""
    hinted = allows(current, "hint")
    hint, term = (verdict.hint, verdict.term) if hinted else (None, None)
    if term is not None and claim is not None and not allows(current, "truth") and \
            gives_away(term, claim):
        hint, term = GIVEN_AWAY, None
    return replace(verdict, hint=hint, term=term,
                   wrong=verdict.wrong if hinted else None,
                   counterexample=verdict.counterexample
                   if allows(current, "counterexample") else None)


def gives_away(term: tuple, claim) -> bool:
    """Does the hint name more than the claim holds of the truth? The expressions it
    names that the claim has are the claim's mistakes, not its part of the truth ("w1*w2
    where out_h1*(1 - out_h1) belongs" holds none of it); what it names besides outweighs
    what is left of the claim, then the hint would hand over the rest. (The claim, not the
    truth, is the measure: a hint may name the truth's pieces in the basis of inputs and
    weights, where the truth itself is delta_o1*out_h1.)"""
    from sympy import Basic, Tuple

    if not isinstance(claim, Basic):  # a whole matrix, not the entry the hint is of: it
        return True  # cannot be measured here, so the hint is not shown
    named = term[1].args if isinstance(term[1], Tuple) else (term[1],)
    mistaken = [e for e in named if claim.has(e)]
    new = [e for e in named if not claim.has(e)]
    held = _size(claim) - sum(map(_size, mistaken))
    return sum(map(_size, new)) > OUTWEIGH * max(held, 0)


def _size(e) -> int:
    """Nodes of an expression (counted to a bound: only a comparison needs it)."""
    from sympy import preorder_traversal

    return sum(1 for _ in itertools.islice(preorder_traversal(e), 100_000))
