"""How much a verdict tells (SPEC 10): a course decides what its students see.

`verdict`: right or wrong only; `hint`: and the hint (and a matrix's wrong entries);
`counterexample`: and the point where the claim fails, with both values (the default for
answers files); `truth`: and the true expression (the default for plain specs). Every
output goes through `shown`, so no format can show more than the level allows.
"""

from __future__ import annotations

from dataclasses import replace

LEVELS = ("verdict", "hint", "counterexample", "truth")
FOR_ANSWERS = "counterexample"
FOR_SPECS = "truth"


def level(chosen: str | None, answers: bool) -> str:
    """The level in force: the course's choice, else the default for the kind of file."""
    return chosen or (FOR_ANSWERS if answers else FOR_SPECS)


def allows(current: str, wanted: str) -> bool:
    return LEVELS.index(current) >= LEVELS.index(wanted)


def shown(verdict, current: str):
    """The verdict with what the level does not allow taken out."""
    hinted = allows(current, "hint")
    return replace(verdict, hint=verdict.hint if hinted else None,
                   term=verdict.term if hinted else None,
                   wrong=verdict.wrong if hinted else None,
                   counterexample=verdict.counterexample
                   if allows(current, "counterexample") else None)
