"""A YAML subset loader for untrusted specs.

Built from PyYAML's event stream (libyaml's where there is one; neither is recursive)
rather than its constructors, so:
no tags, no anchors or aliases (no alias bombs), no duplicate keys, bounded depth and size,
every scalar kept as written (a weight named `on` stays the string 'on'; `010` is ten), and
every value remembers its line.
"""

from __future__ import annotations

import functools
import re

import yaml

from .errors import SpecError, echo

MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 200_000

# libyaml's event parser where PyYAML was built with it (a 5 ms spec reads in 0.2 ms, what
# grading a class of a thousand spends most of its reading on); the same events either way
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_NULLS = {"", "~", "null", "Null", "NULL"}


class Map(dict):
    """A mapping that knows the line of itself and of each key."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}


class Seq(list):
    """A sequence that knows the line of itself and of each item."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: list[int] = []


def line_of(container, key) -> int:
    """The line of an item of a Map or Seq (the container's own line if unknown)."""
    lines = getattr(container, "lines", None)
    try:
        return lines[key]
    except (KeyError, IndexError, TypeError):
        return getattr(container, "line", 1)


def _scalar(event: yaml.ScalarEvent):
    text = event.value
    if event.style:  # quoted or block scalar: always a string
        return text
    if text in _NULLS:
        return None
    if _NUMBER.fullmatch(text):
        if len(text) > 40:
            raise SpecError(f"number too long ({len(text)} characters)",
                            line=event.start_mark.line + 1)
        return float(text) if any(c in text for c in ".eE") else int(text)
    return text


def load(data: bytes, file: str) -> object:
    """Parse one YAML document of `data` into Map, Seq, str, int, float and None."""
    if len(data) > MAX_BYTES:
        raise SpecError(f"file is too large ({len(data):,} bytes; the limit is {MAX_BYTES:,})",
                        file=file, line=1)
    if b"\0" in data:
        raise SpecError("not a text file (it contains NUL bytes)", file=file, line=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError("not UTF-8 text", file=file, line=line) from None
    try:
        return _build(yaml.parse(text, Loader=_PARSER), file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(f"invalid YAML: {problem}", file=file,
                        line=mark.line + 1 if mark else 1) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise SpecError(f"invalid YAML: unacceptable character #x{exc.character:04x}",
                        file=file, line=line) from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise SpecError(f"invalid YAML: {first}", file=file, line=1) from None


def _build(events, file: str):
    stack: list = []  # open containers; a Map's pending key rides along as [map, key]
    root = _NOTHING = object()
    documents = 0
    nodes = 0
    for event in events:
        line = event.start_mark.line + 1 if event.start_mark else 1
        fail = functools.partial(SpecError, file=file, line=line)

        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise fail("more than one YAML document in the file")
            continue
        if isinstance(event, yaml.AliasEvent):
            raise fail("YAML aliases (*name) are not allowed in a spec")
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            value, _ = stack.pop()
            _attach(stack, value, value.line, file)
            if not stack:
                root = value
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if event.anchor is not None:
            raise fail("YAML anchors (&name) are not allowed in a spec")
        if getattr(event, "tag", None) not in (None, "!"):
            raise fail(f"YAML tags are not allowed in a spec ({event.tag})")
        nodes += 1
        if nodes > MAX_NODES:
            raise fail(f"too many YAML values (more than {MAX_NODES:,})")
        if isinstance(event, yaml.ScalarEvent):
            value = _scalar(event)
            if not stack:
                root = value
            else:
                _attach(stack, value, line, file)
            continue
        if len(stack) >= MAX_DEPTH:
            raise fail(f"nested too deeply (more than {MAX_DEPTH} levels)")
        stack.append([Map(line) if isinstance(event, yaml.MappingStartEvent) else Seq(line),
                      _NO_KEY])
    if root is _NOTHING:
        raise SpecError("the file is empty", file=file, line=1)
    return root


def _attach(stack: list, value, line: int, file: str) -> None:
    """Put a finished value into the open container: a Seq item, a Map key, or a Map value."""
    if not stack:
        return
    top = stack[-1]
    container, key = top
    if isinstance(container, Seq):
        container.append(value)
        container.lines.append(line)
    elif key is _NO_KEY:
        if not isinstance(value, str | int | float):
            raise SpecError("a mapping key must be a plain name", file=file, line=line)
        key = str(value)
        if key in container:
            raise SpecError(f"duplicate key '{key}' (first at line {container.lines[key]})",
                            file=file, line=line)
        container.lines[key] = line
        top[1] = key
    else:
        container[key] = value
        top[1] = _NO_KEY


_NO_KEY = object()


def kind_of(value) -> str:
    """What a YAML value is, for a message: a list, the number 3, the text '...'."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the text '{echo(value, 30)}'"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
