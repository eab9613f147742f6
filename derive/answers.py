"""A student's answers file, read against the teacher's network.

What the student controls is the answers file and whatever else lies in their folder;
what the grader trusts is the network it pins (`--network`, pytest's `derive_network`).
So, with a pin, only an answers file is a submission (a spec with checks of its own is
refused, and so is a link to a file outside the submission's folder, such as the course's
solution), its `network:` must name the pinned course, and the pinned file is what is
read. Without a pin, `network:` must stay inside the answers file's folder, must be a
network (not another answers file, not the file itself), and a broken one is reported
without quoting it. The student's aliases may add notation, never replace the course's.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from . import files, safeyaml
from . import spec as specs
from .errors import SpecError, did_you_mean, echo
from .questions import Check, Questions
from .safeyaml import line_of
from .spec import Spec

KEYS = ("network", "answers", "aliases", "name")


def load(path: str | Path, pinned: str | Path | None = None, tolerant: bool = False) -> Spec:
    """A spec file, or an answers file with its network. `pinned` is a grader's course
    network: then the file must be an answers file that names it.

    An answer that cannot be read is kept as its check's `error`; `tolerant` returns the
    spec with such errors in it (a grader marks that answer alone), else the first one is
    raised."""
    if pinned is not None:
        return _checked(submission(path, course(pinned), pinned), tolerant)
    data = _data(path, None)
    if not _is_answers(data):
        return specs.from_data(data, str(path))
    reader, top = _top(data, str(path))
    return _checked(_against(reader, top, _network(reader, top, str(path))), tolerant)


def course(path: str | Path) -> Spec:
    """The course's network, the grader's own file: its errors are reported in full."""
    return _as_network(specs.read(path), str(path))


def _as_network(data, file: str) -> Spec:
    if _is_answers(data):
        raise SpecError("it is an answers file, not a network", file=file, line=1)
    spec = specs.from_data(data, file)
    if spec.checks:
        raise SpecError("a network for answers files keeps its questions under exercises:, "
                        "not checks:", file=file, line=1)
    return spec


def submission(path: str | Path, course: Spec, pinned: str | Path) -> Spec:
    """A student's answers against a course already loaded from `pinned` (a grader reads
    the course once for a whole class); unreadable answers are kept as errors."""
    reader, top = _top(_data(path, pinned), str(path))
    _pinned(reader, top, str(path), pinned)
    return _against(reader, top, course)


def _pinned(reader: specs.Reader, top: dict, file: str, pinned) -> None:
    """The answers' `network:` must name the pinned course."""
    written = reader.text(top["network"], line_of(top, "network"), "network")
    if not names(written, file, pinned):
        raise reader.fail(line_of(top, "network"), f"network: this course's network is "
                          f"{pinned}, not {echo(written)}")


def first_error(spec: Spec) -> SpecError | None:
    errors = [*spec.problems, *(check.error for check in spec.checks)]
    return next((error for error in errors if error is not None), None)


def _checked(spec: Spec, tolerant: bool) -> Spec:
    error = None if tolerant else first_error(spec)
    if error is not None:
        raise error
    return spec


def _data(path, pinned):
    """The YAML of a file; under a pin, it must be an answers file of the student's own."""
    file = str(path)
    if pinned is not None:  # a link to the course's solution is not the student's work
        try:
            files.inside(Path(file).parent, Path(file).name)
        except ValueError:
            raise SpecError("the submission is a link to a file outside its folder",
                            file=file, line=1) from None
    data = specs.read(path)
    if pinned is not None and not _is_answers(data):
        raise SpecError(f"not an answers file: a submission checked against {pinned} must "
                        f"give network: and answers:, not a network or checks of its own",
                        file=file, line=getattr(data, "line", 1))
    return data


def _is_answers(data) -> bool:
    return isinstance(data, dict) and "network" in data


def _top(data, file: str):
    reader = specs.Reader(file)
    return reader, reader.mapping(data, getattr(data, "line", 1), "answers file", KEYS,
                                  required=("network", "answers"))


