"""Untrusted formula text -> a small whitelisted IR -> SymPy, without eval or sympify.

Two stages, so that every claim syntax shares one evaluator:
- `parse(text)` reads SymPy/Python syntax into `Node`s. A regex tokenizer admits only
  numbers, names, `+ - * / ** ^ @ ( ) [ ] ,` and `.T`, so other attributes, strings,
  lambdas and keywords cannot even be spelled; `^` becomes `**` here, at token level.
  Size and nesting are bounded before Python's own (recursive) parser runs; then `ast`
  nodes are whitelisted.
- `evaluate(node, scope)` builds SymPy objects itself, resolving names through a `Scope`
  (the network's vocabulary) and binding index variables of `Sum` and templates.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field

import sympy as sp

from . import activations, limits, matrices
from .errors import REFUSALS, ClaimError, did_you_mean, echo, unbuilt
from .matrices import Matrix

MAX_LENGTH = 20_000
MAX_TOKENS = 4_000
MAX_DEPTH = 60
MAX_NUMBER_DIGITS = 40
MAX_RESULT_DIGITS = 1_000
MAX_SUM_TERMS = 10_000
MAX_EXPANDED = 100_000  # nodes one formula makes once its aliases and sums are written out
MAX_CHECK_WORK = 2_000_000  # ... and all the instances of one template together

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>([0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)([eE][-+]?[0-9][0-9_]*)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<transpose>\.T(?![A-Za-z0-9_]))
  | (?P<op>\*\*|[-+*/^(),\[\]@])
""", re.VERBOSE)


# --- the IR -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Node:
    """One IR node: kind is num, name, family, call, add, mul, pow, neg, sum, indicator,
    matmul (`@`), product (LaTeX juxtaposition: @ between matrices) or latex (a name)."""

    kind: str
    args: tuple = ()
    value: object = None  # the number, the name, the function name or the index variable
    column: int = 0

    def walk(self):
        """This node, then every node below it."""
        yield self
        for arg in self.args:
            if isinstance(arg, Node):
                yield from arg.walk()


def num(value, column=0) -> Node:
    return Node("num", value=sp.Rational(value), column=column)


# --- SymPy syntax -> IR -----------------------------------------------------------------

def tokenize(text: str) -> str:
    """Check the characters and the nesting, rewrite `^` to `**`; return text for ast."""
    if not text.strip():
        raise ClaimError("the claim is empty")
    if len(text) > MAX_LENGTH:
        raise ClaimError(f"the claim is too long ({len(text):,} characters; "
                         f"the limit is {MAX_LENGTH:,})")
    out, depth, count, pos = [], 0, 0, 0
    previous, last, gap = None, "", False
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            char = text[pos]
            shown = repr(char) if char.isprintable() else f"'{echo(char)}'"
            raise ClaimError(f"unexpected character {shown} at column {pos + 1}")
        kind, token = match.lastgroup, match.group()
        if kind == "number" and len(token) > MAX_NUMBER_DIGITS:  # separators count too
            raise ClaimError(f"number too long at column {pos + 1}")
        if kind == "transpose" and not (previous in ("name", "transpose") or
                                        last in (")", "]")):
            raise ClaimError(f"'.T' must follow a name or a closing bracket (column {pos + 1})")
        if kind == "name" and previous == "number" and not gap:
            raise ClaimError(f"a number runs into the name '{echo(token)}' at column "
                             f"{pos + 1}: write {echo(last)}*{echo(token)}")
        if kind == "name" and keyword.iskeyword(token):
            raise ClaimError(f"'{token}' is not allowed in a claim (column {pos + 1})")
        if (kind in ("name", "number") and (previous in ("name", "number") or
                                            last in (")", "]"))) or \
                (token == "(" and (previous == "number" or last == ")")):  # ]( : delta_o[j](n)
            said = f"{echo(last)}*{echo(token)}" if kind != "op" and previous != "op" else \
                f"* between '{last}' and '{token}'"
            raise ClaimError(f"two factors side by side at column {pos + 1}: write {said} "
                             f"(a product needs *)")
        if token in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise ClaimError(f"nested too deeply at column {pos + 1} "
                                 f"(more than {MAX_DEPTH} levels)")
        elif token in ")]":
            depth -= 1
        if kind != "space":
            count += 1
            if count > MAX_TOKENS:
                raise ClaimError(f"the claim has too many tokens (more than {MAX_TOKENS:,})")
        out.append("**" if token == "^" else " " if kind == "space" else token)
        if kind != "space":
            previous, last = kind, token
        gap = kind == "space"
        pos = match.end()
    return "".join(out)


