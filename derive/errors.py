"""Domain errors. Core modules raise these; only the CLI turns them into messages."""

from __future__ import annotations

import difflib

MAX_ECHO = 60


def printable(text: str) -> str:
    """Text that cannot break a line or steer a terminal or a CI log: every character that
    is not printable (CR, LF, ESC, other controls, bidi overrides, lone surrogates) is
    written as an escape, so a message stays one line of inert text in every format."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else \
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def echo(text: str, limit: int = MAX_ECHO) -> str:
    """User text made safe to quote in a one-line message: escaped and truncated."""
    return printable(text if len(text) <= limit else text[: limit - 1] + "…")


def did_you_mean(name: str, known, n: int = 3, cutoff: float = 0.6) -> str:
    """' (did you mean 'a', 'b'?)' for the known names closest to name, or ''."""
    close = difflib.get_close_matches(name, list(known), n=n, cutoff=cutoff)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


class DeriveError(Exception):
    """Something the user gave us (spec, claim, command line) is invalid."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def located(self, file: str | None = None, line: int | None = None) -> DeriveError:
        """Fill in a location the raiser did not know; keeps a more precise one."""
        self.file = self.file or file
        self.line = self.line or line
        return self

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        return printable(f"{where}: {self.message}" if where else self.message)


class SpecError(DeriveError):
    """The spec file is not a valid network description."""


class ClaimError(DeriveError):
    """A claim cannot be parsed, or it names something the network does not have."""


class NoLayer(ClaimError):
    "A numbered name for a layer the network does not have (a template skips that layer)"


REFUSALS = (ValueError, TypeError, ArithmeticError, RecursionError)  # SymPy's, building


def unbuilt(exc: Exception) -> ClaimError:
    """SymPy's refusal to build a formula (Max(1/0, out_h1) is "not comparable"; a
    recursion too deep), as the claim's error."""
    if isinstance(exc, RecursionError):
        return ClaimError("the formula is nested too deeply")
    return ClaimError(f"the formula cannot be built: {echo(str(exc), 80)}")
