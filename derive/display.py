"""How derive's objects show in a notebook: HTML tables that read without MathJax (names
and formulas as text), and LaTeX, for the frontends and converters that take it, in math
mode with the names as every other output prints them (notation.latex_name)."""

from __future__ import annotations

import html

from .notation import latex_name, number, partial_latex, to_latex, to_text

STYLE = "text-align:left; vertical-align:top; padding:2px 8px"


def table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """An HTML table of cells already escaped."""
    head = "".join(f"<th style='{STYLE}'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='{STYLE}'>{cell}</td>" for cell in row)
                   + "</tr>" for row in rows)
    title = f"<caption style='text-align:left'><b>{html.escape(caption)}</b></caption>" \
        if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def verdict(result) -> str:
    """The verdict in words, as every report says it (Result.said), in its color."""
    color = "green" if result.ok else "#c00"
    return f"<b style='color:{color}'>{html.escape(result.said)}</b>"


def runs(results) -> list[list]:
    """Consecutive instances of one template with one verdict and hint make one row: a
    table of 25,088 alike rows says no more than one, and typesetting each instance's
    claim took minutes."""
    found: list[list] = []
    last = None  # the template and the verdict of the run so far
    for result in results:
        key = (result.claim.template, result.claim.file, *said(result))
        if key[0] is not None and key == last:
            found[-1].append(result)
        else:
            found.append([result])
        last = key
    return found


def said(result) -> tuple:
    """What a row says of a result, as runs compare it: the verdict, and its hint by its
    words, or (a hint naming the instance's own quantities) by the verdict it was
    relabelled from: the same mistake, renamed."""
    v = result.verdict  # (made anew at each reading: once here)
    hint = v.hint if v.term is None else id(result.judged.source or result.judged)
    return result.ok, v.verdict, v.shown_by, hint


def run_title(run: list) -> str:
    """The first instance's title, and how many more the row stands for."""
    return f"{run[0].title} {more(run)}".rstrip()


def more(run: list) -> str:
    return f"and {len(run) - 1:,} more like it" if len(run) > 1 else ""


def results_html(results) -> str:
    """One row per result (per run of alike instances): where, what is claimed, the
    verdict, the hint."""
    rows = []
    for run in runs(results):
        r = run[0]
        c, v = r.claim, r.verdict
        where = f"{c.file}:{c.line}" if c.line else c.file
        claim = code(c.text) if c.answered else "<i>no answer</i>"
        rows.append([html.escape(where), html.escape(run_title(run)), claim, verdict(r),
                     html.escape(v.hint or "")])
    ok = sum(r.ok for r in results)
    return table(["where", "checks", "claim", "verdict", "hint"], rows,
                 f"{len(results)} checks: {ok} ok, {len(results) - ok} failed")


def results_text(results) -> str:
    ok = sum(r.ok for r in results)
    lines = [f"{len(results)} checks: {ok} ok, {len(results) - ok} failed"]
    for run in runs(results):
        r = run[0]
        hint = f" ({r.verdict.hint})" if r.verdict.hint else ""
        lines.append(f"  {'ok' if r.ok else 'FAILED'}: {run_title(run)} is "
                     f"{r.verdict.verdict}{hint}")
    return "\n".join(lines)


def result_latex(result) -> str:
    c = result.claim
    claim = to_latex(c.claim) if c.claim is not None else r"\text{(no answer)}"
    return (f"${partial_latex(c.of, c.wrt)} = {claim} \\quad "
            f"\\text{{{result.verdict.verdict}}}$")


def network_html(network) -> str:
    """Its layers, then the names a claim can use, by family."""
    spec = network.spec
    rows = [["input", str(len(spec.inputs)), "", html.escape(", ".join(spec.inputs[:6])
                                                              + (", …" if len(spec.inputs) > 6
                                                                 else ""))]]
    for layer in spec.layers:
        below = network.below(layer)
        rows.append([html.escape(layer.name), str(layer.units), html.escape(layer.activation),
                     html.escape(f"from {len(below)} units"
                                 + (f" ({', '.join(below[:4])}, …)" if len(below) > 4
                                    else f" ({', '.join(below)})"))])
    layers = table(["layer", "units", "activation", "fed by"], rows,
                   spec.name or spec.file or "network")
    names = []
    for layer in spec.layers:
        n = layer.units
        names.append([code(f"net_{layer.name}[j], out_{layer.name}[j], "
                           f"delta_{layer.name}[j]"), f"j = 1..{n}",
                      html.escape(f"the units of {layer.name}: {layer.unit(1)}"
                                  + (f" … {layer.unit(n)}" if n > 1 else ""))])
        names.append([code(f"w_{layer.name}[j, k], W_{layer.name}"),
                      f"{n} × {len(network.below(layer))}",
                      html.escape(f"weights into {layer.name}")])
    return (layers + f"<p>loss: <b>{html.escape(spec.loss)}</b>, "
            f"{len(network.params):,} parameters</p>" +
            table(["names", "range", "meaning"], names, "names a claim can use"))


def network_text(network) -> str:
    spec = network.spec
    sizes = "-".join(str(n) for n in [len(spec.inputs), *(lay.units for lay in spec.layers)])
    acts = "/".join(lay.activation for lay in spec.layers)
    return f"<Network {sizes} ({acts}, {spec.loss}): {len(network.params):,} parameters>"


def gradients_html(result) -> str:
    has_values = any(g.value is not None for g in result.items)
    has_updates = any(g.updated is not None for g in result.items)
    header = ["wrt", "dE_total/d(wrt)"] + (["value"] if has_values else []) + \
        (["after the step"] if has_updates else [])
    rows = []
    for g in result.items:
        row = [code(g.wrt), code(g.text)]
        if has_values:
            row.append(number(g.value) if g.value is not None else "")
        if has_updates:
            row.append(number(g.updated) if g.updated is not None else "")
        rows.append(row)
    loss = f"E_total = {number(result.loss)}" if result.loss is not None else "gradients"
    return table(header, rows, loss)


def _equation(g, equals: str = "=") -> str:
    """dE_total/d(wrt) = its formula [= its number]."""
    value = f" = {number(g.value)}" if g.value is not None else ""
    return f"{partial_latex('E_total', g.wrt)} {equals} {to_latex(g.expr)}{value}"


def gradient_latex(g) -> str:
    return f"${_equation(g)}$"


def gradients_latex(result) -> str:
    """One aligned block in display math (Jupyter's MathJax and nbconvert's LaTeX both
    take $$\\begin{aligned}...$$; a bare align* is not math mode)."""
    rows = [_equation(g, "&=") for g in result.items]
    if result.loss is not None:
        rows.insert(0, f"{latex_name('E_total')} &= {number(result.loss)}")
    return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$"


def gradients_text(result) -> str:
    return "\n".join(f"dE_total/d{g.wrt} = {to_text(g.expr)}"
                     + (f" = {number(g.value)}" if g.value is not None else "")
                     for g in result.items)
