"""A template's layout: read off its formula, it says each instance is its first's image.

The oracle is each instance judged on its own (test_templates.py holds that path against
the rest of the suite): a layout may change how fast the verdicts come, never which. The
formulas that are no relabelled image of their first instance must get no layout.
"""

from __future__ import annotations

import pytest

from derive import api, claims, equivariance, symmetry, templates, verdicts
from derive.spec import Check, Formula

HIDDEN = "Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))*out_h[j]*(1 - out_h[j])*i[k]"


def network_of(inputs=3, hidden=3, outputs=2, aliases=None, **extra):
    return api.load({"inputs": inputs, "loss": "sse", **({"aliases": aliases} if aliases
                                                          else {}), "layers": [
        {"name": "h", "units": hidden, "activation": "sigmoid", **extra},
        {"name": "o", "units": outputs, "activation": "sigmoid"}]})


def instances(network, wrt, claim, of="E_total", syntax="sympy", **kwargs):
    check = Check(wrt=wrt, of=of, claim=Formula(claim, syntax, 1), **kwargs)
    return claims.claims_of(network, check)


def laid_out(items) -> bool:
    return all(c.orbit is not None for c in items)


@pytest.fixture(autouse=True)
def every_template_together(monkeypatch):
    monkeypatch.setattr(templates, "TOGETHER", 1)


@pytest.mark.parametrize("wrt, of, claim", [
    ("w_h[j, k]", "E_total", HIDDEN),
    ("w_h[j, k]", "E_total", "delta_h[j]*i[k]"),
    ("w_o[j, k]", "E_total", "delta_o[j]*out_h[k]"),
    ("b_h[j]", "E_total", "Sum(delta_o[m]*w_o[m, j], (m, 1, 2))*d(out_h[j], net_h[j])"),
    ("net_h[k]", "out_h[j]", "0*out_o1 + d(out_h[j], net_h[k])"),
    ("w_h[j, k]", "E_total", "delta_h[j]*i[k]*Sum(i[m], (m, 1, 3))/Sum(i[m], (m, 1, 3))"),
    ("w_h[j, k]", "E_total", "Sum(Sum(w_o[m, q]*out_h[q], (q, 1, n_h))*0 + delta_o[m]*"
                             "w_o[m, j], (m, 1, n_o))*out_h[j]*(1 - out_h[j])*i[k]"),
])
def test_formulas_whose_indices_only_number_units_are_laid_out(wrt, of, claim):
    network = network_of()
    items = instances(network, wrt, claim, of=of)
    assert laid_out(items)
    judged = templates.judge(network, items)
    alone = [verdicts.judge(network, c.claim, c.truth) for c in items]
    assert [(v.verdict, v.shown_by) for v in judged] == [(v.verdict, v.shown_by) for v in alone]


@pytest.mark.parametrize("claim, why", [
    ("delta_h[1]*i[k]", "a constant unit of a renumbered layer"),
    ("out_h1*0 + delta_h[j]*i[k]", "a renumbered layer's unit by its name"),
    ("j*delta_h[j]*i[k]", "a template variable as a number"),
    ("delta_h[j]*i[j]", "one variable numbering two layers"),
    ("delta_h[j]*i[k] + Sum(out_h[m], (m, 1, 2))*0", "a sum over part of a renumbered layer"),
    ("delta_h[j]*i[k]*Sum(m*out_h[m], (m, 1, n_h))**0", "a sum's variable as a number"),
    ("KroneckerDelta(j, 1)*delta_h[j]*i[k]", "a template variable compared"),
    ("delta_h[j]*i[k] + (out_h[j] - Sum(out_h[j], (j, 1, 1)))*out_h[j]",
     "a sum's variable named like the template's, which it hides: out_h1 in the sum"),
])
def test_formulas_that_do_more_with_an_index_get_no_layout(claim, why):
    network = network_of()
    assert not laid_out(instances(network, "w_h[j, k]", claim)), why


def test_an_of_or_wrt_named_in_a_renumbered_layer_gets_no_layout():
    """d(out_h1, w_h[j, k]) is out_h1*(1 - out_h1)*i[k] for j = 1 and 0 for any other j:
    relabelled from (1, 1), the first's proof would say otherwise."""
    network = network_of()
    items = instances(network, "w_h[j, k]", "out_h[j]*(1 - out_h[j])*i[k]", of="out_h1")
    assert not laid_out(items)
    got = [v.verdict for v in templates.judge(network, items)]
    assert got == ["correct" if c.index["j"] == 1 else "incorrect" for c in items]


def test_latex_and_aliases_get_no_layout():
    network = network_of(aliases={"g": "delta_h1"})
    assert not laid_out(instances(network, "w_h[j, k]", r"\delta_{hj} i_k", syntax="latex"))
    assert not laid_out(instances(network, "w_h[j, k]", "g*0 + delta_h[j]*i[k]"))
    assert laid_out(instances(network, "w_h[j, k]", "delta_h[j]*i[k]"))


def test_a_layout_is_refused_where_a_layer_is_not_symmetric():
    tied = network_of(weights=[["a1", "a1", "a3"], ["a4", "a5", "a6"], ["a7", "a8", "a9"]])
    assert not laid_out(instances(tied, "w_h[j, k]", "delta_h[j]*i[k]"))


