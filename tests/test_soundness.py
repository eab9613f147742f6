"""`correct` must always mean correct: wrong claims built to slip past numbers never pass.

Every case here once passed as `correct (numeric)`: a deep relu chain never fully active,
a one-hot class never hot, a term lost to the precision, a branch beyond the drawn range.
The property test mutates right gradients into wrong ones on random networks and checks,
against an independent evaluation of the mutant, that none is judged correct.
"""

import itertools
import os
import signal
import time
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from derive import api, calculus, coverage, limits, numeric, screen, verdicts
from derive.network import symbol

SPECS = Path(__file__).parent.parent / "specs"
EXAMPLES = int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def mazur():
    return api.load(SPECS / "mazur.yaml")


def relu_chain(depth=5, bias=True):
    """One input, `depth` relu layers of one unit, a linear output (the narrow deep case)."""
    layers = [{"name": chr(ord("a") + k), "units": 1, "activation": "relu",
               **({} if bias else {"bias": "none"})} for k in range(depth)]
    return api.load({"inputs": 1, "loss": "sse",
                     "layers": [*layers, {"name": "y", "units": 1, "activation": "linear"}]})


def one_hot(classes):
    return api.load({"inputs": 2, "loss": "cross_entropy",
                     "layers": [{"name": "o", "units": classes, "activation": "softmax"}]})


def verdict_of(network, wrt, claim, **kwargs):
    results = api.check_one(network, wrt, claim, **kwargs)
    return results[0].verdict if len(results) == 1 else [r.verdict for r in results]


# --- 1. coverage ------------------------------------------------------------------------

@pytest.mark.parametrize("budget", [0, limits.BUDGET])
@pytest.mark.parametrize("wrt, claim", [("w_a1_i1", "0"), ("w_a1_i1", "-delta_a1*i1"),
                                        ("b_a1", "2*delta_a1")])
def test_a_deep_narrow_relu_chain_is_fully_active_somewhere(wrt, claim, budget):
    assert verdict_of(relu_chain(), wrt, claim, budget=budget).verdict == "incorrect"


def test_every_branch_pattern_of_a_relu_chain_is_constructed():
    network = relu_chain(4)
    truth = calculus.gradient(network, "w_a1_i1")
    evidence = screen.Screen(network, truth, truth, None).full()
    assert evidence.gap is None and evidence.wrong is None
    assert {s.key[1] for s in evidence.samples} == set(coverage.patterns(4))  # all 16


def test_right_claims_on_the_chain_are_still_correct_by_numbers():
    v = verdict_of(relu_chain(), "w_a1_i1", "delta_a1*i1*(sin(i1)**2 + cos(i1)**2)")
    assert (v.verdict, v.shown_by) == ("correct", "numeric")


def test_a_pattern_no_point_reaches_makes_the_claim_undecided():
    # right wherever it is defined, and the extra term's branch pattern w1 > 11, w1 < 10
    # does not exist: numbers cannot show it is harmless, so no `correct`
    v = verdict_of(api.load(SPECS / "mazur.yaml"), "w1",
                   "delta_h1*i1 + Heaviside(w1 - 11)*Heaviside(10 - w1)", budget=0)
    assert v.verdict == "undecided"
    assert v.hint == "not proved, and no point was found where w1 - 10 < 0 and w1 - 11 > 0"


def test_too_many_branches_for_numbers_is_undecided_with_the_reason():
    network = api.load({"inputs": 3, "loss": "sse", "layers": [
        {"name": "h", "units": 5, "activation": "relu"},
        {"name": "g", "units": 5, "activation": "relu"},
        {"name": "o", "units": 1, "activation": "linear"}]})
    v = verdict_of(network, "w_h1_i1", "delta_h1*i1*(sin(i1)**2 + cos(i1)**2)", budget=0)
    assert v.verdict == "undecided"
    assert "numbers cannot cover every case" in v.hint and "branch at 10 places" in v.hint


