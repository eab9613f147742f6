"""Domain errors. Core modules raise these; only the CLI turns them into messages."""

from __future__ import annotations

import difflib

MAX_ECHO = 60


def echo(text: str, limit: int = MAX_ECHO) -> str:
    """User text made safe to quote in a one-line message: escaped and truncated."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return shown if shown.isprintable() else shown.encode("unicode_escape").decode()


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
        return f"{where}: {self.message}" if where else self.message


class SpecError(DeriveError):
    """The spec file is not a valid network description."""


class ClaimError(DeriveError):
    """A claim cannot be parsed, or it names something the network does not have."""
