"""Verdicts and hints: the defining cases, properties over random networks, and soundness."""

from pathlib import Path

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from derive import api, calculus, forward, limits, numeric, screen

SPECS = Path(__file__).parent.parent / "specs"


@pytest.fixture(scope="module")
def mazur():
    return api.load(SPECS / "mazur.yaml")


def verdict_of(network, wrt, claim, of="E_total", **kwargs):
    [result] = api.check_one(network, wrt, claim, of, **kwargs)
    return result.verdict


# --- every verdict and hint -------------------------------------------------------------

CASES = {
    # claim about dE/dw5                              verdict, shown_by, hint
    "(out_o1 - target_o1)*out_o1*(1 - out_o1)*out_h1": ("correct", "symbolic", None),
    "d(E_total, out_o1)*d(out_o1, net_o1)*d(net_o1, w5)": ("correct", "symbolic", None),
    "delta_o1*out_h1*(sin(w1)**2 + cos(w1)**2)": ("correct", "numeric", None),
    "(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1": ("incorrect", None, "wrong sign"),
    "2/3*delta_o1*out_h1": ("incorrect", None,
                            "off by a constant factor 2/3 (the claim is 2/3 times the truth)"),
    "0": ("incorrect", None, "the claim is identically zero"),
    "delta_o1*out_h1 + delta_o2*out_h2": ("incorrect", None,
                                          "the claim has an extra term delta_o2*out_h2"),
    "log(-1 - out_h1**2)": ("undecided", None,
                            "the claim or the truth is undefined at most points tried"),
}


@pytest.mark.parametrize("claim", CASES)
def test_verdicts_and_hints(mazur, claim):
    v = verdict_of(mazur, "w5", claim)
    assert (v.verdict, v.shown_by, v.hint) == CASES[claim]
    assert (v.counterexample is not None) == (v.verdict == "incorrect")


def test_a_dropped_term_is_named(mazur):
    v = verdict_of(mazur, "w1", "delta_o1*w5*out_h1*(1 - out_h1)*i1")
    assert v.hint == "the claim lacks the term delta_o2*i1*out_h1*w7*(1 - out_h1)"


def test_counterexample_is_readable_and_confirmed(mazur):
    v = verdict_of(mazur, "w5", "delta_o1*out_h2")
    point = v.counterexample["point"]
    assert all(round(x, 2) == x for x in point.values())  # short decimals
    assert v.counterexample["claim"] != pytest.approx(v.counterexample["truth"])


def test_the_quick_look_confirms_its_difference_at_the_readable_point(mazur):
    """The point shown is the one the difference was confirmed at (twice the precisions),
    not a raw point's rounding taken on trust."""
    truth = calculus.gradient(mazur, "w5")
    claim = 2 * truth
    found = screen.Screen(mazur, claim, truth, None).quick()
    assert found is not None and found.differ
    assert all(100 % v.denominator == 0 for v in found.point.values())
    with mpmath.workdps(4 * screen.DIGITS):
        env = forward.point_values(mazur, found.point)
        c, t = (numeric.evaluate(e, env) for e in (claim, truth))
        assert t != 0 and abs(c - 2 * t) <= mpmath.mpf(10) ** -150 * abs(t)


def test_first_wrong_step_is_named(tmp_path):
    text = (SPECS / "mazur.yaml").read_text().split("checks:")[0] + """checks:
  - wrt: w1
    steps:
      - d(E_total, net_h1) * d(net_h1, w1)
      - delta_h1 * i1
      - (delta_o1*w5 + delta_o2*w6) * out_h1 * (1 - out_h1) * i1
      - (delta_o1*w5 + delta_o2*w7) * out_h1 * (1 - out_h1) * i1
"""
    spec = tmp_path / "steps.yaml"
    spec.write_text(text)
    results = api.check(spec)
    assert [r.verdict.verdict for r in results] == ["correct", "correct", "incorrect",
                                                    "correct"]
    assert results[2].verdict.hint.startswith("step 3 is the first wrong step")


# --- the Q&A cases ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.stem for p in SPECS.glob("*.yaml")))
def test_shipped_specs_meet_their_expectations(name):
    """Every spec in specs/ (Nielsen's and Ng's notation, the RNN, the convolution, the
    residual block and the minibatch among them): as expected, and proved."""
    results = api.check(SPECS / f"{name}.yaml")
    assert results and all(r.ok for r in results)
    assert all(r.verdict.shown_by == "symbolic" for r in results
               if r.verdict.verdict == "correct")


