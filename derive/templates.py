"""A template's instances judged together: one proof per orbit, one numeric pass for all.

`wrt: w_h[j, k]` over a 64-32 layer makes 2,048 claims. Relabelling units (symmetry.py)
sends the claim for w_h[1, 1] to the claim for w_h[j, k]; where it also sends that truth to
this one, the two share a proof, or a counterexample, relabelled. So only the first
instance of each orbit is judged in full (verdicts.judge); every instance of a proved orbit
is then evaluated at the screening points in one vectorized NumPy pass, a check on the
relabelling that costs next to nothing per instance. An instance that is no image of its
orbit's first, whose numbers disagree, or whose first was shown correct only by numbers
(or not at all: those are evidence at the first's own points) is judged on its own.

Where the template's layout (equivariance.py) already says that each instance is its
first's image, the instances are neither built nor compared: a sample of them is, term
for term and at a screening point, and only if one fails are they all compared as above.
"""

from __future__ import annotations

import random
from collections import defaultdict
from functools import partial

import mpmath

from . import numeric, screen, symmetry, verdicts
from .claims import Claim
from .network import Network
from .verdicts import Verdict

AGREE = 1e-9  # relative, in float64: closer than this is no reason to look again
LOOK = 15  # digits a sampled instance is compared at (a look, as float64's, not evidence)
SAMPLED: dict = {}  # the mapping of a layout's members that a sample stood for (by identity)
TOGETHER = 64  # smaller templates are judged one by one: checking the symmetry and
# loading NumPy would cost more than it saves


def judge(network: Network, items: list[Claim], budget: float = verdicts.BUDGET,
          judge_one=None) -> list[Verdict]:
    """A verdict for each claim (all answered), in order, templates judged together.

    `judge_one(claim, truth, assume, budget)` judges one claim in full: verdicts.judge, or
    an isolation.Judge that does it in a worker process."""
    one = judge_one or partial(verdicts.judge, network)
    alone = lambda claim, budget: one(claim.claim, claim.truth, claim.assume, budget,  # noqa: E731
                                      hinted=claim.hinted)
    found: dict[int, Verdict] = {}
    groups: dict[tuple, list[int]] = defaultdict(list)
    for index, claim in enumerate(items):
        groups[claim.template or ("alone", index)].append(index)
    for indices in groups.values():
        group = [items[i] for i in indices]
        judged = _Template(network, group, budget, alone).judge() \
            if len(group) >= TOGETHER else [alone(claim, budget) for claim in group]
        found.update(zip(indices, judged))
    return [found[i] for i in range(len(items))]


