"""A matrix check whose rows and columns number units: each entry is its first, relabelled.

`wrt: W_h` with `((transpose(W_o) @ delta_o) * out_h * (1 - out_h)) @ transpose(inputs)`:
the rows of every value in it number h's units or are one row, the columns the inputs' or
are one column, and each `@` adds over all the units of one layer (o, then a single
column). Renumber h and the inputs (symmetry.py) and entry (1, 1) becomes, symbol for
symbol, entry (r, c); so does the truth's, since the relabelling maps the network onto
itself. Read off the formula once, that replaces building and comparing the 25,088
entries of the first layer of an MNIST network: they are built when read (matrices.py),
and judged as a template's laid-out instances are (templates.py, on a sample).

The reading gives each value a type, (the layer its rows number, its columns'), None for
a single row or column; a scalar is (None, None) and must be left alone by the
relabelling. A name's type is read from where every entry of it sits in the network.
Then: `+ - * / **` and functions entry by entry need equal types, `@` the same layer
inside, transpose swaps, diag(v) numbers both with v's, sum() is a scalar, d(A, B) has
the type of the gradient or the Jacobian. Anything else (an alias, LaTeX, an index sum,
ones(), KroneckerDelta, a unit of a renumbered layer named alone) and there is no layout:
every entry is built and compared, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import expr, matrices
from .equivariance import Layout, Unproved, changed
from .errors import DeriveError
from .matrices import Matrix
from .symmetry import Permutations, Symmetry

Type = tuple  # (the layer the rows number, the columns'); None: one row, or one column
SCALAR: Type = (None, None)
ENTRYWISE = {"add", "mul", "pow", "neg"}
LEAF = ENTRYWISE | {"num", "name", "family", "latex", "scripted"}  # what a name's
# indices (and a numbered name's layer) may be written with


@dataclass
class GridLayout:
    """The layers that number a matrix check's rows and columns (None: one of them)."""

    rows: int | None
    columns: int | None

    def orbit(self, r: int, c: int) -> tuple[tuple[int, int], Permutations]:
        """The first entry like (r, c) (1-based) and the permutations from it to (r, c):
        (3, 7) of d(E, W_h) is (1, 1) with h's unit 1 sent to 3, the inputs' 1 to 7; in
        an h×h Jacobian, (3, 5) is (1, 2) relabelled, and (3, 3) is (1, 1)."""
        by_layer: dict[int, tuple[str, ...]] = {}
        env = {}
        for name, layer, value in (("r", self.rows, r), ("c", self.columns, c)):
            if layer is not None:
                by_layer[layer] = (*by_layer.get(layer, ()), name)
                env[name] = value
        first, perms = Layout(tuple(env), by_layer).orbit(env)
        first = dict(zip(env, first))
        return (first.get("r", r), first.get("c", c)), perms


def layout(table: Symmetry, names, of, wrt, body: expr.Node, env: dict) -> GridLayout | None:
    """The layout of a matrix check (`of`, `wrt`: its quantities, `body`: its claim read
    at the index values `env`), or None where its entries may not be relabelled."""
    try:
        return _Reading(table, names, env).read(of, wrt, body)
    except (Unproved, DeriveError, RecursionError):
        return None


