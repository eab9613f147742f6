"""Where a claim and its truth branch, and points that reach every combination of branches.

A relu unit, a Heaviside, an Abs or a Max splits the space of inputs and parameters into
regions; inside each region the claim and the truth are smooth functions, and agreeing at
a random point of a region says something only about that region. So numbers count as
evidence only when every region the formulas distinguish was visited: every reachable
sign pattern of their branch conditions. Points for the patterns that random draws miss
are constructed (move the leaf that a violated condition depends on, lowest first), not
hoped for; a pattern never reached is named in the verdict.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

import mpmath
import sympy as sp

from . import calculus, forward, numeric
from .network import Network

MAX_BRANCHES = 8  # 2**8 patterns: past this, numbers cannot cover the cases
MARGIN = 0.01  # a condition this close to 0 is on the kink, not in a region
FACTOR_OPS = 40  # larger bases of a fractional power are not factored
SEARCH_DIGITS = 20
MOVES = 40  # leaf moves tried per pattern before giving up
STEPS = (Fraction(1, 4), Fraction(1), Fraction(4), Fraction(16), Fraction(64), Fraction(512))
PIECEWISE = (sp.Heaviside, sp.Abs, sp.sign, sp.DiracDelta, sp.Max, sp.Min)


@dataclass(frozen=True)
class Branch:
    """A condition whose sign picks a branch: `expr` > 0 on one side, < 0 on the other."""

    expr: sp.Expr
    label: str  # a unit's name when the condition is its net, else the expression
    depth: int  # the layer it sits in, for the order of construction (-1: leaves only)

    def describe(self, positive: bool) -> str:
        if self.label != str(self.expr):
            return f"{self.label} {'active' if positive else 'inactive'}"
        return f"{self.label} {'>' if positive else '<'} 0"


def branches(network: Network, *exprs: sp.Expr) -> list[Branch]:
    """The branch conditions of the expressions and of every definition they rest on."""
    table = network.cache.setdefault("branches", {})
    found: dict[sp.Expr, None] = {}
    for e in exprs:
        found.update(dict.fromkeys(_conditions(e)))
    for sym in calculus.cone(network, *exprs):
        quantity = network.quantity_of(sym)
        if quantity is None or quantity.definition is None:
            continue
        if sym not in table:
            table[sym] = _conditions(quantity.definition)
        found.update(dict.fromkeys(table[sym]))
    conditions = dict.fromkeys(c for c in map(partial(_through_out, network), found)
                               if c is not None)
    return sorted((_branch(network, c) for c in conditions), key=lambda b: (b.depth, b.label))


SAME_SIGN = {"relu", "leaky_relu", "elu", "tanh", "linear", "swish", "silu", "gelu"}
POSITIVE = {"sigmoid", "softplus", "softmax"}


def _through_out(network: Network, condition: sp.Expr) -> sp.Expr | None:
    """A condition on a unit's out, where the out's sign is its net's (relu, tanh, ...),
    is the condition on its net: relu_prime(out_h1) branches where net_h1 does, and no
    point has out_h1 < 0 to be found. Where the out is positive whatever the net
    (sigmoid), the condition never changes side: None."""
    quantity = network.quantity_of(condition)
    if quantity is None or quantity.kind != "out" or quantity.layer is None:
        return condition
    layer = network.layer(quantity.layer)
    if layer.activation in POSITIVE:
        return None
    alpha_ok = layer.activation not in ("leaky_relu", "elu") or layer.alpha is None or \
        layer.alpha >= 0
    if layer.activation in SAME_SIGN and alpha_ok:
        return network[quantity.name.replace("out_", "net_", 1)].symbol
    return condition


def _conditions(e: sp.Expr) -> list[sp.Expr]:
    found = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, (sp.Max, sp.Min)):
            found += [a - b for a, b in itertools.combinations(node.args, 2)]
        elif isinstance(node, PIECEWISE):
            found.append(node.args[0])
        elif node.is_Pow and not node.exp.is_Integer and not node.base.is_number:
            found += _roots(node.base)  # sqrt((w - 40)**2) bends where w = 40
    return [_canonical(c) for c in found if not c.is_number]


def _roots(base: sp.Expr) -> list[sp.Expr]:
    """Where a fractional power's base touches or crosses zero: its factors, when it is a
    small polynomial (a square hides its root from the sign of the base), else itself."""
    if sp.count_ops(base) <= FACTOR_OPS and base.is_polynomial():
        try:
            return [f for f, _ in sp.factor_list(base)[1]]
        except sp.PolynomialError:
            pass
    return [base]


def _canonical(c: sp.Expr) -> sp.Expr:
    """One form for c and -c (both split the space in the same place)."""
    return -c if c.could_extract_minus_sign() else c


def _branch(network: Network, condition: sp.Expr) -> Branch:
    quantity = network.quantity_of(condition)
    if quantity is not None and quantity.kind == "net":
        return Branch(condition, quantity.name[len("net_"):], layer_depth(network, condition))
    depths = [layer_depth(network, s) for s in condition.free_symbols]
    return Branch(condition, str(condition), max(depths, default=-1))


def layer_depth(network: Network, sym: sp.Symbol) -> int:
    quantity = network.quantity_of(sym)
    if quantity is None or quantity.layer is None or quantity.is_leaf:
        return -1
    return [layer.name for layer in network.spec.layers].index(quantity.layer)


def patterns(n: int) -> list[tuple[bool, ...]]:
    """Every side of n conditions."""
    return list(itertools.product((True, False), repeat=n))


def pattern(conditions: list[Branch], env: dict) -> tuple[bool, ...] | None:
    """The side of each condition at a point, or None on a kink or where one is undefined."""
    values = _values(conditions, env)
    if any(v is None or abs(v) < MARGIN for v in values):
        return None
    return tuple(v > 0 for v in values)


def _values(conditions: list[Branch], env: dict) -> list:
    """Each condition's value at a point, None where it has none."""
    values = []
    for branch in conditions:
        try:
            values.append(numeric.evaluate(branch.expr, env))
        except (numeric.Undefined, numeric.Missing):
            values.append(None)
    return values


