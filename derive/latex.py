"""LaTeX claims, read the way people write them by hand, into the same IR as SymPy syntax.

A small LALR grammar (lark) for SPEC §3's subset. Every command outside it is an error
at its column, never a silent misreading; there is no macro expansion. Names keep their
written form (`out_{h1}`, `w_5`, `\\delta_{oj}`) as `latex` IR nodes, resolved later by the
evaluator, which knows the aliases and which index letters a `\\sum` or template binds.
"""

from __future__ import annotations

import functools
import re

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from . import expr
from .errors import ClaimError, echo
from .expr import Node

COMMANDS = {r"\frac", r"\partial", r"\sum", r"\cdot", r"\times", r"\left", r"\right",
            r"\text", r"\odot", r"\circ", r"\top", r"\intercal", r"\mathbf", r"\mathsf",
            r"\boldsymbol", r"\nabla",
            r"\exp", r"\log", r"\ln", r"\sigma", r"\tanh", r"\sqrt", r"\delta", r"\mathbb",
            r"\mathrm", r"\quad", r"\qquad", r"\pi", r"\max", r"\min", r"\theta",
            r"\operatorname"}
OPERATORS = {"erf": "erf", "sign": "sign", "sgn": "sign", "diag": "diag"}  # \operatorname{...}
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")

GRAMMAR = r"""
    start: sum

    ?sum: term
        | sum "+" term              -> add
        | sum "-" term              -> sub
    ?term: "-" term                 -> neg
         | "+" term
         | entrywise
    ?entrywise: product
              | entrywise HADAMARD product -> hadamard
    ?product: chain
            | chain summation       -> mul
            | chain MULOP summation -> mul_op
            | summation
    summation: SUM bounds product
    bounds: "_" "{" NAME "=" sum "}" "^" group_or_atom  -> bounded
          | "_" "{" NAME "}"                            -> unbounded
          | "_" NAME                                    -> unbounded
    ?chain: power
          | chain power             -> mul
          | chain MULOP power       -> mul_op
          | chain "/" power         -> div
    ?power: atom
          | atom "^" group_or_atom  -> pow
          | atom "^" group_or_atom subscript -> pow_sub
    ?group_or_atom: "{" sum "}" | NUMBER -> number | NAME -> bare_name | TOP -> top
    ?atom: NUMBER                   -> number
         | name
         | "(" sum ")"
         | "{" sum "}"
         | FRAC "{" sum "}" "{" sum "}"                        -> frac
         | FRAC "{" PARTIAL sum "}" "{" PARTIAL sum "}"        -> partial
         | SQRT "{" sum "}"                                    -> sqrt
         | FUNC power                                          -> function
         | FUNC "'" power                                      -> function_prime
         | FUNC "^" group_or_atom power                        -> function_power
         | OPERATORNAME "{" NAME "}" power                     -> operator
         | EXTREMUM "(" sum ("," sum)+ ")"                     -> extremum
         | THETA "(" sum ("," sum)? ")"                        -> heaviside
         | LEFTBAR sum RIGHTBAR                                -> absolute
         | _LEFTBRACKET sum _RIGHTBRACKET
         | PI                                                  -> pi
         | NUMBER "_" "{" sum "=" sum "}"                      -> indicator_one
         | MATHBB "{" NUMBER "}" "_" "{" sum "=" sum "}"       -> indicator_bb
         | "[" sum "=" sum "]"                                 -> indicator
         | "[" sum "]"
         | TOP                                                 -> top
         | NABLA "_" group_or_atom atom                        -> nabla
    name: base subscript?
    base: NAME | DELTA -> delta | MATHRM "{" NAME "}" -> roman
    subscript: "_" "{" subitem+ "}" | "_" NAME | "_" NUMBER
    subitem: NAME | NUMBER | COMMA | MATHRM "{" NAME "}"

    COMMA: ","
    OPERATORNAME: "\\operatorname"
    EXTREMUM: "\\max" | "\\min"
    THETA: "\\theta"
    PI: "\\pi"
    LEFTBAR.2: "\\left|"
    RIGHTBAR.2: "\\right|"
    _LEFTBRACKET.2: "\\left["
    _RIGHTBRACKET.2: "\\right]"
    MULOP: "\\cdot" | "\\times" | "*"
    HADAMARD: "\\odot" | "\\circ"
    TOP: "\\top" | "\\intercal"
    NABLA: "\\nabla"
    FUNC: "\\exp" | "\\log" | "\\ln" | "\\sigma" | "\\tanh"
    FRAC: "\\frac"
    PARTIAL: "\\partial"
    SQRT: "\\sqrt"
    SUM: "\\sum"
    DELTA: "\\delta"
    MATHBB: "\\mathbb"
    MATHRM: "\\mathrm" | "\\text" | "\\mathbf" | "\\mathsf" | "\\boldsymbol"
    NAME: /[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*/
    NUMBER: /[0-9]+(\.[0-9]+)?/
    SPACE: /\\[,;! ]/ | "\\quad" | "\\qquad" | "\\left" | "\\right" | "~"
    %import common.WS
    %ignore WS
    %ignore SPACE
"""

