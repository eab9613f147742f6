"""Checks, exercises and answers (SPEC §3, §10): what is asked, and the formulas given.

The network's half of a spec file is read by spec.py; this is the other half, the
questions, read with the same reader's shapes (every error with its line), by spec files
and by answers files alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .assumptions import ASSUMPTIONS
from .errors import DeriveError, echo
from .safeyaml import kind_of, line_of

MAX_CHECKS = 500  # checks (or exercises) in one file: a homework has ten
MAX_ID = 64
MAX_NAME = 48
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
EXERCISE_KEYS = ("id", "wrt", "of", "expect", "assume", "use", "points", "mistakes")
CHECK_KEYS = ("of", "wrt", "claim", "latex", "steps", "expect", "assume", "use", "mistakes")
MAX_MISTAKES = 50
MAX_FEEDBACK = 300


@dataclass(frozen=True)
class Formula:
    """A formula as the user wrote it, with where it was written."""

    text: str
    syntax: str  # "sympy" or "latex"
    line: int



@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and what to say to a student whose claim equals it."""

    formula: Formula
    feedback: str
    file: str  # the teacher's file, where an error in the formula is reported


@dataclass
class Check:
    wrt: str
    of: str = "E_total"
    claim: Formula | None = None
    steps: list[Formula] = field(default_factory=list)
    expect: str = "correct"
    assume: str | None = None
    line: int | None = None
    file: str | None = None  # where the formula is written, if not in the network's file
    exercise: str | None = None  # the teacher's id, for a check made from an answer
    use: tuple[str, ...] | None = None  # what the answer may be written in (usage.py)
    restricted: bool = False  # a student's answer: never d(...) or the asked quantity
    error: DeriveError | None = None  # the answer could not be read (answers.py)
    mistakes: tuple[Mistake, ...] = ()  # the teacher's known wrong answers

    @property
    def answered(self) -> bool:
        return self.claim is not None or bool(self.steps)


@dataclass
class Exercise:
    """A teacher's question: which derivative, what is expected; the answer comes apart."""

    id: str
    wrt: str
    of: str = "E_total"
    expect: str = "correct"
    assume: str | None = None
    use: tuple[str, ...] | None = None
    points: float = 1
    line: int = 0
    mistakes: tuple[Mistake, ...] = ()


