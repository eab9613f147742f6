"""Checks -> concrete claims: parse the formula, expand templates and steps, find the truth.

One `Claim` per thing to judge: a template `wrt: w_o[j, k]` gives one per (j, k), and a
`steps:` chain one per step, each compared with the same true derivative.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass, field
from functools import partial

import sympy as sp

from . import calculus, expr, limits, matrices, usage
from .errors import ClaimError, DeriveError, echo
from .matrix_checks import Grid
from .network import Network
from .numbering import LAST
from .spec import ASSUMPTIONS, Check, Formula
from .vocabulary import FAMILY, Vocabulary

MAX_INSTANCES = 10_000  # of one template ...
MAX_FILE_CLAIMS = 20_000  # ... and of all the checks of one file, or the network's own
# number of quantities where that is more: a template over every weight of a layer runs


@dataclass
class Claim:
    """One equation to judge: `claim` should equal d(of, wrt)."""

    file: str
    line: int | None
    of: str
    wrt: str
    claim: sp.Expr | None  # None: an exercise left unanswered
    truth: sp.Expr
    text: str
    index: dict[str, int] = field(default_factory=dict)
    step: int | None = None
    expect: str = "correct"
    assume: str | None = None
    exercise: str | None = None
    template: tuple | None = None  # shared by the instances of one template (and step)
    grid: Grid | None = None  # of a matrix check: an entry of it, or (entry None) the whole
    entry: tuple[int, int] | None = None  # (row, column), 1-based
    rebuild: object = field(default=None, repr=False, compare=False)  # env -> the claim
    # with other index values (a template's hint: are two indices swapped?)
    mistakes: tuple = ()  # (the teacher's wrong answer, its feedback), in this instance
    hinted: bool = True  # a matrix check's entries are judged without hints at first
    orbit: tuple | None = None  # (the index values of the first instance, the
    # permutations from it to this one): this claim is that one's, relabelled
    # (equivariance.py), and so is its truth

    @property
    def answered(self) -> bool:
        return self.claim is not None


class Later(Claim):
    """A claim whose claim and truth are built when first read. A template's instance or
    a matrix's entry that is its first's relabelled (`orbit`): judging needs neither, and
    a report reads them for those it shows. A matrix check's summary: only a report reads
    its matrices. `make`: (claim builder, truth builder)."""

    def __init__(self, *args, make: tuple | None = None, **fields):
        if make is None or args:  # (dataclasses.replace: claim and truth given)
            super().__init__(*args, **fields)
            return
        # A template makes 25,088 of these: its fields are set as they are, without the
        # dataclass's __init__ (a fifth of making them).
        state = self.__dict__
        state.update(_DEFAULTS)
        state.update(fields)
        state.setdefault("index", {})
        state["_claim"], state["_truth"] = state.pop("claim", None), state.pop("truth", None)
        state["_pending"] = dict(zip(("claim", "truth"), make))

    def _get(self, name: str):
        pending = self.__dict__.get("_pending")
        if pending and name in pending:
            self.__dict__["_" + name] = pending.pop(name)()
        return self.__dict__["_" + name]

    def _set(self, name: str, value) -> None:
        self.__dict__["_" + name] = value
        pending = self.__dict__.get("_pending")
        if pending:
            pending.pop(name, None)

    claim = property(lambda self: self._get("claim"), lambda self, v: self._set("claim", v))
    truth = property(lambda self: self._get("truth"), lambda self, v: self._set("truth", v))

    @property
    def answered(self) -> bool:
        pending = self.__dict__.get("_pending")
        return bool(pending and "claim" in pending) or self.claim is not None


@dataclass
class LaterBudget:
    """What the `Later` claims of one check may spend between them: nodes (`work`) and
    CPU seconds; their errors are located in `file` and named by `exercise`, as the
    errors of the claims built at once are."""

    work: expr.Work
    file: str
    exercise: str | None
    seconds: limits.Allowance

    def built(self, formula: Formula, action):
        """action(), the claim of `formula`, as if it were built with the others."""
        try:
            return self.seconds.spend(action)
        except limits.OutOfTime:
            error = ClaimError(f"building the claim took more than "
                               f"{self.seconds.seconds:g} CPU seconds")
        except DeriveError as exc:
            error = exc
        raise _named(error, self.exercise).located(self.file, formula.line) from None


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Claim)
             if f.default is not dataclasses.MISSING}


class Names(Vocabulary):
    """The network's vocabulary plus the spec's aliases (which may refer to each other),
    under the rules of what the answer being read may use (usage.py)."""

    def __init__(self, network: Network):
        super().__init__(network)
        self.aliases = network.spec.aliases
        self._parsed: dict[str, expr.Node] = {}
        self.usage: usage.Usage | None = None

    def name(self, name, example=None):
        value = super().name(name, example)
        if value is not None and self.usage is not None:
            self.usage.admit(self.network, value)
        return value

    def family(self, name, indices, example=None):
        value = super().family(name, indices, example)
        if value is not None and self.usage is not None:
            self.usage.admit(self.network, value)
        return value

    def derivative(self, of, wrt):
        if self.usage is not None:
            self.usage.admit_derivative(self.network, of, wrt)
        return super().derivative(of, wrt)

    def activation_derivative(self, name: str) -> None:
        if self.usage is not None:
            self.usage.admit_activation_derivative(self.network, name)

    def alias(self, name: str) -> expr.Node | None:
        if name not in self.aliases:
            return None
        if name not in self._parsed:
            try:
                self._parsed[name] = expr.parse(self.aliases[name])
            except ClaimError as exc:
                raise ClaimError(f"alias '{echo(name)}': {exc.message}") from None
        return self._parsed[name]

    def indexed_alias(self, name: str, bound) -> expr.Node | None:
        """An alias whose key has index letters (w2_{jk}: w_o[j, k]) read with other
        letters that a template or a sum binds (w2_{kj} is w_o[k, j])."""
        written = _INDEXED.fullmatch(name)
        if not written or not set(_letters(written.group(2))) <= set(bound):
            return None
        key = ("indexed", name)
        if key not in self._parsed:
            self._parsed[key] = self._indexed(name, written)
        return self._parsed[key]

    def _indexed(self, name: str, written) -> expr.Node | None:
        found = None
        if written:
            letters = _letters(written.group(2))
            for key in self.aliases:
                match = _INDEXED.fullmatch(key)
                if not match or match.group(1) != written.group(1):
                    continue
                own = _letters(match.group(2))
                body = self.alias(key)
                if len(own) == len(letters) == len(set(own)) and \
                        set(own) <= expr.free_names(body):
                    found = expr.renamed(body, dict(zip(own, letters)))
                    break
        return found

    def known_names(self):
        return super().known_names() + list(self.aliases)


_INDEXED = re.compile(r"(.+?)_\{?([a-z](?:,?[a-z])*)\}?")


def _letters(text: str) -> list[str]:
    return text.replace(",", "").replace("", " ").split()


def parse_formula(formula: Formula) -> expr.Node:
    if formula.syntax == "latex":
        from . import latex  # lark is imported only for LaTeX claims

        return latex.parse(formula.text)
    return expr.parse(formula.text)


def every_check(network: Network) -> list[tuple[Check, list[Claim]]]:
    """Each check of the spec with its claims; the first check that fails raises."""
    found = []
    for check, claims, error in each_check(network):
        if error is not None:
            raise error
        found.append((check, claims))
    return found


def each_check(network: Network):
    """(check, its claims, None) for each check, or (check, [], the error) where its claims
    cannot be made: one bad answer costs that answer alone."""
    yield from _each(network, claims_of)


def plans(network: Network):
    """As each_check, but with each check's plan (claims.plan): no formula is built."""
    yield from _each(network, lambda network, check: _for_check(network, check, plan))


