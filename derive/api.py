"""The Python API that the CLI, the pytest plugin and coursework tests all use."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import sympy as sp

from . import (
    answers,
    calculus,
    claims,
    display,
    feedback,
    forward,
    isolation,
    matrices,
    matrix_checks,
    templates,
    verdicts,
)
from . import spec as specs
from .errors import DeriveError, did_you_mean, echo, printable
from .network import Network
from .notation import number, to_latex, to_text

SPELLED_OUT = 40  # a counterexample's point is printed as --at options up to this size


def load(source: str | Path | dict | specs.Spec, network: str | Path | None = None,
         tolerant: bool = False, level: str | None = None) -> Network:
    """A network from a spec file's path, a dict in the spec's shape, a Spec, or an answers
    file (whose network `network` may pin). `tolerant` keeps answers that cannot be read
    as their checks' errors instead of raising the first; `level` overrides the feedback
    level the spec sets."""
    if isinstance(source, specs.Spec):
        spec = source
    else:
        spec = specs.from_data(source) if isinstance(source, dict) else \
            answers.load(source, network, tolerant)
    if level is not None:
        spec.feedback = level
    built = Network(spec)
    claims.check_aliases(built)
    return built


@dataclass
class Gradient:
    wrt: str
    expr: sp.Expr
    value: float | None = None
    updated: float | None = None

    def _repr_latex_(self) -> str:
        return display.gradient_latex(self)

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

    def _repr_html_(self) -> str:  # a notebook shows this table: it needs no MathJax
        return display.gradients_html(self)

    def _repr_latex_(self) -> str:
        return display.gradients_latex(self)

    def __str__(self) -> str:
        return display.gradients_text(self)


def point(network: Network, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The spec's `values`, with overrides (e.g. from --at) checked against the network."""
    values = dict(network.spec.values)
    known = specs.settable_names(network.spec)
    for name, given in (overrides or {}).items():
        if name not in known:
            raise DeriveError(f"--at: '{name}' is not an input, parameter or target of this "
                              f"network{did_you_mean(name, sorted(known), cutoff=0.5)}")
        values[name] = given
    return values


def gradients(network: Network, wrt: list[str] | None = None, *, at: dict | None = None,
              lr: float | None = None, expanded: bool = False) -> Gradients:
    names = wrt or network.params
    for name in names:
        if name not in network:
            raise DeriveError(f"--wrt: unknown name '{name}'"
                              f"{did_you_mean(name, network.quantities, cutoff=0.5)}")
        calculus.kind_of_variable(network, network[name].symbol)
    values = point(network, at)
    compact = [calculus.gradient(network, name) for name in names]
    loss, *numbers = forward.values(network, [network.loss.symbol, *compact], values)
    items = []
    for name, formula, figure in zip(names, compact, numbers):
        item = Gradient(name, calculus.expand(network, formula) if expanded else formula,
                        figure)
        if lr is not None and figure is not None and network[name].kind in ("weight", "bias") \
                and name in values:
            item.updated = values[name] - lr * figure
        items.append(item)
    return Gradients(network, loss, items, expanded)


def explain(network: Network, wrt: str, at: dict | None = None):
    """The worked derivation of dE_total/d(wrt) (explain.py). It shows the truth, so a
    course whose feedback level hides the truth does not explain its own exercises."""
    from . import explain as explaining

    level = feedback.level(network.spec.feedback, course(network))
    if not feedback.allows(level, "truth"):
        raise DeriveError(f"explain shows the true derivation, which this course's feedback "
                          f"level ({level}) does not show")
    return explaining.derivation(network, wrt, at)


