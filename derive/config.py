"""`[tool.derive]` in pyproject.toml, and the files a folder holds (as ruff and pytest do).

```toml
[tool.derive]
budget = 5                       # CPU seconds of symbolic work per claim
feedback = "hint"                # what verdicts show (feedback.py)
files = ["*.derive.yaml"]        # what `derive check FOLDER` checks
```
The nearest pyproject.toml with a `[tool.derive]` table, from the current folder up, is
used; the command line overrides it.
"""

from __future__ import annotations

import fnmatch
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import feedback, files
from .errors import DeriveError, did_you_mean, echo
from .limits import BUDGET

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FILES = ("*.derive.yaml", "*.derive.yml")
SKIPPED = {"venv", "node_modules", "__pycache__"}  # besides every hidden folder
KEYS = ("budget", "feedback", "files")


@dataclass
class Config:
    budget: float = BUDGET
    feedback: str | None = None
    files: tuple[str, ...] = FILES


def load(start: Path | None = None) -> Config:
    """The configuration in force in `start` (default: the current folder)."""
    folder = (start or Path.cwd()).resolve()
    for place in (folder, *folder.parents):
        path = place / "pyproject.toml"
        if path.is_file():
            table = _table(path)
            if table is not None:
                return _read(table, str(path))
    return Config()


def _table(path: Path) -> dict | None:
    try:
        data = tomllib.loads(files.read(path).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeriveError(f"invalid TOML: {echo(str(exc), 120)}", file=str(path)) from None
    tool = data.get("tool")
    table = tool.get("derive") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise DeriveError("[tool.derive] must be a table", file=str(path))
    return table


def _read(table: dict, file: str) -> Config:
    config = Config()
    for key, value in table.items():
        where = f"[tool.derive] {echo(key)}"
        if key not in KEYS:
            raise DeriveError(f"{where}: unknown key{did_you_mean(key, KEYS, n=1)} (known: "
                              f"{', '.join(KEYS)})", file=file)
        if key == "budget":
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not math.isfinite(value) or value < 0:
                raise DeriveError(f"{where}: expected CPU seconds (0 or more)", file=file)
            config.budget = float(value)
        elif key == "feedback":
            if value not in feedback.LEVELS:
                raise DeriveError(f"{where}: expected one of {', '.join(feedback.LEVELS)}",
                                  file=file)
            config.feedback = value
        elif not isinstance(value, list) or not value or \
                not all(isinstance(p, str) and p for p in value):
            raise DeriveError(f"{where}: expected a list of glob patterns", file=file)
        else:
            config.files = tuple(value)
    return config


def expand(paths, patterns: tuple[str, ...]) -> list[str]:
    """Each path as given; a folder, the files below it that match the patterns (hidden
    folders and virtual environments skipped), in a stable order."""
    found: list[str] = []
    for given in paths:
        if not os.path.isdir(given):
            found.append(given)
            continue
        matched = []
        for root, folders, names in os.walk(given):
            folders[:] = sorted(f for f in folders if f not in SKIPPED and not f.startswith("."))
            matched += [os.path.join(root, n) for n in sorted(names)
                        if any(fnmatch.fnmatch(n, p) for p in patterns)]
        if not matched:
            raise DeriveError(f"no files matching {', '.join(patterns)} under this folder",
                              file=str(given))
        found += matched
    return found