def _each(network: Network, make):
    total = 0
    for check in network.spec.checks:
        try:
            made = make(network, check)
        except DeriveError as exc:
            yield check, [], exc
            continue
        total += sum(getattr(c, "entry", None) in (None, (1, 1)) for c in made)  # a matrix
        # check counts once: its entries are judged together, at the cost of a template
        if total > (cap := _cap(network, MAX_FILE_CLAIMS)):
            raise ClaimError(f"the checks of this file make too many claims (more than "
                             f"{cap:,})",
                             file=check.file or network.spec.file, line=check.line)
        yield check, made, None


def _cap(network: Network, least: int) -> int:
    return max(least, len(network.quantities))


def claims_of(network: Network, check: Check) -> list[Claim]:
    """Every concrete claim a check makes, or a ClaimError located at the check's line."""
    return _for_check(network, check, _built)


def first_claim(network: Network) -> Claim | None:
    """The first claim of the spec's first check, made alone (no other instance of its
    template, no layout): it can be judged while the others are made. None where the
    check is about a matrix (its entries are made with its layout), makes no claim, or
    raises (as it does again when every claim is made)."""
    if not network.spec.checks:
        return None
    try:
        made = _for_check(network, network.spec.checks[0], partial(_built, first=True))
    except DeriveError:
        return None
    return made[0] if made else None


