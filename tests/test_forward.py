"""The forward pass's integer sums against mpmath's own arithmetic.

`forward.weighted_sum` sums a net's products as fixed-point integers; `_mpf_sum` sums
the same products as mpf numbers, exactly, and rounds once (what mpmath.fsum does). They
must give the same number, and agree on which sums lose a term (strict mode), for
operands of every size, fixed weights and biases included.
"""

from __future__ import annotations

import pickle
import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import libmp

from derive import api, forward, numeric

numbers = st.one_of(
    st.fractions(min_value=-50, max_value=50, max_denominator=10**13),
    st.integers(-10**6, 10**6),
    st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-300),
    st.builds(lambda m, e: Fraction(m, 2**e), st.integers(-10**9, 10**9), st.integers(0, 400)),
)


def exactly(value) -> Fraction:
    """A number of any kind here as the rational it is."""
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, mpmath.mpf):
        sign, man, exp, _ = value._mpf_
        return Fraction((-1) ** sign * man) * Fraction(2) ** exp
    return Fraction(value)


def summed(way, linear, point: dict, strict: bool, digits: int):
    """The sum by `way`, or "absorbed"."""
    with mpmath.workdps(digits):
        env = forward.Values()
        env.pending = dict(point)
        try:
            return way(linear, env, strict)
        except numeric.Absorbed:
            return "absorbed"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(numbers, numbers), min_size=1, max_size=12), numbers,
       st.booleans(), st.sampled_from([15, 30, 50, 100]), st.integers(0, 2))
def test_integer_sums_are_the_exact_sum_rounded(pairs, bias, strict, digits, fixed):
    """Both ways are within the precision of the exact rational sum, and say a term is
    lost exactly where one is far below the sum's last bit."""
    ws = sp.symbols(f"w1:{len(pairs) + 1}")
    xs = sp.symbols(f"x1:{len(pairs) + 1}")
    b = sp.Symbol("b")
    weights = [sp.Rational(2 * k - 3, 7) if k < fixed else w for k, w in enumerate(ws)]
    point = {**{w: v for w, (v, _) in zip(ws, pairs)},
             **{x: v for x, (_, v) in zip(xs, pairs)}, b: bias}
    terms = [exactly(point.get(w, w)) * exactly(x) for w, (_, x) in zip(weights, pairs)]
    terms.append(exactly(bias))
    exact = sum(terms)
    with mpmath.workdps(digits):
        prec = mpmath.mp.prec
    for way in (forward.weighted_sum, forward._mpf_sum):
        got = summed(way, (weights, list(xs), b), point, strict, digits)
        smallest = min((abs(t) for t in terms if t), default=None)
        if strict and exact and smallest is not None:
            gap = mpmath.log(abs(exact) / smallest, 2)
            if gap > prec:
                assert got == "absorbed", way
                continue
            if gap < prec - 16:
                assert got != "absorbed", way
        if got == "absorbed":
            continue
        error = abs(exactly(got) - exact)
        assert error <= (abs(exact) + sum(abs(t) for t in terms)) / 2 ** (prec - 2), way


def test_a_leaf_is_read_as_a_number_only_when_asked_for():
    with mpmath.workdps(30):
        env = forward.Values()
    x, y = sp.symbols("x y")
    env.pending = {x: Fraction(1, 3), y: 0.25}
    assert x in env and len(env) == 2 and dict.__len__(env) == 0
    with mpmath.workdps(200):  # converted at the precision the pass was made at
        third = env[x]
    with mpmath.workdps(30):
        assert third == mpmath.mpf(1) / 3
    assert env.get(sp.Symbol("z")) is None and sp.Symbol("z") not in env
    assert dict(env.items()) == {x: env[x], y: mpmath.mpf("0.25")}
    assert pickle.loads(pickle.dumps(env)) == {x: env[x], y: env[y]}
    with pytest.raises(KeyError):
        env[sp.Symbol("z")]


def test_rounded_is_correctly_rounded():
    rng = random.Random(4)
    for _ in range(20_000):
        q = rng.choice([rng.randrange(1, 50), 10**12 + rng.randrange(10**12),
                        2**rng.randrange(1, 300), rng.randrange(1, 10**30)])
        value = Fraction(rng.randrange(-10**40, 10**40), q)
        prec = rng.choice([5, 53, 170, 700])
        assert forward._rounded(value.numerator, value.denominator, prec) == \
            libmp.from_rational(value.numerator, value.denominator, prec, libmp.round_nearest)


def network_at_a_point(sizes: tuple, activations: tuple, seed: int) -> tuple:
    """A network and a point of rational leaves."""
    network = api.load({"inputs": sizes[0], "loss": "sse", "layers": [
        {"name": name, "units": units, "activation": activation}
        for name, units, activation in zip("ho", sizes[1:], activations)]})
    rng = random.Random(seed)
    return network, {q.name: Fraction(rng.randrange(-999, 999), rng.randrange(1, 999))
                     for q in network.quantities.values() if q.is_leaf}


def test_a_pass_from_a_near_point_is_a_fresh_pass():
    """Moving a few leaves of a pass (fixed-point operands reused) changes nothing."""
    network, point = network_at_a_point((6, 4, 3), ("tanh", "softmax"), seed=2)
    moved = {"w_h2_i3": Fraction(5, 3), "i1": Fraction(-1, 9), "b_o": Fraction(2)}
    with mpmath.workdps(40):
        near = forward.point_values(network, moved, forward.point_values(network, point))
        fresh = forward.point_values(network, {**point, **moved})
        assert dict(near.items()) == dict(fresh.items())
    with mpmath.workdps(80):  # a base made at another precision: a fresh pass all the same
        base = forward.point_values(network, point)
        base[network["w_o1_h1"].symbol]  # a leaf read (converted) at 80 digits
    with mpmath.workdps(40):
        near = forward.point_values(network, moved, base)
        assert dict(near.items()) == dict(fresh.items())


@pytest.mark.parametrize("odd", [Fraction(0), Fraction(1, 10**80), 0.5, 3])
def test_leaves_made_once_give_the_pass_a_dict_gives(odd):
    """A point prepared as Leaves (its operands as integer lists, for every precision)
    against the same point as a dict of numbers, with a zero, a tiny or a non-Fraction
    number among them (those take the slower paths)."""
    network, point = network_at_a_point((5, 3, 2), ("sigmoid", "sigmoid"), seed=7)
    point["w_h2_i3"] = odd
    leaves = forward.Leaves(network, point)
    for digits in (30, 60):
        with mpmath.workdps(digits):
            walked = {network[n].symbol: mpmath.mpf(v.numerator) / v.denominator
                      if isinstance(v, Fraction) else mpmath.mpf(v) for n, v in point.items()}
            for q in network.quantities.values():  # each definition walked, no sums as lists
                if q.definition is not None:
                    walked[q.symbol] = numeric.evaluate(q.definition, walked)
            for strict in (False, True):
                ours = forward.point_values(network, leaves, strict=strict)
                again = forward.point_values(network, dict(point), strict=strict)
                assert dict(ours.items()) == dict(again.items())
                assert set(ours) == set(walked) or strict and set(ours) < set(walked)
                for sym, value in walked.items():
                    if sym not in ours:  # strict: a term lost to the precision
                        continue
                    assert abs(ours[sym] - value) <= mpmath.mpf(10) ** (5 - digits) * \
                        max(1, abs(value)), sym
