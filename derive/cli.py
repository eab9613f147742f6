"""The `derive` command: a thin click layer over derive.api and derive.report."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import sys

import click

from . import feedback
from .assumptions import ASSUMPTIONS
from .errors import DeriveError
from .limits import BUDGET

# The engine (SymPy and all) loads inside the commands that use it, so that --help and
# --version answer at once.


class _Command(click.Group):
    """Turns domain errors and usage errors into one-line messages with exit status 2."""

    def invoke(self, ctx):
        # A command's objects (a network's hundreds of thousands) live until it ends:
        # collected for cycles every 700 allocations, they cost a quarter of a check
        # on 784-32-10. Every 50,000 still bounds what cyclic garbage can pile up.
        gc.set_threshold(50_000, 20, 100)
        try:
            return super().invoke(ctx)
        except DeriveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "derive"
            message = " ".join(exc.format_message().split())
            click.echo(f"error: {message} (see '{where} --help')", err=True)
            sys.exit(2)


def _assignment(ctx, param, items) -> dict[str, float]:
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            values[name.strip()] = _finite(ctx, param, text if sep else "")
        except click.BadParameter:
            raise click.BadParameter(f"expected NAME=NUMBER, got {item!r}") from None
    return values


def _finite(ctx, param, text):
    """A finite number (Python's float() would also take nan and inf)."""
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        wanted = "NAME=NUMBER" if param.name == "at" else "a finite number"
        raise click.BadParameter(f"expected {wanted}, got {text!r}")
    return number


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


@click.group(cls=_Command)
@click.version_option(package_name="derive-backprop")
def main():
    """Check backpropagation derivations symbolically."""


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
def show(spec):
    """The network, layer by layer, and every name a claim can use."""
    from . import api, report

    report.show(api.load(spec), _console())


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--wrt", "wrt", multiple=True, help="Only this name (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "markdown", "json"]),
              default="text")
@click.option("--document", is_flag=True,
              help="A standalone LaTeX document (implies --format latex).")
@click.option("--expanded", is_flag=True, help="In inputs and parameters only.")
@click.option("--lr", callback=_finite, help="Also show each parameter after one descent step.")
@click.option("--at", "at", multiple=True, callback=_assignment, metavar="NAME=NUMBER",
              help="Set or override a value (repeatable).")
def grad(spec, wrt, fmt, document, expanded, lr, at):
    """Every gradient of E_total (numbers too when values are given)."""
    if document and fmt not in ("text", "latex"):
        raise click.UsageError("--document goes with --format latex")
    fmt = "latex" if document else fmt  # a document is LaTeX's
    from . import api, report, typeset

    result = api.gradients(api.load(spec), list(wrt), at=at, lr=lr, expanded=expanded)
    if fmt == "json":
        click.echo(report.grad_json(result))
    elif fmt == "markdown":
        click.echo(typeset.gradients_markdown(result, lr), nl=False)
    elif fmt == "latex":
        click.echo(typeset.gradients(result, document, lr), nl=not document)
    else:
        report.grad_text(result, _console())


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--wrt", required=True, help="The weight, bias, input, net or out.")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "markdown", "json"]),
              default="text", help="latex: a standalone document.")
@click.option("--at", multiple=True, callback=_assignment, metavar="NAME=NUMBER",
              help="Override a value of the spec (repeatable).")
def explain(spec, wrt, fmt, at):
    """The worked derivation of dE_total/dWRT: the chain rule through the network, each
    factor symbolic and numeric, summed over every path."""
    from . import api, explain

    derivation = api.explain(api.load(spec), wrt, at)
    if fmt == "json":
        from . import report

        click.echo(report.explain_json(derivation))
        return
    click.echo({"text": explain.text, "markdown": explain.markdown,
                "latex": explain.latex}[fmt](derivation), nl=False)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "latex", "markdown",
                                                    "github"]),
              default="text", help="github: annotations on the YAML lines in GitHub Actions.")
@click.option("--wrt", help="Check one claim about this name instead of the spec's checks.")
@click.option("--of", "of", default="E_total", show_default=True, help="With --wrt.")
@click.option("--claim", help="The claim, in SymPy syntax (with --wrt).")
@click.option("--latex", help="The claim, in LaTeX (with --wrt).")
@click.option("--assume", type=click.Choice(sorted(ASSUMPTIONS)),
              help="A condition the claim may rely on (with --wrt).")
@click.option("--budget", callback=_finite,
              help=f"CPU seconds of symbolic work per claim before falling back to numbers "
              f"(0: numbers only; default {BUDGET:g}, or [tool.derive] budget).")
@click.option("--feedback", type=click.Choice(feedback.LEVELS),
              help="What verdicts show (default: the network's feedback:, or [tool.derive] "
              "feedback).")
@click.option("--network", type=click.Path(dir_okay=False),
              help="Answers files must use this network (a course's, not the student's).")