def _built(network: Network, check: Check, first: bool = False) -> list[Claim]:
    """The check's claims (`first`: its first claim alone), made within the limit."""
    limit = limits.build_limit(len(network.quantities))
    if first:
        limit = min(limit, limits.AHEAD)
    try:
        with limits.time_limit(limit):  # a single SymPy call, where it can be stopped
            return list(itertools.islice(_expand(network, check, first), 1 if first else None))
    except limits.OutOfTime:
        raise ClaimError(f"building the claim took more than {limit:g} CPU "
                         f"seconds") from None


def _for_check(network: Network, check: Check, make):
    """make(network, check), or the check's error (an answer that could not be read, or
    what `make` raised), located at the check and named by its exercise."""
    try:
        if check.error is not None:
            raise check.error
        return make(network, check)
    except DeriveError as exc:
        raise _named(exc, check.exercise).located(check.file or network.spec.file,
                                                  check.line) from None


def _named(exc: DeriveError, exercise: str | None) -> DeriveError:
    """The error named by the exercise whose answer it is about."""
    if exercise is not None and not exc.message.startswith("answers."):
        exc.message = f"answers.{exercise}: {exc.message}"
    return exc


@dataclass(frozen=True)
class Planned:
    """What one claim of a check will be, known before any formula is read: the pytest
    plugin names its items from these, and builds the claims only when they run."""

    of: str
    wrt: str
    index: dict
    step: int | None
    line: int | None
    exercise: str | None


def plan(network: Network, check: Check) -> list[Planned]:
    """The claims `claims_of` would make, in its order, without building one."""
    steps = [None] if not check.steps else list(range(1, len(check.steps) + 1))
    lines = [f.line for f in check.steps] or [check.claim.line if check.claim else check.line]
    try:
        bodies = [parse_formula(f) for f in _formulas(check)] if network.spec.notation \
            else []
    except DeriveError:  # reported when the claim is built, at its item
        bodies = []
    return [Planned(_written(of, check.of, env), _written(wrt, check.wrt, env), env, step,
                    line, check.exercise)
            for env, of, wrt in _instances(network, check, bodies)
            for step, line in zip(steps, lines)]


def _formulas(check: Check) -> list[Formula]:
    return [check.claim] if check.claim else check.steps  # none: no answer given


def _instances(network: Network, check: Check, bodies: list[expr.Node] = ()):
    """(index values, of, wrt) for each instance of a check, in the template's order: a
    layer index first (SPEC §11: every layer in which every numbered name of the check
    exists), then the others over the families they index."""
    own = Vocabulary(network)  # of and wrt: the network's own names, never aliases
    of_node, wrt_node = _name_node(check.of, "of"), _name_node(check.wrt, "wrt")
    bound = _bound_names(own)
    variables = list(dict.fromkeys(  # in order of appearance: w_h[m, k] runs m, then k;
        name for node in (of_node, wrt_node)  # W[l + 1] runs l; out_o1(n) runs n
        for arg in _indices(node) for name in sorted(expr.free_names(arg))
        if name not in bound))
    aliased = Names(network)  # a claim's aliases may hold numbered names too
    references = [ref for node in (of_node, wrt_node) for ref in expr.layer_numbers(node, own)]
    references += [ref for node in bodies for ref in expr.layer_numbers(node, aliased)]
    layered = [v for v in variables
               if any(v in expr.free_names(layer) for _, layer in references)]
    others = [v for v in variables if v not in layered]
    count = made = 0
    for numbers in itertools.product(*(own.layers() for _ in layered)):
        layers = dict(zip(layered, numbers))
        if not _exist(references, own, layers):
            continue
        ranges = [_range_of(var, [of_node, wrt_node], own, layers) for var in others]
        count += sp.prod([len(r) for r in ranges])
        if count > (cap := _cap(network, MAX_INSTANCES)):
            raise ClaimError(f"the template has too many instances (more than {cap:,})")
        fixed: dict = {}  # of or wrt without the instance's indices (E_total): read once,
        varies = {key: bool(expr.free_names(node) & set(others))  # where it was read before
                  for key, node in (("of", of_node), ("wrt", wrt_node))}
        for values in itertools.product(*ranges):
            env = {**layers, **dict(zip(others, values))}
            wrt = _once(fixed, "wrt", wrt_node, own, env, varies["wrt"])
            if variables and getattr(wrt, "is_Number", False):
                continue  # w_o[j, k] at an absent edge or a fixed weight: no parameter
            made += 1
            yield ({v: env[v] for v in variables},
                   _quantity(_once(fixed, "of", of_node, own, env, varies["of"]), check.of,
                             "of"),
                   _quantity(wrt, check.wrt, "wrt"))
    if layered and not count:
        raise ClaimError(f"no layer has every name this check uses, for any value of "
                         f"{', '.join(layered)}")
    if count and not made:  # a check that claims nothing must not pass as met
        raise ClaimError(f"wrt: every {check.wrt} is a fixed weight or an absent edge, "
                         f"none a parameter")