def test_the_asker_softmax_formula_is_identically_zero():
    network = api.load(SPECS / "hidden_softmax.yaml")
    asker = ("Sum(Sum(delta_o[j]*w_o[j, 1], (j, 1, n_o)) * out_h1 * "
             "(KroneckerDelta(i, 1) - out_h[i]) * i1, (i, 1, n_h))")
    v = verdict_of(network, "w1", asker)
    assert v.verdict == "incorrect" and v.hint == "the claim is identically zero"
    fixed = asker.replace("w_o[j, 1]", "w_o[j, i]")
    assert verdict_of(network, "w1", fixed).shown_by == "symbolic"


def test_softmax_cross_entropy_needs_targets_summing_to_one():
    network = api.load(SPECS / "softmax_classifier.yaml")
    assert verdict_of(network, "net_o2", "out_o2 - target_o2").hint == \
        "holds only when the targets sum to 1"
    assumed = verdict_of(network, "net_o2", "out_o2 - target_o2", assume="targets sum to 1")
    assert (assumed.verdict, assumed.shown_by) == ("correct", "symbolic")
    one_hot = verdict_of(network, "net_o2", "out_o2 - target_o2", assume="targets are one-hot")
    assert (one_hot.verdict, one_hot.shown_by) == ("correct", "symbolic")


def test_one_hot_condition_is_found():
    network = api.load(SPECS / "softmax_classifier.yaml")
    # with one-hot targets, target_o1*(1 - target_o1) is 0; not in general, nor for sums to 1
    v = verdict_of(network, "net_o1", "delta_o1 + target_o1*(1 - target_o1)")
    assert v.hint == "holds only when the targets are one-hot"


# --- soundness ----------------------------------------------------------------------------

def test_a_difference_of_1e_minus_20_relative_is_found(mazur):
    v = verdict_of(mazur, "w5", "delta_o1*out_h1*(1 + 10**-20)")
    assert v.verdict == "incorrect"


def test_near_cancelling_but_correct_claims_are_correct(mazur):
    v = verdict_of(mazur, "w5", "delta_o1*out_h1 + (w1 + 10**20) - 10**20 - w1")
    assert v.verdict == "correct"
    v = verdict_of(mazur, "w5", "delta_o1*out_h1*(1 + 10**-30*w1) - 10**-30*w1*delta_o1*out_h1")
    assert v.verdict == "correct"


@pytest.mark.parametrize("claim", [
    "delta_o1*out_h1 + Heaviside(w5 - 3)",
    "delta_o1*out_h1 + Heaviside(-3 - w2)",
    "delta_o1*out_h1 + Heaviside(Abs(b1) - 3)*b1",
])
def test_a_claim_wrong_only_for_large_parameters_is_found(mazur, claim):
    assert verdict_of(mazur, "w5", claim).verdict == "incorrect"


# --- properties over random networks ------------------------------------------------------

ACTIVATIONS = ["sigmoid", "tanh", "softmax", "linear", "softplus", "swish", "gelu"]


@st.composite
def networks(draw):
    """Small random networks; every layer shares one bias, so bias gradients are sums."""
    layers = []
    for index in range(draw(st.integers(1, 2))):
        layers.append({"name": "hgk"[index], "units": draw(st.integers(1, 3)),
                       "activation": draw(st.sampled_from(ACTIVATIONS)),
                       "bias": f"c{index}"})
    layers.append({"name": "o", "units": draw(st.integers(2, 3)),
                   "activation": draw(st.sampled_from(["sigmoid", "softmax", "tanh"])),
                   "bias": "co"})
    loss = draw(st.sampled_from(["sse", "mse"]))
    return api.load({"inputs": draw(st.integers(1, 2)), "layers": layers, "loss": loss})


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.data())
def test_own_gradient_is_correct_and_its_mutations_are_not(network, data):
    name = data.draw(st.sampled_from(network.params))
    truth = calculus.gradient(network, name)
    text = str(truth)
    # A bias shared by a whole softmax layer has gradient 0 (softmax ignores a common
    # shift): then -0 is right, so the mutations below prove nothing.
    assume(judge_zero(network, name).verdict == "incorrect")

    def judge(claim):
        return verdict_of(network, name, claim)

    assert judge(text).verdict == "correct"
    assert judge(f"-({text})").hint == "wrong sign"
    assert judge(f"2*({text})").hint.startswith("off by a constant factor 2 ")
    terms = sp.Add.make_args(truth)
    if len(terms) > 1:
        dropped = data.draw(st.sampled_from(terms))
        rest = str(truth - dropped)
        v = judge(rest)
        assert v.verdict == "incorrect"
        assert v.hint is not None and "lacks" in v.hint


def judge_zero(network, name):
    return verdict_of(network, name, "0")


def test_a_bias_shared_by_a_softmax_layer_has_zero_gradient_proved():
    network = api.load({"inputs": 2, "layers": [
        {"name": "h", "units": 3, "activation": "softmax", "bias": "c"},
        {"name": "o", "units": 2, "activation": "sigmoid"}]})
    assert (judge_zero(network, "c").verdict, judge_zero(network, "c").shown_by) == \
        ("correct", "symbolic")