def parse(text: str) -> Node:
    """Parse a claim in SymPy syntax into the IR."""
    source = tokenize(text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        ended = source.rstrip()
        if not exc.offset or exc.offset > len(ended) or ended[-1] in "+-*/@,(^[":
            raise ClaimError("the claim ends too early (a missing term or bracket?)") \
                from None
        raise ClaimError(f"syntax error at column {exc.offset}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ClaimError("the claim is nested too deeply") from None
    _check_depth(tree.body)
    return _Reader(source).read(tree.body)


def _check_depth(root: ast.AST) -> None:
    """Measure nesting without recursion (chains like a+b+c count as one level)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ClaimError(f"nested too deeply at column {getattr(node, 'col_offset', 0) + 1}")
        for child in ast.iter_child_nodes(node):
            same_chain = (isinstance(node, ast.BinOp) and isinstance(child, ast.BinOp)
                          and child is node.left
                          and _CHAINS.get(type(node.op)) == _CHAINS.get(type(child.op)))
            stack.append((child, depth if same_chain else depth + 1))


class _Reader:
    """Whitelisted Python AST -> IR. Anything not handled here is refused."""

    def __init__(self, source: str):
        self.source = source

    def read(self, node: ast.AST) -> Node:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ClaimError(f"{_describe(node)} is not allowed in a claim "
                             f"(column {getattr(node, 'col_offset', 0) + 1})")
        return method(node)

    def _Constant(self, node):
        if type(node.value) not in (int, float):
            raise ClaimError(f"{_describe(node)} is not allowed in a claim "
                             f"(column {node.col_offset + 1})")
        literal = ast.get_source_segment(self.source, node)  # exact decimal: 0.1 is 1/10
        return Node("num", value=sp.Rational(literal), column=node.col_offset + 1)

    def _Name(self, node):
        return Node("name", value=node.id, column=node.col_offset + 1)

    def _UnaryOp(self, node):
        if isinstance(node.op, ast.UAdd):
            return self.read(node.operand)
        if isinstance(node.op, ast.USub):
            return Node("neg", (self.read(node.operand),), column=node.col_offset + 1)
        return self.read(node.op)

    def _Attribute(self, node):
        if node.attr != "T":  # the tokenizer lets no other attribute through
            raise ClaimError(f"attribute access is not allowed in a claim "
                             f"(column {node.col_offset + 1})")
        return Node("call", (self.read(node.value),), value="transpose",
                    column=node.col_offset + 1)

    def _BinOp(self, node):
        if isinstance(node.op, ast.MatMult):
            return Node("matmul", (self.read(node.left), self.read(node.right)),
                        column=node.col_offset + 1)
        if isinstance(node.op, ast.Pow):
            return Node("pow", (self.read(node.left), self.read(node.right)),
                        column=node.col_offset + 1)
        group = _CHAINS.get(type(node.op))
        if group is None:
            return self.read(node.op)
        # Walk a left-nested chain (a+b-c+...) iteratively: long flat sums are not deep.
        operands = []
        while isinstance(node, ast.BinOp) and _CHAINS.get(type(node.op)) == group:
            operands.append((type(node.op), node.right))
            node = node.left
        terms = [self.read(node)]
        for op, right in reversed(operands):
            term = self.read(right)
            column = right.col_offset + 1
            if op is ast.Sub:
                term = Node("neg", (term,), column=column)
            elif op is ast.Div:
                term = Node("pow", (term, num(-1)), column=column)
            terms.append(term)
        return Node(group, tuple(terms), column=terms[0].column)

    def _Subscript(self, node):
        if not isinstance(node.value, ast.Name):
            raise ClaimError(f"only a family name can be indexed (column {node.col_offset + 1})")
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return Node("family", tuple(self.read(i) for i in items), value=node.value.id,
                    column=node.col_offset + 1)

    def _Call(self, node):
        column = node.col_offset + 1
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ClaimError(f"keyword or starred arguments are not allowed (column {column})")
        if isinstance(node.func, ast.Subscript) and len(node.args) == 1:  # delta_o[j](n)
            return Node("example", (self.read(node.func), self.read(node.args[0])),
                        column=column)
        if not isinstance(node.func, ast.Name):
            raise ClaimError(f"only a plain function name can be called (column {column})")
        name = node.func.id
        if name == "Sum":
            return self._sum(node, column)
        if name not in FUNCTIONS and len(node.args) == 1:  # out_h1(n): example n's
            return Node("example", (Node("name", value=name, column=column),
                                    self.read(node.args[0])), column=column)
        if name not in FUNCTIONS:
            hint = _suggest(name, FUNCTIONS) or f" (to multiply, write {echo(name)}*(...))"
            raise ClaimError(f"unknown function '{echo(name)}' at column {column}{hint}")
        low, high = FUNCTIONS[name].arity
        if not low <= len(node.args) <= high:
            wanted = str(low) if low == high else f"{low} or {high}"
            raise ClaimError(f"{name}() takes {wanted} argument{'s' * (high > 1)}, "
                             f"got {len(node.args)} (column {column})")
        return Node("call", tuple(self.read(a) for a in node.args), value=name, column=column)

    def _sum(self, node, column):
        usage = f"write Sum(expr, (j, 1, n)) (column {column})"
        if len(node.args) < 2:
            raise ClaimError(f"Sum needs a range: {usage}")
        body = self.read(node.args[0])
        for bounds in reversed(node.args[1:]):
            if not (isinstance(bounds, ast.Tuple) and len(bounds.elts) == 3
                    and isinstance(bounds.elts[0], ast.Name)):
                raise ClaimError(f"Sum's range must be (index, first, last): {usage}")
            var, low, high = bounds.elts
            body = Node("sum", (body, self.read(low), self.read(high)), value=var.id,
                        column=column)
        return body


_CHAINS = {ast.Add: "add", ast.Sub: "add", ast.Mult: "mul", ast.Div: "mul"}


def _describe(node: ast.AST) -> str:
    names = {"Attribute": "attribute access", "Lambda": "lambda", "Compare": "a comparison",
             "BoolOp": "and/or", "Constant": "this constant", "Tuple": "a tuple",
             "List": "a list", "IfExp": "if/else", "BitXor": "the operator",
             "Mod": "%", "FloorDiv": "//"}
    kind = type(node).__name__
    return names.get(kind, kind)


def _suggest(name: str, known) -> str:
    return did_you_mean(name, known, cutoff=0.5)


# --- functions a formula may call --------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def _kronecker(i, j):
    """KroneckerDelta of indices, which are whole numbers by the time it is built: of
    quantities it would be 1 on a set no sample point ever hits (w1 = w2)."""
    if isinstance(i, Matrix) or isinstance(j, Matrix) or not (i.is_Integer and j.is_Integer):
        raise ClaimError("KroneckerDelta (and an indicator [i = j]) compares indices, not "
                         "quantities: its arguments must be whole numbers")
    return sp.KroneckerDelta(i, j)


@dataclass(frozen=True)
class Function:
    build: object
    arity: tuple[int, int] = (1, 1)
    whole: bool = False  # takes matrices whole (transpose, diag), else entry by entry


def _activation(name: str, derivative: bool = False):
    """An activation's formula, or its derivative, as a function of x (activations.py
    holds both, in one place)."""
    act = activations.ACTIVATIONS[name]
    if derivative:
        return lambda x: act.derivative(x, act.forward(x, act.alpha), act.alpha)
    return lambda x: act.forward(x, act.alpha)


def _whole(function):
    return Function(function, (1, 1), whole=True)


FUNCTIONS: dict[str, Function] = {
    "exp": Function(sp.exp), "log": Function(sp.log, (1, 2)), "ln": Function(sp.log),
    "sqrt": Function(sp.sqrt), "sin": Function(sp.sin), "cos": Function(sp.cos),
    "tan": Function(sp.tan), "sinh": Function(sp.sinh), "cosh": Function(sp.cosh),
    "tanh": Function(sp.tanh), "sigmoid": Function(sigmoid), "erf": Function(sp.erf),
    "relu": Function(_activation("relu")), "softplus": Function(_activation("softplus")),
    **{f"{name}_prime": Function(_activation(name, derivative=True))
       for name in ("sigmoid", "tanh", "relu", "softplus")},
    "Abs": Function(sp.Abs), "abs": Function(sp.Abs), "sign": Function(sp.sign),
    "Max": Function(sp.Max, (2, 8)), "max": Function(sp.Max, (2, 8)),
    "Min": Function(sp.Min, (2, 8)), "min": Function(sp.Min, (2, 8)),
    "Heaviside": Function(lambda x, h0=sp.S.Zero: sp.Heaviside(x, h0), (1, 2)),
    "KroneckerDelta": Function(_kronecker, (2, 2), whole=True),
    "transpose": _whole(matrices.transpose), "diag": _whole(matrices.diag),
    "sum": _whole(matrices.total), "ones": Function(matrices.ones, (1, 2), whole=True),
    "outer": Function(matrices.outer, (2, 2), whole=True),
    "hadamard": Function(None, (2, 2)),  # `*` by another name: entry by entry
    "d": Function(None, (2, 2), whole=True),  # resolved by the scope: it needs the network
}
CONSTANTS = {"pi": sp.pi}


# --- IR -> SymPy ------------------------------------------------------------------------

class Scope:
    """The vocabulary a formula is read in. Subclasses resolve the network's names."""

    def name(self, name: str, example: int | None = None) -> sp.Expr | None:
        """The object a bare name stands for (in one training example: out_h1(2)), or
        None if the name is unknown."""
        return None

    def shared(self, value: sp.Expr) -> bool:
        """Is `value` the same in every training example (a parameter), so that naming
        one example's is a mistake?"""
        return False

    def family(self, name: str, indices: tuple[int, ...], example: int | None = None) \
            -> sp.Expr | None:
        """The member of an indexed family, or None if there is no such family."""
        return None

    def range_of(self, name: str, position: int) -> int | None:
        """How many members a family has along an index position (for a bare \\sum_j)."""
        return None

    def alias(self, name: str) -> Node | None:
        """The formula an alias name stands for, or None."""
        return None

    def indexed_alias(self, name: str, bound) -> Node | None:
        """An alias with index letters, read with other letters that are bound."""
        return None

    def in_template_layer(self, base: str, sub: str | None, env: dict):
        """w_{jk}, \\delta_j of the layer a template indexes (wrt: w_o[j, k]), or None."""
        return None

    def layered(self, letter: str) -> str | None:
        """What a numbered letter stands for (out, net, input, ...), or None."""
        return None

    def examples(self) -> int:
        """How many training examples the network has (0: one, and no example names)."""
        return 0

    def by_layer(self, letter: str) -> bool:
        """Is the first index of this family a layer's number (a[l, j]: SPEC §7)?"""
        return False

    def index_count(self, letter: str) -> int:
        """How many unit indices follow the layer's number (w[l, j, k]: 2)."""
        return 1

    def numbered_range(self, letter: str, number: int, position: int) -> int | None:
        """How many members `letter[number, ...]` has along an index position."""
        return None

    def derivative(self, of: sp.Expr, wrt: sp.Expr) -> sp.Expr:
        raise ClaimError("d(A, B) is not available here")

    def known_names(self) -> list[str]:
        return []


class Work:
    """Nodes evaluated so far against a limit, and CPU time against a deadline, shared by
    a template's instances: aliases that double at each level, sums inside sums, or many
    slow constructors (Max of many arguments) cannot build a formula for minutes."""

    def __init__(self, limit: int = MAX_CHECK_WORK, seconds: float | None = None):
        seconds = limits.BUILD if seconds is None else seconds
        self.limit, self.left, self.seconds = limit, limit, seconds
        self.deadline = limits.deadline(seconds)

    def spend(self, nodes: int) -> None:
        self.left -= nodes
        if self.left < 0:
            raise ClaimError(f"the claim is too large once its aliases and sums are written "
                             f"out for every instance (more than {self.limit:,} terms)")
        if limits.passed(self.deadline):
            raise ClaimError(f"building the claim took more than {self.seconds:g} CPU "
                             f"seconds")


@dataclass
class Evaluator:
    scope: Scope
    env: dict[str, int] = field(default_factory=dict)
    expanding: set[str] = field(default_factory=set)  # aliases being expanded (cycles)
    sums: dict | None = None  # values of sums, kept across a template's instances
    work: Work | None = None
    visits: int = 0
    entries: int = 0  # of the matrices built

    def __call__(self, node: Node) -> sp.Expr:
        self.visits += 1
        if self.visits > MAX_EXPANDED:
            raise ClaimError(f"the claim is too large once its aliases and sums are written "
                             f"out (more than {MAX_EXPANDED:,} terms)")
        if self.work is not None and self.visits % 32 == 0:
            self.work.spend(32)
        return getattr(self, "_" + node.kind)(node)

    def _num(self, node):
        return node.value

    def _name(self, node):
        name = node.value
        if name in self.env:
            return sp.Integer(self.env[name])
        alias = self.scope.alias(name)
        if alias is not None:
            return self._alias(name, alias)
        value = self.scope.name(name)
        if value is None:
            value = CONSTANTS.get(name)
        if value is None:
            raise self._unknown(name, node.column)
        return value

    def _alias(self, name, node):
        if name in self.expanding:
            raise ClaimError(f"alias '{echo(name)}' refers to itself")
        self.expanding.add(name)
        try:
            return self(node)
        finally:
            self.expanding.discard(name)

    def _latex(self, node):
        """A name as written in LaTeX: an alias, a name, or a family with a bound index."""
        base, sub, raw = node.value
        candidates = latex_candidates(base, sub)
        for written in (raw, *candidates):  # an alias as written, or as it normalizes
            alias = self.scope.alias(written)
            if alias is not None:
                return self._alias(written, alias)
        alias = self.scope.indexed_alias(raw, self.env)
        if alias is not None:
            return self._alias(raw, alias)
        if sub is None and base in self.env:
            return sp.Integer(self.env[base])
        for candidate in candidates:
            value = self.scope.name(candidate)
            if value is not None:
                return value
        for var, family in latex_families(base, sub, self.env):
            if self.scope.by_layer(family):  # a^l_j, not a_j: a numbered letter's first
                continue                     # index is its layer, written above
            if self.scope.range_of(family, 1) is None:  # one-index families only
                value = self.scope.family(family, (self.env[var],))
                if value is not None:
                    return value
        if sub is not None and sub.isdigit() and self.scope.layered(base) in ("input",
                                                                              "target"):
            return self.scope.family(base, (int(sub),))  # x_1, y_2 of numbered notation
        value = self.scope.in_template_layer(base, sub, self.env)
        if value is not None:
            return value
        if sub is None and base == "e":
            return sp.E
        hint = _suggest(candidates[0], self.scope.known_names())
        raise ClaimError(f"unknown name '{echo(raw)}' at column {node.column}{hint}; if it "
                         f"is your course's notation, define it under aliases:")

    def _scripted(self, node):
        """A LaTeX name with a superscript: a numbered layer (a^{l-1}_k, \\delta^L, W^{[l]})
        when the letter is numbered (SPEC §7), else a power (out_{h1}^2)."""
        letter, sub, raw = node.value
        exponent = node.args[0]
        if self.scope.by_layer(letter) and not self._unit_name(node):
            if sub is None and exponent.kind == "latex" and exponent.value[1] is not None:
                layer_letter, sub, _ = exponent.value  # a^l_j: lexed as a^{l_j}
                exponent = Node("latex", value=(layer_letter, None, layer_letter),
                                column=exponent.column)
            number = self(exponent)
            if isinstance(number, Matrix) or not number.is_Integer:
                raise ClaimError(f"the superscript of {echo(raw)} at column {node.column} "
                                 f"is its layer's number: it must be a whole number (for a "
                                 f"power, write ({echo(raw)})^{{...}})")
            indices = self._subscript_indices(letter, sub, node) if sub is not None else ()
            value = self.scope.family(letter, (int(number), *indices))
            if value is None:
                raise ClaimError(f"unknown name '{echo(raw)}' at column {node.column}")
            return value
        name = Node("latex", value=node.value, column=node.column)
        return self._pow(Node("pow", (name, exponent), column=node.column))

    def _unit_name(self, node) -> bool:
        """\\delta_{o1}^2: the subscript names a unit, so the superscript is a power."""
        letter, sub, _ = node.value
        return sub is not None and any(
            (value := self.scope.name(c)) is not None and not isinstance(value, Matrix)
            for c in latex_candidates(letter, sub))

    def _subscript_indices(self, letter: str, sub: str, node) -> tuple[int, ...]:
        """w^l_{jk}, w^l_{j,k}, w^3_{12}: the unit indices after the layer's number."""
        values = []
        for part in _subscript_parts(sub, self.scope.index_count(letter)):
            if part.isdigit():
                values.append(int(part))
            elif part in self.env:
                values.append(self.env[part])
            else:
                raise ClaimError(f"'{echo(part)}' in the subscript of {echo(letter)} at "
                                 f"column {node.column} is not a bound index (a template's, "
                                 f"or a \\sum's)")
        return tuple(values)

    def _nabla(self, node):
        """\\nabla_a C: the gradient of C with respect to the last layer's outputs when a
        is the numbered letter for them (Nielsen's BP1), else with respect to the name."""
        wrt_node, of_node = node.args
        if wrt_node.kind == "latex" and wrt_node.value[1] is None and \
                self.scope.by_layer(wrt_node.value[0]):
            wrt = self.scope.family(wrt_node.value[0], (int(self.scope.name("L")),))
        else:
            wrt = self(wrt_node)
        return self._derivative(self(of_node), wrt, node.column)

    def _example(self, node):
        """out_h1(n), delta_o[j](n), out_h(n), E_total(n): a name in one training example
        (SPEC §8). LaTeX writes it out_{h1}^{(n)}."""
        base, index = node.args
        if base.kind == "name" and self.scope.alias(base.value) is None and \
                not self._known(base.value):
            hint = _suggest(base.value, FUNCTIONS) or \
                f" (to multiply, write {echo(base.value)}*(...))"
            raise ClaimError(f"unknown function '{echo(base.value)}' at column "
                             f"{node.column}{hint}")
        if not self.scope.examples():
            raise ClaimError(f"{self._written(base)}(...) at column {node.column}: to "
                             f"multiply, write {self._written(base)}*(...) (a name takes "
                             f"(n) only in a spec with several examples)")
        n = self._index(index)
        if base.kind == "name":
            value = self.scope.name(base.value, example=n)
            if value is None and base.value in FUNCTIONS:
                raise ClaimError(f"{base.value}() takes {FUNCTIONS[base.value].arity[0]} "
                                 f"arguments (column {node.column})")
        elif base.kind == "family":
            value = self.scope.family(base.value, tuple(self._index(a) for a in base.args),
                                      example=n)
        elif base.kind == "latex":
            value = next((v for c in latex_candidates(*base.value[:2])
                          if (v := self.scope.name(c, example=n)) is not None), None)
            if value is None:
                value = next((v for var, family in latex_families(*base.value[:2], self.env)
                              if (v := self.scope.family(family, (self.env[var],),
                                                         example=n)) is not None), None)
        else:
            value = None
        if value is None:
            raise ClaimError(f"{self._written(base)}(...) at column {node.column}: no such "
                             f"name in a training example (to multiply, write "
                             f"{self._written(base)}*(...))")
        if self.scope.shared(value):
            raise ClaimError(f"{self._written(base)} is shared by every training example: "
                             f"write it without ({n}) (column {node.column})")
        return value

    def _known(self, name: str) -> bool:
        """Is `name` one of the network's, in some example (out_h1 of out_h1(2))?"""
        try:
            return self.scope.name(name, example=1) is not None
        except ClaimError:
            return True  # known, but not like that: the reading below says how

    @staticmethod
    def _written(node) -> str:
        return echo(node.value if node.kind in ("name", "family") else
                    node.value[2] if node.kind == "latex" else "the name", 40)

    def _mark(self, node):
        raise ClaimError(f"\\top at column {node.column} only transposes, as a superscript "
                         f"(W^\\top)")

    def _unknown(self, name, column):
        if self.scope.by_layer(name):
            return ClaimError(f"{name} needs its layer's number: {name}[l] or {name}[l, j] "
                              f"(LaTeX {name}^l, {name}^l_j) (column {column})")
        hint = _suggest(name, self.scope.known_names())
        if not hint and re.fullmatch(r"[a-z]", name):
            hint = " (an index variable must be bound by Sum or by the check's template)"
        return ClaimError(f"unknown name '{echo(name)}' at column {column}{hint}")

    def _family(self, node):
        indices = tuple(self._index(a) for a in node.args)
        value = self.scope.family(node.value, indices)
        if value is None:
            raise ClaimError(f"unknown family '{echo(node.value)}[...]' at column "
                             f"{node.column}{_suggest(node.value, self.scope.known_names())}")
        return value

    def _index(self, node) -> int:
        value = self(node)
        if isinstance(value, Matrix) or not value.is_Integer:
            raise ClaimError(f"an index must be a whole number (column {node.column})")
        return int(value)

    def _add(self, node):
        return self._entrywise(sp.Add, [self(a) for a in node.args], "a sum (+, -)", node,
                               operands=True)

    def _mul(self, node):
        product = self._entrywise(sp.Mul, [self(a) for a in node.args], "*", node,
                                  operands=True)
        if isinstance(product, Matrix):
            return product
        coefficient = product.as_coeff_Mul()[0]
        if coefficient.is_Rational and max(abs(coefficient.p), coefficient.q).bit_length() \
                > MAX_RESULT_DIGITS * 3.33:
            raise ClaimError(f"a number too large or too small at column {node.column}")
        return product

    def _neg(self, node):
        value = self(node.args[0])
        return self._built(value.map(lambda x: -x)) if isinstance(value, Matrix) else -value

    def _matmul(self, node):
        left, right = (self(a) for a in node.args)
        return self._built(matrices.matmul(left, right, node.column))

    def _product(self, node):
        """LaTeX juxtaposition (and \\cdot): the matrix product between two matrices, else
        the plain product, left to right (W^T \\delta, 2 W x)."""
        value = self(node.args[0])
        for arg in node.args[1:]:
            factor = self(arg)
            if isinstance(value, Matrix) and isinstance(factor, Matrix):
                value = self._built(matrices.matmul(value, factor, arg.column))
            else:
                value = self._entrywise(sp.Mul, [value, factor], "*", node)
        return value

    def _entrywise(self, function, values, what, node, operands: bool = False):
        """Entry by entry; `operands`: the values are node.args's, whose columns a
        message about their shapes names."""
        if not any(isinstance(v, Matrix) for v in values):
            return function(*values)
        columns = [a.column for a in node.args] if operands else node.column
        return self._built(matrices.elementwise(function, values, what, columns))

    def _built(self, value):
        """Matrix entries count against the formula's size, as written-out terms do."""
        if isinstance(value, Matrix):
            rows, columns = value.shape
            self.entries += rows * columns
            if self.entries > matrices.MAX_BUILT:
                raise ClaimError(f"the claim's matrices are too large (more than "
                                 f"{matrices.MAX_BUILT:,} entries in all)")
            if self.work is not None:
                self.work.spend(0)
        return value

    def _pow(self, node):
        base, exponent = self(node.args[0]), self(node.args[1])
        if isinstance(base, Matrix) or isinstance(exponent, Matrix):
            return self._entrywise(lambda b, e: self._power(b, e, node), [base, exponent],
                                   "**", node)
        return self._power(base, exponent, node)

    def _power(self, base, exponent, node):
        if base.is_number and exponent.is_number and (base.is_Rational and exponent.is_Rational):
            size = abs(float(exponent)) * max(len(str(abs(base.p))), len(str(base.q)))
            if size > MAX_RESULT_DIGITS:
                raise ClaimError(f"a number too large or too small at column {node.column}")
        elif exponent.is_Rational and abs(exponent) > 1000:
            raise ClaimError(f"exponent too large at column {node.column}")
        return base**exponent

    def _call(self, node):
        args = [self(a) for a in node.args]
        name = node.value
        if name == "d":
            return self._derivative(*args, node.column)
        if name == "hadamard":
            return self._entrywise(sp.Mul, args, "hadamard (or \\odot)", node, operands=True)
        if name.endswith("_prime"):
            self.scope.activation_derivative(name)
        function = FUNCTIONS[name]
        if function.whole:
            if name in ("outer", "diag", "ones"):
                return self._built(function.build(*args, column=node.column))
            return self._built(function.build(*args))
        return self._entrywise(function.build, args, f"{name}()", node, operands=True)

    def _derivative(self, of, wrt, column):
        if isinstance(wrt, Matrix) and not all(x.is_Symbol or x.is_Number for x in wrt.entries) \
                or not isinstance(wrt, Matrix) and not wrt.is_Symbol:
            raise ClaimError(f"d(A, B): B must be a quantity, a vector or a matrix of "
                             f"them (column {column})")
        return self._built(self.scope.derivative(of, wrt))

    def _indicator(self, node):
        left, right = (self(a) for a in node.args)
        return _kronecker(left, right)

    def _sum(self, node):
        """A sum depends on few of a template's indices (Σ_m delta_o[m] w_o[m, j] on j
        alone): made once per value of those, not once per instance."""
        if self.sums is None:
            return self._terms(node)
        if id(node) not in self.sums:
            self.sums[id(node)] = (_plain_names(node, self.scope), {})
        names, values = self.sums[id(node)]
        if names is None:
            return self._terms(node)
        # Under the rules of what an answer may use (usage.py), a sum made for one line or
        # instance is no value for another: they differ in what they may use.
        key = (getattr(self.scope, "usage", None), *(self.env.get(name) for name in names))
        if key not in values:
            values[key] = self._terms(node)
        return values[key]

    def _terms(self, node):
        body, low, high = node.args
        var = node.value
        first = self._index(low)
        last = self._sum_end(node, high)
        if last - first + 1 > MAX_SUM_TERMS:
            raise ClaimError(f"Sum has too many terms (column {node.column})")
        outer = self.env.get(var)
        terms = []
        for value in range(first, last + 1):
            self.env[var] = value
            terms.append(self(body))
        if outer is None:
            self.env.pop(var, None)
        else:
            self.env[var] = outer
        return self._entrywise(sp.Add, terms, "Sum", node) if terms else sp.S.Zero

    def _sum_end(self, node, high) -> int:
        if high is not None:
            return self._index(high)
        size = implied_range(node.args[0], node.value, self.scope, self.env)
        if size is None:
            raise ClaimError(f"cannot tell the range of the sum over '{node.value}': "
                             f"give its bounds (column {node.column})")
        return size


def latex_candidates(base: str, sub: str | None) -> list[str]:
    """Names a LaTeX name may mean: out_{h_1} -> out_h1, w_{5} -> w5, E_{total} -> E_total."""
    if sub is None:
        return list(dict.fromkeys([base, base.replace("_", "")]))
    sub = sub.replace(",", "_")
    joined = sub.replace("_", "")
    return list(dict.fromkeys([f"{base}_{sub}", f"{base}_{joined}", f"{base}{joined}"]))


def latex_families(base: str, sub: str | None, bound) -> list[tuple[str, str]]:
    """out_{hi} with i bound -> (i, 'out_h'); x_{k} with k bound -> (k, 'x')."""
    found = []
    for var in bound:
        if sub and sub.endswith(var):
            layer = sub[: -len(var)].rstrip("_")
            found.append((var, f"{base}_{layer}" if layer else base))
    return found


def implied_range(body: Node, var: str, scope: Scope, env: dict | None = None) -> int | None:
    """For an unbounded sum: the size of the first family that the variable indexes (of a
    numbered family, in the layer that `env` gives its layer index)."""
    stack = [body]
    while stack:
        node = stack.pop()
        if node.kind == "latex":
            base, sub, raw = node.value
            for written in (raw, *latex_candidates(base, sub)):
                alias = scope.alias(written)
                if alias is not None:
                    stack.append(alias)
                    break
            for _, family in latex_families(base, sub, [var]):
                size = scope.range_of(family, 0)
                if size is not None:
                    return size
        if node.kind == "scripted" and scope.by_layer(node.value[0]) and node.value[1]:
            parts = _subscript_parts(node.value[1], scope.index_count(node.value[0]))
            if var in parts:
                size = _numbered_range(node.value[0], node.args[0], parts.index(var) + 1,
                                       scope, env)
                if size is not None:
                    return size
        if node.kind == "example" and node.args[1].kind in ("name", "latex") and \
                _bare(node.args[1]) == var:
            size = scope.examples()
            if size:
                return size
        if node.kind == "family":
            for position, arg in enumerate(node.args):
                if arg.kind == "name" and arg.value == var:
                    layered = scope.by_layer(node.value)
                    size = None if layered else scope.range_of(node.value, position)
                    if layered and position:
                        size = _numbered_range(node.value, node.args[0], position, scope,
                                               env)
                    if size is not None:
                        return size
        stack.extend(a for a in node.args if isinstance(a, Node))
    return None


def _bare(node: Node) -> str | None:
    """The letter a name node is (n, or LaTeX's bare n)."""
    if node.kind == "name":
        return node.value
    return node.value[0] if node.kind == "latex" and node.value[1] is None else None


def _subscript_parts(sub: str, count: int) -> list[str]:
    """jk -> [j, k] where two indices are due, j,k and j_k too; 12 -> [1, 2] likewise."""
    parts = [p for p in re.split(r"[,_]", sub) if p]
    if len(parts) == 1 and count > 1 and len(parts[0]) == count:
        parts = list(parts[0])
    return parts


def _numbered_range(letter: str, layer: Node, position: int, scope: Scope,
                    env: dict | None) -> int | None:
    try:
        number = evaluate(layer, scope, env)
    except ClaimError:  # the layer is not known yet (an index still unbound)
        return None
    if isinstance(number, Matrix) or not number.is_Integer:
        return None
    return scope.numbered_range(letter, int(number), position)


def layer_numbers(node: Node, scope: Scope):
    """(letter, layer expression) for each numbered name in a formula, aliases written
    out: which layers a template over layers may take (every name must exist)."""
    stack, expanded = [node], set()
    while stack:
        current = stack.pop()
        if current.kind == "family" and current.args and scope.by_layer(current.value):
            yield current.value, current.args[0]
        elif current.kind == "scripted" and scope.by_layer(_letter(current)):
            yield _letter(current), current.args[0]
        written = current.value if current.kind == "name" else \
            current.value[2] if current.kind == "latex" else None
        if written is not None and written not in expanded:
            alias = scope.alias(written)
            if alias is not None:
                expanded.add(written)
                stack.append(alias)
        stack.extend(a for a in current.args if isinstance(a, Node))


def _letter(node: Node) -> str:
    return node.value[0]


def renamed(node: Node, names: dict[str, str]) -> Node:
    """The formula with index letters renamed (an alias w2_{jk} read as w2_{kj}); a letter
    a Sum inside binds is left alone there."""
    if node.kind == "sum" and node.value in names:
        names = {k: v for k, v in names.items() if k != node.value}
    if node.kind == "name" and node.value in names:
        return Node("name", value=names[node.value], column=node.column)
    if node.kind == "latex" and node.value[1] is None and node.value[0] in names:
        letter = names[node.value[0]]
        return Node("latex", value=(letter, None, letter), column=node.column)
    if not names or not node.args:
        return node
    return Node(node.kind, tuple(renamed(a, names) if isinstance(a, Node) else a
                                 for a in node.args), node.value, node.column)


def free_names(node: Node) -> set[str]:
    """Names used in a formula that no Sum inside it binds (index variables among them)."""
    found: set[str] = set()
    stack = [(node, frozenset())]
    while stack:
        current, bound = stack.pop()
        if current.kind == "name" and current.value not in bound:
            found.add(current.value)
        if current.kind == "latex" and current.value[1] is None and \
                current.value[0] not in bound:  # a bare LaTeX letter: l in a^{l-1}
            found.add(current.value[0])
        inner = bound | {current.value} if current.kind == "sum" else bound
        for child in current.args:
            if isinstance(child, Node):
                stack.append((child, inner if child is current.args[0] else bound))
    return found


def _plain_names(node: Node, scope: Scope) -> tuple[str, ...] | None:
    """The free names a subtree's value depends on, or None when that cannot be read off
    the tree (a LaTeX name or an alias may use any bound index)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.kind in ("latex", "scripted") or (current.kind == "name" and
                                       scope.alias(current.value) is not None):
            return None
        stack.extend(a for a in current.args if isinstance(a, Node))
    return tuple(sorted(free_names(node)))


def evaluate(node: Node, scope: Scope, env: dict[str, int] | None = None,
             sums: dict | None = None, work: Work | None = None,
             whole: bool = True) -> sp.Expr:
    """Build the SymPy expression of an IR tree; `env` binds template index variables,
    `sums` (a dict kept across calls on the same tree) remembers sums made before, and
    `work` bounds the nodes that calls sharing it may evaluate. A matrix is built entry by
    entry now, unless `whole` is False: then each entry is built when read (and an
    error in it is raised then)."""
    evaluator = Evaluator(scope, dict(env or {}), sums=sums, work=work)
    try:
        value = evaluator(node)
        if whole and isinstance(value, Matrix):
            value.rows  # noqa: B018 (every entry made, and its errors raised, here)
    except REFUSALS as exc:
        raise unbuilt(exc) from None
    if work is not None:
        work.spend(evaluator.visits % 32)
    return value