@pytest.mark.parametrize("classes", [12, 40])
def test_every_one_hot_class_is_hot(classes):
    # an off-by-one in the upper bound: wrong exactly when the last class is hot
    claim = f"Sum(out_o[j]*target_o[m], (m, 1, {classes - 1})) - target_o[j]"
    [first] = api.check_one(one_hot(classes), "net_o1", claim.replace("[j]", "1"),
                            assume="targets are one-hot", budget=0)
    assert first.verdict.verdict == "incorrect"
    assert first.verdict.counterexample["point"][f"target_o{classes}"] == 1


# --- 2. stable numbers ------------------------------------------------------------------

@pytest.mark.parametrize("claim", [
    "delta_o1*out_h1 + 10**55*log(1 + 10**-55)",  # lost at 50 digits
    "delta_o1*out_h1 + 10**-39", "delta_o1*out_h1 + exp(-90)",  # below an absolute 1e-38
    "delta_o1*out_h1*(1 + 10**-39)", "delta_o1*out_h1 + exp(-300)",
    "delta_o1*out_h1 + exp(-(w5 - 50)**2)",  # e^-2000 at every drawn point
    "delta_o1*out_h1 + 10**-70*(w1 - w2)",
    "delta_o1*out_h1 + sin(100*pi*w5)",  # zero at every short decimal
])
@pytest.mark.parametrize("budget", [0, limits.BUDGET])
def test_a_difference_too_small_for_the_precision_is_still_found(mazur, claim, budget):
    v = verdict_of(mazur, "w5", claim, budget=budget)
    assert v.verdict == "incorrect", v
    example = v.counterexample
    if example["claim"] == example["truth"]:  # apart by less than a float shows
        assert mpmath.mpf(str(example["difference"])) != 0


@pytest.mark.parametrize("claim", [
    "delta_o1*out_h1 + sin(10**12*pi*w1)",  # zero on a grid of 10**-12
    "delta_o1*out_h1 + 100*sin(10**12*pi*target_o1)",
    "delta_o1*out_h1 + sqrt(w1**2 - 80*w1 + 1600) + w1 - 40",  # a kink hidden in a square
    "delta_o1*out_h1 + sqrt(i1**2 - 120*i1 + 3600) + i1 - 60",
    "delta_o1*out_h1*exp(exp(-w1**2 - 300))",  # exp of a number too small to show
    "delta_o1*out_h1*exp(exp(-10**8*net_h1**2))",
    "delta_o1*out_h1 + exp(exp(w1 - 300)) - 1",
    # a step made of a saturated function: exactly its limit at every point drawn (found
    # by a review: wrong beyond w1 = 20, in a band, or on one orthant in 256)
    "delta_o1*out_h1 + (1 + tanh(10**9*(w1 - 20)))*w1",
    "delta_o1*out_h1 + (1 + erf(10**9*(w1 - 20)))*w1",
    "delta_o1*out_h1*(1 - tanh(10**9*(w5 - 11)))/2",
    "delta_o1*out_h1 + (1 + tanh(10**9*(w1 - 9.99)))*w1",
    "delta_o1*out_h1 + " + "*".join(f"(1 - tanh(10**9*w{k}))" for k in range(1, 9)),
])
@pytest.mark.parametrize("budget", [0, limits.BUDGET])
def test_grids_hidden_kinks_and_flat_functions_do_not_fool_the_numbers(mazur, claim, budget):
    assert verdict_of(mazur, "w5", claim, budget=budget).verdict != "correct"


@pytest.mark.parametrize("claim", ["delta_y1*w_y1_r1*Heaviside(net_r1, 1)",
                                   "delta_y1*w_y1_r1*(sign(net_r1) + 1)/2"])
def test_a_claim_wrong_on_a_kink_alone_is_refuted_there(claim):
    """relu's derivative is 0 at 0 (SPEC §2): taken as 1 or 1/2 the claim is wrong on the
    kink's hyperplane only, where no random point lands. Above a tanh layer no rational
    point lies on it but where the unit's weights and bias are 0."""
    network = api.load(SPECS / "tanh_relu.yaml")
    v = verdict_of(network, "b_r1", claim)
    assert v.verdict == "incorrect", v
    assert v.counterexample["values"]["net_r1"] == 0


