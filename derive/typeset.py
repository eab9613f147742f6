"""LaTeX and Markdown for reports: documents that compile, formulas that break across
lines within the margins, and text escaped once.

A long formula is laid out over lines at its top-level sums and products (a factor that
is itself a long sum opens lines of its own), measured by the length of its LaTeX: a
rough width, but one that keeps a 650-character expanded gradient on the page.
"""

from __future__ import annotations

import re

import sympy as sp

from .display import more, run_title, runs
from .errors import printable
from .matrices import Matrix
from .notation import latex_name, number, partial_latex, to_latex

LINE = 60  # visible characters to a line of a displayed formula (see _width)
CELL = {False: 34, True: 24}  # visible characters to a line of a claim's cell (one file,
# several files)
ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
           "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
           "<": "$<$", ">": "$>$", "|": "$|$"}  # OT1 text would print ¡ ¿ —


def text(value: str) -> str:
    """Plain text made safe inside LaTeX, on one line; each character replaced once (a
    backslash becomes \\textbackslash{}, not \\textbackslash\\{\\})."""
    return "".join(ESCAPES.get(char, char) for char in printable(value))


def lines(expr: sp.Expr, width: int = LINE) -> list[str]:
    """The formula's LaTeX as the lines of a display, each but the first beginning with
    its operator: a sum breaks between terms, a product between factors, and a part too
    long for a line is broken the same way (a sum inside a product in brackets opened
    and closed on lines of their own)."""
    whole = to_latex(expr)
    if _width(whole) <= width or not isinstance(expr, sp.Add | sp.Mul):
        return [whole]
    out: list[str] = []
    for joiner, part in _parts(expr):
        latex = _latex_of(part, expr)
        if _width(latex) > width and isinstance(part, sp.Add | sp.Mul):
            bracketed = isinstance(expr, sp.Mul) and isinstance(part, sp.Add)
            pieces = lines(part, width - 2 if bracketed else width)  # (room for the
            if bracketed:  # operator and a bracket)
                pieces[0] = f"\\left( {pieces[0]} \\right."
                pieces[-1] = f"\\left. {pieces[-1]} \\right)"
            out.append(f"{joiner} {pieces[0]}".strip())
            out += pieces[1:]
        elif out and _width(out[-1]) + _width(latex) + 1 <= width:
            out[-1] += f" {joiner} {latex}" if joiner else f" {latex}"
        else:
            out.append(f"{joiner} {latex}".strip())
    return out


def _width(latex: str) -> int:
    """A rough printed width: the characters that print (a symbol's command as one, the
    others and braces left out), a fraction as wide as its wider half, a script at half
    size."""
    while (match := _FRACTION.search(latex)) is not None:
        top, bottom = match.group(1), match.group(2)
        wider = top if _width(top) >= _width(bottom) else bottom
        latex = latex[:match.start()] + wider + latex[match.end():]
    scripts = sum(len(_printed(s)) for s in _SCRIPT.findall(latex))
    return len(_printed(_SCRIPT.sub("", latex))) + (scripts + 1) // 2


def _printed(latex: str) -> str:
    """What prints, a character for each: a symbol's command (\\delta, \\cdot) is one."""
    return _SPACING.sub("", _SYMBOL.sub("x", _UNPRINTED.sub("", latex)))


_FRACTION = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")  # innermost first
_SCRIPT = re.compile(r"[_^]\{([^{}]*)\}")
_UNPRINTED = re.compile(r"\\(left|right|mathrm|mathbf|mathsf|operatorname|text)\b")
_SYMBOL = re.compile(r"\\[a-zA-Z]+")
_SPACING = re.compile(r"[{}\s]")


def _parts(expr: sp.Expr) -> list[tuple[str, sp.Expr]]:
    """(the operator before it, the part): terms of a sum, factors of a product."""
    if isinstance(expr, sp.Add):
        out = []
        for k, term in enumerate(expr.as_ordered_terms()):
            negative = term.could_extract_minus_sign()
            sign = "-" if negative else ("+" if k else "")
            out.append((sign, -term if negative else term))
        return out
    return [("\\cdot" if k else "", factor) for k, factor in enumerate(expr.as_ordered_factors())]


