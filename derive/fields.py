"""YAML values read as names, numbers, counts, text and formulas: each wrong one a
SpecError at its file and line, worded for the key it was read at."""

from __future__ import annotations

import keyword
import math
import re

from . import expr
from .errors import SpecError, did_you_mean, echo
from .questions import IDENTIFIER, MAX_NAME
from .safeyaml import kind_of, line_of

DERIVED = re.compile(r"(net|out|delta|target|E|n|d)_.*")
RESERVED = {"E", "I", "S", "N", "O", "Q", "pi", "oo", "nan", "zoo", "E_total", "x",
            *expr.FUNCTIONS, "Sum"}


class Fields:
    """The shapes every part of a spec file is read with (the spec's, an answers file's,
    a layer's, a question's)."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, line: int, message: str) -> SpecError:
        return SpecError(message, file=self.file, line=line)

    def mapping(self, value, line: int, where: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(line, f"{where}: expected a mapping, got {kind_of(value)}")
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed, n=1) or f" (allowed: {', '.join(allowed)})"
                raise self.fail(line_of(value, key), f"{where}: unknown key "
                                f"'{echo(key)}'{hint}")
        for key in required:
            if key not in value:
                raise self.fail(line, f"{where}: missing '{key}'")
        return value

    def name(self, value, line: int, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(line, f"{where}: expected a name, got {kind_of(value)}")
        if len(value) > MAX_NAME or not IDENTIFIER.fullmatch(value):
            raise self.fail(line, f"{where}: '{echo(value)}' is not a valid name (letters, "
                            f"digits and _, starting with a letter)")
        if value in RESERVED or keyword.iskeyword(value):
            raise self.fail(line, f"{where}: '{value}' is reserved; choose another name")
        if DERIVED.fullmatch(value):
            raise self.fail(line, f"{where}: '{value}' looks like a derived quantity "
                            f"({value.split('_')[0]}_...); choose another name")
        return value

    def number(self, value, line: int, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(line, f"{where}: expected a number, got {kind_of(value)}")
        if not math.isfinite(value) or abs(value) > 1e12:
            raise self.fail(line, f"{where}: {value} is out of range")
        return value

    def count(self, value, line: int, where: str, most: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(line, f"{where}: expected a whole number, got {kind_of(value)}")
        if not 1 <= value <= most:
            raise self.fail(line, f"{where}: {value} is out of range (1 to {most})")
        return value

    def at_most(self, items, line: int, where: str, most: int) -> None:
        if len(items) > most:
            raise self.fail(line, f"{where}: too many ({len(items):,}; the limit is {most:,})")

    def text(self, value, line: int, where: str) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(line, f"{where}: expected text, got {kind_of(value)}")
        return str(value)

    def formula(self, value, line: int, where: str) -> expr.Node:
        try:
            return expr.parse(self.text(value, line, where))
        except SpecError:
            raise
        except Exception as exc:  # ClaimError: re-raise as a spec problem at this line
            raise self.fail(line, f"{where}: {getattr(exc, 'message', exc)}") from None

    def distinct(self, names: list[str], node, where: str) -> None:
        seen: set[str] = set()
        for k, name in enumerate(names):
            if name in seen:
                raise self.fail(line_of(node, k), f"{where}: '{name}' appears twice")
            seen.add(name)