@pytest.mark.parametrize("claim, verdict", [("Heaviside(net_b1, 1)", "incorrect"),
                                            ("relu_prime(net_b1)", "correct"),
                                            ("Heaviside(net_b1)", "correct")])
def test_a_kink_in_a_relu_chain_is_reached_in_exact_arithmetic(claim, verdict):
    """Through relu units a point's values are rational: the kink of net_b1 is reached by
    moving its bias to where the net is exactly 0, the weights left as drawn."""
    network = relu_chain(depth=3)
    v = verdict_of(network, "net_b1", claim, of="out_b1", budget=0)
    assert v.verdict == verdict, v
    if verdict == "incorrect":
        assert v.counterexample["values"]["net_b1"] == 0
        assert v.counterexample["point"]["w_b1_a1"] != 0


def test_a_smooth_step_in_place_of_relus_kink_is_not_correct():
    """Wrong in a band about net_r1 = 0 that no point drawn comes near."""
    network = api.load(SPECS / "tanh_relu.yaml")
    v = verdict_of(network, "b_r1", "delta_y1*w_y1_r1*(1 + tanh(10**9*net_r1))/2")
    assert v.verdict != "correct", v


def test_a_flat_factor_on_the_last_one_hot_class_is_not_correct():
    network = api.load({"inputs": 3, "loss": "cross_entropy", "layers": [
        {"name": "h", "units": 2, "activation": "tanh"},
        {"name": "o", "units": 12, "activation": "softmax"}]})
    v = verdict_of(network, "net_o1", "(out_o1 - target_o1)*exp(target_o12*exp(-300 - net_o1**2))",
                   assume="targets are one-hot", budget=0)
    assert v.verdict != "correct"


@pytest.mark.parametrize("claim", ["delta_o1*out_h1 + sin(exp(exp(20)))",
                                   "delta_o1*out_h1 + sin(10**60*w5)",
                                   "delta_o1*out_h1 + sin(exp(exp(w5 + 20)))/10**30"])
def test_digits_of_pure_rounding_noise_are_no_evidence(mazur, claim):
    v = verdict_of(mazur, "w5", claim, budget=0)
    assert v.verdict != "correct", v


def test_a_right_claim_with_a_large_cancellation_is_still_correct(mazur):
    v = verdict_of(mazur, "w5", "delta_o1*out_h1 + 10**20*w1 - 10**20*w1*(sin(w2)**2 + cos(w2)**2)",
                   budget=0)
    assert (v.verdict, v.shown_by) == ("correct", "numeric")


def test_a_claim_undefined_where_the_truth_is_defined_is_not_correct(mazur):
    v = verdict_of(mazur, "w5", "delta_o1*out_h1*sqrt(w5*w6)/(sqrt(w5)*sqrt(w6))", budget=0)
    assert v.verdict == "undecided" and "the claim has no value at" in v.hint


# --- 3. refuted by what the algebra sees --------------------------------------------------

@pytest.mark.parametrize("claim", [
    "delta_o1*out_h1 + 10**-200",  # a nonzero constant
    "delta_o1*out_h1 + exp(-w1**2 - 2000)*(w1 - w2)",  # exponential times a polynomial
    "delta_o1*out_h1 + 10**-500*(w1**2 + 1)",  # sign-definite
])
def test_a_difference_the_prover_sees_is_refuted_with_a_counterexample(mazur, claim):
    v = verdict_of(mazur, "w5", claim)
    assert v.verdict == "incorrect" and v.counterexample is not None


@pytest.mark.parametrize("claim", ["delta_o1*out_h1 + Heaviside(w5 - 11)",
                                   "delta_o1*out_h1 + Heaviside(i1 - 3)",
                                   "delta_o1*out_h1 + Heaviside(-target_o1)",
                                   "delta_o1*out_h1 + Max(0, w5 - 40)*Heaviside(i2 - 5)"])
def test_branches_beyond_the_drawn_range_are_reached(mazur, claim):
    v = verdict_of(mazur, "w5", claim)
    assert v.verdict == "incorrect", v


# --- 4. the budget is work, not wall time ------------------------------------------------