def _once(fixed: dict, key: str, node: expr.Node, own: Vocabulary, env: dict, varies: bool):
    """An of or wrt at one instance, read once if it does not depend on the instance."""
    if varies:
        return _resolved(node, own, env)
    if key not in fixed:
        fixed[key] = _resolved(node, own, env)
    return fixed[key]


def _resolved(node: expr.Node, own: Vocabulary, env: dict):
    """An of or wrt at one instance: what expr.evaluate gives, without an evaluator for
    the plain cases (a family indexed by the template's variables, a bare name), which a
    25,088-instance template reads twice per instance."""
    if node.kind == "family" and all(a.kind == "name" and a.value in env for a in node.args):
        value = own.family(node.value, tuple(env[a.value] for a in node.args))
        if value is not None:
            return value
    elif node.kind == "name" and node.value not in env:
        value = own.name(node.value)
        if value is not None:
            return value
    return expr.evaluate(node, own, env)  # the rest, and every error as it words it


def _indices(node: expr.Node) -> list[expr.Node]:
    """The index expressions of an of or wrt: a family's, and an example's (n)."""
    if node.kind == "example":
        return _indices(node.args[0]) + [node.args[1]]
    return list(node.args) if node.kind == "family" else []


def _exist(references, names: Vocabulary, layers: dict) -> bool:
    """Does every numbered name whose layer the template fixes exist in that layer?"""
    for letter, layer in references:
        used = expr.free_names(layer)
        if not used & set(layers) or not used <= set(layers) | {"L"}:
            continue  # a fixed layer (any error is the claim's), or one a Sum runs over
        number = expr.evaluate(layer, names, layers)
        if not (number.is_Integer and names.exists(letter, int(number))):
            return False
    return True


def _template_layer(check: Check) -> str | None:
    """The layer whose weights a template runs over (w_o[j, k]: o)."""
    match = re.fullmatch(r"\s*(?:w|b|delta|net)_([A-Za-z_]+)\s*\[.*", check.wrt)
    return match.group(1) if match else None


def _written(value, text: str, env: dict) -> str:
    """How a check's of or wrt is shown: its name, or the family with the indices in."""
    if not matrices.is_matrix(value):
        return value.name
    for var, number in env.items():
        text = re.sub(rf"\b{re.escape(var)}\b", str(number), text)
    return text.replace(" ", "")


