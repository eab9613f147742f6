"""Vectors and matrices of quantities (SPEC §6, §11): the values a matrix claim is made of.

A `Matrix` is a grid of SymPy scalars, nothing more: a claim in matrix form is compared
entry by entry, so there is no symbolic matrix algebra to trust. The rules are the
textbooks' and settled in SPEC §11: `@` is the matrix product; `+ - * / **` apply entry by
entry between equal shapes, or between a scalar and a matrix; a 1×1 result is a scalar.
Anything else is an ill-formed claim, refused with both shapes named.

An operation's result knows its shape at once and makes each entry when it is first read,
once: the 25,088 entries of `delta_h @ transpose(inputs)` cost nothing until read, and a
matrix check whose entries are each other's relabelled images (matrix_layout.py) reads few.
"""

from __future__ import annotations

import sympy as sp

from .errors import REFUSALS, ClaimError, unbuilt

MAX_ENTRIES = 250_000  # of one matrix, or products of one @: the largest weight matrix
MAX_BUILT = 2_000_000  # entries of all the matrices one formula builds


class Matrix:
    """Rows of SymPy scalars, given, or made entry by entry by `entry(r, c)` (0-based)
    when read."""

    __slots__ = ("shape", "_rows", "_make", "_made")

    def __init__(self, rows=None, *, shape: tuple[int, int] | None = None, make=None):
        if rows is not None:
            self._rows = tuple(tuple(row) for row in rows)
            self.shape = len(self._rows), len(self._rows[0])
        else:
            self._rows, self.shape = None, shape
        self._make, self._made = make, {}

    def entry(self, r: int, c: int) -> sp.Expr:
        if self._rows is not None:
            return self._rows[r][c]
        made = self._made
        if (r, c) not in made:
            try:
                made[r, c] = self._make(r, c)
            except REFUSALS as exc:  # as if the formula were built now
                raise unbuilt(exc) from None
        return made[r, c]

    @property
    def rows(self) -> tuple[tuple[sp.Expr, ...], ...]:
        """Every entry, made now if not yet (and kept)."""
        if self._rows is None:
            n, m = self.shape
            self._rows = tuple(tuple(self.entry(r, c) for c in range(m)) for r in range(n))
            self._make, self._made = None, {}
        return self._rows

    @property
    def entries(self) -> list[sp.Expr]:
        return [x for row in self.rows for x in row]

    def map(self, function) -> Matrix:
        return deferred(self.shape, lambda r, c: function(self.entry(r, c)))

    def sympy(self) -> sp.ImmutableMatrix:
        """For printing: SymPy's own matrix, which its LaTeX and text printers know."""
        return sp.ImmutableMatrix(self.rows)

    def __eq__(self, other) -> bool:
        return isinstance(other, Matrix) and self.shape == other.shape and \
            self.rows == other.rows

    def __hash__(self) -> int:
        return hash(self.rows)

    def __repr__(self) -> str:
        return f"Matrix({self.rows!r})"


def made(rows) -> Matrix | sp.Expr:
    """A matrix from rows of scalars; 1×1 is the scalar itself."""
    rows = tuple(tuple(row) for row in rows)
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    return Matrix(rows)


def deferred(shape: tuple[int, int], make) -> Matrix | sp.Expr:
    """A matrix whose entry (r, c) is make(r, c), made when read; 1×1 is that scalar now."""
    if shape == (1, 1):
        return make(0, 0)
    return Matrix(shape=shape, make=make)


def column(items) -> Matrix | sp.Expr:
    return made((x,) for x in items)


def shape(value) -> tuple[int, int]:
    return value.shape if isinstance(value, Matrix) else (1, 1)


