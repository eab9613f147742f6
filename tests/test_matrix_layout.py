"""A matrix check's layout: read off its formula, it says each entry is its first's image.

The oracle is the same check with every entry built and compared (the path a matrix
check takes without a layout): a layout may change how fast the verdict comes, never
what it says, its hint, its counterexample or its wrong entries. Formulas whose entries
are no relabelled image of their first must get no layout.
"""

from __future__ import annotations

import re
from functools import partial

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from derive import api, claims, expr, limits, matrix_layout, symmetry, templates
from derive.errors import DeriveError
from derive.matrices import Matrix
from derive.questions import Mistake
from derive.spec import Check, Formula

HIDDEN = "((transpose(W_o) @ delta_o) * out_h * (1 - out_h)) @ transpose(inputs)"


def network_of(inputs=4, hidden=3, outputs=2, activation="sigmoid", loss="sse", **extra):
    return api.load({"inputs": inputs, "loss": loss, **extra, "layers": [
        {"name": "h", "units": hidden, "activation": "sigmoid"},
        {"name": "o", "units": outputs, "activation": activation}]})


def entries(network, wrt, claim, of="E_total", syntax="sympy", **kwargs):
    check = Check(wrt=wrt, of=of, claim=Formula(claim, syntax, 1), **kwargs)
    return claims.claims_of(network, check)


def laid_out(items) -> bool:
    return all(c.orbit is not None for c in items if c.entry is not None)


def judged(network, items) -> list[dict]:
    return [r.to_json() for r in api.check_claims(network, items, isolated=False)]


def every_entry_compared(monkeypatch, network, wrt, claim, **kwargs) -> list[dict]:
    with monkeypatch.context() as patched:
        patched.setattr(claims, "_grid_layout", lambda *args: None)
        items = entries(network, wrt, claim, **kwargs)
        assert not any(c.orbit for c in items)
        return judged(network, items)


@pytest.fixture(autouse=True)
def every_grid_together(monkeypatch):
    monkeypatch.setattr(templates, "TOGETHER", 1)


@pytest.mark.parametrize("wrt, of, claim", [
    ("W_h", "E_total", HIDDEN),
    ("W_h", "E_total", "delta_h @ transpose(inputs)"),
    ("W_h", "E_total", "outer(delta_h, inputs)"),
    ("W_h", "E_total", "diag(out_h * (1 - out_h)) @ transpose(W_o) @ delta_o @ "
                       "transpose(inputs)"),
    ("W_h", "E_total", "d(E_total, W_h) * sum(out_h) / sum(out_h)"),
    ("W_o", "E_total", "delta_o @ transpose(out_h)"),
    ("W_o", "E_total", "(out_o - target_o) * sigmoid_prime(net_o) @ transpose(out_h)"),
    ("b_h", "E_total", "(transpose(W_o) @ delta_o) * out_h * (1 - out_h)"),
    ("net_h", "E_total", "transpose(transpose(delta_h))"),
    ("net_h", "out_h", "diag(out_h * (1 - out_h))"),
    ("net_h", "out_h", "diag(out_h) - outer(out_h, out_h) + outer(out_h, out_h) - "
                       "diag(out_h ** 2)"),
    ("W_o", "E_total", r"\delta_o out_h^T"),
    ("W_o", "E_total", r"(\delta_o \odot 1) (out_h)^\top"),
])
def test_formulas_whose_rows_and_columns_number_units_are_laid_out(monkeypatch, wrt, of,
                                                                  claim):
    network = network_of()
    syntax = "latex" if "\\" in claim else "sympy"
    items = entries(network, wrt, claim, of=of, syntax=syntax)
    assert laid_out(items)
    found = judged(network, items)
    assert found == every_entry_compared(monkeypatch, network, wrt, claim, of=of,
                                         syntax=syntax)
    assert found[0]["verdict"] == "correct" and found[0]["shown_by"] == "symbolic"


@pytest.mark.parametrize("wrt, of, claim", [
    ("W_h", "E_total", HIDDEN.replace("(1 - out_h)", "(2 - out_h)")),
    ("W_h", "E_total", "-delta_h @ transpose(inputs)"),
    ("W_h", "E_total", "2*outer(delta_h, inputs)"),
    ("W_o", "E_total", "delta_o @ transpose(net_h)"),
    ("net_h", "out_h", "outer(out_h, 1 - out_h)"),  # right on the diagonal alone
    ("net_h", "out_h", "diag(out_h)"),
    ("b_h", "E_total", "transpose(W_o) @ delta_o"),
])
def test_a_wrong_laid_out_formula_is_judged_as_every_entry_compared(monkeypatch, wrt, of,
                                                                   claim):
    network = network_of()
    items = entries(network, wrt, claim, of=of)
    assert laid_out(items)
    found = judged(network, items)
    assert found == every_entry_compared(monkeypatch, network, wrt, claim, of=of)
    assert found[0]["verdict"] == "incorrect"