def test_the_budget_counts_cpu_time_not_waiting(mazur):
    if not limits.interruptible():
        pytest.skip("no timer signal here")
    with limits.time_limit(0.05):
        time.sleep(0.3)  # waiting spends no CPU: no OutOfTime
    start = limits.clock()
    time.sleep(0.2)
    assert limits.clock() - start < 0.1


def test_an_orbit_whose_proof_failed_is_not_proved_again(monkeypatch):
    from derive import claims, proof
    from derive.spec import Check, Formula

    network = api.load({"inputs": 8, "loss": "sse", "layers": [
        {"name": "h", "units": 8, "activation": "sigmoid"},
        {"name": "o", "units": 2, "activation": "sigmoid"}]})
    items = claims.claims_of(network, Check(wrt="w_h[j, k]", claim=Formula(
        "delta_h[j]*i[k]*(sin(w_h[j, k])**2 + cos(w_h[j, k])**2)", "sympy", 1)))
    calls = []
    settle = proof.settle
    monkeypatch.setattr(proof, "settle", lambda *a: calls.append(a[-1]) or settle(*a))
    results = api.check_claims(network, items, budget=0.2, isolated=False)  # counted here
    assert {r.verdict.verdict for r in results} == {"correct"}
    assert len(calls) == 1  # the first instance's; its 63 images go to numbers directly


# --- 5. every form the evaluator can meet ------------------------------------------------

X = symbol("x")


@pytest.mark.parametrize("form, value", [
    (sp.DiracDelta(X - 1), 0), (sp.DiracDelta(X - 1, 2), 0), (sp.Heaviside(X, 1), 1),
])
def test_forms_with_values(form, value):
    with mpmath.workdps(50):
        assert numeric.evaluate(form, {X: mpmath.mpf(3)}) == value


@pytest.mark.parametrize("form, at", [
    (sp.DiracDelta(X), 0), (sp.DiracDelta(X, 3), 0), (sp.zoo, 0), (sp.I * X, 1), (sp.nan, 0),
    (sp.oo, 0), (sp.gamma(X), 1), (sp.sin(10**60 * X), 1), (sp.exp(sp.exp(sp.exp(X))), 6),
    (sp.log(X - 2), 1), (sp.sqrt(sp.log(X - 2)) + 1, 1)])
def test_forms_without_a_value_are_refused_cleanly(form, at):
    with mpmath.workdps(50), pytest.raises(numeric.Undefined):
        numeric.evaluate(form, {X: mpmath.mpf(at)})


@pytest.mark.parametrize("claim", ["w_h1_i1/0", "log(0)", "log(-1)", "sqrt(-1)", "tan(pi/2)",
                                   "d(d(delta_o1, net_o1), net_o1)"])
def test_undefined_claims_get_a_verdict_with_a_reason(claim):
    relu = api.load({"inputs": 2, "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": "sigmoid"},
        {"name": "o", "units": 2, "activation": "relu"}]})
    v = verdict_of(relu, "w_h1_i1", claim)
    assert v.verdict in ("undecided", "incorrect") and (v.hint or v.counterexample)


# --- the property: mutants of right claims are never correct ------------------------------

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "linear"]


@st.composite
def networks(draw):
    kind = draw(st.sampled_from(["dense", "chain", "one-hot"]))
    if kind == "chain":
        return relu_chain(draw(st.integers(3, 5)), bias=draw(st.booleans()))
    if kind == "one-hot":
        return one_hot(draw(st.integers(10, 40))), "targets are one-hot"
    layers = [{"name": name, "units": draw(st.integers(1, 3)),
               "activation": draw(st.sampled_from(ACTIVATIONS))} for name in "hg"[
        :draw(st.integers(1, 2))]]
    output = draw(st.sampled_from(["sigmoid", "linear", "tanh"]))
    return api.load({"inputs": draw(st.integers(1, 3)), "loss": "sse",
                     "layers": [*layers, {"name": "o", "units": draw(st.integers(1, 2)),
                                          "activation": output}]})


