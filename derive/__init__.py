"""derive: check backpropagation derivations symbolically.

The pipeline, one module each: spec (load, validate) -> network (quantities) -> calculus
(gradients, d(A, B)) -> expr / latex / claims (formulas) -> verdicts -> report -> cli.
`derive.api` is the entry point for Python users; the CLI is a thin layer over it.
"""

from .errors import ClaimError, DeriveError, SpecError

__version__ = "0.1.0"
__all__ = ["load", "gradients", "check", "check_one", "Gradients", "Result", "DeriveError",
           "SpecError", "ClaimError"]
_FROM_API = {"load", "gradients", "check", "check_one", "Gradients", "Result"}


def __getattr__(name: str):
    """derive.load and the rest of the API, loaded on first use (the engine loads SymPy:
    `derive --help` should not)."""
    if name in _FROM_API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")