@functools.cache
def _parser() -> Lark:
    """Built on first use: a spec without LaTeX claims does not pay for it."""
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


FUNCTIONS = {r"\exp": "exp", r"\log": "log", r"\ln": "ln", r"\sigma": "sigmoid",
             r"\tanh": "tanh"}


def parse(text: str) -> Node:
    """Parse a LaTeX claim into the IR shared with the SymPy-syntax parser."""
    if not text.strip():
        raise ClaimError("the claim is empty")
    if len(text) > expr.MAX_LENGTH:
        raise ClaimError(f"the claim is too long ({len(text):,} characters; "
                         f"the limit is {expr.MAX_LENGTH:,})")
    _check_commands_and_nesting(text)
    text = re.sub(r"\{\s*\}", lambda m: " " * len(m.group()), text)  # \cdot{}: an empty group
    try:
        tree = _parser().parse(text)
        return _ToIR(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ClaimError):
            raise exc.orig_exc from None
        raise
    except UnexpectedEOF:
        raise ClaimError("the claim ends too early (an unclosed brace or parenthesis?)") \
            from None
    except UnexpectedCharacters as exc:
        raise ClaimError(f"unexpected character {echo(text[exc.pos_in_stream])!r} at column "
                         f"{exc.column}") from None
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        shown = echo(str(token)) if token is not None and str(token) else "the end"
        if token is not None and token.type == "$END":
            raise ClaimError("the claim ends too early (an unclosed brace or "
                             "parenthesis?)") from None
        raise ClaimError(f"unexpected '{shown}' at column {exc.column}") from None
    except RecursionError:
        raise ClaimError("the claim is nested too deeply") from None


def _check_commands_and_nesting(text: str) -> None:
    """Unknown commands and runaway nesting are refused before the parser runs."""
    for match in _COMMAND.finditer(text):
        command = match.group()
        if command in COMMANDS or command in (r"\,", r"\;", r"\!", "\\ "):
            continue
        what = "macros are not expanded" if command in (
            r"\def", r"\newcommand", r"\renewcommand", r"\input", r"\include", r"\csname",
            r"\let", r"\catcode", r"\edef", r"\gdef", r"\expandafter") else "unsupported command"
        raise ClaimError(f"{what}: {echo(command)} at column {match.start() + 1}")
    depth = 0
    for column, char in enumerate(text, start=1):
        if char in "({[":
            depth += 1
            if depth > expr.MAX_DEPTH:
                raise ClaimError(f"nested too deeply at column {column}")
        elif char in ")}]":
            depth -= 1
            if depth < 0:
                raise ClaimError(f"unbalanced '{char}' at column {column}")
    if depth:
        raise ClaimError("unbalanced braces or parentheses: something is not closed")


def _column(meta_or_token) -> int:
    return getattr(meta_or_token, "column", None) or 0