@click.option("-q", "--quiet", is_flag=True, help="Text: show the failures only.")
def check(specs, fmt, wrt, of, claim, latex, assume, budget, feedback, network, quiet):
    """Verify claims: every check in the files, or one from the command line.

    Exit status: 0 every check met its expect, 1 one did not (or was undecided),
    2 invalid input.
    """
    from . import config, report, typeset

    try:
        settings = config.load()
        budget = settings.budget if budget is None else budget
        specs = config.expand(specs, settings.files) if wrt is None else specs
        results = _judged(specs, wrt, of, claim, latex, assume, budget, network,
                          feedback or settings.feedback)
    except DeriveError as exc:
        if fmt == "github":  # the problem annotated at its line too, then reported as usual
            click.echo(report.github_error(exc))
        raise
    if fmt == "json":
        for chunk in report.check_json_chunks(results):
            click.echo(chunk, nl=False)
        click.echo()
    elif fmt == "latex":
        click.echo(typeset.checks(results))
    elif fmt == "markdown":
        click.echo(typeset.checks_markdown(results), nl=False)
    elif fmt == "github":
        click.echo(report.check_github(results))
    else:
        report.check_text(results, _console(), quiet)
    sys.exit(0 if all(r.ok for r in results) else 1)


def _judged(specs, wrt, of, claim, latex, assume, budget, network, level) -> list:
    from . import api

    if wrt is None and (claim or latex or assume):
        raise click.UsageError("--claim, --latex and --assume need --wrt")
    if wrt is not None:
        if len(specs) != 1 or (claim is None) == (latex is None):
            raise click.UsageError("--wrt takes one SPEC and exactly one of --claim, --latex")
        text, syntax = (claim, "sympy") if claim is not None else (latex, "latex")
        return api.check_one(api.load(specs[0], network, level=level), wrt, text, of,
                             syntax, budget, assume)
    return [r for path in specs for r in api.check(path, budget, network, level=level)]


@main.command()
@click.argument("submissions", nargs=-1, required=True, type=click.Path())
@click.option("--network", required=True, type=click.Path(dir_okay=False),
              help="The course's network and exercises (the teacher's file).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "gradescope"]),
              default="text", help="gradescope: the autograder's results.json, for one "
              "submission.")
@click.option("--feedback", type=click.Choice(feedback.LEVELS),
              help="What the feedback shows (default: the network's feedback:, else "
              "counterexample).")
@click.option("--budget", callback=_finite,
              help=f"CPU seconds of symbolic work per claim (default {BUDGET:g}, "
              f"or [tool.derive] budget).")
def grade(submissions, network, fmt, feedback, budget):
    """Grade submissions (answers files, or folders holding answers.derive.yaml) against
    a course's network: a score per exercise, partial credit, a total.

    A bad answer or file costs that answer or file; the run always finishes (exit 0).
    """
    from . import config, grading, report

    if fmt == "gradescope" and len(submissions) != 1:
        raise click.UsageError("--format gradescope grades one submission (Gradescope runs "
                               "the autograder once per student)")
    settings = config.load()
    course = grading.Course(network, settings.budget if budget is None else budget,
                            feedback or settings.feedback)
    with _progress(len(submissions)) as advance:
        graded = grading.grade(course, submissions, advance)
    if fmt == "csv":
        click.echo(report.grade_csv(graded, course), nl=False)
    elif fmt == "json":
        click.echo(report.grade_json(graded, course))
    elif fmt == "gradescope":
        click.echo(report.grade_gradescope(graded, course))
    else:
        report.grade_text(graded, course, _console())


@contextlib.contextmanager
def _progress(total: int):
    """A progress bar on stderr, where a person watches it (not in a CI log)."""
    if total < 2 or not sys.stderr.isatty():
        yield lambda name: None
        return
    from rich.progress import Progress

    with Progress(console=_console(stderr=True), transient=True) as bar:
        task = bar.add_task("grading", total=total)
        yield lambda name: bar.advance(task)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (its extension picks the format).")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "tikz"]),
              help="Default: from -o's extension, else svg.")
@click.option("--highlight", metavar="NAME", help="Mark the chain-rule paths of a parameter.")
@click.option("--values", is_flag=True, help="Colour each edge by its gradient at the values.")
def draw(spec, output, fmt, highlight, values):
    """A picture of the network: units, weights, biases; SVG, PNG, PDF or TikZ."""
    from . import api
    from . import draw as drawing  # matplotlib, if PNG, loads only here

    fmt = fmt or (output.rsplit(".", 1)[-1].lower() if output and "." in output else "svg")
    if fmt not in ("svg", "png", "pdf", "tikz", "tex"):
        raise click.UsageError(f"cannot tell the format of {output!r}: use --format")
    diagram = drawing.layout(api.load(spec), highlight, values)
    if fmt in ("png", "pdf"):
        if not output:
            raise click.UsageError(f"{fmt.upper()} needs -o FILE")
        drawing.png(diagram, output if output.lower().endswith(f".{fmt}") else
                    f"{output}.{fmt}")
        return
    text = drawing.svg(diagram) if fmt == "svg" else drawing.tikz(diagram)
    if output:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    else:
        click.echo(text)


def run() -> None:
    """The installed command: `main`, then an exit that skips freeing every object. A
    784-32-10 network is millions of them, and tearing them down one by one took a sixth of
    a check; the process ends anyway. (Not under coverage, whose data is saved at exit.)"""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if "coverage" in sys.modules:
        sys.exit(code)
    if code is not None and not isinstance(code, int):  # sys.exit("message")
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # (the reader went away: `derive check ... | head`)
        code = code or 1
    os._exit(code or 0)


if __name__ == "__main__":
    run()
