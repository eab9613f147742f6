"""Hints as good as a teaching assistant's, and never untrue (issue: where it goes wrong).

A table of mistakes students make on sigmoid, tanh, relu and softmax networks, each with
the hint it must get. Every hint that names an edit ("w6 where w7 belongs", "lacks the
factor ...") is then checked for truth here, apart from how it was found: the edit is
applied to the claim and the result must be proved equal to the truth.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive import api, claims, feedback, verdicts
from derive.errors import ClaimError, SpecError

SPECS = Path(__file__).parent.parent / "specs"


def two_layers(hidden: str, output: str = "sigmoid", loss: str = "sse") -> dict:
    return {"inputs": ["i1", "i2"], "loss": loss, "layers": [
        {"name": "h", "units": 2, "activation": hidden, "weights": [["w1", "w2"], ["w3", "w4"]],
         "bias": "b1"},
        {"name": "o", "units": 2, "activation": output, "weights": [["w5", "w6"], ["w7", "w8"]],
         "bias": "b2"}]}


NETWORKS = {
    "sigmoid": two_layers("sigmoid"), "tanh": two_layers("tanh"), "relu": two_layers("relu"),
    "softmax": {"inputs": ["x1", "x2", "x3"], "loss": "cross_entropy", "layers": [
        {"name": "s", "units": 3, "activation": "softmax", "bias": "none"}]},
    "classifier": two_layers("sigmoid", "softmax", "cross_entropy"),
    "hidden softmax": two_layers("softmax"),
}
HIDDEN = "(delta_o1*w5 + delta_o2*w7)"

MISTAKES = [
    # network, of, wrt, claim, the hint (or part of it)
    ("sigmoid", "E_total", "w5", "(out_o1 - target_o1)*out_h1",
     "the claim lacks the factor out_o1*(1 - out_o1)"),
    ("sigmoid", "E_total", "w5", "delta_o1*out_h2", "out_h2 where out_h1 belongs"),
    ("sigmoid", "E_total", "w5", "(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1",
     "wrong sign"),
    ("sigmoid", "E_total", "w5", "2*delta_o1*out_h1", "off by a constant factor 2"),
    ("sigmoid", "E_total", "w5", "delta_o1*out_h1*out_o1",
     "the claim has an extra factor out_o1"),
    ("sigmoid", "E_total", "w5", "delta_o2*out_h1", "delta_o2 where delta_o1 belongs"),
    ("sigmoid", "E_total", "w5", "delta_o1*out_h1**2", "the claim has an extra factor out_h1"),
    ("sigmoid", "E_total", "w5", "delta_o1*out_h1**3",  # factors counted with their repeats
     "the claim has an extra factor out_h1**2"),
    ("sigmoid", "E_total", "w1", "(delta_o1*w5 + delta_o2*w6)*out_h1*(1 - out_h1)*i1",
     "w6 where w7 belongs"),
    ("sigmoid", "E_total", "w1", f"{HIDDEN}*i1", "the claim lacks the factor out_h1*(1 - out_h1)"),
    ("sigmoid", "E_total", "w1", "delta_o1*w5*out_h1*(1 - out_h1)*i1",
     "the claim lacks the term"),
    ("sigmoid", "E_total", "w1", f"{HIDDEN}*out_h1*(1 - out_h1)*i2", "i2 where i1 belongs"),
    ("sigmoid", "E_total", "w1", f"{HIDDEN}*out_o1*(1 - out_o1)*i1",
     "out_o1*(1 - out_o1) where out_h1*(1 - out_h1) belongs"),
    ("sigmoid", "E_total", "b2", "delta_o1", "the claim lacks the term delta_o2"),
    ("sigmoid", "out_h1", "net_h1", "out_h1*(1 + out_h1)", "out_h1 + 1 where 1 - out_h1 belongs"),
    ("sigmoid", "E_total", "w1", "0", "the claim is identically zero"),
    ("sigmoid", "E_total", "net_o1", "out_o1 - target_o1",
     "the claim lacks the factor out_o1*(1 - out_o1)"),
    ("tanh", "E_total", "w1", f"{HIDDEN}*(1 - out_h1)*i1",
     "1 - out_h1 where 1 - out_h1**2 belongs"),
    ("tanh", "out_h1", "net_h1", "1 - out_h1", "1 - out_h1 where 1 - out_h1**2 belongs"),
    ("tanh", "E_total", "w1", f"{HIDDEN}*out_h1*(1 - out_h1)*i1",
     "out_h1*(1 - out_h1) where 1 - out_h1**2 belongs"),
    ("tanh", "E_total", "w3", f"{HIDDEN}*(1 - out_h2**2)*i1",
     "w5 where w6 belongs, and w7 where w8 belongs"),
    ("relu", "E_total", "w1", f"{HIDDEN}*i1", "the claim lacks the factor Heaviside(net_h1, 0)"),
    ("relu", "E_total", "w1", f"{HIDDEN}*out_h1*i1", "out_h1 where Heaviside(net_h1, 0) belongs"),
    ("softmax", "out_s1", "net_s1",
     "exp(net_s1)*(net_s2 + net_s3)/(exp(net_s1) + exp(net_s2) + exp(net_s3))**2",
     "net_s2 where exp(net_s2) belongs, and net_s3 where exp(net_s3) belongs"),
    ("softmax", "out_s1", "net_s2", "out_s1*out_s2", "wrong sign"),
    ("softmax", "out_s1", "net_s1", "out_s1*(1 + out_s1)", "out_s1 + 1 where 1 - out_s1 belongs"),
    ("softmax", "out_s2", "net_s1", "-out_s1*out_s3", "out_s3 where out_s2 belongs"),
    ("classifier", "E_total", "net_o1", "out_o1 - target_o1",
     "holds only when the targets sum to 1"),
    ("hidden softmax", "E_total", "w1",
     "Sum(Sum(delta_o[j]*w_o[j, 1], (j, 1, 2))*out_h1*(KroneckerDelta(i, 1) - out_h[i])*i1, "
     "(i, 1, 2))", "the claim is identically zero"),  # the accepted answer's formula
]


@pytest.fixture(scope="module")
def networks():
    return {name: api.load(data) for name, data in NETWORKS.items()}


@pytest.mark.parametrize("network, of, wrt, claim, hint", MISTAKES,
                         ids=[f"{n}: d({o}, {w}) = {c[:30]}" for n, o, w, c, _ in MISTAKES])
def test_each_mistake_gets_its_hint_and_the_hint_is_true(networks, network, of, wrt, claim,
                                                         hint):
    net = networks[network]
    [result] = api.check_one(net, wrt, claim, of, isolated=False)
    v = result.verdict
    assert v.verdict == "incorrect"
    assert hint in (v.hint or ""), v.hint
    if v.term is not None:
        mended = _mended(result.claim.claim, v.term)
        if mended is not None:
            again = verdicts.judge(net, mended, result.claim.truth)
            assert (again.verdict, again.shown_by) == ("correct", "symbolic"), v.hint


def _mended(claim: sp.Expr, term) -> sp.Expr | None:
    """The claim with the hint's edit made, applied here from what the hint says."""
    words, exprs = term
    if isinstance(exprs, sp.Tuple) and "where" in words:
        pairs = list(zip(exprs.args[::2], exprs.args[1::2]))
        keep = {right: sp.Dummy() for _, right in pairs}  # exp(net_s2) stays as written
        mended = claim.xreplace(keep)
        if all(wrong.is_Symbol for wrong, _ in pairs):
            mended = mended.xreplace(dict(pairs))
        else:  # a factor in place of another
            [(wrong, right)] = pairs
            mended = mended / wrong * right
        return mended.xreplace({d: e for e, d in keep.items()})
    if "lacks the factor" in words:
        return claim * exprs.args[0]
    if "extra factor" in words:
        return claim / exprs.args[0]
    if "lacks the term" in words:
        return claim + exprs
    if "extra term" in words:
        return claim - exprs
    return None