def reach(network: Network, conditions: list[Branch], wanted: tuple[bool, ...],
          start: dict[str, Fraction], movable: set[str], rng: random.Random,
          domain, only: set | None = None) -> dict[str, Fraction] | None:
    """A point near `start` where the conditions have the signs `wanted`, or None.

    Greedy: fix the first violated condition (lowest layer first) by moving one leaf it
    depends on, keeping every condition already met; `domain(name, value)` keeps a leaf
    inside its domain (a probability target stays in [0, 1])."""
    point = dict(start)
    with mpmath.workdps(SEARCH_DIGITS):
        env = forward.point_values(network, point, only=only)
        score = _score(conditions, wanted, env)
        for _ in range(MOVES):
            if score[0] == len(conditions):
                return point
            broken = conditions[score[0]]
            best = None
            for name in _closest_leaves(network, broken.expr, movable, rng)[:6]:
                for candidate in _candidates(point[name], rng):
                    candidate = domain(name, candidate)
                    trial_env = forward.point_values(network, {name: candidate}, env,
                                                      only=only)
                    trial = _score(conditions, wanted, trial_env)
                    if trial > score and (best is None or trial > best[0]):
                        best = (trial, name, candidate, trial_env)
            if best is None:
                return None
            score, name, value, env = best
            point[name] = value
    return point if score[0] == len(conditions) else None


def on_kink(network: Network, branch: Branch, start: dict[str, Fraction], movable: set[str],
            keep: set[str], domain, rng: random.Random) -> dict[str, Fraction] | None:
    """A point where the branch's condition is exactly 0 (a relu unit on its kink), or None.

    A claim may differ from the truth there alone (relu's derivative taken as 1 at 0, not
    0), which no random point shows. The point's coordinates are made multiples of
    2**-KINK_BITS (but for `keep`), then one leaf the condition rests on with a slope of
    ±1 (a net's bias) is moved to where it vanishes; it is kept only where the condition
    is then 0 in exact arithmetic, which needs every value it rests on to be rational
    (relu, leaky relu and linear units). Failing that, a unit's net is cut off from what
    feeds it (`_cut_off`)."""
    scale = 2**KINK_BITS
    point = {n: v if n in keep else domain(n, Fraction(round(v * scale), scale))
             for n, v in start.items()}  # (a constant stays at 1/100 or more)
    cone = calculus.cone(network, branch.expr)
    value = _exact(branch.expr, exact_values(network, point, cone))
    if value == 0:
        return point
    for name in _closest_leaves(network, branch.expr, movable, rng)[:4] if value else ():
        shifted = _exact(branch.expr, exact_values(network, {**point, name: point[name] + 1},
                                                   cone))
        if shifted is None or abs(shifted - value) != 1:
            continue
        moved = {**point, name: point[name] - value / (shifted - value)}
        if domain(name, moved[name]) == moved[name] and \
                _exact(branch.expr, exact_values(network, moved, cone)) == 0:
            return moved
    return _cut_off(network, branch, point, movable)