def test_a_bias_shared_by_a_layer_sums_its_units(mazur):
    assert verdict_of(mazur, "b2", "Sum(delta_o[j], (j, 1, n_o))").shown_by == "symbolic"
    assert verdict_of(mazur, "b2", "delta_o1").hint == "the claim lacks the term delta_o2"


# --- the budget --------------------------------------------------------------------------

LONG_CALL = 10**12  # sympy.primepi of this: one SymPy call of a minute or so, little memory


@pytest.fixture
def interruptible():
    if not limits.interruptible():
        pytest.skip("no timer signal here (not the main thread, or another timer runs)")


def test_the_time_limit_stops_a_sympy_call_in_the_middle(interruptible):
    with pytest.raises(limits.OutOfTime):
        with limits.time_limit(0.2):
            sp.primepi(LONG_CALL)


def test_the_time_limit_puts_the_signal_handler_back(interruptible):
    import signal

    before = signal.getsignal(signal.SIGPROF)
    with limits.time_limit(5):
        assert signal.getsignal(signal.SIGPROF) is not before
    assert signal.getsignal(signal.SIGPROF) is before
    with pytest.raises(limits.OutOfTime), limits.time_limit(0.05):
        sp.primepi(LONG_CALL)
    assert signal.getsignal(signal.SIGPROF) is before
    assert signal.getitimer(signal.ITIMER_PROF)[0] == 0


def test_the_time_limit_leaves_another_timer_alone(interruptible):
    import signal

    fired = []
    previous = signal.signal(signal.SIGPROF, lambda *_: fired.append(True))
    signal.setitimer(signal.ITIMER_PROF, 50)
    try:
        with limits.time_limit(0.01):
            pass
        assert signal.getitimer(signal.ITIMER_PROF)[0] > 49  # still running, untouched
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


EXPANSION = "delta_o1*out_h1 + (2*w1 + 2*w2 + 2*w3 + 2*w4)**5 - 32*(w1 + w2 + w3 + w4)**5"


@pytest.mark.parametrize("budget, shown_by", [(limits.BUDGET, "symbolic"), (0, "numeric"),
                                              (1e-6, "numeric")])
def test_a_spent_budget_falls_back_to_numbers(mazur, budget, shown_by):
    v = verdict_of(mazur, "w5", EXPANSION, budget=budget)
    assert (v.verdict, v.shown_by) == ("correct", shown_by)


def test_values_near_a_point_are_the_values_computed_afresh():
    network = api.load({"inputs": 2, "loss": "cross_entropy", "l2": 0.1, "layers": [
        {"name": "h", "units": 3, "activation": "tanh"},
        {"name": "o", "units": 3, "activation": "softmax"}]})
    leaves = [q.name for q in network.quantities.values() if q.is_leaf]
    point = {name: (k % 7 - 3) / 5 for k, name in enumerate(leaves)}
    moved = {"target_o1": 0.2, "target_o3": 0.5}
    base = forward.point_values(network, point)
    near = forward.point_values(network, moved, base)
    fresh = forward.point_values(network, {**point, **moved})
    assert near == fresh
    assert near[network["delta_o1"].symbol] != base[network["delta_o1"].symbol]
    assert near[network["out_o1"].symbol] == base[network["out_o1"].symbol]


@pytest.mark.parametrize("activation, claim, verdict", [
    ("relu", "relu_prime(out_h1)", "correct"),  # relu' of relu(z) is relu'(z): it was
    ("relu", "relu_prime(out_h1) + Heaviside(-net_h1, 0)", "incorrect"),  # undecided
    ("tanh", "(1 - out_h1**2)*Heaviside(out_h1, 1/2) + (1 - out_h1**2)*Heaviside(-out_h1, "
     "1/2)", "correct"),
    # with both at 0 where out_h1 = 0 the claim is 0 there, not tanh'(0) = 1: wrong on
    # the kink alone, which the numbers now visit
    ("tanh", "(1 - out_h1**2)*Heaviside(out_h1, 0) + (1 - out_h1**2)*Heaviside(-out_h1, 0)",
     "incorrect"),
    ("tanh", "(1 - out_h1**2)*Heaviside(out_h1, 0)", "incorrect"),
])
def test_a_branch_on_an_out_is_the_branch_on_its_net(activation, claim, verdict):
    """No point has a relu's out_h1 < 0; coverage asks for the sides of net_h1 instead."""
    network = api.load({"inputs": 2, "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": activation},
        {"name": "o", "units": 1, "activation": "sigmoid"}]})
    [result] = api.check_one(network, "net_h1", claim, of="out_h1", isolated=False)
    assert result.verdict.verdict == verdict, result.verdict.hint