@v_args(meta=True)
class _ToIR(Transformer):
    """lark tree -> IR Nodes (the same kinds expr.evaluate reads)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def start(self, meta, children):
        return children[0]

    def add(self, meta, children):
        return Node("add", tuple(children), column=_column(meta))

    def sub(self, meta, children):
        left, right = children
        return Node("add", (left, Node("neg", (right,), column=_column(meta))),
                    column=_column(meta))

    def neg(self, meta, children):
        return Node("neg", (children[0],), column=_column(meta))

    def mul(self, meta, children):  # juxtaposition: the matrix product between matrices
        return Node("product", tuple(children), column=_column(meta))

    def mul_op(self, meta, children):  # \cdot, \times: as juxtaposition; * entry by entry
        left, op, right = children
        return Node("mul" if str(op) == "*" else "product", (left, right),
                    column=_column(meta))

    def hadamard(self, meta, children):  # \odot, \circ: entry by entry, below products
        left, _, right = children
        return Node("call", (left, right), value="hadamard", column=_column(meta))

    def div(self, meta, children):
        left, right = children
        return Node("mul", (left, Node("pow", (right, expr.num(-1)))), column=_column(meta))

    def frac(self, meta, children):
        _, top, bottom = children
        return self.div(meta, [top, bottom])

    def partial(self, meta, children):
        _, _, of, _, wrt = children
        return Node("call", (of, wrt), value="d", column=_column(meta))

    def pow(self, meta, children):
        base, exponent = children
        column = _column(meta)
        if base.kind == "latex" and base.value == ("e", None, "e"):
            return Node("call", (exponent,), value="exp", column=column)
        written = self.text[meta.start_pos:meta.end_pos]
        if base.kind in ("latex", "scripted") and \
                re.search(r"\^\s*\{\s*\([^{}]*\)\s*\}\s*$", written):
            return Node("example", (base, exponent), column=column)  # out_{h1}^{(n)}
        if _transposes(exponent):  # W^T, W^\top, W^{\mathsf{T}}
            return Node("call", (base,), value="transpose", column=column)
        if exponent.kind == "product" and _transposes(exponent.args[-1]):  # A^{[l-1]T}
            rest = exponent.args[:-1]
            inner = rest[0] if len(rest) == 1 else Node("product", rest, column=column)
            return Node("call", (self.pow(meta, [base, inner]),), value="transpose",
                        column=column)
        if base.kind == "latex":  # a^{l}: a layer or a power, as the evaluator knows
            return Node("scripted", (exponent,), value=base.value, column=column)
        return Node("pow", (base, exponent), column=column)

    def pow_sub(self, meta, children):
        base, exponent, subscript = children
        if base.kind != "latex" or base.value[1] is not None:
            raise ClaimError(f"a name has two subscripts at column {_column(meta)}")
        name, _, raw = base.value
        return Node("scripted", (exponent,), value=(name, subscript, raw),
                    column=_column(meta))

    def top(self, meta, children):
        return Node("mark", value="transpose", column=_column(meta))

    def sqrt(self, meta, children):
        return Node("call", (children[1],), value="sqrt", column=_column(meta))

    def function(self, meta, children):
        command, argument = children
        return Node("call", (argument,), value=FUNCTIONS[str(command)], column=_column(meta))

    def function_prime(self, meta, children):
        command, argument = children
        derivative = {r"\sigma": "sigmoid_prime", r"\tanh": "tanh_prime"}.get(str(command))
        if derivative is None:
            raise ClaimError(f"only \\sigma' and \\tanh' are derivatives here (column "
                             f"{_column(meta)})")
        return Node("call", (argument,), value=derivative, column=_column(meta))

    def nabla(self, meta, children):  # \nabla_a C: the gradient of C with respect to a
        _, wrt, of = children
        return Node("nabla", (wrt, of), column=_column(meta))

    def function_power(self, meta, children):
        command, exponent, argument = children
        call = self.function(meta, [command, argument])
        return Node("pow", (call, exponent), column=_column(meta))

    def operator(self, meta, children):
        _, name, argument = children
        if str(name) not in OPERATORS:
            raise ClaimError(rf"unsupported \operatorname{{{echo(str(name))}}} at column "
                             f"{_column(meta)}")
        return Node("call", (argument,), value=OPERATORS[str(name)], column=_column(meta))

    def extremum(self, meta, children):
        command, *args = children
        return Node("call", tuple(args), value=str(command)[1:], column=_column(meta))

    def heaviside(self, meta, children):
        return Node("call", tuple(children[1:]), value="Heaviside", column=_column(meta))

    def absolute(self, meta, children):
        return Node("call", (children[1],), value="Abs", column=_column(meta))

    def pi(self, meta, children):
        return Node("name", value="pi", column=_column(meta))

    def number(self, meta, children):
        return Node("num", value=expr.num(str(children[0])).value, column=_column(meta))

    def bare_name(self, meta, children):
        return _name(str(children[0]), None, str(children[0]), _column(meta))

    def indicator(self, meta, children):
        return Node("indicator", tuple(children), column=_column(meta))

    def indicator_one(self, meta, children):
        one, left, right = children
        if str(one) != "1":
            raise ClaimError(f"only 1_{{...}} is an indicator (column {_column(meta)})")
        return self.indicator(meta, [left, right])

    def indicator_bb(self, meta, children):
        _, one, left, right = children
        if str(one) != "1":
            raise ClaimError(rf"only \mathbb{{1}} is an indicator (column {_column(meta)})")
        return self.indicator(meta, [left, right])

    def summation(self, meta, children):
        _, (var, low, high), body = children
        return Node("sum", (body, low, high), value=var, column=_column(meta))

    def bounded(self, meta, children):
        var, low, high = children
        return str(var), low, high

    def unbounded(self, meta, children):
        return str(children[0]), expr.num(1), None

    def name(self, meta, children):
        base = children[0]
        subscript = children[1] if len(children) > 1 else None
        raw = "".join(self.text[meta.start_pos:meta.end_pos].split())  # as written (aliases)
        return _name(base, subscript, raw, _column(meta))

    def base(self, meta, children):
        return str(children[0])

    def delta(self, meta, children):
        return "delta"

    def roman(self, meta, children):
        return str(children[1])

    def subscript(self, meta, children):
        return "".join(str(c) for c in children)

    def subitem(self, meta, children):
        return str(children[-1])  # a name, a number, a comma, or the name in \mathrm{...}


def _transposes(node: Node) -> bool:
    return node.kind == "mark" or (node.kind == "latex" and node.value[:2] == ("T", None))


def _name(base: str, subscript: str | None, raw: str, column: int) -> Node:
    if subscript is None and "_" in base:  # out_h1, i_k: written without braces
        base, subscript = base.split("_", 1)
    return Node("latex", value=(base, subscript, raw), column=column)
