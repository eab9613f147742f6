"""Reading files that a student may have named: regular files only, bounded, confined.

A submission can name a FIFO (the read would block forever), a device (`/dev/zero` never
ends), a huge file, or a file outside its own folder (`../../other/answers.derive.yaml`,
`/etc/passwd`, a symlink that leads out). None of these is read, and no message quotes
what a file contains.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import SpecError, echo
from .safeyaml import MAX_BYTES


def read(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, checked before and during the
    read (a file that grows while it is read is refused too)."""
    file = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | \
        getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO does not wait for a writer
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", file=file) from None
    except ValueError:  # a NUL byte in the name
        raise SpecError("cannot read the file: its name is not a valid path",
                        file=file) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError("not a regular file (a directory, device, pipe or socket)",
                            file=file)
        if info.st_size > limit:
            raise SpecError(f"file is too large ({info.st_size:,} bytes; the limit is "
                            f"{limit:,})", file=file, line=1)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise SpecError(f"file is too large (more than {limit:,} bytes)", file=file, line=1)
        return b"".join(chunks)
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", file=file) from None
    finally:
        os.close(fd)


def inside(base: Path, written: str) -> Path:
    """`written` (a relative path from a submission) resolved inside the folder `base`:
    no absolute path, no `..` out of it, no symlink that leads out."""
    if Path(written).is_absolute() or Path(written).drive or written.startswith("~"):
        raise ValueError(f"'{echo(written)}' is an absolute path; name a file inside the "
                         f"submission's folder")
    root = base.resolve()
    target = (base / written).resolve()
    if target != root and root not in target.parents:
        raise ValueError(f"'{echo(written)}' leads outside the submission's folder")
    return target


def same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve() or os.path.samefile(a, b)
    except (OSError, ValueError):  # no such file, or a NUL byte in a name
        return False
