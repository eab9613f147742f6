"""Grading a class: many submissions against one course network, a score per exercise.

The course's network is read and built once; each submission is its answers read against
it (`Network.reading`), judged by one worker process for the whole class (isolation.py).
A problem costs what it touches: an answer that cannot be read or names something
unknown, that answer; a file that is no answers file, that file; the run always finishes.

An exercise scores its points times the share of its instances (one, or every index of a
template) whose answer meets the exercise's `expect`; in a `steps:` chain only the last
line, the answer, counts (earlier lines are the derivation, judged for feedback), so
padding a chain with lines that hold earns nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import answers, api, claims, isolation, verdicts
from .errors import DeriveError, SpecError, printable
from .network import Network

ANSWERS_FILE = "answers.derive.yaml"
MAX_FEEDBACK = 40  # lines of feedback kept per exercise
DIGITS = 6  # scores are rounded to this many decimals: 3 * (0.4 / 3) is 0.4


@dataclass
class Mark:
    """One exercise of one submission."""

    exercise: str
    points: float
    score: float = 0.0
    feedback: list[str] = field(default_factory=list)
    problem: str | None = None  # the answer could not be read

    @property
    def full(self) -> bool:
        return math.isclose(self.score, self.points)


@dataclass
class Graded:
    """One submission: a mark per exercise, the problem that cost the whole file, and the
    problems that cost nothing but themselves (an answer to no exercise)."""

    submission: str
    marks: list[Mark]
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(mark.score for mark in self.marks), DIGITS)

    @property
    def problems(self) -> list[str]:
        """Every problem, in words, for a person reading the grades."""
        found = [self.problem] if self.problem else []
        return found + self.notes + [m.problem for m in self.marks if m.problem]


class Course:
    """The pinned network, read and built once for every submission."""

    def __init__(self, path: str | Path, budget: float = verdicts.BUDGET,
                 level: str | None = None):
        self.path, self.budget = Path(path), budget
        self.spec = answers.course(self.path)
        if not self.spec.exercises:
            raise SpecError("the course's network has no exercises: to grade",
                            file=str(self.path), line=1)
        if level is not None:
            self.spec.feedback = level
        self.network = Network(self.spec)
        self.max = sum(exercise.points for exercise in self.spec.exercises)

    def read(self, path: str | Path) -> Network:
        """A submission's answers against this course; unreadable answers stay as errors."""
        view = self.network.reading(answers.submission(path, self.spec, self.path))
        claims.check_aliases(view)
        return view

    def judge(self) -> isolation.Judge:
        return isolation.Judge(self.network, self.budget)

    def grade(self, path: str | Path, judge) -> Graded:
        """One submission, marked exercise by exercise."""
        marks = {e.id: Mark(e.id, e.points) for e in self.spec.exercises}
        try:
            network = self.read(path)
            checks = list(claims.each_check(network))
        except DeriveError as exc:
            return Graded(str(path), list(marks.values()), printable(str(exc)))
        for check, group, error in checks:
            mark = marks[check.exercise]
            if error is not None:
                mark.problem = printable(str(error))
                mark.feedback = [mark.problem]
                continue
            try:  # (a claim built only when judged, a matrix's entry, may fail then)
                results = api.check_claims(network, group, self.budget, judge=judge)
                _score(mark, results)
            except DeriveError as exc:
                mark.problem = printable(str(exc))
                mark.feedback = [mark.problem]
        return Graded(str(path), list(marks.values()),
                      notes=[printable(str(p)) for p in network.spec.problems])


def _score(mark: Mark, results: list[api.Result]) -> None:
    """Points times the share of instances whose last line meets its expect."""
    last: dict[tuple, api.Result] = {}
    for result in results:  # steps come in order, so the last one of an instance stays
        last[tuple(result.claim.index.items())] = result
    met = sum(result.ok for result in last.values())
    mark.score = round(mark.points * met / len(last), DIGITS) if last else 0.0
    for result in results:
        if not result.ok:
            mark.feedback.extend(result.explain())
    mark.feedback = mark.feedback[:MAX_FEEDBACK]


def submissions(paths: Iterable[str | Path]) -> list[tuple[str, Path | None, str | None]]:
    """(name, answers file or None, problem) for each argument: a file is itself, a folder
    holds answers.derive.yaml (or its only *.derive.yaml)."""
    found = []
    for given in paths:
        path = Path(given)
        name = str(path)  # submissions/ana/ is submissions/ana
        if not path.is_dir():
            found.append((name, path, None))
            continue
        candidates = [path / ANSWERS_FILE] if (path / ANSWERS_FILE).exists() else \
            sorted(path.glob("*.derive.yaml"))
        if len(candidates) == 1:
            found.append((name, candidates[0], None))
        else:
            problem = f"{name}: no answers file ({ANSWERS_FILE}) in this folder" if not \
                candidates else f"{name}: several answers files in this folder: name one " \
                f"{ANSWERS_FILE}"
            found.append((name, None, problem))
    return found


def grade(course: Course, paths: Iterable[str | Path],
          progress: Callable[[str], None] | None = None) -> list[Graded]:
    """Every submission, in order; `progress(name)` is called after each."""
    out = []
    with course.judge() as judge:
        for name, path, problem in submissions(paths):
            if path is None:
                graded = Graded(name, [Mark(e.id, e.points) for e in course.spec.exercises],
                                problem)
            else:
                graded = course.grade(path, judge)
                graded.submission = name
            out.append(graded)
            if progress is not None:
                progress(name)
    return out
