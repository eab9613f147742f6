"""The `derive` command: a thin click layer over derive.api and derive.report."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from . import api, report
from .errors import DeriveError


class _Command(click.Group):
    """Turns domain errors into one-line messages with exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DeriveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


def _assignment(ctx, param, items) -> dict[str, float]:
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            raise click.BadParameter(f"expected NAME=NUMBER, got {item!r}") from None
        if not sep:
            raise click.BadParameter(f"expected NAME=NUMBER, got {item!r}")
    return values


@click.group(cls=_Command)
@click.version_option(package_name="derive")
def main():
    """Check backpropagation derivations symbolically."""


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
def show(spec):
    """The network, layer by layer, and every name a claim can use."""
    report.show(api.load(spec), Console())


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--wrt", "wrt", multiple=True, help="Only this name (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "json"]), default="text")
@click.option("--expanded", is_flag=True, help="In inputs and parameters only.")
@click.option("--lr", type=float, help="Also show each parameter after one descent step.")
@click.option("--at", "at", multiple=True, callback=_assignment, metavar="NAME=NUMBER",
              help="Set or override a value (repeatable).")
def grad(spec, wrt, fmt, expanded, lr, at):
    """Every gradient of E_total (numbers too when values are given)."""
    result = api.gradients(api.load(spec), list(wrt), at=at, lr=lr, expanded=expanded)
    if fmt == "json":
        click.echo(report.grad_json(result))
    elif fmt == "latex":
        click.echo(report.grad_latex(result))
    else:
        report.grad_text(result, Console())