@pytest.mark.parametrize("claim, syntax", [("delta_o[k]*out_h[j]", "sympy"),
                                           (r"\delta_k out_{hj}", "latex")])
def test_swapped_template_indices_are_named(networks, claim, syntax):
    """In LaTeX too, where the template's layer tells whose delta \\delta_k is."""
    data = {"inputs": 3, "loss": "sse", "layers": [
        {"name": "h", "units": 3, "activation": "sigmoid"},
        {"name": "o", "units": 3, "activation": "sigmoid"}]}
    network = api.load(data)
    results = api.check_one(network, "w_o[j, k]", claim, syntax=syntax, isolated=False)
    wrong = [r for r in results if r.verdict.verdict == "incorrect"]
    assert len(wrong) == 6  # the diagonal is right as it stands
    assert all(r.verdict.hint.startswith("j and k are swapped") for r in wrong)


def test_indices_are_not_exchanged_where_an_instance_has_them_equal(monkeypatch):
    """Wrong at w_o[1, 1], where j = k: exchanging j and k cannot mend it, so no
    exchanged instance is judged (on 784-32-10 that was two seconds)."""
    network = api.load({"inputs": 3, "loss": "sse", "layers": [
        {"name": "h", "units": 3, "activation": "sigmoid"},
        {"name": "o", "units": 3, "activation": "sigmoid"}]})
    tried = []
    monkeypatch.setattr(api, "_exchanged", lambda *args: tried.append(args) or False)
    results = api.check_one(network, "w_o[j, k]", "2*delta_o[j]*out_h[k]", isolated=False)
    assert all(r.verdict.verdict == "incorrect" for r in results) and not tried