def shown(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def is_matrix(value) -> bool:
    return isinstance(value, Matrix)


def entries(value) -> list:
    """A matrix's entries, row by row; a scalar alone."""
    return value.entries if isinstance(value, Matrix) else [value]


def entry(value, r: int, c: int):
    """Entry (r, c), 0-based, of a matrix; a scalar is its own only entry."""
    return value.entry(r, c) if isinstance(value, Matrix) else value


def elementwise(function, values: list, what: str, columns=0):
    """function(*entries) at each position; scalars take part at every position.
    `columns`: where each value is written (for the message), or one column for all."""
    shapes = [v.shape for v in values if isinstance(v, Matrix)]
    if not shapes:
        return function(*values)
    if len(set(shapes)) > 1:
        where = columns if isinstance(columns, list) else [columns] * len(values)
        first = next(v.shape for v in values if isinstance(v, Matrix))
        odd = next(k for k, v in enumerate(values)
                   if isinstance(v, Matrix) and v.shape != first)
        column = f" (column {where[odd]})" if where[odd] else ""
        advice = ": use @ for the matrix product" if what == "*" else ""
        raise ClaimError(f"{what} needs equal shapes, got {shown(first)} and "
                         f"{shown(values[odd].shape)}{column}{advice}")
    return deferred(shapes[0], lambda r, c: function(*(entry(v, r, c) for v in values)))


def matmul(left, right, column: int = 0):
    (n, inner), (rows, m) = shape(left), shape(right)
    if inner != rows:
        raise ClaimError(f"@ needs the columns of the left to match the rows of the right, "
                         f"got {shown(shape(left))} @ {shown(shape(right))} (column {column})")
    _bounded(n * m * inner, column)
    return deferred((n, m), lambda r, c: sp.Add(*(entry(left, r, k) * entry(right, k, c)
                                                  for k in range(inner))))


def transpose(value):
    n, m = shape(value)
    return deferred((m, n), lambda r, c: entry(value, c, r))


def outer(left, right, column: int = 0):
    if shape(left)[1] != 1 or shape(right)[1] != 1:
        raise ClaimError(f"outer(a, b) takes two column vectors, got {shown(shape(left))} "
                         f"and {shown(shape(right))} (column {column})")
    return matmul(left, transpose(right), column)


def diag(value, column: int = 0):
    n, m = shape(value)
    if m != 1 and n != 1:
        raise ClaimError(f"diag(v) takes a vector, got a {shown((n, m))} matrix "
                         f"(column {column})")
    size = n * m
    _bounded(size ** 2, column)
    item = (lambda k: entry(value, k, 0)) if m == 1 else (lambda k: entry(value, 0, k))
    return deferred((size, size), lambda r, c: item(r) if r == c else sp.S.Zero)


def total(value):
    """sum(A): every entry added."""
    return sp.Add(*entries(value))


def ones(n, m=sp.S.One, column: int = 0):
    sizes = []
    for size in (n, m):
        if isinstance(size, Matrix) or not (size.is_Integer and size >= 1):
            raise ClaimError(f"ones(n, m) takes whole numbers of at least 1 (column {column})")
        sizes.append(int(size))
    _bounded(sizes[0] * sizes[1], column)
    return deferred(tuple(sizes), lambda r, c: sp.S.One)


def _bounded(entries: int, column: int) -> None:
    if entries > MAX_ENTRIES:
        raise ClaimError(f"the matrix is too large ({entries:,} products; the limit is "
                         f"{MAX_ENTRIES:,}) (column {column})")


def derivative(of, wrt, scalar):
    """d(A, B) for vectors and matrices: the gradient has B's shape when A is a scalar,
    A's when B is; for two vectors it is the Jacobian (entry r, c = dA_r/dB_c). A number
    in B (0 at an absent edge of a weight matrix, or a fixed weight) is no parameter: its
    entry is 0, as a frozen weight's gradient is. Entries are made when read."""
    inner = scalar
    scalar = lambda a, b: sp.S.Zero if b.is_Number else inner(a, b)  # noqa: E731
    if not isinstance(of, Matrix) and not isinstance(wrt, Matrix):
        return scalar(of, wrt)
    if not isinstance(of, Matrix):
        return deferred(wrt.shape, lambda r, c: scalar(of, wrt.entry(r, c)))
    if not isinstance(wrt, Matrix):
        return deferred(of.shape, lambda r, c: scalar(of.entry(r, c), wrt))
    if of.shape[1] != 1 or wrt.shape[1] != 1:
        raise ClaimError(f"d(A, B) of a {shown(of.shape)} by a {shown(wrt.shape)}: with a "
                         f"matrix, the other must be a scalar (two vectors give a Jacobian)")
    return deferred((of.shape[0], wrt.shape[0]),
                    lambda r, c: scalar(of.entry(r, 0), wrt.entry(c, 0)))