def test_softmax_and_cross_entropy_are_laid_out(monkeypatch):
    network = network_of(outputs=3, activation="softmax", loss="cross_entropy")
    for claim in ("(out_o - target_o) @ transpose(out_h)",
                  "(out_o - target_o * sum(target_o)) @ transpose(out_h)"):
        items = entries(network, "W_o", claim, assume="targets_sum_to_one")
        assert laid_out(items)
        assert judged(network, items) == every_entry_compared(
            monkeypatch, network, "W_o", claim, assume="targets_sum_to_one")


@pytest.mark.parametrize("inputs, claim, why", [
    (4, "delta_h @ transpose(inputs) + 0*out_h1", "a renumbered layer's unit by its name"),
    (4, "delta_h @ transpose(inputs) * out_h1 / out_h1", "the same, in a product"),
    (4, "delta_h @ transpose(inputs) + 0*delta_h[2]", "a unit of it by its family"),
    (3, "transpose(delta_h @ transpose(inputs))", "rows and columns exchanged, of two "
                                                  "layers of one size"),
    (3, "delta_h @ transpose(inputs) + 0*(out_h @ transpose(out_h))",
     "a layer of the inputs' size in the columns"),
    (3, "diag(out_h) @ (delta_h @ transpose(inputs))*0 + diag(inputs) @ "
        "(delta_h @ transpose(inputs))", "@ over the inputs, of h's size, in h's rows"),
    (3, "(delta_h @ transpose(out_h)) @ diag(inputs)", "@ over h's units, then the "
                                                     "inputs' number the columns"),
    (3, "delta_h @ transpose(inputs) + 0*(inputs @ transpose(inputs))",
     "rows numbered by the inputs, of h's size (read off the formula, not its value)"),
    (4, "delta_h @ transpose(inputs) + 0*ones(3, 4)", "ones(), whose rows number nothing"),
    (4, "delta_h @ transpose(inputs) + KroneckerDelta(1, 1)*0", "KroneckerDelta"),
    (4, "Sum(delta_h @ transpose(inputs), (m, 1, 1))", "an index sum"),
])
def test_formulas_that_mix_up_rows_and_columns_get_no_layout(monkeypatch, inputs, claim,
                                                             why):
    network = network_of(inputs=inputs)
    items = entries(network, "W_h", claim)
    assert not laid_out(items), why
    assert judged(network, items) == every_entry_compared(monkeypatch, network, "W_h", claim)


def test_an_alias_gets_no_layout():
    network = network_of(aliases={"dh": "delta_h"})
    assert not laid_out(entries(network, "W_h", "dh @ transpose(inputs)"))


def test_a_scalar_of_in_a_renumbered_layer_gets_no_layout(monkeypatch):
    """d(out_h1, W_h) is nonzero in h's first row alone: relabelled from (1, 1), the
    first's verdict would say otherwise of the other rows."""
    network = network_of()
    claim = "out_h * (1 - out_h) @ transpose(inputs)"
    items = entries(network, "W_h", claim, of="out_h1")
    assert not laid_out(items)
    found = judged(network, items)
    assert found == every_entry_compared(monkeypatch, network, "W_h", claim, of="out_h1")
    assert found[0]["verdict"] == "incorrect"


def test_a_layer_that_may_not_be_renumbered_gets_no_layout():
    tied = api.load({"inputs": 2, "loss": "sse", "layers": [
        {"name": "h", "units": 2, "activation": "sigmoid",
         "weights": [["a", "b"], ["c", "a"]]},
        {"name": "o", "units": 2, "activation": "sigmoid"}]})
    assert not laid_out(entries(tied, "W_o", "delta_o @ transpose(out_h)"))


def test_numbered_layers_are_laid_out_layer_by_layer(monkeypatch):
    network = api.load({"inputs": 3, "loss": "sse", "notation": {"first": 0},
                        "layers": [{"name": "h", "units": 4, "activation": "sigmoid"},
                                   {"name": "o", "units": 2, "activation": "sigmoid"}]})
    for claim, right in (("delta[l] @ transpose(a[l - 1])", True),
                         ("delta[l] @ transpose(a[l - 1]) * 2", True)):
        items = entries(network, "W[l]", claim)
        assert laid_out(items) == right
        found = judged(network, items)
        assert found == every_entry_compared(monkeypatch, network, "W[l]", claim)
        assert [r["verdict"] for r in found] == (["correct"] * 2 if "2" not in claim
                                                 else ["incorrect"] * 2)