def _against(reader: specs.Reader, top: dict, course: Spec) -> Spec:
    """The course's spec with the student's checks and aliases (the course's own stays as
    it is: a grader shares it among submissions)."""
    at = lambda key: line_of(top, key)  # noqa: E731
    answers = top["answers"]
    if not isinstance(answers, dict):
        raise reader.fail(at("answers"), "answers: expected a mapping of exercise ids to "
                          "formulas")
    spec = replace(course, checks=[], aliases=dict(course.aliases),
                   alias_places=dict(course.alias_places), problems=[])
    ids = [exercise.id for exercise in spec.exercises]
    for key in answers:  # each costs nothing but itself (a grader reports it)
        if key not in ids:
            hint = did_you_mean(key, ids, n=1) or f" (exercises: {echo(', '.join(ids))})"
            spec.problems.append(reader.fail(line_of(answers, key), f"answers: no exercise "
                                             f"'{echo(key)}'{hint}"))
    if top.get("aliases") is not None:
        spec.aliases = _merged(reader, spec, top["aliases"], at("aliases"))
    for exercise in spec.exercises:
        check = Check(wrt=exercise.wrt, of=exercise.of, expect=exercise.expect,
                      assume=exercise.assume, line=at("answers"), file=reader.file,
                      exercise=exercise.id, use=exercise.use, restricted=True,
                      mistakes=exercise.mistakes)
        if exercise.id in answers:
            try:
                Questions(reader).answer(check, answers[exercise.id],
                                         line_of(answers, exercise.id), f"answers.{exercise.id}")
            except SpecError as exc:  # this answer alone is lost
                check.error = exc
        spec.checks.append(check)
    return spec


def _network(reader: specs.Reader, top: dict, file: str) -> Spec:
    """The network an unpinned answers file names, inside its own folder."""
    line = line_of(top, "network")
    written = reader.text(top["network"], line, "network")
    try:
        target = files.inside(Path(file).parent, written)
    except ValueError as exc:
        raise reader.fail(line, f"network: {exc}") from None
    if files.same_file(target, file):
        raise reader.fail(line, "network: names this answers file itself")
    return _network_file(target, written, line, reader)


def _network_file(path, written: str, line: int, reader: specs.Reader) -> Spec:
    """Read the network an unpinned answers file names: the student's to name, so its
    errors are reported without quoting it."""
    try:
        raw = files.read(path)
    except SpecError as exc:  # why a file cannot be read says nothing of what it holds
        raise reader.fail(line, f"network: '{echo(written)}': {exc.message}") from None
    try:
        return _as_network(safeyaml.load(raw, str(path)), str(path))
    except SpecError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise reader.fail(line, f"network: '{echo(written)}' is not a valid network "
                          f"file{where}") from None


def names(written: str, file: str, pinned: str | Path) -> bool:
    """Does `network: written`, in the answers file `file`, name the pinned course network?

    It does when it leads to the pinned file, or when it is the pin's own trailing path
    (`course/network.yaml` in `submissions/s01/answers.derive.yaml` names the course at
    `course/network.yaml`): the pinned file is what is read either way."""
    if files.same_file(Path(file).parent / written, pinned):
        return True
    parts = Path(written).parts
    if not parts or Path(written).is_absolute() or ".." in parts or "." in parts:
        return False
    try:
        pinned_parts = Path(pinned).resolve().parts
    except (OSError, ValueError):
        return False
    return pinned_parts[-len(parts):] == parts


def _merged(reader: specs.Reader, spec: Spec, value, line: int) -> dict:
    """The course's aliases plus the student's, which may not replace any of them."""
    places: dict = {}
    added = reader.aliases(value, line, places)
    for key in added:
        if key in spec.aliases:
            raise reader.fail(places[key][1], f"aliases: '{echo(key)}' is the course's own "
                              f"alias and cannot be redefined")
    spec.alias_places.update(places)
    return {**spec.aliases, **added}
