"""A pytest plugin: every check in a course's spec files is a test item.

Collects files matching the `derive_files` ini patterns (default `*.derive.yaml`). Each
claim instance is one item (`mazur.derive.yaml::w1[step 3]`, `::w_o[j=1,k=2]`); a failing
item shows the verdict, the counterexample, the hint and the YAML line. A file or an answer
that cannot be read is a failing item of its own, so it costs only itself. `derive_network`
pins the network that answers files must use: it is built once per session and one worker
judges every file against it. `derive_budget` and `derive_feedback` set the budget and the
feedback level. Items are independent, so pytest-xdist can spread them over workers.
"""

from __future__ import annotations

import fnmatch
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from . import feedback
from .errors import DeriveError
from .limits import BUDGET

if TYPE_CHECKING:
    from .claims import Planned

# The engine (SymPy and all) loads when a derive file is collected, not when pytest starts:
# this plugin is registered in every pytest session of an environment derive is in.


def pytest_addoption(parser):
    parser.addini("derive_files", "glob patterns of derive spec or answers files",
                  type="args", default=["*.derive.yaml"])
    parser.addini("derive_network", "the course's network file that answers files must use",
                  default="")
    parser.addini("derive_budget", "CPU seconds of symbolic work per claim",
                  default=str(BUDGET))
    parser.addini("derive_feedback", "what a failure shows: " + ", ".join(feedback.LEVELS)
                  + " (default: the network's feedback:)", default="")


def pytest_collect_file(file_path: Path, parent):
    patterns = parent.config.getini("derive_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    def collect(self):
        from . import claims

        # Collecting only plans the items (claims.plan): xdist collects every file in every
        # worker, so the formulas are built where the items run, once per check.
        try:
            network, judge = self._read()
        except DeriveError as exc:
            # A failing item, not a collection error: one bad submission must not stop
            # the session (pytest stops at collection errors) nor pass unnoticed.
            yield Invalid.from_parent(self, name="invalid", error=str(exc))
            return
        seen: set[str] = set()
        for problem in network.spec.problems:  # an answer to no exercise fails alone
            yield Invalid.from_parent(self, name=_unique("invalid", problem.line, seen),
                                      error=str(problem))
        self.results: dict = {}  # a check's results, made by its first item that runs
        try:
            for check, planned, error in claims.plans(network):
                if error is not None:  # this check alone fails; the others run
                    yield Invalid.from_parent(self, name=_unique(check.exercise or check.wrt,
                                                                 check.line, seen),
                                              error=str(error))
                    continue
                for position, claim in enumerate(planned):
                    yield ClaimItem.from_parent(self, name=_unique(_name(check.wrt, claim),
                                                                   claim.line, seen),
                                                network=network, check=check,
                                                line=claim.line, position=position,
                                                judge=judge)
        except DeriveError as exc:  # too many claims in the file
            yield Invalid.from_parent(self, name=_unique("invalid", None, seen),
                                      error=str(exc))

    def teardown(self):
        """A file's own worker ends with its items (one under a pin serves the session;
        it ends with it). It starts again if more of this file's items come to run."""
        if not self.config.getini("derive_network") and getattr(self, "judge", None):
            self.judge.close()

    def _read(self):
        """The file's network and the worker that judges it. Under a pin every file is
        read against one course, built once per session and judged by one worker."""
        config, pinned = self.config, self.config.getini("derive_network")
        if pinned:
            course, judge = _course(config, Path(config.rootpath, pinned))
            return course.read(self.path), judge
        from . import api, isolation

        network = api.load(self.path, tolerant=True)
        level = _level(config)
        if level:
            network.spec.feedback = level
        self.judge = isolation.Judge(network, _budget(config))
        return network, self.judge


def _unique(name: str, line: int | None, seen: set[str]) -> str:
    if name in seen:
        name = f"{name}@{line}"
    seen.add(name)
    return name


_JUDGES = pytest.StashKey[list]()
_COURSES = pytest.StashKey[dict]()


def _course(config, path: Path):
    courses = config.stash.setdefault(_COURSES, {})
    if path not in courses:
        try:
            from . import grading

            course = grading.Course(path, _budget(config), _level(config) or None)
        except DeriveError as exc:
            courses[path] = exc
        else:
            judge = course.judge()
            config.stash.setdefault(_JUDGES, []).append(judge)
            courses[path] = (course, judge)
    if isinstance(courses[path], DeriveError):
        raise courses[path]
    return courses[path]


def _budget(config) -> float:
    text = config.getini("derive_budget")
    try:
        budget = float(text)
    except ValueError:
        budget = math.nan
    if not math.isfinite(budget) or budget < 0:
        raise pytest.UsageError(f"derive_budget: expected CPU seconds, got {text!r}")
    return budget


def _level(config) -> str:
    level = config.getini("derive_feedback")
    if level and level not in feedback.LEVELS:
        raise pytest.UsageError(f"derive_feedback: expected one of "
                                f"{', '.join(feedback.LEVELS)}, got {level!r}")
    return level


def pytest_sessionfinish(session):
    for judge in session.config.stash.get(_JUDGES, []):
        judge.close()


class ClaimFailed(Exception):
    """A claim did not meet its expect, or its file or answer is not valid."""


class _Item(pytest.Item):
    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ClaimFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class Invalid(_Item):
    """A file, or one answer, that could not be read: it fails with the reason."""

    def __init__(self, *, error: str, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise ClaimFailed(self.error)

    def reportinfo(self):
        return self.path, 0, _heading(self)


class ClaimItem(_Item):
    def __init__(self, *, network, check, line, position, judge, **kwargs):
        super().__init__(**kwargs)
        self.network, self.check, self.line, self.position = network, check, line, position
        self.judge = judge

    def runtest(self):
        # A check's claims are built and judged together, once for all its items: a steps
        # chain so that the first wrong step can be named, a template so that its orbits
        # are shared. A check whose answer cannot be read fails in each of its items.
        results = self.parent.results
        if id(self.check) not in results:
            try:
                from . import api, claims

                group = claims.claims_of(self.network, self.check)
                results[id(self.check)] = api.check_claims(self.network, group,
                                                           self.judge.budget,
                                                           judge=self.judge)
            except DeriveError as exc:
                results[id(self.check)] = exc
        found = results[id(self.check)]
        if isinstance(found, DeriveError):
            raise ClaimFailed(str(found))
        result = found[self.position]
        if not result.ok:
            raise ClaimFailed("\n".join(result.explain()))

    def reportinfo(self):
        return self.path, (self.line or 1) - 1, _heading(self)


def _heading(item) -> str:
    """`output_bias in submissions/s01/answers.derive.yaml`: which submission failed."""
    return f"{item.name} in {item.nodeid.split('::')[0]}"


def _name(asked: str, claim: Planned) -> str:
    """w5, w_o[j=1,k=2] (a template keeps its family name), w1[step 3], ex1, d(out_h1,net_h2)."""
    wrt = asked.split("[")[0].strip() if claim.index else claim.wrt
    base = claim.exercise or (wrt if claim.of == "E_total" else f"d({claim.of},{wrt})")
    tags = [f"{k}={v}" for k, v in claim.index.items()]
    if claim.step is not None:
        tags.append(f"step {claim.step}")
    return f"{base}[{','.join(tags)}]" if tags else base
