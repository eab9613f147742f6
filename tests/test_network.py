"""The network's sums and products, built without SymPy's flattening, are SymPy's own.

`network.product` and `network.weighted_sum` order their arguments by names where SymPy
would compare the symbols; a claim built by SymPy must still be the very same object
(equal, with its arguments in the same order), or comparisons between the two would fail.
"""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import network

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=2, max_size=8, unique=True), st.data())
def test_products_and_sums_of_names_are_sympys_own(chosen, data):
    symbols = [network.symbol(n) for n in chosen]
    terms = []
    for _ in range(data.draw(st.integers(2, 6))):
        a, b = data.draw(st.permutations(symbols))[:2]
        made = network.product(a, b)
        assert made == sp.Mul(a, b) and made.args == sp.Mul(a, b).args
        term = made if data.draw(st.booleans()) else a
        if term not in terms:
            terms.append(term)
    got, want = network.weighted_sum(terms), sp.Add(*terms)
    assert got == want and got.args == want.args


def test_other_symbols_and_fixed_weights_go_through_sympy():
    x, y = sp.Symbol("x"), network.symbol("y")  # not real: not ours
    assert network.product(y, x).args == sp.Mul(x, y).args
    terms = [2 * y, network.product(y, network.symbol("a")), network.symbol("b")]
    assert network.weighted_sum(terms).args == sp.Add(*terms).args


def test_a_nets_parents_read_off_its_lists_are_its_definitions_symbols():
    from pathlib import Path

    from derive import api, calculus

    fixed = {"inputs": ["x1", "x2"], "layers": [
        {"name": "h", "units": 2, "activation": "tanh", "weights": [["a", 0], [2, "a"]],
         "bias": "a"},
        {"name": "o", "units": 1, "activation": "sigmoid"}], "loss": "sse"}
    specs = [*sorted((Path(__file__).parent.parent / "specs").glob("*.yaml")), fixed]
    for spec in specs:
        built = api.load(spec)
        for quantity in built.quantities.values():
            if quantity.definition is not None:
                assert calculus.parents(built, quantity) == \
                    quantity.definition.free_symbols, (spec, quantity.name)