def test_no_edit_is_hinted_when_none_is_proved(networks):
    """A claim wrong in two unrelated places gets no made-up single edit."""
    [result] = api.check_one(networks["sigmoid"], "w1", "delta_o2*w6*out_h2*i2",
                             isolated=False)
    assert result.verdict.verdict == "incorrect"
    assert "where" not in (result.verdict.hint or "")


def test_a_template_s_relabelled_instances_name_their_own_quantities():
    data = {"inputs": 8, "loss": "sse", "layers": [
        {"name": "h", "units": 8, "activation": "sigmoid"},
        {"name": "o", "units": 8, "activation": "sigmoid"}]}
    network = api.load(data)
    results = api.check_one(network, "w_o[j, k]", "(out_o[j] - target_o[j])*out_h[k]",
                            isolated=False)
    assert len(results) == 64 and all(r.verdict.verdict == "incorrect" for r in results)
    for r in results[:10]:
        j = r.claim.index["j"]
        assert r.verdict.hint == f"the claim lacks the factor out_o{j}*(1 - out_o{j})"


# --- the teacher's own hints (mistakes:) -----------------------------------------------------

COURSE = """name: mistakes
inputs: [i1, i2]
layers:
  - {name: h, units: 2, activation: sigmoid, weights: [[w1, w2], [w3, w4]], bias: b1}
  - {name: o, units: 2, activation: sigmoid, weights: [[w5, w6], [w7, w8]], bias: b2}
loss: sse
exercises:
  - id: output_weight
    wrt: w5
    mistakes:
      - claim: (out_o1 - target_o1) * out_h1
        feedback: "The chain rule goes on through the sigmoid at o1."
      - latex: '(target_{o1} - out_{o1}) out_{o1} (1 - out_{o1}) out_{h1}'
        feedback: "Check the sign of dE/dout_o1."
  - id: any_output_weight
    wrt: w_o[j, k]
    mistakes:
      - claim: delta_o[k] * out_h[j]
        feedback: "Which unit does w_o[j, k] feed?"
  - id: output_weights
    wrt: W_o
    mistakes:
      - claim: transpose(delta_o @ transpose(out_h))
        feedback: "Rows are the units fed."
"""


def course(tmp_path, answers: str, extra: str = "") -> Path:
    (tmp_path / "course.yaml").write_text(COURSE + extra)
    path = tmp_path / "answers.derive.yaml"
    path.write_text("network: course.yaml\nanswers:\n" + answers)
    return path


@pytest.mark.parametrize("answer, expected", [
    ("  output_weight: (out_o1 - target_o1)*out_h1\n",
     "The chain rule goes on through the sigmoid at o1."),
    ("  output_weight: out_h1*(1 - out_o1)*out_o1*(target_o1 - out_o1)\n",  # equal, not equal
     "Check the sign of dE/dout_o1."),                                      # as written
    ("  output_weights: out_h @ delta_o.T\n", "Rows are the units fed."),
])
def test_a_claim_equal_to_a_teachers_mistake_gets_the_teachers_feedback(tmp_path, answer,
                                                                       expected):
    results = api.check(course(tmp_path, answer), isolated=False)
    [result] = [r for r in results if r.claim.claim is not None]
    assert result.verdict.verdict == "incorrect" and result.verdict.hint == expected


def test_a_templates_mistake_is_matched_instance_by_instance(tmp_path):
    results = api.check(course(tmp_path, "  any_output_weight: delta_o[k]*out_h[j]\n"),
                        isolated=False)
    mine = [r for r in results if r.claim.exercise == "any_output_weight"]
    assert [r.verdict.hint for r in mine if r.verdict.verdict == "incorrect"] == \
        ["Which unit does w_o[j, k] feed?"] * 2  # the off-diagonal instances