def mutants(network, truth):
    """Wrong versions of a right formula, the kinds of slips students make and worse."""
    leaf = next(q.symbol for q in network.quantities.values() if q.kind == "weight")
    source = next(q.symbol for q in network.quantities.values() if q.kind == "input")
    target = next(q.symbol for q in network.quantities.values() if q.kind == "target")
    found = {"dropped factor": truth.func(*truth.args[1:]) if truth.is_Mul else None,
             "dropped term": truth.func(*truth.args[1:]) if truth.is_Add else None,
             "tiny term": truth + sp.Rational(1, 10**45),
             "tiny factor": truth * (1 + sp.Rational(1, 10**45)),
             "far branch": truth + sp.Heaviside(leaf - 11, 0),
             "far input": truth + sp.Heaviside(source - 3, 0),
             "negative target": truth + sp.Heaviside(-target, 0),
             "hidden bump": truth + sp.exp(-(leaf - 40) ** 2)}
    same_kind = {}
    for q in network.quantities.values():
        same_kind.setdefault(q.kind, []).append(q.symbol)
    for s in sorted(truth.free_symbols, key=str):  # an index shifted: delta_o1 for delta_o2
        kin = [t for t in same_kind.get(network[s.name].kind, []) if t != s]
        if kin:
            found[f"{network[s.name].kind} shifted"] = truth.xreplace({s: kin[0]})
            break
    # one level down (each delta by its definition), where w5 and w7 can be swapped
    lower = truth.xreplace({s: network[s.name].definition for s in truth.free_symbols
                            if network[s.name].kind == "delta"})
    for a, b in itertools.combinations(sorted(lower.free_symbols, key=str), 2):
        if network[a.name].kind == network[b.name].kind:  # two names swapped
            found[f"{network[a.name].kind}s swapped"] = lower.xreplace({a: b, b: a})
            break
    return {k: v for k, v in found.items() if v is not None}


def truly_wrong(network, claim, truth, assumed) -> bool:
    """An oracle apart from the verdict engine: the difference, in leaves, at points of
    60 digits (relu chains also at a point where every unit is active)."""
    import random

    difference = calculus.expand(network, claim - truth)
    leaves = [q for q in network.quantities.values() if q.is_leaf]
    rng = random.Random(7)
    points = [{q.symbol: mpmath.mpf(rng.uniform(-3, 3)) for q in leaves} for _ in range(6)]
    points += [{q.symbol: mpmath.mpf(rng.uniform(0.5, 2)) for q in leaves}]
    points += [{**p, leaves[0].symbol: mpmath.mpf(50)} for p in points[:2]]
    points += [{**p, **{q.symbol: mpmath.mpf(v) for q, v in zip(leaves, (12, 4, -1) * 40)}}
               for p in points[:2]]
    with mpmath.workdps(150):
        for point in points:
            for case in assumed:
                env = {**point, **{k: mpmath.mpf(int(v)) for k, v in case.items()}}
                try:
                    if numeric.evaluate(difference, env) != 0:
                        return True
                except (numeric.Undefined, numeric.Missing):
                    continue
    return False


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize="DERIVE_FUZZ_EXAMPLES" not in os.environ)
@given(data=st.data())
def test_no_mutant_of_a_right_claim_is_judged_correct(data):
    from derive import proof

    drawn = data.draw(networks())
    network, assumption = drawn if isinstance(drawn, tuple) else (drawn, None)
    wrt = data.draw(st.sampled_from(network.params[:6]))
    truth = calculus.gradient(network, wrt)
    kinds = mutants(network, truth)
    name = data.draw(st.sampled_from(sorted(kinds)))
    claim = kinds[name]
    assume(truly_wrong(network, claim, truth, proof.cases(network, assumption)))
    budget = data.draw(st.sampled_from([0, 1]))
    event(f"{name}, budget {budget}")
    v = verdicts.judge(network, claim, truth, assumption, budget)
    assert v.verdict != "correct", (name, claim, v)


def test_the_timer_is_off_after_a_verdict(mazur):
    verdict_of(mazur, "w5", "delta_o1*out_h1*(sin(w1)**2 + cos(w1)**2)")
    if hasattr(signal, "getitimer"):
        assert signal.getitimer(signal.ITIMER_PROF)[0] == 0
