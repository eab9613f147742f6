"""The budget of symbolic work, counted in CPU seconds so that a verdict does not depend on load.

A wall-clock budget proves a claim on an idle machine and gives up on the same claim on a
busy one. CPU time spent by this process is the same either way, so the budget is measured
in it: between steps with `time.process_time()`, and inside one long SymPy call by a
profiling timer (SIGPROF counts CPU time, not wall time).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

BUDGET = 10.0  # CPU seconds of symbolic work per claim
SCREEN = 20.0  # CPU seconds per claim past the proof's budget (numbers, hints) before the
# worker judging it is killed (isolation.py)
FILE = 300.0  # CPU seconds for all the claims of one file; later claims are undecided
BUILD = 10.0  # CPU seconds to build the formulas of one check (all its instances), before
# any judging: SymPy's constructors (Max, Abs, ...) can be slow on what a student writes;
BUILD_EACH = 0.001  # and this much more per quantity of the network: a template over the
# 25,088 first-layer weights of 784-32-10 takes 4.5 s to build
AHEAD = 1.0  # CPU seconds to make a spec's first claim alone, to be judged while the
# others are made (claims.first_claim): it is made again with them, so it must not be slow
AGAIN = 0.05  # CPU seconds before the timer fires again, if its exception was swallowed


class OutOfTime(Exception):
    """The budget ran out in the middle of a SymPy call."""


class Allowance:
    """CPU seconds that work done at several times spends between them: the claims of a
    check that are built when first read (a template's instances, a matrix's entries) are
    bounded together, as `time_limit` bounds those built at once."""

    def __init__(self, seconds: float):
        self.seconds = self.left = seconds

    def spend(self, action):
        """action(), interrupted (OutOfTime) where the allowance runs out."""
        if self.left <= 0:
            raise OutOfTime
        start = clock()
        try:
            with time_limit(self.left):
                return action()
        finally:
            self.left -= clock() - start


def build_limit(quantities: int) -> float:
    """CPU seconds to build one check's formulas, in a network of so many quantities."""
    return BUILD + BUILD_EACH * quantities


def claim_limit(budget: float) -> float:
    """The hard limit of CPU seconds for all the work on one claim."""
    return budget + SCREEN


def clock() -> float:
    """The CPU time of this process, the measure of every deadline."""
    return time.process_time()


def deadline(seconds: float) -> float:
    return clock() + seconds


def passed(when: float) -> bool:
    return clock() > when


def interruptible() -> bool:
    """Can time_limit stop a SymPy call here?"""
    return hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread() and \
        signal.getitimer(signal.ITIMER_PROF)[0] == 0


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the block after `seconds` of CPU time, even inside one long SymPy call.

    A profiling timer signal: on POSIX, in the main thread, and only when no other
    profiling timer is running. Elsewhere the deadline checks between steps are the limit."""
    if not interruptible():
        yield
        return

    active = [True]

    def stop(signum, frame):
        if active[0]:  # a late signal, once the block is left, does nothing
            # Raised inside a garbage collector's callback, the exception is printed and
            # lost: so the timer fires again soon, until the block is left.
            signal.setitimer(signal.ITIMER_PROF, AGAIN)
            raise OutOfTime

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        try:
            yield
        finally:
            active[0] = False
    finally:  # reached even if the signal lands between the block's end and the line above
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