def test_a_templates_mistake_in_latex_reads_its_delta_in_the_templates_layer(tmp_path):
    extra = """  - id: latex_output_weight
    wrt: w_o[j, k]
    mistakes:
      - latex: '\\delta_k out_{hj}'
        feedback: "Which unit does w_o[j, k] feed?"
"""
    path = course(tmp_path, "  latex_output_weight: delta_o[k]*out_h[j]\n", extra)
    mine = [r for r in api.check(path, isolated=False)
            if r.claim.exercise == "latex_output_weight"]
    assert [r.verdict.hint for r in mine if r.verdict.verdict == "incorrect"] == \
        ["Which unit does w_o[j, k] feed?"] * 2


def test_another_wrong_answer_gets_the_engines_hint_and_verdict_level_shows_none(tmp_path):
    path = course(tmp_path, "  output_weight: delta_o1*out_h2\n")
    [result] = [r for r in api.check(path, isolated=False) if r.claim.claim is not None]
    assert result.verdict.hint == "out_h2 where out_h1 belongs"
    path = course(tmp_path, "  output_weight: (out_o1 - target_o1)*out_h1\n",
                  "feedback: verdict\n")
    [result] = [r for r in api.check(path, isolated=False) if r.claim.claim is not None]
    assert result.verdict.verdict == "incorrect" and result.verdict.hint is None


@pytest.mark.parametrize("answer, level, hint", [
    ("1", "hint", feedback.GIVEN_AWAY),  # it would name all of dE/dw5
    ("i1", "counterexample", feedback.GIVEN_AWAY),
    ("out_h1", "hint", feedback.GIVEN_AWAY),
    ("exp(w1*w2*w3*w4*w6)", "hint", feedback.GIVEN_AWAY),  # junk of the truth's size: "<it>
    ("exp(w1*w2*w3*w4*w6)", "truth",  # where <the truth> belongs" handed over the answer
     "exp(w1*w2*w3*w4*w6) where out_h1*out_o1*(1 - out_o1)*(out_o1 - target_o1) belongs"),
    ("i1", "truth", "i1 where out_h1*out_o1*(1 - out_o1)*(out_o1 - target_o1) belongs"),
    ("delta_o1", "hint", "the claim lacks the factor out_h1"),
    ("out_o1*(1 - out_o1)*out_h1", "hint", "the claim lacks the factor out_o1 - target_o1"),
    ("delta_o1*out_h2", "counterexample", "out_h2 where out_h1 belongs"),
])
def test_below_truth_a_hint_never_names_most_of_the_truth(tmp_path, answer, level, hint):
    """A student who writes 1 would otherwise read the answer in its hint."""
    path = course(tmp_path, f"  output_weight: {answer}\n", f"feedback: {level}\n")
    [result] = [r for r in api.check(path, isolated=False) if r.claim.claim is not None]
    assert result.verdict.verdict == "incorrect" and result.verdict.hint == hint


@pytest.mark.parametrize("mistakes, message", [
    ("    mistakes: [{claim: w5}]\n", "missing 'feedback'"),
    ("    mistakes: [{claim: w5, latex: w_5, feedback: no}]\n", "give claim or latex"),
    ("    mistakes: [{claim: w5, feedback: ''}]\n", "expected one line of printable text"),
    ("    mistakes: w5\n", "expected a list of {claim: ..., feedback: ...}"),
])
def test_a_bad_mistake_is_refused_at_its_line(tmp_path, mistakes, message):
    text = COURSE.split("exercises:")[0] + "exercises:\n  - id: one\n    wrt: w5\n" + mistakes
    with pytest.raises(SpecError) as error:
        api.load(_written(tmp_path, text))
    assert message in error.value.message


def test_an_unreadable_teachers_formula_is_reported_in_the_teachers_file(tmp_path):
    text = COURSE.replace("transpose(delta_o @ transpose(out_h))", "delta_q")
    path = course(tmp_path, "  output_weights: out_h @ delta_o.T\n")
    (tmp_path / "course.yaml").write_text(text)
    network = api.load(path, tolerant=True)
    [check] = [c for c in network.spec.checks if c.exercise == "output_weights"]
    with pytest.raises(ClaimError) as error:
        claims.claims_of(network, check)
    assert str(error.value).startswith(f"{tmp_path / 'course.yaml'}:")
    assert "mistakes: unknown name 'delta_q'" in str(error.value)


def _written(tmp_path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path