class Questions:
    """Reads the checks of a spec, the exercises of a course and a student's answers, with
    its reader's fields (fields.py: mapping, text, number, fail)."""

    def __init__(self, reader):
        self.fail, self.mapping, self.text = reader.fail, reader.mapping, reader.text
        self.number, self.at_most, self.file = reader.number, reader.at_most, reader.file

    def mistakes(self, value, line: int, where: str) -> tuple[Mistake, ...]:
        """`mistakes: [{claim: ..., feedback: ...}]`, as STACK's response trees: a wrong
        answer a teacher expects, and the words for a student who gives it."""
        if not isinstance(value, list):
            raise self.fail(line, f"{where}: expected a list of {{claim: ..., feedback: ...}}")
        self.at_most(value, line, where, MAX_MISTAKES)
        found = []
        for k, item in enumerate(value):
            here, item_line = f"{where}[{k + 1}]", line_of(value, k)
            node = self.mapping(item, item_line, here, ("claim", "latex", "feedback"),
                                required=("feedback",))
            given = [key for key in ("claim", "latex") if key in node]
            if len(given) != 1:
                raise self.fail(item_line, f"{here}: give claim or latex, and feedback")
            feedback = self.text(node["feedback"], line_of(node, "feedback"), here)
            if not feedback.strip() or len(feedback) > MAX_FEEDBACK or \
                    not feedback.isprintable():
                raise self.fail(line_of(node, "feedback"), f"{here}.feedback: expected one "
                                f"line of printable text (at most {MAX_FEEDBACK} characters)")
            key = given[0]
            formula = Formula(self.text(node[key], line_of(node, key), f"{here}.{key}"),
                              "sympy" if key == "claim" else "latex", line_of(node, key))
            found.append(Mistake(formula, feedback, self.file))
        return tuple(found)

    def checks(self, value, line: int) -> list[Check]:
        if not isinstance(value, list):
            raise self.fail(line, f"checks: expected a list, got {kind_of(value)}")
        self.at_most(value, line, "checks", MAX_CHECKS)
        return [self.check(item, line_of(value, k), f"checks[{k + 1}]")
                for k, item in enumerate(value)]

    def check(self, value, line: int, where: str) -> Check:
        node = self.mapping(value, line, where, CHECK_KEYS, required=("wrt",))
        check = Check(wrt="", line=line)
        self.question(check, node, where)
        self.formula_of(check, node, line, where)
        return check

    def exercise_id(self, value, line: int, where: str) -> str:
        text = self.text(value, line, where)
        if not text.strip() or len(text) > MAX_ID or not text.isprintable():
            raise self.fail(line, f"{where}: '{echo(text)}' is not a valid id (printable "
                            f"text of at most {MAX_ID} characters)")
        return text

    def question(self, check, node: dict, where: str) -> None:
        """wrt, of, expect, assume and use: what is asked, and what answer is expected."""
        at = lambda key: line_of(node, key)  # noqa: E731
        if "use" in node:
            check.use = self.usage(node["use"], at("use"), f"{where}.use")
        if "mistakes" in node:
            check.mistakes = self.mistakes(node["mistakes"], at("mistakes"),
                                           f"{where}.mistakes")
        check.wrt = self.text(node["wrt"], at("wrt"), f"{where}.wrt")
        if "of" in node:
            check.of = self.text(node["of"], at("of"), f"{where}.of")
        if "expect" in node:
            check.expect = node["expect"]
            if check.expect not in ("correct", "incorrect"):
                raise self.fail(at("expect"), f"{where}.expect: expected 'correct' or "
                                f"'incorrect', got '{echo(str(check.expect))}'")
        if "assume" in node:
            check.assume = node["assume"]
            if check.assume not in ASSUMPTIONS:
                raise self.fail(at("assume"), f"{where}.assume: unknown assumption "
                                f"'{echo(str(check.assume))}' (known: "
                                f"{', '.join(sorted(ASSUMPTIONS))})")

    def usage(self, value, line: int, where: str) -> tuple[str, ...]:
        """`use:` names kinds (`out`, `weight`, `d`, ...), families (`delta_o`) or names."""
        if not isinstance(value, list):
            raise self.fail(line, f"{where}: expected a list of kinds, families or names, "
                            f"got {kind_of(value)}")
        self.at_most(value, line, where, 200)
        items = []
        for k, item in enumerate(value):
            if not isinstance(item, str) or len(item) > MAX_NAME or \
                    not IDENTIFIER.fullmatch(item):
                raise self.fail(line_of(value, k), f"{where}[{k + 1}]: expected a kind, "
                                f"family or name, got {kind_of(item)}")
            items.append(item)
        return tuple(items)

    def formula_of(self, check: Check, node: dict, line: int, where: str) -> None:
        """Exactly one of claim, latex or steps, with the line it is written on."""
        at = lambda key: line_of(node, key)  # noqa: E731
        given = [key for key in ("claim", "latex", "steps") if key in node]
        if len(given) != 1:
            raise self.fail(line, f"{where}: give exactly one of claim, latex or steps")
        key = given[0]
        if key == "steps":
            check.steps = self.steps(node["steps"], at("steps"), f"{where}.steps")
            check.line = check.steps[0].line
        else:
            check.claim = Formula(self.text(node[key], at(key), f"{where}.{key}"),
                                  "sympy" if key == "claim" else "latex", at(key))
            check.line = at(key)

    def answer(self, check: Check, value, line: int, where: str) -> None:
        """An answer: a formula in SymPy syntax, or {claim:}, {latex:} or {steps:}."""
        if isinstance(value, dict):
            self.mapping(value, line, where, ("claim", "latex", "steps"))
            self.formula_of(check, value, line, where)
        else:
            check.claim = Formula(self.text(value, line, where), "sympy", line)
            check.line = line

    def exercises(self, value, line: int) -> list[Exercise]:
        if not isinstance(value, list):
            raise self.fail(line, f"exercises: expected a list, got {kind_of(value)}")
        self.at_most(value, line, "exercises", MAX_CHECKS)
        exercises = []
        for k, item in enumerate(value):
            where, item_line = f"exercises[{k + 1}]", line_of(value, k)
            node = self.mapping(item, item_line, where, EXERCISE_KEYS, required=("id", "wrt"))
            exercise = Exercise(id=self.exercise_id(node["id"], line_of(node, "id"),
                                                    f"{where}.id"), wrt="", line=item_line)
            if any(e.id == exercise.id for e in exercises):
                raise self.fail(item_line, f"{where}.id: '{exercise.id}' is used twice")
            self.question(exercise, node, where)
            if "points" in node:
                exercise.points = self.number(node["points"], line_of(node, "points"),
                                              f"{where}.points")
                if exercise.points < 0:
                    raise self.fail(line_of(node, "points"), f"{where}.points: expected a "
                                    f"number of points (0 or more)")
            exercises.append(exercise)
        return exercises

    def steps(self, value, line: int, where: str) -> list[Formula]:
        if not isinstance(value, list):
            raise self.fail(line, f"{where}: expected a list of formulas, got {kind_of(value)}")
        if not value:
            raise self.fail(line, f"{where}: expected at least one formula")
        steps = []
        for k, item in enumerate(value):
            item_line = line_of(value, k)
            if isinstance(item, dict):
                self.mapping(item, item_line, f"{where}[{k + 1}]", ("claim", "latex"))
                if len(item) != 1:
                    raise self.fail(item_line, f"{where}[{k + 1}]: give claim or latex")
                key = next(iter(item))
                steps.append(Formula(self.text(item[key], item_line, f"{where}[{k + 1}]"),
                                     "sympy" if key == "claim" else "latex", item_line))
            else:
                steps.append(Formula(self.text(item, item_line, f"{where}[{k + 1}]"), "sympy",
                                     item_line))
        return steps