def test_entries_not_read_are_not_built():
    network = network_of(inputs=40, hidden=8)
    items = entries(network, "W_h", HIDDEN)
    later = [c for c in items if isinstance(c, claims.Later)]
    assert len(later) == len(items) - 1 == 319
    assert all(c.__dict__.get("_pending") for c in later)
    assert judged(network, items)[0]["verdict"] == "correct"
    assert sum(not c.__dict__.get("_pending") for c in later) < 100  # a sample was read


def test_a_matrix_whose_entries_do_not_sit_by_row_and_column_gets_no_type():
    """Where each entry sits is read from every entry, not from the first ones."""
    network = network_of()
    table, names = symmetry.of(network), claims.Names(network)
    loss, weights = network["E_total"].symbol, names.name("W_h")
    body = expr.parse(HIDDEN)
    assert matrix_layout.layout(table, names, loss, weights, body, {}) is not None
    rows = [list(row) for row in weights.rows]
    swapped = [row[:] for row in rows]
    swapped[2][3], swapped[2][2] = rows[2][2], rows[2][3]
    other = [row[:] for row in rows]
    other[1][1] = network["b_h2"].symbol
    symbol = lambda name: network[name].symbol  # noqa: E731
    for wrt in (Matrix(swapped), Matrix(other), Matrix(rows[:2])):
        assert matrix_layout.layout(table, names, loss, wrt, body, {}) is None, wrt
    row = expr.parse("transpose(out_h)")  # (a row of h's units: of o's first, then second)
    weights = [Matrix(((symbol("w_o1_h1"), symbol("w_o1_h2"), symbol(f"w_o{k}_h3")),))
               for k in (1, 2)]
    assert matrix_layout.layout(table, names, loss, weights[0], row, {}) is not None
    assert matrix_layout.layout(table, names, loss, weights[1], row, {}) is None


# --- random formulas: a layout is a proof, so it must hold with no sample to guard it ----

LAYERS = {"x": ["inputs"], "h": ["out_h", "net_h", "delta_h", "b_h"],
          "o": ["out_o", "net_o", "delta_o", "target_o"]}  # three units each
MATRICES = {("h", "x"): "W_h", ("o", "h"): "W_o"}


@st.composite
def formulas(draw, rows, columns, depth: int = 3) -> str:
    """A well-formed formula over a 3-3-3 network whose rows number the units of layer
    `rows` and whose columns those of `columns` (None: one row, one column); now and then
    a piece of the right shape numbered by other layers, or a unit named alone."""
    if draw(st.integers(0, 9)) == 0:  # any layer of the same size (all have three units)
        rows, columns = (draw(st.sampled_from(list(LAYERS))) if side else None
                         for side in (rows, columns))
    part = lambda r, c: draw(formulas(r, c, depth - 1))  # noqa: E731
    leaf = depth <= 0 or draw(st.integers(0, 4)) == 4
    if rows is None and columns is None:
        return draw(st.sampled_from(["2", "E_total", "out_h1", "sum(out_o)"])) if leaf else \
            draw(st.sampled_from([lambda: f"sum({part('h', 'x')})", lambda: (
                lambda layer: f"(transpose({part(layer, None)}) @ {part(layer, None)})")(
                draw(st.sampled_from(list(LAYERS))))]))()
    if rows is None:
        return f"transpose({part(columns, None)})"
    if leaf and columns is None:
        return draw(st.sampled_from(LAYERS[rows]))
    if leaf and (rows, columns) in MATRICES:
        return MATRICES[rows, columns]
    inner = draw(st.sampled_from([*LAYERS, None]))
    choices = [lambda: f"({part(rows, columns)} + {part(rows, columns)})",
               lambda: f"({part(rows, columns)} * {part(rows, columns)})",
               lambda: f"sigmoid({part(rows, columns)})",
               lambda: f"({part(None, None)} * {part(rows, columns)})",
               lambda: f"({part(rows, inner)} @ {part(inner, columns)})",
               lambda: f"transpose({part(columns, rows)})"]
    if columns is not None:
        choices.append(lambda: f"outer({part(rows, None)}, {part(columns, None)})")
    if columns == rows:
        choices.append(lambda: f"diag({part(rows, None)})")
    return draw(st.sampled_from(choices))()


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from([("W_h", "h", "x"), ("W_o", "o", "h"), ("b_h", "h", None),
                        ("net_o", "o", None)]), st.data())