def _latex_of(part: sp.Expr, whole: sp.Expr) -> str:
    """A part, bracketed where the whole's operator binds tighter than the part's."""
    latex = to_latex(part)
    if isinstance(whole, sp.Mul) and isinstance(part, sp.Add):
        return f"\\left({latex}\\right)"
    return latex


def display(rows: list[tuple[str, sp.Expr, str]]) -> str:
    """An align* of `left = formula [= value]` rows, each formula broken as `lines` does."""
    out = []
    for left, expr, tail in rows:
        broken = lines(expr)
        first = f"{left} &= {broken[0]}"
        rest = [f"&\\quad {line}" for line in broken[1:]]
        if tail:
            if rest:
                rest[-1] += f" = {tail}"
            else:
                first += f" = {tail}"
        out.append(" \\\\\n".join([first, *rest]))
    return "\\begin{align*}\n" + " \\\\\n".join(out) + "\n\\end{align*}"


def gradients(result, document: bool = False, lr: float | None = None) -> str:
    """Every gradient, with its number where the point fixes it, and with a step size
    the parameters after one step; a document adds what the names mean and E_total's
    value, in words."""
    rows = [(partial_latex("E_total", g.wrt), g.expr,
             number(g.value) if g.value is not None else "") for g in result.items]
    gradient = display(rows)
    updated = [g for g in result.items if g.updated is not None] if lr is not None else []
    step = ("\\begin{align*}\n" + " \\\\\n".join(
        f"{latex_name(g.wrt)} - \\eta\\,{partial_latex('E_total', g.wrt)} "
        f"&= {number(g.updated)}" for g in updated) + "\n\\end{align*}") if updated else ""
    if not document:
        return gradient + (f"\n{step}" if step else "")
    loss = (f"\\noindent At the spec's values, ${latex_name('E_total')} = "
            f"{number(result.loss)}$, and\n") if result.loss is not None else ""
    after = (f"\n\n\\noindent After one step of gradient descent with "
             f"$\\eta = {number(lr)}$:\n{step}") if step else ""
    return standalone(f"{notation(result.network)}\n\n{loss}{gradient}{after}",
                      result.network.spec.name)


def notation(network) -> str:
    """What the names in the formulas mean, as a report would say before using them."""
    spec = network.spec
    loss = network.loss.meaning
    return ("\\paragraph{Notation.} "
            f"${latex_name('E_total')}$ is {text(loss)}; for a unit $u$, "
            f"${latex_name('net_u')}$ is its weighted input plus its bias, "
            f"${latex_name('out_u')}$ its activation, and "
            f"$\\delta_{{u}} = \\partial {latex_name('E_total')} / "
            f"\\partial {latex_name('net_u')}$; each weight joins a unit to one it "
            f"feeds ({text(_example_weight(spec))}).")


def _example_weight(spec) -> str:
    """`w5 joins h1 to o1`: the output layer's first weight, as an example."""
    layer = spec.layers[-1]
    name = next((w for w in layer.weights[0] if isinstance(w, str)), None)
    if name is None:
        return f"the weights into {layer.unit(1)} are fixed"
    source = layer.sources[layer.weights[0].index(name)]
    return f"{name} joins {source} to {layer.unit(1)}"


def gradients_markdown(result, lr: float | None = None) -> str:
    """A title, E_total's value, and each gradient in a $$ block (GitHub renders them)
    with its number; with a step size, the parameters after a step."""
    title = result.network.spec.name or result.network.spec.file
    out = [f"# Gradients of {printable(title)}" if title else "# Gradients"]
    if result.loss is not None:
        out.append(f"$E_{{\\mathrm{{total}}}} = {number(result.loss)}$")
    for g in result.items:
        value = f" = {number(g.value)}" if g.value is not None else ""
        out.append(f"$$\n{partial_latex('E_total', g.wrt)} = {g.latex}{value}\n$$")
    updated = [g for g in result.items if g.updated is not None]
    if updated and lr is not None:
        out.append(f"After one step of gradient descent with $\\eta = {number(lr)}$:\n\n"
                   "| parameter | after the step |\n|---|---:|\n"
                   + "\n".join(f"| `{g.wrt}` | {number(g.updated)} |" for g in updated))
    return "\n\n".join(out) + "\n"


