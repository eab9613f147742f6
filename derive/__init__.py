"""derive: check backpropagation derivations symbolically.

The pipeline, one module each: spec (load, validate) -> network (quantities) -> calculus
(gradients, d(A, B)) -> expr / latex / claims (formulas) -> verdicts -> report -> cli.
`derive.api` is the entry point for Python users; the CLI is a thin layer over it.
"""

from .api import Gradients, Result, check, check_one, gradients, load
from .errors import ClaimError, DeriveError, SpecError

__version__ = "0.1.0"
__all__ = ["load", "gradients", "check", "check_one", "Gradients", "Result", "DeriveError",
           "SpecError", "ClaimError"]