class _Reading:
    def __init__(self, table: Symmetry, names, env: dict):
        self.table, self.names, self.env = table, names, env
        self.moved: set[int] = set()  # the layers the truth's rows and columns number
        self.typed: dict[int, tuple] = {}  # id of a name's value -> (the value, kept
        # so that its id is no other's, its type, the units its entries share)

    def read(self, of, wrt, body: expr.Node) -> GridLayout:
        truth = self._truth(self._value_type(of), self._value_type(wrt))
        self.moved = {layer for layer in truth if layer is not None}
        if not self.moved or not all(self.table.symmetric(layer) for layer in self.moved):
            raise Unproved
        for value in (of, wrt):  # read before the moved layers were known: a scalar must
            if not matrices.is_matrix(value):  # be left where it is (E_total), and the
                self._scalar(value)  # units the entries share are not moved
        for _, _, shared in self.typed.values():
            self._unmoved(shared)
        if self._walk(body) != truth:
            raise Unproved
        return GridLayout(*truth)

    @staticmethod
    def _truth(of: Type, wrt: Type) -> Type:
        """d(of, wrt)'s type: the gradient's (wrt's, or of's), or the Jacobian's."""
        if of == SCALAR:
            return wrt
        if wrt == SCALAR:
            return of
        if of[1] is not None or wrt[1] is not None:
            raise Unproved  # (d(A, B) refuses these)
        return of[0], wrt[0]

    # --- the formula, node by node ----------------------------------------------------------

    def _walk(self, node: expr.Node) -> Type:
        kind = node.kind
        if kind == "num":
            return SCALAR
        if kind in ("name", "family", "latex") or kind == "scripted" and \
                self.names.by_layer(node.value[0]):  # (A^{[1]}: a numbered name)
            return self._leaf(node)
        if kind == "scripted":  # out_{h1}^2: a power
            base = expr.Node("latex", value=node.value, column=node.column)
            return _common([self._leaf(base), self._walk(node.args[0])])
        if kind in ENTRYWISE:
            return _common([self._walk(arg) for arg in node.args])
        if kind == "matmul":
            return _matmul(*(self._walk(arg) for arg in node.args))
        if kind == "product":  # LaTeX's juxtaposition: @ between two matrices, else *
            found = self._walk(node.args[0])
            for arg in node.args[1:]:
                factor = self._walk(arg)
                found = _matmul(found, factor) if SCALAR not in (found, factor) else \
                    _common([found, factor])
            return found
        if kind == "call":
            return self._call(node)
        raise Unproved  # an index sum, an example's (n), an indicator, \nabla

    def _call(self, node: expr.Node) -> Type:
        name, args = node.value, [self._walk(arg) for arg in node.args]
        if name == "transpose":
            return args[0][::-1]
        if name == "diag":
            layer = args[0][0] if args[0][1] is None else args[0][1]
            if None not in args[0]:
                raise Unproved  # (diag refuses it)
            return layer, layer
        if name == "sum":
            return SCALAR
        if name == "outer":
            (a, a_columns), (b, b_columns) = args
            if a_columns is not None or b_columns is not None:
                raise Unproved
            return a, b
        if name == "d":
            return self._truth(*args)
        function = expr.FUNCTIONS.get(name)
        if name == "hadamard" or function is not None and not function.whole:
            return _common(args)
        raise Unproved  # ones(), KroneckerDelta

    def _leaf(self, node: expr.Node) -> Type:
        """A name, a family or a LaTeX name: its value's type. An alias is refused (its
        formula would need reading), and so is any index that reads one."""
        for part in node.walk():
            if part.kind not in LEAF:
                raise Unproved
            if part.kind == "name" and part.value not in self.env and \
                    self.names.alias(part.value) is not None:
                raise Unproved
            if part.kind == "latex":
                base, sub, raw = part.value
                if any(self.names.alias(w) is not None
                       for w in (raw, *expr.latex_candidates(base, sub))) or \
                        self.names.indexed_alias(raw, self.env) is not None:
                    raise Unproved
        return self._value_type(expr.evaluate(node, self.names, self.env))

    # --- a value: where its entries sit -----------------------------------------------------

    def _value_type(self, value) -> Type:
        if not matrices.is_matrix(value):
            self._scalar(value)
            return SCALAR
        if id(value) not in self.typed:
            self.typed[id(value)] = (value, *self._matrix_type(value))
        _, found, shared = self.typed[id(value)]
        self._unmoved(shared)
        return found

    def _scalar(self, value) -> None:
        """A scalar must be no unit of a layer the relabelling moves."""
        if not isinstance(value, sp.Basic) or not (value.is_Symbol or value.is_Number):
            raise Unproved  # (an expression: its symbols are not looked for)
        if value.is_Symbol:
            position = self.table.positions.get(value)
            if position is not None:
                self._unmoved(position[1])

    def _unmoved(self, units) -> None:
        if any(layer in self.moved for layer, _ in units):
            raise Unproved

    def _matrix_type(self, value: Matrix) -> tuple[Type, list]:
        """Each entry must sit where its row's unit (of the rows' layer) and its
        column's are in one place, the other units the same throughout (and unmoved)."""
        n, m = value.shape
        start = self._position(value.entry(0, 0))
        places = [None, None]  # (layer, place in the position) of the rows', the columns'
        if n > 1:
            places[0] = changed(start, self._position(value.entry(1, 0)), 1, 2)
        if m > 1:
            places[1] = changed(start, self._position(value.entry(0, 1)), 1, 2)
        for place, size in zip(places, (n, m)):
            if place is not None and self.table.sizes[place[0]] != size:
                raise Unproved  # part of a layer
        taken = {p[1] for p in places if p is not None}
        rest = [u for k, u in enumerate(start[1]) if k not in taken]
        for r in range(n):
            for c in range(m):
                kind, units = self._position(value.entry(r, c))
                if kind != start[0] or len(units) != len(start[1]):
                    raise Unproved
                for place, number in zip(places, (r, c)):
                    if place is not None and units[place[1]] != (place[0], number + 1):
                        raise Unproved
                if [u for k, u in enumerate(units) if k not in taken] != rest:
                    raise Unproved
        return tuple(p[0] if p is not None else None for p in places), rest

    def _position(self, value) -> tuple:
        if not isinstance(value, sp.Symbol):
            raise Unproved  # a fixed weight, or an absent edge's 0
        position = self.table.positions.get(value)
        if position is None or self.table.at.get(position) != value:
            raise Unproved
        return position


def _matmul(left: Type, right: Type) -> Type:
    """@ adds over all the units of one layer (or over a single column)."""
    (rows, inner), (other, columns) = left, right
    if inner != other:
        raise Unproved  # (over a layer and another of its size)
    return rows, columns


def _common(types: list[Type]) -> Type:
    """Entry by entry: every matrix of one type, scalars beside them."""
    found = {t for t in types if t != SCALAR}
    if len(found) > 1:
        raise Unproved
    return found.pop() if found else SCALAR