def test_a_random_formula_laid_out_is_judged_as_every_entry_compared(monkeypatch, target,
                                                                    data):
    wrt, rows, columns = target
    claim = data.draw(formulas(rows, columns))
    network = network_of(inputs=3, hidden=3, outputs=3)
    with monkeypatch.context() as patched:
        patched.setattr(templates, "TOGETHER", 1)
        patched.setattr(templates._Template, "_images_at_a_point", lambda *args: True)
        try:
            items = entries(network, wrt, claim)
        except DeriveError as exc:  # as the formula is read: both paths read it alike
            assume("CPU seconds" not in exc.message)  # (unless they differ in time alone)
            with pytest.raises(DeriveError, match=re.escape(exc.message)):
                every_entry_compared(patched, network, wrt, claim)
            return
        if not laid_out(items):
            return
        found, alone = (_sound(judged(network, items)),
                        _sound(every_entry_compared(patched, network, wrt, claim)))
        assert found == alone, claim


def _sound(results: list[dict]) -> list[tuple]:
    """What a verdict says of the claim: right or wrong, how it is known, where it is
    wrong (a hint can differ when a budget of CPU time runs out in one run alone)."""
    return [(r["verdict"], r["shown_by"], r.get("wrong"),
             (r.get("counterexample") or {}).get("entry")) for r in results]


# --- errors in entries: as if every entry were built when the formula is read ------------

@pytest.mark.parametrize("wrt, claim, phrase", [
    ("W_h", "Max(delta_h @ transpose(inputs), sqrt(-1))", "cannot be built"),  # laid out
    ("W_h", "Max(W_h, 1/0)", "cannot be built"),
    ("W_o", "W_h ** 2000", "exponent too large"),  # another shape: never compared
    ("W_h", "diag(out_h ** 2000)", "exponent too large"),
    ("W_h", "transpose(W_h) ** 2000", "exponent too large"),  # the transpose's shape
    ("W_h", "Max(transpose(W_h), sqrt(-1))", "cannot be built"),
])
def test_an_error_in_an_entry_is_the_formulas_at_its_line(tmp_path, wrt, claim, phrase):
    from click.testing import CliRunner

    from derive.cli import main

    path = tmp_path / "spec.yaml"
    path.write_text(f"inputs: 16\nlayers:\n  - {{name: h, units: 4, activation: sigmoid}}\n"
                    f"  - {{name: o, units: 2, activation: sigmoid}}\nloss: sse\nchecks:\n"
                    f"  - wrt: {wrt}\n    claim: '{claim}'\n")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and result.exception is None or \
        isinstance(result.exception, SystemExit), result.output
    assert result.output.splitlines() == [result.output.strip()]
    assert result.output.startswith(f"error: {path}:8: ") and phrase in result.output


def test_a_teachers_mistake_that_cannot_be_built_is_refused_at_its_line():
    network = network_of(inputs=16, hidden=4)
    for value in ("W_h ** 2000", "transpose(W_h) ** 2000", "Max(W_h, sqrt(-1))"):
        check = Check(wrt="W_h", claim=Formula("2 * delta_h @ transpose(inputs)", "sympy", 1),
                      mistakes=[Mistake(Formula(value, "sympy", 7), "no", "teacher.yaml")])
        with pytest.raises(DeriveError, match="mistakes: ") as raised:
            claims.claims_of(network, check)
        assert (raised.value.file, raised.value.line) == ("teacher.yaml", 7), value


def test_entries_built_when_read_share_the_checks_cpu_allowance(monkeypatch):
    """Built later, they are bounded together as the claims built at once are."""
    network = network_of(inputs=16, hidden=16)  # (square: its transpose is a hint)
    allowance = limits.Allowance
    monkeypatch.setattr(limits, "Allowance", lambda seconds: allowance(0.0))
    for wrt, claim in (("W_h", HIDDEN), ("w_h[j, k]", "delta_h[j]*i[k]")):
        items = claims.claims_of(network, Check(wrt=wrt, claim=Formula(claim, "sympy", 4),
                                                file="course.yaml"))
        later = [c for c in items if isinstance(c, claims.Later)]
        assert later and not isinstance(items[0], claims.Later)
        grid = items[0].grid
        reads = [partial(getattr, later[0], "claim")]
        if grid is not None:  # every entry, for a hint or a LaTeX report
            reads += [lambda grid=grid: list(grid.transposed()),
                      partial(getattr, grid.summary, "claim")]
        for read in reads:
            with pytest.raises(DeriveError, match="building the claim took more than 0 "
                                                  "CPU") as raised:
                read()
            assert (raised.value.file, raised.value.line) == ("course.yaml", 4)


def test_an_allowance_stops_work_where_it_runs_out():
    allowance = limits.Allowance(0.2)
    assert allowance.spend(lambda: 42) == 42
    with pytest.raises(limits.OutOfTime):
        allowance.spend(lambda: sum(i * i for i in range(10 ** 9)))
    assert allowance.left <= 0.05
    with pytest.raises(limits.OutOfTime):
        allowance.spend(lambda: 42)
