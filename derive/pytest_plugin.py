"""A pytest plugin: every check in a course's spec files is a test item.

Collects files matching the `derive_files` ini patterns (default `*.derive.yaml`). Each
claim instance is one item (`mazur.derive.yaml::w1[step 3]`, `::w_o[j=1,k=2]`); a failing
item shows the verdict, the counterexample, the hint and the YAML line. `derive_network`
pins the network that answers files must use. Items are independent, so pytest-xdist can
spread them over workers.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from . import api, claims, isolation
from .errors import DeriveError


def pytest_addoption(parser):
    parser.addini("derive_files", "glob patterns of derive spec or answers files",
                  type="args", default=["*.derive.yaml"])
    parser.addini("derive_network", "the course's network file that answers files must use",
                  default="")


def pytest_collect_file(file_path: Path, parent):
    patterns = parent.config.getini("derive_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    def collect(self):
        pinned = self.config.getini("derive_network")
        network_file = Path(self.config.rootpath, pinned) if pinned else None
        try:
            network = api.load(self.path, network_file)
            groups = claims.every_check(network)
        except DeriveError as exc:
            # A failing item, not a collection error: one bad submission must not stop
            # the session (pytest stops at collection errors) nor pass unnoticed.
            yield InvalidFile.from_parent(self, name="invalid", error=str(exc))
            return
        judge = _judge(self.config, network)
        seen: set[str] = set()
        for check, group in groups:
            for claim in group:
                name = _name(check.wrt, claim)
                if name in seen:
                    name = f"{name}@{claim.line}"
                seen.add(name)
                yield ClaimItem.from_parent(self, name=name, network=network, group=group,
                                            claim=claim, judge=judge)


class ClaimFailed(Exception):
    """A claim did not meet its expect, or its file is not valid."""


class InvalidFile(pytest.Item):
    def __init__(self, *, error: str, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise ClaimFailed(self.error)

    def repr_failure(self, excinfo):
        return str(excinfo.value) if isinstance(excinfo.value, ClaimFailed) else \
            super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, self.name


class ClaimItem(pytest.Item):
    def __init__(self, *, network, group, claim, judge, **kwargs):
        super().__init__(**kwargs)
        self.network, self.group, self.claim, self.judge = network, group, claim, judge

    def runtest(self):
        # A check's claims are judged together, once for all its items: a steps chain so
        # that the first wrong step can be named, a template so that its orbits are shared.
        key = ("pytest", id(self.group))
        if key not in self.network.cache:
            self.network.cache[key] = api.check_claims(self.network, self.group,
                                                       judge=self.judge)
        result = next(r for r in self.network.cache[key] if r.claim is self.claim)
        if not result.ok:
            raise ClaimFailed("\n".join(result.explain()))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ClaimFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, (self.claim.line or 1) - 1, self.name


_JUDGES = pytest.StashKey[list]()


def _judge(config, network) -> isolation.Judge:
    """One worker per file, for all its items; closed when the session ends."""
    judge = isolation.Judge(network)
    config.stash.setdefault(_JUDGES, []).append(judge)
    return judge


def pytest_sessionfinish(session):
    for judge in session.config.stash.get(_JUDGES, []):
        judge.close()


def _name(asked: str, claim: claims.Claim) -> str:
    """w5, w_o[j=1,k=2] (a template keeps its family name), w1[step 3], ex1, d(out_h1,net_h2)."""
    wrt = asked.split("[")[0].strip() if claim.index else claim.wrt
    base = claim.exercise or (wrt if claim.of == "E_total" else f"d({claim.of},{wrt})")
    tags = [f"{k}={v}" for k, v in claim.index.items()]
    if claim.step is not None:
        tags.append(f"step {claim.step}")
    return f"{base}[{','.join(tags)}]" if tags else base