def _expand(network: Network, check: Check, first: bool = False):
    if check.assume is not None and network.spec.examples > 1:
        raise ClaimError("assume: is not available in a spec with several examples (a "
                         "condition on each example's targets is not supported yet)")
    names = Names(network)
    file = check.file or network.spec.file
    bodies = [(f, _located(f, parse_formula)) for f in _formulas(check)]
    mistakes = [(m, _teachers(m, parse_formula)) for m in check.mistakes] if bodies else []
    names.template_layer = _template_layer(check)
    sums: dict = {}
    work = expr.Work(seconds=limits.build_limit(len(network.quantities)))
    found = list(itertools.islice(_instances(network, check, [body for _, body in bodies]),
                                  1 if first else None))
    plan = _layout(network, check, names, [body for _, body in bodies], found) \
        if bodies and not mistakes else None
    later = LaterBudget(expr.Work(seconds=math.inf), file, check.exercise,  # what the
                        limits.Allowance(limits.build_limit(len(network.quantities))))
    # claims built when read spend between them, as `work` and `_built` bound what is
    # built now
    derivative = partial(calculus.derivative, network)
    shared = [dict(file=file, line=formula.line, text=formula.text, expect=check.expect,
                   assume=check.assume, exercise=check.exercise,
                   step=number if check.steps else None,
                   rebuild=partial(_rebuilt, network, body,  # (the same for every instance)
                                   layer=names.template_layer))
              for number, (formula, body) in enumerate(bodies, start=1)]
    for env, of, wrt in found:
        if first and (matrices.is_matrix(of) or matrices.is_matrix(wrt)):
            return  # its entries are made with the matrix's layout, not alone
        orbit = plan.orbit(env) if plan is not None else None
        deferred = orbit is not None and bool(orbit[1])  # another's image: built when
        truth = partial(matrices.derivative, of, wrt, derivative)  # read, if ever
        if not deferred:
            truth = truth()
        shown_of, shown_wrt = _written(of, check.of, env), _written(wrt, check.wrt, env)
        if not bodies:  # an exercise without an answer: judged as undecided
            yield Claim(file, check.line, shown_of, shown_wrt, None, _shown(truth), "", env,
                        expect=check.expect, exercise=check.exercise)
        for number, (formula, body) in enumerate(bodies, start=1):
            last = number == len(bodies)
            step = shared[number - 1]["step"]
            fields = dict(shared[number - 1], of=shown_of, wrt=shown_wrt, index=env,
                          template=(id(check), formula.line, step) if env else None)
            if len(env) < 2:
                fields["rebuild"] = None
            if deferred:
                yield Later(claim=None, truth=None, orbit=orbit, **fields, make=(
                    partial(later.built, formula, partial(
                        _deferred, network, check, body, env, of, wrt, last, sums,
                        later.work)), truth))
                continue
            names.usage = usage.of(network, check, of, wrt, last=last)
            grid = _grid_layout(network, check, of, wrt, body, env) \
                if matrices.is_matrix(truth) and not mistakes else None
            claim = _located(formula,  # (with a layout, a matrix's entries made when read)
                             lambda f: expr.evaluate(body, names, env, sums,  # noqa: B023
                                                     work, whole=grid is None))  # noqa: B023
            made = Claim(claim=claim, truth=truth, orbit=orbit, mistakes=tuple(
                (_teachers(m, lambda f: _rebuilt(network, node, env,  # noqa: B023
                                                 layer=names.template_layer)),
                 m.feedback) for m, node in mistakes) if last else (), **fields)
            if matrices.is_matrix(claim) or matrices.is_matrix(truth):
                yield from _located(formula, partial(_entries, made, of, wrt, grid,
                                                     later))
            else:
                yield made


def _layout(network: Network, check: Check, names: Names, bodies: list, found: list):
    """The template's layout (equivariance.py) when its instances are the relabelled
    images of its first ones, or None: each is then built and compared."""
    from . import equivariance, symmetry

    if len(found) < 2 or not found[0][0]:
        return None
    variables = list(found[0][0])
    ranges = {v: sorted({env[v] for env, _, _ in found}) for v in variables}
    names.usage = None
    plan = equivariance.layout(symmetry.of(network), names, _name_node(check.of, "of"),
                               _name_node(check.wrt, "wrt"), bodies, ranges)
    if plan is None or set(plan.variables) != set(variables):
        return None
    # The rules of use, where they list names, would tell the instances apart.
    _, of, wrt = found[0]
    rules = [usage.of(network, check, of, wrt, last=k == len(bodies))
             for k in range(1, len(bodies) + 1)]
    if any(r is not None and r.names is not None for r in rules):
        return None
    return plan


def _deferred(network: Network, check: Check, body: expr.Node, env: dict, of, wrt,
              last: bool, sums: dict, work: expr.Work):
    """An instance's claim built when it is first read, as `_expand` would have built it."""
    names = Names(network)
    names.template_layer = _template_layer(check)
    names.usage = usage.of(network, check, of, wrt, last=last)
    return expr.evaluate(body, names, env, sums, work)