class _Template:
    def __init__(self, network: Network, group: list[Claim], budget: float, alone):
        self.network, self.group, self.budget, self.alone = network, group, budget, alone
        self.table = symmetry.of(network)
        self.named = {(c.of, c.wrt): k for k, c in enumerate(group)}
        self.indexed = {tuple(c.index.values()): k for k, c in enumerate(group)}
        self.symbols: dict[int, list] = {}

    def judge(self) -> list[Verdict]:
        network, group, budget = self.network, self.group, self.budget
        orbits: dict[int, list[tuple]] = defaultdict(list)  # first -> (index, mapping, perms)
        result: list[Verdict | None] = [None] * len(group)
        for index, claim in enumerate(group):
            try:
                found = self._first(claim) if claim.orbit is None else self._laid_out(claim)
            except RecursionError:  # too deep to compare here: judged on its own, in full
                found = None
            if found is None:
                result[index] = self.alone(claim, budget)
            else:
                orbits[found[0]].append((index, *found[1:]))
        if any(claim.orbit is not None for claim in group):  # made before a worker forks,
            screen.points(network, group[0].assume, 1)  # the sample's point serves its
            # quick look
        for first, members in orbits.items():
            verdict = result[first] = self.alone(group[first], budget)
            again = budget
            if verdict.shown_by == "symbolic" or verdict.verdict == "incorrect":
                members = self._compared(first, members, verdict.shown_by == "symbolic")
            if verdict.shown_by == "symbolic":  # a proof carries over exactly
                apart = self._disagreeing(first, members)
            elif verdict.verdict == "incorrect":  # and so does a confirmed counterexample
                apart = set()
            else:  # numbers at the first's points say nothing of another's points, and an
                # image's proof is the image of the first's, which failed (or had no budget)
                apart, again = set(range(len(members))), 0
            for position, (index, _, perms) in enumerate(members):
                if index != first:
                    result[index] = self.alone(group[index], again) \
                        if position in apart or perms is None else \
                        verdict.relabelled(network, partial(self.table.mapping, perms=perms))
        return result

    def _laid_out(self, claim: Claim) -> tuple[int, None, dict] | None:
        """The first instance and the permutations to `claim`, as its template's layout
        gave them: no mapping is made and nothing compared (see `_compared`)."""
        first = self.indexed.get(claim.orbit[0])
        return None if first is None else (first, None, claim.orbit[1])

    def _compared(self, first: int, members: list[tuple], proved: bool) -> list[tuple]:
        """The members, with those a layout placed (no mapping) checked on a sample: each
        sampled instance is built and must be the first's image, term for term, and at a
        screening point (where the first was proved, equal to its truth there too). The
        layout proved them images; the sample guards that proof. Should one fail, every
        laid-out member is compared as the others are, and (perms None) one that is no
        image of the first is judged on its own."""
        laid = [k for k, (_, mapping, _) in enumerate(members) if mapping is None]
        if not laid or self._images_at_a_point(first, [members[k] for k in _sample(laid)],
                                               proved):
            return [(index, SAMPLED if mapping is None else mapping, perms)
                    for index, mapping, perms in members]
        compared = []
        for index, mapping, perms in members:
            if mapping is None:
                image = self._image(first, self.group[index], perms)
                mapping, perms = (image[1], perms) if image is not None else ({}, None)
            compared.append((index, mapping, perms))
        return compared

    def _images_at_a_point(self, first: int, sample: list[tuple], proved: bool) -> bool:
        """Is each sampled member the first's image (and, `proved`, equal to its truth)?"""
        rep, symbols = self.group[first], self._symbols(first)
        made = screen.points(self.network, rep.assume, 1)
        if not made:
            return False  # no screening point: unconfirmed, so compared one by one
        values = made[0][1]
        for index, _, perms in sample:
            member = self.group[index]  # (a laid-out claim is made here, when read)
            mapping = self.table.mapping(symbols, perms)
            if not (symmetry.sends(rep.claim, member.claim, mapping)  # exactly, as the
                    and symmetry.sends(rep.truth, member.truth, mapping)):  # others are
                return False
            try:
                ours = {s: values[s] for s in self._symbols(index)}
                image = {s: values[mapping.get(s, s)] for s in symbols}
                with mpmath.workdps(LOOK):
                    pairs = [(numeric.evaluate(member.claim, ours),
                              numeric.evaluate(rep.claim, image)),
                             (numeric.evaluate(member.truth, ours),
                              numeric.evaluate(rep.truth, image))]
                    if proved:
                        pairs.append((pairs[0][0], pairs[1][0]))
                    if any(not (mpmath.isfinite(a) and mpmath.isfinite(b)) or
                           abs(a - b) > AGREE * max(1, abs(a), abs(b)) for a, b in pairs):
                        return False
            except (KeyError, ArithmeticError, RecursionError):  # (Missing, Undefined)
                return False  # not evaluated here: unconfirmed, so compared one by one
        return True

    def _first(self, claim: Claim) -> tuple[int, dict, dict] | None:
        """The orbit's first instance (its index), and the renaming (of its symbols) and
        the permutations that take it to `claim`.

        First the units that `of` and `wrt` name are renumbered (w_h[3, 7] from
        w_h[1, 1]); failing that, the index values themselves in every layer (w_o[3, 7]
        from w_o[1, 2] when the claim also uses out_h[j])."""
        if claim.of not in self.network or claim.wrt not in self.network:
            return None  # an absent edge's entry of a matrix check: judged on its own
        found = self.table.relabelling([self.network[claim.of].symbol,
                                        self.network[claim.wrt].symbol])
        if found is not None:
            anchors, perms = found
            image = self._image(self.named.get(tuple(a.name for a in anchors)), claim, perms)
            if image is not None:
                return image
        values = list(claim.index.values())
        canonical = {v: k for k, v in enumerate(dict.fromkeys(values), start=1)}
        first = self.indexed.get(tuple(canonical[v] for v in values))
        return self._image(first, claim, self.table.renumbering(
            {k: v for v, k in canonical.items()}))

    def _image(self, first: int | None, claim: Claim, perms: dict):
        if first is None:
            return None
        rep = self.group[first]
        mapping = self.table.mapping(self._symbols(first), perms)
        if not (symmetry.sends(rep.claim, claim.claim, mapping)
                and symmetry.sends(rep.truth, claim.truth, mapping)):
            return None
        return first, mapping, perms

    def _symbols(self, index: int) -> list:
        if index not in self.symbols:
            claim = self.group[index]
            self.symbols[index] = list(claim.claim.free_symbols | claim.truth.free_symbols)
        return self.symbols[index]

    def _disagreeing(self, first: int, members: list[tuple]) -> set[int]:
        """Positions of members whose claim and truth differ at a screening point, all
        members evaluated at once."""
        rep, symbols = self.group[first], self._symbols(first)
        flagged: set[int] = set()
        checked = [k for k, (_, mapping, _) in enumerate(members) if mapping is not SAMPLED]
        if not checked:  # (a layout's members were looked at on a sample in _compared)
            return flagged
        import numpy as np  # (only here: loading it costs a tenth of a 784-32-10 check)

        members = [members[k] for k in checked]
        for point in range(screen.QUICK_POINTS):
            values = _floats(self.network, rep.assume, point)
            if values is None:
                continue
            try:
                columns = {s: np.array([values[m.get(s, s)] for _, m, _ in members])
                           for s in symbols}
                claim = numeric.evaluate_arrays(rep.claim, columns)
                truth = numeric.evaluate_arrays(rep.truth, columns)
            except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError):
                return set()  # a value is missing, a function has no NumPy form, or the
                # formula is too deep for this check (the relabelled proof stands alone)
            claim, truth, _ = np.broadcast_arrays(claim, truth, np.empty(len(members)))
            scale = np.maximum(1.0, np.maximum(np.abs(claim), np.abs(truth)))
            with np.errstate(invalid="ignore"):
                differ = np.isfinite(claim) & np.isfinite(truth) & \
                    (np.abs(claim - truth) > AGREE * scale)
            flagged.update(checked[int(k)] for k in np.flatnonzero(differ))
        return flagged


def _sample(positions: list[int], size: int = 32) -> list[int]:
    """Evenly spread positions, the first and the last among them, and as many drawn at
    random (seeded by their count: the same each run), so that no stride can be aimed at."""
    step = max(1, len(positions) // size)
    drawn = random.Random(len(positions)).sample(positions, min(size, len(positions)))
    return sorted({*positions[::step], positions[-1], *drawn})


def _floats(network: Network, assume: str | None, index: int) -> dict | None:
    """The network's values at the index-th screening point, as floats (made once)."""
    key = ("floats", assume, index)
    if key not in network.cache:
        points = screen.points(network, assume, index + 1)
        network.cache[key] = points[index][1].floats() if len(points) > index else None
    return network.cache[key]
