"""Numbered layers (SPEC §7): the textbooks' a^l_j, z^l_j, w^l_jk, δ^l, W^l, C.

With `notation:` in a spec, the input layer is number `first` (Nielsen 1, Ng 0) and each
layer after it the next number; `L` is the last. A letter names a kind of quantity in
every layer (`a[l, j]` is the out of unit j of layer l), and a course may add letters of
its own (`letters: {h: out, J: E_total}`). This module holds the numbers and the letters;
vocabulary.py resolves the names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import SpecError, did_you_mean, echo

# What a letter may stand for, and the default letters of each (Nielsen's).
MEANINGS = ("out", "net", "delta", "weight", "weights", "bias", "target", "input",
            "E_total", "units")
DEFAULT_LETTERS = {"a": "out", "z": "net", "delta": "delta", "w": "weight", "W": "weights",
                   "b": "bias", "y": "target", "x": "input", "C": "E_total", "n": "units"}
BY_LAYER = ("out", "net", "delta", "weight", "weights", "bias", "units")  # a[l, ...]
# Not letters a course may choose: the usual index letters, and what claims call
RESERVED = {"i", "j", "k", "l", "m", "e", "d", "pi", "Sum", "E", "I", "S", "N", "O", "Q"}
LAST = "L"
KEYS = ("first", "letters")


@dataclass(frozen=True)
class Numbering:
    first: int = 0
    letters: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LETTERS))

    def meaning(self, letter: str) -> str | None:
        return self.letters.get(letter)

    def last(self, layers: int) -> int:
        """L: the number of the output layer of a network with this many layers."""
        return self.first + layers

    def index(self, number: int, layers: int) -> int | None:
        """The position in spec.layers of layer `number` (-1: the input layer), or None."""
        position = number - self.first - 1
        return position if -1 <= position < layers else None


def _functions() -> set[str]:
    from .expr import CONSTANTS, FUNCTIONS  # the formula reader's own names

    return set(FUNCTIONS) | set(CONSTANTS)


def read(value, line: int, line_of, taken: set[str]) -> Numbering:
    """The `notation:` mapping; `taken` are the network's own names, which no letter may
    shadow."""
    if value is None:
        return Numbering()
    if not isinstance(value, dict):
        raise SpecError("notation: expected a mapping (first:, letters:)", line=line)
    for key in value:
        if key not in KEYS:
            hint = did_you_mean(str(key), KEYS, n=1) or f" (allowed: {', '.join(KEYS)})"
            raise SpecError(f"notation: unknown key '{echo(str(key))}'{hint}",
                            line=line_of(value, key))
    first = value.get("first", 0)
    if isinstance(first, bool) or not isinstance(first, int) or first not in (0, 1):
        raise SpecError("notation.first: expected the number of the input layer, 0 or 1",
                        line=line_of(value, "first") or line)
    letters = dict(DEFAULT_LETTERS)
    given = value.get("letters") or {}
    if not isinstance(given, dict):
        raise SpecError("notation.letters: expected a mapping of letters to meanings "
                        "(h: out)", line=line_of(value, "letters") or line)
    for letter, meaning in given.items():
        where = line_of(given, letter) or line
        if not isinstance(letter, str) or not letter.isidentifier() or len(letter) > 8 or \
                not letter.isascii():
            raise SpecError(f"notation.letters: '{echo(str(letter))}' is not a letter or a "
                            f"short name", line=where)
        if meaning not in MEANINGS:
            raise SpecError(f"notation.letters.{letter}: unknown meaning "
                            f"'{echo(str(meaning))}'{did_you_mean(str(meaning), MEANINGS, n=1)} "
                            f"(known: {', '.join(MEANINGS)})", line=where)
        letters[letter] = meaning
        if letter in taken or letter == LAST:
            raise SpecError(f"notation.letters: '{letter}' is also a name of this network; "
                            f"choose another letter", line=where)
        if letter in RESERVED or letter in _functions():
            raise SpecError(f"notation.letters: '{letter}' is an index letter, a function or "
                            f"a constant in claims; choose another letter", line=where)
    # A default letter that is one of the network's own names stays that name.
    return Numbering(first, {k: v for k, v in letters.items() if k in given or k not in taken})