def _teachers(mistake, action):
    """A teacher's formula read, any error located in the teacher's file."""
    try:
        return action(mistake.formula)
    except DeriveError as exc:
        exc.message = f"mistakes: {exc.message}"
        raise exc.located(mistake.file, mistake.formula.line) from None


def _rebuilt(network: Network, body: expr.Node, env: dict, layer: str | None = None):
    """The claim read with other index values (no rules of use: this is for a hint), in
    the template's layer (`layer`: whose delta LaTeX's \\delta_k is)."""
    names = Names(network)
    names.template_layer = layer
    return expr.evaluate(body, names, env)


def _grid_layout(network: Network, check: Check, of, wrt, body: expr.Node, env: dict):
    """A matrix check's layout (matrix_layout.py), or None: its entries are then all
    built and compared."""
    from . import matrix_layout, symmetry

    names = Names(network)  # read as the claim is, without its rules of use (they tell no
    names.template_layer = _template_layer(check)  # entry from another)
    return matrix_layout.layout(symmetry.of(network), names, of, wrt, body, env)


def _entries(whole: Claim, of, wrt, plan, later, formula: Formula) -> list[Claim]:
    """A matrix check's claims: one per entry, judged as a template's instances; or, for
    a claim of another shape, the whole claim alone (it is wrong whatever its entries).
    With a layout (`plan`), an entry that is another's image is built when read. (Run
    under `_located`: an error in an entry made now is the formula's.)"""
    grid = Grid(matrices.shape(whole.truth), matrices.shape(whole.claim), whole.claim,
                whole.truth, read=partial(later.built, formula))
    whole = _summary(whole, grid)
    n, m = grid.shape
    grid.names = {(r, c): _entry_names(of, wrt, r, c)
                  for r in range(1, n + 1) for c in range(1, m + 1)}
    if not grid.fits:
        matrices.entries(grid.claim)  # (made whole if it was not: its errors are the claim's)
        return [whole]
    key = (*(whole.template or (id(grid), whole.line, whole.step)), "entries")
    for r, c in grid.names:
        fields = dict(file=whole.file, line=whole.line, of=grid.names[r, c][0],
                      wrt=grid.names[r, c][1], text=whole.text,
                      index={**whole.index, "(r)": r, "(c)": c}, step=whole.step,
                      expect=whole.expect, assume=whole.assume, exercise=whole.exercise,
                      template=key, grid=grid, entry=(r, c), hinted=False)
        first, perms = plan.orbit(r, c) if plan is not None else (None, None)
        if perms:
            grid.entries[r, c] = Later(
                claim=None, truth=None, orbit=((*whole.index.values(), *first), perms),
                **fields, make=(partial(grid.claim_at, r, c), partial(grid.truth_at, r, c)))
        else:
            grid.entries[r, c] = Claim(  # (made now: within the build's limit)
                claim=matrices.entry(grid.claim, r - 1, c - 1), truth=grid.truth_at(r, c),
                **fields,
                orbit=None if plan is None else ((*whole.index.values(), r, c), {}))
    return list(grid.entries.values())


def _summary(whole: Claim, grid: Grid) -> Later:
    """The claim that stands for a matrix check in reports: its claim and truth as
    SymPy's matrices, made only if something shows them."""
    fields = {name: getattr(whole, name) for name in whole.__dataclass_fields__
              if name not in ("claim", "truth")}
    summary = Later(claim=None, truth=None, **{**fields, "grid": grid},
                    make=(lambda: grid.read(lambda: _shown(grid.claim)),
                          lambda: _shown(grid.truth)))
    grid.summary = summary
    return summary


def _entry_names(of, wrt, r: int, c: int) -> tuple[str, str]:
    """The quantities whose derivative is entry (r, c) of d(of, wrt)."""
    if not matrices.is_matrix(of) and not matrices.is_matrix(wrt):
        return of.name, wrt.name
    if not matrices.is_matrix(of):
        return of.name, str(wrt.rows[r - 1][c - 1])  # "0" at an absent edge
    if not matrices.is_matrix(wrt):
        return of.rows[r - 1][c - 1].name, wrt.name
    return of.entries[r - 1].name, wrt.entries[c - 1].name


def _shown(value):
    """A matrix as SymPy's own, which the printers know; a scalar as it is."""
    return value.sympy() if matrices.is_matrix(value) else value


def _located(formula: Formula, action):
    try:
        return action(formula)
    except DeriveError as exc:
        raise exc.located(line=formula.line) from None


