"""Rendering results for people (rich) and for programs (JSON, LaTeX). No logic here."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .api import Gradients, Result, distinct
from .display import run_title, runs, said
from .errors import echo, printable
from .network import Network
from .notation import number, to_text


def show(network: Network, console: Console) -> None:
    spec = network.spec
    title = printable(spec.name or spec.file)
    console.print(f"[bold]{escape(title)}[/bold]")
    layers = Table("layer", "units", "activation", "weights", "bias", title="Network",
                   title_justify="left")
    layers.add_row("input", str(len(spec.inputs)), "", "", "", end_section=False)
    for layer in spec.layers:
        weights = ", ".join(" ".join("0" if w is None else str(w) for w in row)
                            for row in layer.weights)
        alpha = f" (alpha={layer.alpha})" if layer.alpha is not None else ""
        biases = list(dict.fromkeys(b for b in layer.biases if b)) or ["none"]
        layers.add_row(layer.name, str(layer.units), layer.activation + alpha,
                       _short(weights), _short(", ".join(biases)))
    console.print(layers)
    l2 = f", l2 = {spec.l2}" if spec.l2 is not None else ""
    console.print(f"loss: [bold]{spec.loss}[/bold]{escape(l2)}\n")
    names = Table("name", "meaning", "defined as", title="Names a claim can use",
                  title_justify="left")
    for quantity in _listed(network):
        if isinstance(quantity, str):
            names.add_row("…", quantity, "")
            continue
        names.add_row(quantity.name, escape(quantity.meaning),
                      _short(_defined_as(network, quantity)))
    console.print(names)
    families = Table("family", "index range", "meaning", title="Indexed families (1-based)",
                     title_justify="left")
    if network.input_family:
        families.add_row(escape(f"{network.input_family}[k]"), f"k = 1..{len(spec.inputs)}",
                         "input k")
    for layer in spec.layers:
        n, below = layer.units, len(network.below(layer))
        for prefix, meaning in (("net", "pre-activation"), ("out", "activation"),
                                ("delta", "dE_total/dnet")):
            families.add_row(escape(f"{prefix}_{layer.name}[j]"), f"j = 1..{n}",
                             f"{meaning} of {layer.name}j")
        families.add_row(escape(f"w_{layer.name}[j, k]"), f"j = 1..{n}, k = 1..{below}",
                         f"weight into {layer.name}j from unit k below")
        if any(layer.biases):
            families.add_row(escape(f"b_{layer.name}[j]"), f"j = 1..{n}", f"bias of {layer.name}j")
        families.add_row(f"n_{layer.name}", "", f"number of units of {layer.name} ({n})")
    families.add_row(escape(f"target_{spec.output.name}[j]"), f"j = 1..{spec.output.units}",
                     "target of output j")
    console.print(families)
    _matrices(network, console)
    console.print("d(A, B): partial derivative of A w.r.t. B, holding B's layer-mates of "
                  "its kind fixed; Sum(expr, (j, 1, n_h)); KroneckerDelta(i, j)")


def _matrices(network: Network, console: Console) -> None:
    """The vectors and matrices of SPEC §6 and, with `notation:`, the numbered layers."""
    spec = network.spec
    table = Table("name", "shape", "meaning", title="Vectors and matrices",
                  title_justify="left")
    table.add_row("inputs", f"{len(spec.inputs)}×1", "the inputs")
    for layer in spec.layers:
        n, m = layer.units, len(network.below(layer))
        table.add_row(escape(f"net_{layer.name}, out_{layer.name}, delta_{layer.name}"),
                      f"{n}×1", f"nets, outputs, deltas of {layer.name}")
        table.add_row(escape(f"W_{layer.name}"), f"{n}×{m}",
                      f"weights into {layer.name} (row: the unit fed)")
        if any(layer.biases):
            table.add_row(escape(f"b_{layer.name}"), f"{n}×1", f"biases of {layer.name}")
    table.add_row(escape(f"target_{spec.output.name}"), f"{spec.output.units}×1", "targets")
    console.print(table)
    numbering = spec.notation
    if numbering is None:
        return
    layers = Table("number", "layer", title="Layer numbers",
                   title_justify="left")
    layers.add_row(str(numbering.first), "input")
    for k, layer in enumerate(spec.layers, start=numbering.first + 1):
        last = " (L)" if k == numbering.last(len(spec.layers)) else ""
        layers.add_row(str(k), escape(layer.name) + last)
    console.print(layers)
    letters = ", ".join(f"{letter}: {meaning}" for letter, meaning in numbering.letters.items())
    console.print(escape(f"letters: {letters}; write a[l, j], w[l, j, k], W[l], delta[l], "
                         f"... (L: the last layer)"))


SHOWN = 8  # names of one kind in one layer listed by `show`; the families cover the rest


def _listed(network: Network):
    """The quantities to list, each run of one kind in one layer cut to its first few and
    its last, with a line that counts what was left out (a 250,000-weight layer would
    take minutes to print and tell nothing the families do not)."""
    runs: list[list] = []
    for quantity in network.quantities.values():
        if runs and (runs[-1][0].kind, runs[-1][0].layer) == (quantity.kind, quantity.layer):
            runs[-1].append(quantity)
        else:
            runs.append([quantity])
    for run in runs:
        if len(run) <= SHOWN:
            yield from run
            continue
        yield from run[: SHOWN - 2]
        yield f"{len(run) - SHOWN + 1:,} more {run[0].kind} names (see the families below)"
        yield run[-1]


def _defined_as(network: Network, quantity) -> str:
    """A definition as text; a long weighted sum as its first terms, its last and their
    count, in the weights' order (printing 785 terms in SymPy's order to cut them at 120
    characters took most of `show` on 784-32-10)."""
    if quantity.definition is None:
        return ""
    linear = network.linear.get(quantity.symbol)
    if linear is None or len(linear[0]) <= SHOWN:
        return to_text(quantity.definition)
    weights, sources, bias = linear
    terms = [to_text(w * x) for w, x in zip(weights[:3], sources[:3])]
    terms += ["…", to_text(weights[-1] * sources[-1])] + ([to_text(bias)] if bias else [])
    return f"{' + '.join(terms)} ({len(weights) + bool(bias):,} terms)"


def grad_text(result: Gradients, console: Console) -> None:
    has_values = any(g.value is not None for g in result.items)
    has_updates = any(g.updated is not None for g in result.items)
    table = Table("wrt", "dE_total/d(wrt)" + (" (expanded)" if result.expanded else ""),
                  title=escape(result.network.spec.name or ""), title_justify="left")
    if has_values:
        table.add_column("value", justify="right")
    if has_updates:
        table.add_column("after step", justify="right")
    for item in result.items:
        row = [item.wrt, escape(item.text)]
        if has_values:
            row.append(number(item.value) if item.value is not None else "")
        if has_updates:
            row.append(number(item.updated) if item.updated is not None else "")
        table.add_row(*row)
    console.print(table)
    if result.loss is not None:
        console.print(f"E_total = {number(result.loss)}")


def grad_json(result: Gradients) -> str:
    loss = {"value": result.loss} if result.loss is not None else {}
    gradients = {}
    for item in result.items:
        entry: dict = {"expr": item.text, "latex": item.latex}
        if item.value is not None:
            entry["value"] = item.value
        if item.updated is not None:
            entry["updated"] = item.updated
        gradients[item.wrt] = entry
    return _json({"loss": loss, "gradients": gradients})


def explain_json(derivation) -> str:
    from .explain import to_json

    return _json(to_json(derivation))


def _json(data) -> str:
    """JSON that every parser reads: no Infinity or NaN (a float past the range is said as
    a string), every character past ASCII escaped."""
    return json.dumps(_finite(data), indent=2, allow_nan=False)


def _finite(data):
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, Mapping):  # (a point's values inline: it may have thousands)
        return {k: v if type(v) is str or (type(v) is float and v - v == 0) else _finite(v)
                for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _short(text: str, limit: int = 120) -> str:
    return escape(echo(text, limit))



def check_text(results: list[Result], console: Console, quiet: bool = False) -> None:
    """A table per file (with `quiet`, of the failures only), then why each failed: the
    instances of a template that fail alike are explained once."""
    for file in dict.fromkeys(r.claim.file for r in results):
        mine = [r for r in results if r.claim.file == file and not (quiet and r.ok)]
        if not mine:
            continue
        table = Table("line", "checks", "claim", "verdict", "hint",
                      title=escape(printable(file)), title_justify="left")
        for run in runs(mine):
            result, v = run[0], run[0].verdict
            color = "green" if result.ok else "red"
            table.add_row(str(result.claim.line or ""), escape(run_title(run)),
                          escape(echo(result.claim.text, 40)),
                          f"[{color}]{escape(result.said)}[/{color}]", escape(v.hint or ""))
        console.print(table)
    for group in _alike(r for r in results if not r.ok):
        first = group[0]
        if len(group) > 1:
            total = sum(_template(r) == _template(first) for r in results)
            index = ", ".join(f"{k}={v}" for k, v in first.claim.index.items())
            console.print(f"\n[bold red]✗[/] {len(group)} of {total} instances wrong; "
                          f"first {escape(index)}:")
        _details(first, console)
    failed = sum(not r.ok for r in results)
    summary = f"{len(results)} checks: {len(results) - failed} ok, {failed} failed"
    console.print(f"[{'red' if failed else 'green'}]{summary}[/]")


def _alike(failures, by_verdict: bool = False) -> list[list[Result]]:
    """Failures grouped by template (and step), each other failure alone; `by_verdict`:
    and by what a table's row says of them (display.said), so that a group's first says
    what each of the others is."""
    groups: dict = {}
    for result in failures:
        key = _template(result) or id(result)
        if by_verdict:
            key = (key, said(result))
        groups.setdefault(key, []).append(result)
    return list(groups.values())


def _template(result: Result) -> tuple | None:
    """The template a result is an instance of (in its file: a check's identity is only
    unique while it lives), or None."""
    c = result.claim
    return (c.file, c.template) if c.template is not None else None


def _details(result: Result, console: Console) -> None:
    first, *rest = result.explain()  # soft-wrapped: a terminal folds a long line, and a
    console.print(f"\n[bold red]✗[/] {escape(first)}", soft_wrap=True)  # pipe keeps it whole
    for line in rest:  # (a reproduce command stays one command)
        console.print(escape(line), soft_wrap=True)


def check_json(results: list[Result]) -> str:
    return "".join(check_json_chunks(results))


def check_json_chunks(results: list[Result]):
    """check_json's text, a check at a time: a wrong template over a large network has a
    point of thousands of values in each of its thousands of entries, more than fits in
    memory at once. A point is written on one line (by the C encoder: the indenting one
    runs at a few MB a second)."""
    yield f'{{\n  "ok": {json.dumps(all(r.ok for r in results))},\n  "checks": ['
    for k, result in enumerate(results):
        entry = _finite(result.to_json())
        point = (entry.get("counterexample") or {}).get("point")
        if point is not None:
            entry["counterexample"]["point"] = POINT
        text = json.dumps(entry, indent=2, allow_nan=False)
        if point is not None:
            if text.count(json.dumps(POINT)) == 1:
                text = text.replace(json.dumps(POINT), json.dumps(point, allow_nan=False))
            else:  # a text of the entry's own has the placeholder in it: the slow way
                entry["counterexample"]["point"] = point
                text = json.dumps(entry, indent=2, allow_nan=False)
        yield ("," if k else "") + "\n    " + text.replace("\n", "\n    ")
    yield "\n  ]\n}" if results else "]\n}"


POINT = "\0point"  # a placeholder no name or number is written as


def check_github(results: list[Result]) -> str:
    """GitHub Actions workflow commands: an error annotation on the YAML line of each claim
    that failed (one for the instances of a template wrong alike), and one notice per
    file counting the rest (GitHub shows only the first few annotations of a step, so
    none is spent on a pass)."""
    lines = []
    for group in _alike((r for r in results if not r.ok), by_verdict=True):  # a
        result = group[0]  # template's alike failures: one annotation, on their one line
        c, v = result.claim, result.verdict
        message = f"{result.title} is {v.verdict} (expected {c.expect})"
        if len(group) > 1:
            total = sum(_template(r) == _template(result) for r in results)
            message = (f"{result.title} and {len(group) - 1:,} more of its {total:,} instances "
                       f"are {v.verdict} (expected {c.expect})")
        if v.hint:
            message += f"; hint: {v.hint}"
        if v.counterexample:
            example = v.counterexample
            message += (f"\nclaim = {distinct(example['claim'], example['truth'])}, "
                        f"truth = {distinct(example['truth'], example['claim'])}")
        if result.truth_text is not None:
            message += f"\ntruth: {result.truth_text}"
        lines.append(f"::error {_where(c.file, c.line)},title=derive::{_github(message)}")
    for file in dict.fromkeys(r.claim.file for r in results):
        mine = [r for r in results if r.claim.file == file]
        ok = sum(r.ok for r in mine)
        lines.append(f"::notice {_where(file, None)},title=derive::"
                     f"{ok} of {len(mine)} checks ok")
    failed = sum(not r.ok for r in results)
    lines.append(f"{len(results)} checks: {len(results) - failed} ok, {failed} failed")
    return "\n".join(lines)


def github_error(error) -> str:
    """An invalid file, claim or command line as an annotation at its file and line."""
    where = _where(error.file, error.line) + "," if error.file else ""
    return f"::error {where}title=derive::{_github(printable(error.message))}"


def _where(file: str, line: int | None) -> str:
    return f"file={_github(file, True)}" + (f",line={line}" if line else "")


def _github(text: str, property_value: bool = False) -> str:
    """Escape text for a workflow command, so user text can never start a command: each
    of our own line breaks becomes %0A, and anything else unprintable an inert escape."""
    if property_value:  # a file name: nothing in it is ours, nothing may break the line
        return printable(text).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
    return "%0A".join(printable(part).replace("%", "%25") for part in text.split("\n"))


# --- grades -------------------------------------------------------------------------------

def _points(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.2f}"


def grade_text(graded: list, course, console: Console) -> None:
    exercises = course.spec.exercises
    ids = [printable(e.id) for e in exercises]
    names = max([len(printable(g.submission)) for g in graded] + [10])
    numbered = names + sum(max(len(i), 4) + 3 for i in ids) + 14 > console.width
    if numbered and names + 7 * len(ids) + 14 > console.width:
        _grade_lines(graded, course, console)
        return
    headers = [f"#{k}" for k in range(1, len(ids) + 1)] if numbered else ids
    table = Table("submission", *(escape(h) for h in headers), "total",
                  title=escape(printable(course.spec.name or str(course.path))),
                  title_justify="left")
    table.columns[0].overflow = "fold"
    for g in graded:
        cells = [f"[red]{_points(m.score)}[/]" if not m.full else _points(m.score)
                 for m in g.marks]
        table.add_row(escape(printable(g.submission)), *cells,
                      f"{_points(g.total)}/{_points(course.max)}")
    console.print(table)
    if numbered:
        console.print("  ".join(f"#{k} {escape(i)} ({_points(e.points)})"
                                for k, (i, e) in enumerate(zip(ids, exercises), start=1)))
    _grade_footer(graded, console)


def _grade_lines(graded: list, course, console: Console) -> None:
    """Too many exercises for columns: a line per submission, naming what it lost."""
    console.print(f"[bold]{escape(printable(course.spec.name or str(course.path)))}[/]")
    for g in graded:
        lost = [f"{escape(printable(m.exercise))} {_points(m.score)}/{_points(m.points)}"
                for m in g.marks if not m.full]
        console.print(f"{escape(printable(g.submission))}: {_points(g.total)}/"
                      f"{_points(course.max)}" + (f"  (lost: {', '.join(lost)})" if lost else ""))
    _grade_footer(graded, console)


def _grade_footer(graded: list, console: Console) -> None:
    """Every problem, then how many submissions have full marks."""
    for g in graded:
        for problem in g.problems:
            console.print(f"[red]✗[/] {escape(problem)}")
    full = sum(all(m.full for m in g.marks) for g in graded)
    console.print(f"{len(graded)} submissions: {full} with full marks")


def grade_csv(graded: list, course) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", *(e.id for e in course.spec.exercises), "total",
                     "problem"])
    for g in graded:
        writer.writerow([_cell(g.submission), *(_points(m.score) for m in g.marks),
                         _points(g.total), _cell("; ".join(g.problems))])
    return out.getvalue()


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run: no leading =, +, -, @."""
    text = printable(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def grade_json(graded: list, course) -> str:
    return _json({
        "network": str(course.path), "max": course.max,
        "exercises": [{"id": e.id, "points": e.points} for e in course.spec.exercises],
        "submissions": [{"submission": g.submission, "total": g.total, "problem": g.problem,
                         "notes": g.notes,
                         "exercises": {m.exercise: {"score": m.score, "max": m.points,
                                                    "feedback": m.feedback}
                                       for m in g.marks}} for g in graded]})


def grade_gradescope(graded, course) -> str:
    """Gradescope's autograder results.json, for the one submission it runs on."""
    [g] = graded
    tests = [{"name": m.exercise, "score": m.score, "max_score": m.points,
              "status": "passed" if m.full else "failed",
              "output": "\n".join(m.feedback) or g.problem or
              ("as expected" if m.full else "")} for m in g.marks]
    result = {"score": g.total, "tests": tests}
    if g.problems:
        result["output"] = "\n".join(g.problems)
    return _json(result)