@dataclass
class Result:
    """A judged claim: what was claimed, the verdict, and whether it met its `expect`.

    `verdict` is what the feedback level lets be seen (feedback.py); every output, this
    API's included, reads it, never `judged` itself."""

    claim: claims.Claim
    judged: verdicts.Verdict
    feedback: str = feedback.FOR_SPECS
    entries: list | None = field(default=None, repr=False)  # a matrix check's entries'
    # verdicts, (row, column) with each

    @property
    def verdict(self) -> verdicts.Verdict:
        if not self.claim.answered:  # "no answer given" says nothing of the truth
            return self.judged
        claim, grid, wrong = self.claim, self.claim.grid, self.judged.wrong
        if grid is not None and wrong:  # a matrix's hint is its first wrong entry's
            claim = grid.entries.get(tuple(wrong[0]), claim)
        return feedback.shown(self.judged, self.feedback,  # (the claim weighs a hint's
                              claim.claim if self.judged.term is not None else None)  # term)

    @property
    def ok(self) -> bool:
        return self.judged.verdict == self.claim.expect

    @property
    def truth_text(self) -> str | None:
        """The true expression, where the feedback level shows it."""
        return to_text(self.claim.truth) if feedback.allows(self.feedback, "truth") else None

    @property
    def said(self) -> str:
        """The verdict in words, as a report's verdict column gives it."""
        v = self.verdict
        words = v.verdict + (f" ({v.shown_by})" if v.shown_by else "")
        if self.claim.expect != "correct":
            words += " (expected)" if self.ok else f" (expected {self.claim.expect})"
        return words

    @property
    def title(self) -> str:
        """What was claimed, in words: d(E_total, w1) [j=1] step 2."""
        c = self.claim
        what = f"d({c.of}, {c.wrt})"
        if c.exercise:
            what = f"{c.exercise}: {what}"
        if c.index:
            what += " [" + ", ".join(f"{k}={v}" for k, v in c.index.items()) + "]"
        return printable(what + (f" step {c.step}" if c.step is not None else ""))

    def explain(self) -> list[str]:
        """Why a check failed, as plain lines: the CLI, assert_claim and pytest show these."""
        c, v = self.claim, self.verdict
        where = f"{c.file}:{c.line}" if c.line else c.file
        lines = [f"{where}: {self.title} is {v.verdict}, expected {c.expect}"]
        if c.answered:
            lines.append(f"  claim: {echo(c.text, 200)}")
        if self.truth_text is not None:
            lines.append(f"  truth: {echo(self.truth_text, 200)}")
        if v.counterexample:
            example = v.counterexample
            of, wrt = c.of, c.wrt
            if "entry" in example:  # a matrix check: the wrong entry's own quantities
                of, wrt = c.grid.names[tuple(example["entry"])]
                lines.append(f"  entry {tuple(example['entry'])} is d({of}, {wrt})")
            used = ", ".join(f"{k} = {number(x)}" for k, x in example.get("values", {}).items())
            lines.append(f"  where {echo(used, 300)}:" if used else "  at the point below:")
            lines.append(f"    claim = {distinct(example['claim'], example['truth'])}, "
                         f"truth = {distinct(example['truth'], example['claim'])}")
            if "difference" in example:
                lines.append(f"    claim - truth = {example['difference']}")
            at = " ".join(f"--at {k}={x!r}" for k, x in example["point"].items())
            if len(example["point"]) > SPELLED_OUT:  # no one types 25,000 --at options
                lines.append(f"  the point has {len(example['point']):,} values: derive check "
                             f"{c.file} --format json lists them")
            else:
                lines.append(f"  reproduce: derive grad {c.file} --wrt {wrt} {at}"
                             if of == "E_total" else f"  the point: {at}")
        if v.hint:
            lines.append(f"  hint: {echo(v.hint, 300)}")
        if self.truth_text is not None and c.of == "E_total" and v.verdict != "correct":
            wrt = c.grid.names[tuple(v.counterexample["entry"])][1] if c.grid is not None \
                and v.counterexample and "entry" in v.counterexample else c.wrt
            if c.grid is None or wrt != c.wrt:
                lines.append(f"  how it goes: derive explain {c.file} --wrt {wrt}")
        return [printable(line) for line in lines]  # each stays one line, whatever it quotes

    def _repr_html_(self) -> str:
        return display.results_html([self])

    def _repr_latex_(self) -> str:
        return display.result_latex(self)

    def to_json(self) -> dict:
        c, v = self.claim, self.verdict
        example = v.counterexample  # (a template's renamed points read as plain dicts)
        if example is not None:
            example = {k: dict(x.items()) if isinstance(x, Mapping) else x  # (dict(x)
                       for k, x in example.items()}  # would read x key by key)
        entry = {"file": c.file, "line": c.line, "of": c.of, "wrt": c.wrt, "index": c.index,
                 "verdict": v.verdict, "shown_by": v.shown_by, "expect": c.expect,
                 "ok": self.ok, "hint": v.hint, "counterexample": example}
        if c.grid is not None:
            entry["shape"] = list(c.grid.shape)
            if not c.grid.fits:
                entry["claim_shape"] = list(c.grid.claim_shape)
            if v.wrong is not None:
                entry["wrong"] = v.wrong
        if c.step is not None:
            entry["step"] = c.step
        if c.exercise is not None:
            entry["exercise"] = c.exercise
        return entry


class Results(list):
    """Results as a list, shown in a notebook as one table (verdict, claim, hint)."""

    def _repr_html_(self) -> str:
        return display.results_html(self)

    def __repr__(self) -> str:
        return display.results_text(self)