def one_claim(network: Network, wrt: str, text: str, of: str = "E_total",
              syntax: str = "sympy", assume: str | None = None,
              restricted: bool = False) -> list[Claim]:
    """A claim from the command line (`derive check SPEC --wrt NAME --claim TEXT`)."""
    if assume is not None and assume not in ASSUMPTIONS:
        raise ClaimError(f"unknown assumption '{echo(assume)}' (known: "
                         f"{', '.join(sorted(ASSUMPTIONS))})")
    check = Check(wrt=wrt, of=of, claim=Formula(text, syntax, None), assume=assume,
                  restricted=restricted)
    return claims_of(network, check)


_NAME_NODE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?(\([A-Za-z0-9_+\- ]*\))?")


def _name_node(text: str, key: str) -> expr.Node:
    if not _NAME_NODE.fullmatch(text.replace(" ", "")):
        raise ClaimError(f"{key}: expected a quantity name like w5 or w_o[j, k], got "
                         f"'{echo(text)}'")
    node = expr.parse(text)
    if node.kind not in ("name", "family", "example"):
        raise ClaimError(f"{key}: expected a quantity name, got '{echo(text)}'")
    return node


def _bound_names(names: Vocabulary) -> set[str]:
    return set(names.known_names()) | set(expr.CONSTANTS)


def _range_of(var: str, nodes: list[expr.Node], names: Vocabulary, env: dict) -> range:
    for node in nodes:
        size = expr.implied_range(node, var, names, env)
        if size is not None:
            return range(1, size + 1)
    raise ClaimError(f"cannot tell the range of the index '{echo(var)}'")


def _quantity(value, text: str, key: str):
    """A quantity, or a vector or matrix of quantities (W_o, net_h, with 0 for an absent
    edge and a number for a fixed weight), named by of or wrt."""
    if matrices.is_matrix(value):
        entries = value.entries
        named = all(x.is_Symbol or x.is_Number for x in entries) and any(x.is_Symbol
                                                                         for x in entries)
    else:
        named = value.is_Symbol
    if not named:
        raise ClaimError(f"{key}: '{echo(text)}' is not a quantity of the network")
    return value


def check_aliases(network: Network) -> None:
    """No alias may shadow a name of the network, a family, a function or another alias,
    in any spelling it matches (`out_{h1}` would shadow out_h1 in LaTeX claims)."""
    taken = _taken(network)
    spelled: dict[str, str] = {}
    for key in network.spec.aliases:
        file, line = network.spec.alias_places.get(key, (network.spec.file, None))
        for spelling in _spellings(key):
            other = spelled.get(spelling)
            what = taken.get(spelling) or (other not in (None, key) and f"the alias '{other}'")
            if what:
                raise ClaimError(f"aliases: '{echo(key)}' would shadow {echo(what)}; "
                                 f"choose another name", file=file, line=line)
            spelled[spelling] = key


def _taken(network: Network) -> dict[str, str]:
    """What each reserved spelling is: the network's names and families, functions."""
    taken = {name: f"the network's {name}" for name in network.quantities}
    for layer in network.spec.layers:
        taken[f"n_{layer.name}"] = f"the count n_{layer.name}"
        for prefix in ("out", "net", "delta", "target", "w", "b", "E"):
            family = f"{prefix}_{layer.name}"
            if FAMILY.fullmatch(family):
                taken[family] = f"the family {family}"
    if network.input_family:
        taken[network.input_family] = f"the input family {network.input_family}"
    for name in (*expr.FUNCTIONS, "Sum", *expr.CONSTANTS, "e", "E"):
        taken.setdefault(name, f"the function or constant {name}")
    taken.setdefault("n_examples", "the count n_examples")
    notation = network.spec.notation
    if notation is not None:  # SPEC §7's letters and L, which claims read by number
        for letter in (*notation.letters, LAST):
            taken.setdefault(letter, f"the numbered name {letter}")
    return taken


def _spellings(key: str) -> set[str]:
    """Every name an alias key answers to, as written or as LaTeX normalizes it."""
    plain = re.sub(r"[\\{}]", "", key)
    found = {key, plain}
    match = re.fullmatch(r"\\?([A-Za-z]+)_\{?([^{}]*)\}?", key)
    if match:
        found.update(expr.latex_candidates(match.group(1), match.group(2)))
    return found
