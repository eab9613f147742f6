# NumPy cannot be imported twice in one process; pytester's in-process runs drop the
# modules they import, so it is imported here, before any of them.
import numpy  # noqa: F401

pytest_plugins = ["pytester"]
