"""Vectors and matrices of quantities (SPEC §6, §11): the values a matrix claim is made of.

A `Matrix` is a grid of SymPy scalars, nothing more: a claim in matrix form is compared
entry by entry, so there is no symbolic matrix algebra to trust. The rules are the
textbooks' and settled in SPEC §11: `@` is the matrix product; `+ - * / **` apply entry by
entry between equal shapes, or between a scalar and a matrix; a 1×1 result is a scalar.
Anything else is an ill-formed claim, refused with both shapes named.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .errors import ClaimError

MAX_ENTRIES = 250_000  # of one matrix, or products of one @: the largest weight matrix
MAX_BUILT = 2_000_000  # entries of all the matrices one formula builds


@dataclass(frozen=True, slots=True)
class Matrix:
    rows: tuple[tuple[sp.Expr, ...], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0])

    @property
    def entries(self) -> list[sp.Expr]:
        return [x for row in self.rows for x in row]

    def map(self, function) -> Matrix:
        return Matrix(tuple(tuple(function(x) for x in row) for row in self.rows))

    def sympy(self) -> sp.ImmutableMatrix:
        """For printing: SymPy's own matrix, which its LaTeX and text printers know."""
        return sp.ImmutableMatrix(self.rows)


def made(rows) -> Matrix | sp.Expr:
    """A matrix from rows of scalars; 1×1 is the scalar itself."""
    rows = tuple(tuple(row) for row in rows)
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    return Matrix(rows)


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


def _grid(value) -> tuple[tuple[sp.Expr, ...], ...]:
    return value.rows if isinstance(value, Matrix) else ((value,),)


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
    n, m = shapes[0]
    return made(tuple(function(*(v.rows[r][c] if isinstance(v, Matrix) else v
                                  for v in values)) for c in range(m)) for r in range(n))


def matmul(left, right, column: int = 0):
    a, b = _grid(left), _grid(right)
    if len(a[0]) != len(b):
        raise ClaimError(f"@ needs the columns of the left to match the rows of the right, "
                         f"got {shown(shape(left))} @ {shown(shape(right))} (column {column})")
    _bounded(len(a) * len(b[0]) * len(b), column)
    columns = list(zip(*b))
    return made(tuple(sp.Add(*(x * y for x, y in zip(row, col))) for col in columns)
                for row in a)


def transpose(value):
    return made(zip(*_grid(value)))


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
    items = [x for row in _grid(value) for x in row]
    _bounded(len(items) ** 2, column)
    return made(tuple(x if r == c else sp.S.Zero for c in range(len(items)))
                for r, x in enumerate(items))


def total(value):
    """sum(A): every entry added."""
    return sp.Add(*(x for row in _grid(value) for x in row))


def ones(n, m=sp.S.One, column: int = 0):
    sizes = []
    for size in (n, m):
        if isinstance(size, Matrix) or not (size.is_Integer and size >= 1):
            raise ClaimError(f"ones(n, m) takes whole numbers of at least 1 (column {column})")
        sizes.append(int(size))
    _bounded(sizes[0] * sizes[1], column)
    return made((sp.S.One,) * sizes[1] for _ in range(sizes[0]))


def _bounded(entries: int, column: int) -> None:
    if entries > MAX_ENTRIES:
        raise ClaimError(f"the matrix is too large ({entries:,} products; the limit is "
                         f"{MAX_ENTRIES:,}) (column {column})")


def derivative(of, wrt, scalar):
    """d(A, B) for vectors and matrices: the gradient has B's shape when A is a scalar,
    A's when B is; for two vectors it is the Jacobian (entry r, c = dA_r/dB_c). A number
    in B (0 at an absent edge of a weight matrix, or a fixed weight) is no parameter: its
    entry is 0, as a frozen weight's gradient is."""
    inner = scalar
    scalar = lambda a, b: sp.S.Zero if b.is_Number else inner(a, b)  # noqa: E731
    if not isinstance(of, Matrix) and not isinstance(wrt, Matrix):
        return scalar(of, wrt)
    if not isinstance(of, Matrix):
        return made(tuple(scalar(of, b) for b in row) for row in wrt.rows)
    if not isinstance(wrt, Matrix):
        return made(tuple(scalar(a, wrt) for a in row) for row in of.rows)
    if of.shape[1] != 1 or wrt.shape[1] != 1:
        raise ClaimError(f"d(A, B) of a {shown(of.shape)} by a {shown(wrt.shape)}: with a "
                         f"matrix, the other must be a scalar (two vectors give a Jacobian)")
    return made(tuple(scalar(a, b) for b in wrt.entries) for a in of.entries)