def _cut_off(network: Network, branch: Branch, point: dict, movable: set[str]) -> dict | None:
    """The point with the unit's weights in and its bias at 0, so that its net is exactly
    0 whatever feeds it (a relu unit above a tanh layer has no rational point on its kink
    otherwise), or None where one of them cannot move."""
    linear = network.linear.get(branch.expr)
    if linear is None:
        return None
    weights, _, bias = linear
    zeroed = [*weights, *([bias] if bias is not None else [])]
    if not all(w.is_Symbol and w.name in movable for w in zeroed):
        return None
    return {**point, **{w.name: Fraction(0) for w in zeroed}}


KINK_BITS = 16  # small enough that a pass through a few relu layers stays exact in mpf


def exact_values(network: Network, point: dict[str, Fraction], only: set) -> dict:
    """The quantities of `only` that rational arithmetic gives at the point (the others:
    missing)."""
    values = {network[n].symbol: Fraction(v) for n, v in point.items()}
    for quantity in network.quantities.values():
        if quantity.definition is not None and quantity.symbol in only:
            value = _exact(quantity.definition, values)
            if value is not None:
                values[quantity.symbol] = value
    return values


def _exact(e: sp.Expr, values: dict) -> Fraction | None:
    """e in rational arithmetic, or None where it needs more (exp, tanh, ...)."""
    if e.is_Symbol:
        return values.get(e)
    if e.is_Rational:
        return Fraction(int(e.p), int(e.q))
    args = [_exact(a, values) for a in e.args]
    if any(a is None for a in args):
        return None
    if e.is_Add:
        return sum(args, Fraction(0))
    if e.is_Mul:
        return math.prod(args, start=Fraction(1))
    if e.is_Pow and e.exp.is_Integer and (args[0] != 0 or e.exp > 0):
        return args[0] ** int(e.exp)
    exact = {sp.Max: max, sp.Min: min, sp.Abs: abs,
             sp.sign: lambda x: Fraction((x > 0) - (x < 0)),
             sp.Heaviside: lambda x, h0=Fraction(1, 2): Fraction(x > 0) if x else h0}
    return exact[e.func](*args) if e.func in exact else None


def _score(conditions, wanted, env) -> tuple[int, int]:
    """(how many conditions in order are met before the first that is not, how many in all)."""
    met = [v is not None and abs(v) >= MARGIN * 2 and (v > 0) == sign
           for v, sign in zip(_values(conditions, env), wanted)]
    prefix = next((k for k, ok in enumerate(met) if not ok), len(met))
    return prefix, sum(met)


def _candidates(value: Fraction, rng: random.Random) -> list[Fraction]:
    """Values around `value` at growing distances on both sides, with a random tail so the
    point stays generic."""
    tail = Fraction(rng.randrange(1, 10**9), 10**11)
    return [value + sign * (step + tail) for step in STEPS for sign in (1, -1)]


def _closest_leaves(network: Network, e: sp.Expr, movable, rng) -> list[str]:
    """The leaves a condition depends on, those it uses directly first (a net's own bias
    and weights), biases before the rest: moving them disturbs the fewest other units."""
    direct = set(e.free_symbols)
    quantity = network.quantity_of(e)
    if quantity is not None and quantity.definition is not None:
        direct |= calculus.parents(network, quantity)
    leaves = [name for name in calculus.leaves(network, e) if name in movable]
    rng.shuffle(leaves)
    leaves.sort(key=lambda name: (network[name].symbol not in direct,
                                  network[name].kind != "bias"))
    return leaves