def test_a_right_template_builds_no_instance_but_its_first_and_a_sample():
    network = network_of(inputs=12, hidden=8)
    items = instances(network, "w_h[j, k]", HIDDEN)
    verdicts_ = templates.judge(network, items)
    assert {(v.verdict, v.shown_by) for v in verdicts_} == {("correct", "symbolic")}
    built = sum("_pending" not in c.__dict__ or not c.__dict__["_pending"] for c in items)
    assert len(items) == 96 and built <= len(templates._sample(list(range(96)))) + 1 < 96


def test_a_wrong_template_laid_out_is_wrong_everywhere_with_counterexamples_that_hold():
    from test_templates import assert_counterexample_holds

    network = network_of()
    items = instances(network, "w_h[j, k]", "2*delta_h[j]*i[k]")
    assert laid_out(items)
    for claim, verdict in zip(items, templates.judge(network, items)):
        assert verdict.verdict == "incorrect"
        assert_counterexample_holds(network, claim, verdict)


def test_the_sample_catches_a_layout_given_where_none_holds(monkeypatch):
    """Were the reading wrong, the sampled instances would not be the first's images:
    every instance is then compared as without a layout, and judged alike."""
    network = network_of()
    claim = "delta_h[1]*i[k]"  # right for j = 1 only
    honest = instances(network, "w_h[j, k]", claim)
    monkeypatch.setattr(equivariance, "layout", lambda table, *args: equivariance.Layout(
        ("j", "k"), {1: ("j",), 0: ("k",)}))
    forged = instances(network, "w_h[j, k]", claim)
    assert laid_out(forged) and not laid_out(honest)
    got = [(v.verdict, v.shown_by) for v in templates.judge(network, forged)]
    assert got == [(v.verdict, v.shown_by) for v in templates.judge(network, honest)]
    assert got.count(("correct", "symbolic")) == 3  # j = 1 and each k


def test_a_hidden_template_variable_is_judged_instance_by_instance():
    """Sum(out_h[j], (j, 1, 1)) is out_h1 in every instance: read as the template's j,
    the first instance's proof would have been carried to instances where it is wrong."""
    network = network_of()
    items = instances(network, "w_h[j, k]",
                      "delta_h[j]*i[k] + (out_h[j] - Sum(out_h[j], (j, 1, 1)))*out_h[j]")
    got = [v.verdict for v in templates.judge(network, items)]
    assert got == ["correct" if c.index["j"] == 1 else "incorrect" for c in items]


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_sample_that_cannot_be_evaluated_confirms_nothing(monkeypatch, value):
    """Numbers past float's range say nothing: every instance is then compared."""
    network = network_of()
    items = instances(network, "w_h[j, k]", "delta_h[j]*i[k]")
    monkeypatch.setattr(templates.numeric, "evaluate_arrays", lambda *args: value)
    found = templates.judge(network, items)
    assert {(v.verdict, v.shown_by) for v in found} == {("correct", "symbolic")}
    assert not any(c.__dict__.get("_pending") for c in items)  # each one built, compared


def test_the_sample_is_spread_and_drawn():
    positions = list(range(1000))
    sample = templates._sample(positions)
    assert {0, 999} <= set(sample) and len(sample) > 32
    assert any(k % (1000 // 32) for k in sample)  # not only the stride's
    assert sample == templates._sample(positions)  # the same each run


def test_an_alias_cannot_be_a_sums_bound_nor_shadow_a_numbered_name():
    """Found by a review: `aliases: {L: 2}` made Sum(..., (m, 1, L)) run over two units
    of h in the build, while the reading took L for the last layer's number (3 = n_h)."""
    from derive.errors import ClaimError

    data = {"inputs": 3, "loss": "sse", "notation": {"first": 1}, "layers": [
        {"name": "h", "units": 3, "activation": "sigmoid"},
        {"name": "o", "units": 2, "activation": "sigmoid"}]}
    for name in ("L", "a", "n_examples"):
        with pytest.raises(ClaimError, match="would shadow"):
            claims.check_aliases(api.load({**data, "aliases": {name: "2"}}))
    network = network_of(aliases={"m2": "2"})
    claim = "delta_h[j]*i[k] + 10**-30*(1 - Sum(d(out_h[m], out_h[j]), (m, 1, m2)))"
    items = instances(network, "w_h[j, k]", claim)
    assert not laid_out(items)
    got = [v.verdict for v in templates.judge(network, items)]
    assert got == ["correct" if c.index["j"] <= 2 else "incorrect" for c in items]


def test_the_sample_is_compared_term_for_term_not_only_by_numbers(monkeypatch):
    """A difference of 1e-30 passes any float comparison; the sampled instances must be
    the first's images exactly (found by a review, with a layout forged as below)."""
    network = network_of()
    claim = "delta_h[j]*i[k] + 10**-30*(out_h[1] - out_h[j])"
    monkeypatch.setattr(equivariance, "layout", lambda table, *args: equivariance.Layout(
        ("j", "k"), {1: ("j",), 0: ("k",)}))
    items = instances(network, "w_h[j, k]", claim)
    got = [v.verdict for v in templates.judge(network, items)]
    assert got == ["correct" if c.index["j"] == 1 else "incorrect" for c in items]


def test_orbits_of_two_indices_in_one_layer():
    layout = equivariance.Layout(("j", "k"), {1: ("j", "k")})
    assert layout.orbit({"j": 3, "k": 3}) == ((1, 1), {1: {1: 3, 3: 1}})
    first, perms = layout.orbit({"j": 3, "k": 1})
    assert first == (1, 2) and symmetry.completed({1: 3, 2: 1}) == perms[1]