def check_claims(network: Network, items: list[claims.Claim],
                 budget: float = verdicts.BUDGET, isolated: bool = True,
                 judge: isolation.Judge | None = None) -> Results:
    """Judge claims of one network. `isolated`: each in a worker process that is killed at
    the claim's limit of CPU time and memory (isolation.py; `judge` may be a worker kept
    for several calls); False judges them here, with only the proof's budget as a limit."""
    answered = [c for c in items if c.answered and _judged(c)]
    if judge is not None:
        context = contextlib.nullcontext(judge)
    else:
        context = isolation.Judge(network, budget) if isolated else contextlib.nullcontext()
    with context as worker:
        one = None if worker is None else partial(worker, file=items[0].file if items else None)
        judged = dict(zip(map(id, answered), templates.judge(network, answered, budget, one)))
        level = feedback.level(network.spec.feedback, course(network))
        results = _results(items, judged, level)
        _entry_hints(network, results, budget, one)
        _transposed(network, results, budget, one)
        _swapped(network, results, budget, one)
        _mistakes(network, results, budget, one)
    _first_wrong_step(results)
    return Results(results)


def _judged(claim: claims.Claim) -> bool:
    """Judged by the engine: not a matrix claim of the wrong shape (wrong as it stands)."""
    return claim.grid is None or claim.entry is not None


def _results(items: list[claims.Claim], judged: dict, level: str) -> list[Result]:
    """A result per claim, and one per matrix check for all its entries (SPEC §6)."""
    results, grids = [], {}
    for c in items:
        if not c.answered:
            results.append(Result(c, verdicts.unanswered(), level))
        elif c.grid is None:
            results.append(Result(c, judged[id(c)], level))
        elif c.entry is None:
            results.append(Result(c, matrix_checks.mismatch(c.grid), level))
        else:
            if id(c.grid) not in grids:
                grids[id(c.grid)] = []
                results.append(Result(c.grid.summary, None, level))
            grids[id(c.grid)].append((c.entry, judged[id(c)]))
    for result in results:
        if result.judged is None:
            result.judged = matrix_checks.merged(result.claim.grid,
                                                 grids[id(result.claim.grid)])
            result.entries = grids[id(result.claim.grid)]
    return results


def _entry_hints(network: Network, results: list[Result], budget: float, one) -> None:
    """A wrong matrix check's hint: its first wrong entry's, looked for now (the entries
    were judged without hints: finding one costs seconds, and only one is shown)."""
    for result in results:
        grid = result.claim.grid
        if grid is None or result.judged.verdict != "incorrect" or not result.judged.wrong:
            continue
        at = tuple(result.judged.wrong[0])
        entry = grid.entries[at]
        hinted = replace(entry, hinted=True, template=None)
        [verdict] = templates.judge(network, [hinted], budget, one)
        if verdict.verdict != "incorrect":  # out of time this once: the entry stays wrong
            continue
        entries = [(where, replace(v, hint=verdict.hint, term=verdict.term) if where == at
                    else v) for where, v in result.entries]
        result.judged = matrix_checks.merged(grid, entries)


def _mistakes(network: Network, results: list[Result], budget: float, one) -> None:
    """A wrong claim that equals one of the teacher's known mistakes gets the teacher's
    feedback for it (as STACK's response trees give), judged by the same engine."""
    for result in results:
        c = result.claim
        if result.judged.verdict != "incorrect" or not c.mistakes or c.claim is None:
            continue
        for value, words in c.mistakes:
            claim = c.grid.claim if c.grid is not None else c.claim
            if matrices.shape(claim) != matrices.shape(value):
                continue
            pairs = [claims.Claim(c.file, c.line, c.of, c.wrt, a, b, c.text, c.index,
                                  assume=c.assume, template=(id(c), "mistake"))
                     for a, b in zip(matrices.entries(claim), matrices.entries(value))]
            if all(v.verdict == "correct" for v in templates.judge(network, pairs, budget,
                                                                   one)):
                result.judged.hint, result.judged.term = words, None
                break


def _swapped(network: Network, results: list[Result], budget: float, one) -> None:
    """Say "j and k are swapped" of a template's wrong instances, once every one of them
    is proved right with those two index values exchanged."""
    groups: dict = {}
    for result in results:
        c = result.claim
        if c.rebuild is not None and c.template and result.judged.verdict == "incorrect":
            groups.setdefault(c.template, []).append(result)
    for wrong in groups.values():
        names = list(wrong[0].claim.index)
        for a, b in itertools.combinations(names, 2):
            if any(r.claim.index[a] == r.claim.index[b] for r in wrong):
                continue  # exchanged, the same values are the same wrong claim
            try:  # the first alone, then (if the exchange mends it) every one
                if _exchanged(network, wrong[:1], a, b, budget, one) and \
                        _exchanged(network, wrong, a, b, budget, one):
                    for r in wrong:
                        note = f"{a} and {b} are swapped"
                        r.judged.hint = f"{note} ({r.judged.hint})" if r.judged.hint \
                            else note
                    break
            except DeriveError:  # an index out of its range once exchanged
                continue


