"""A check in matrix form (SPEC §6): its entries judged as a template, one verdict for all.

`wrt: W_o` with `claim: delta_o @ transpose(out_h)` is n×m scalar claims, one per entry,
each with its own truth (the full gradient of the weight at that position). They are
judged together like a template's instances (templates.py), so a large layer costs what
the template `wrt: w_o[j, k]` costs. Then `merged` makes them one verdict again: correct
when every entry is (symbolic only if every entry was proved), incorrect naming the wrong
entries, with the first one's counterexample and hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import matrices
from .matrices import Matrix
from .verdicts import Verdict


@dataclass(eq=False)
class Grid:
    """What one matrix check compares: the claim's value and the truth, entry by entry."""

    shape: tuple[int, int]  # the truth's
    claim_shape: tuple[int, int]
    claim: Matrix | sp.Expr
    truth: Matrix | sp.Expr
    names: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)  # of, wrt
    summary: object = None  # the Claim that stands for the whole check in reports
    entries: dict = field(default_factory=dict)  # (row, column) -> the entry's Claim
    read: object = field(default=lambda action: action(), repr=False)  # read(action):
    # an entry of the claim made, within what the check may spend (claims.LaterBudget)

    @property
    def fits(self) -> bool:
        return self.shape == self.claim_shape

    def claim_at(self, r: int, c: int):
        """The claim's entry (r, c), 1-based: made now if it was not."""
        return self.read(lambda: matrices.entry(self.claim, r - 1, c - 1))

    def truth_at(self, r: int, c: int):
        return matrices.entry(self.truth, r - 1, c - 1)

    def transposed(self):
        """((row, column) 1-based, the claim's entry (column, row), the truth's entry) for
        every entry: is the claim the truth's transpose?"""
        n, m = self.shape
        for r in range(1, n + 1):
            for c in range(1, m + 1):
                yield (r, c), self.claim_at(c, r), self.truth_at(r, c)

    def may_be_transposed(self) -> bool:
        n, m = self.shape
        return self.claim_shape == (m, n) and self.shape != (1, 1)


def shape_hint(grid: Grid) -> str:
    return (f"the claim is {matrices.shown(grid.claim_shape)}, the truth is "
            f"{matrices.shown(grid.shape)}")


def mismatch(grid: Grid) -> Verdict:
    """A claim of another shape is wrong whatever its entries are."""
    return Verdict("incorrect", hint=shape_hint(grid))


def merged(grid: Grid, verdicts: list[tuple[tuple[int, int], Verdict]]) -> Verdict:
    """One verdict for the entries' verdicts, in the order of the entries."""
    wrong = [(at, v) for at, v in verdicts if v.verdict == "incorrect"]
    if wrong:
        (r, c), first = wrong[0]
        example = dict(first.counterexample or {}) or None
        if example is not None:
            example["entry"] = [r, c]
        positions = ", ".join(f"({i}, {j})" for (i, j), _ in wrong[:6])
        more = f" and {len(wrong) - 6} more" if len(wrong) > 6 else ""
        unsure = sum(v.verdict == "undecided" for _, v in verdicts)
        unsure = f"; {unsure} undecided" if unsure else ""
        said = f"{len(wrong)} of {len(verdicts)} entries are wrong: {positions}{more}" \
            f"{unsure}" if len(verdicts) > 1 else ""
        hint = "; ".join(part for part in (said, first.hint and f"at ({r}, {c}): {first.hint}")
                         if part) or None
        return Verdict("incorrect", hint=hint, counterexample=example,
                       wrong=[[i, j] for (i, j), _ in wrong])
    open_ = [(at, v) for at, v in verdicts if v.verdict != "correct"]
    if open_:
        (r, c), first = open_[0]
        return Verdict("undecided", hint=f"entry ({r}, {c}): {first.hint or 'undecided'}")
    symbolic = all(v.shown_by == "symbolic" for _, v in verdicts)
    return Verdict("correct", "symbolic" if symbolic else "numeric")


def with_transposed(verdict: Verdict, proved: bool) -> Verdict:
    """The hint for a claim that is the truth's transpose, once every entry of that is
    proved (never said on numbers alone)."""
    if not proved:
        return verdict
    note = "the claim is the transpose of the truth"
    verdict.hint = f"{note} ({verdict.hint})" if verdict.hint else note
    return verdict