def standalone(body: str, title: str | None, packages: str = "") -> str:
    """A document around a body, with the packages every output here needs."""
    heading = f"\\section*{{{text(title)}}}\n" if title else ""
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb,longtable}\n"
            f"\\usepackage[margin=2cm]{{geometry}}\n{packages}\\allowdisplaybreaks\n"
            "\\begin{document}\n"
            f"{heading}{body}\n\\end{{document}}\n")


def checks(results) -> str:
    """Claims and verdicts as a table for a report; a file column when several files
    were checked. Cells are paragraph columns, so long claims and hints wrap (inline
    math breaks after + and -)."""
    files = list(dict.fromkeys(r.claim.file for r in results))
    several = len(files) > 1
    rows = []
    for run in runs(results):  # (a run of alike instances: its first typeset, the rest
        result = run[0]        # counted)
        c, v = result.claim, result.verdict
        pieces = lines(c.claim, CELL[several]) if c.claim is not None and \
            not isinstance(c.claim, Matrix) else \
            [to_latex(c.claim) if c.claim is not None else r"\text{(no answer)}"]
        left = f"{partial_latex(c.of, c.wrt)} ="
        alone = len(pieces) == 1 and _width(f"{left} {pieces[0]}") <= CELL[several]
        claim = " \\newline ".join([f"${left} {pieces[0]}$"] if alone else
                                    [f"${left}$", *(f"${piece}$" for piece in pieces)])
        if len(run) > 1:
            claim += f" \\newline \\small {more(run)}"
        verdict = v.verdict + (f" ({v.shown_by})" if v.shown_by else "")
        mark = r"\checkmark" if result.ok else r"$\times$"
        hint = f" \\newline \\small {text(v.hint)}" if v.hint else ""
        where = _path(c.file) + " & " if several else ""
        rows.append(f"{where}{c.line or ''} & {claim} & {verdict}{hint} & {mark} \\\\")
    columns = ("p{0.16\\linewidth} r p{0.38\\linewidth} p{0.18\\linewidth} c" if several
               else "r p{0.52\\linewidth} p{0.24\\linewidth} c")
    head = ("file & " if several else "") + "line & claim & verdict & \\\\ \\hline"
    return ("% needs \\usepackage{longtable,amssymb}\n"
            f"\\begin{{longtable}}{{{columns}}}\n{head}\n" + "\n".join(rows)
            + "\n\\end{longtable}")


def _path(file: str) -> str:
    """A file's path as text that may break after / _ - and . (a path has no spaces)."""
    return "".join(text(char) + ("\\allowbreak{}" if char in "/_-." else "")
                   for char in printable(file))


def checks_markdown(results) -> str:
    """Claims and verdicts as a Markdown table (GitHub renders it), one per file."""
    out = []
    for file in dict.fromkeys(r.claim.file for r in results):
        mine = [r for r in results if r.claim.file == file]
        ok = sum(r.ok for r in mine)
        out.append(f"### {_cell(printable(file))}: {ok} of {len(mine)} checks ok\n\n"
                   "| line | checks | claim | verdict | hint |\n|---:|---|---|---|---|")
        for run in runs(mine):
            r, v = run[0], run[0].verdict
            verdict = ("✓ " if r.ok else "✗ ") + r.said
            claim = f"`{_cell(r.claim.text)}`" if r.claim.answered else "(no answer)"
            out[-1] += (f"\n| {r.claim.line or ''} | {_cell(run_title(run))} | {claim} "
                        f"| {verdict} | {_cell(v.hint or '')} |")
    return "\n\n".join(out) + "\n"


def _cell(value: str) -> str:
    """Text in a Markdown table cell: one line, its pipes and backticks escaped."""
    return printable(value).replace("|", "\\|").replace("`", "'")