def _exchanged(network: Network, wrong: list[Result], a: str, b: str, budget: float,
               one) -> bool:
    """Is each wrong claim proved right with its index values a and b exchanged?"""
    flipped = [claims.Claim(
        r.claim.file, r.claim.line, r.claim.of, r.claim.wrt,
        r.claim.rebuild({**r.claim.index, a: r.claim.index[b], b: r.claim.index[a]}),
        r.claim.truth, r.claim.text, r.claim.index, assume=r.claim.assume,
        template=(*r.claim.template, "swapped", a, b)) for r in wrong]
    return all(v.shown_by == "symbolic" for v in templates.judge(network, flipped, budget,
                                                                   one))


def _transposed(network: Network, results: list[Result], budget: float, one) -> None:
    """Say that a wrong matrix claim is the truth's transpose, once that is proved."""
    for result in results:
        grid = result.claim.grid
        if grid is None or result.judged.verdict != "incorrect" or not (
                grid.may_be_transposed() or (grid.fits and grid.shape[0] == grid.shape[1])):
            continue
        c = result.claim
        flipped = [claims.Claim(c.file, c.line, *grid.names[at], claim, truth, c.text,
                                {**c.index, "(r)": at[0], "(c)": at[1]}, assume=c.assume,
                                template=(id(grid), "transposed"))
                   for at, claim, truth in grid.transposed()]
        first = next((f for f in flipped if [f.index["(r)"], f.index["(c)"]]
                      in (result.judged.wrong or [])), flipped[0])
        if templates.judge(network, [first], budget, one)[0].shown_by != "symbolic":
            continue  # the first wrong entry is not mended by transposing: no more to try
        found = templates.judge(network, flipped, budget, one)
        matrix_checks.with_transposed(result.judged,
                                      all(v.shown_by == "symbolic" for v in found))


def course(network: Network) -> bool:
    """A course's network (it has exercises): what is said of a claim is said to a student."""
    return bool(network.spec.exercises)


def _first_wrong_step(results: list[Result]) -> None:
    """In a steps chain, name the first step that breaks the equality."""
    seen: set = set()
    for result in results:
        c = result.claim
        key = (c.file, c.of, c.wrt, tuple(c.index.items()))
        if c.step is not None and result.verdict.verdict == "incorrect" and key not in seen:
            seen.add(key)
            note = f"step {c.step} is the first wrong step"
            hint = result.judged.hint
            result.judged.hint = f"{note}; {hint}" if hint else note


def check(source: str | Path | dict, budget: float = verdicts.BUDGET,
          network: str | Path | None = None, isolated: bool = True,
          level: str | None = None) -> Results:
    """Judge every check of a spec (or every exercise of an answers file)."""
    network = load(source, network, level=level)
    with isolation.Judge(network, budget) if isolated else contextlib.nullcontext() as judge:
        if judge is not None:
            _foresee(network, judge)
        items = [c for _, group in claims.every_check(network) for c in group]
        return check_claims(network, items, budget, isolated, judge)


def _foresee(network: Network, judge: isolation.Judge) -> None:
    """The worker starts on the spec's first claim while the others are made."""
    first = claims.first_claim(network)
    if first is not None and first.answered and _judged(first):
        judge.foresee(first.claim, first.truth, first.assume, first.hinted)


def check_one(network: Network, wrt: str, claim: str, of: str = "E_total",
              syntax: str = "sympy", budget: float = verdicts.BUDGET,
              assume: str | None = None, isolated: bool = True) -> Results:
    """Judge one claim given as text, e.g. from the command line (against a course's
    network, under the rules of an answer: no restating the question)."""
    items = claims.one_claim(network, wrt, claim, of, syntax, assume, restricted=course(network))
    return check_claims(network, items, budget, isolated)


def assert_claim(source: str | Path | dict | Network, wrt: str, claim: str,
                 of: str = "E_total", syntax: str = "sympy", assume: str | None = None,
                 expect: str = "correct") -> None:
    """For coursework tests: raise AssertionError, with the CLI's explanation, if wrong."""
    network = source if isinstance(source, Network) else load(source)
    for result in check_one(network, wrt, claim, of, syntax, assume=assume):
        if result.verdict.verdict != expect:
            raise AssertionError("\n".join(result.explain()))


def distinct(x: float | str, other: float | str) -> str:
    """x with enough digits to show that it differs from other."""
    if isinstance(x, str) or isinstance(other, str):
        return str(x)
    for digits in (9, 12, 17):
        if f"{x:.{digits}g}" != f"{other:.{digits}g}":
            return f"{x:.{digits}g}"
    return f"{x:.17g}"
