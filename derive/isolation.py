"""Each claim is judged in a worker process, which is killed and replaced at its limit.

A timer signal can stop SymPy only in the main thread, and not inside C code or a garbage
collector's callback; a claim can also allocate without end. A process boundary bounds
all of it, on every platform, under pytest and xdist alike: the worker, forked once per
network (so it starts with the network built, and keeps its caches from claim to claim),
gets a limit of CPU time per claim from the kernel (RLIMIT_CPU, SIGXCPU) and a cap on its
memory (RLIMIT_AS); the parent also waits no longer than a generous wall-clock bound.
A claim that outlives its limit is `undecided`, says so, and the next claim gets a fresh
worker. The first claim can be sent ahead (`foresee`), to be judged while this process
makes the others. Where fork is not available, the worker is spawned and builds the
network from the spec.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import pickle
import signal
import sys

from . import limits, verdicts
from .network import Network
from .verdicts import Verdict

MEMORY = 4 << 30  # bytes of address space a worker may add to what it starts with
WALL = 3.0  # the parent waits at most WALL times a claim's CPU limit, plus GRACE seconds,
GRACE = 10.0  # a bound for platforms where the kernel does not count CPU for us


START: str | None = None  # "fork" or "spawn"; None: fork on Linux, spawn elsewhere


def _start_method() -> str:
    linux = sys.platform.startswith("linux")
    return "fork" if linux and "fork" in multiprocessing.get_all_start_methods() else "spawn"


class Judge:
    """Judges claims of one network in a worker process; use as a context manager."""

    def __init__(self, network: Network, budget: float = verdicts.BUDGET):
        self.network, self.budget = network, budget
        self.worker: _Worker | None = None
        self.spent: dict = {}  # CPU seconds each file's claims took, killed ones at their limit
        self.ahead: tuple | None = None  # a request sent before it was asked
        self.foreseen: bool | None = None  # whether the request sent ahead was the one asked

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.ahead = None

    def foresee(self, claim, truth, assume: str | None, hinted: bool = True) -> None:
        """Start judging the claim likely to be asked first, before it is asked: the
        worker judges it while this process makes the others (a template's 25,000
        instances take a second). Asked for another, the worker is replaced."""
        if self.worker is not None or self.ahead is not None:
            return
        limit = limits.claim_limit(self.budget)
        request = (claim, truth, assume, self.budget, limit, hinted)
        self.worker = _Worker(self.network)
        if self.worker.send(request) is None:
            self.ahead = request
        else:  # not sent: asked for, it is sent again, and fails as it would have
            self.close()

    def __call__(self, claim, truth, assume: str | None, budget: float | None = None,
                 hinted: bool = True, file: str | None = None) -> Verdict:
        """The verdict on one claim; `file` is whose limit of CPU seconds it draws on (a
        class judged by one worker: each submission has a limit of its own)."""
        budget = self.budget if budget is None else budget
        limit = limits.claim_limit(budget)
        if self.spent.get(file, 0.0) > limits.FILE:
            return Verdict("undecided", hint=f"not judged: the claims before it used up the "
                           f"limit of {limits.FILE:g} CPU seconds for one file")
        request = (claim, truth, assume, budget, limit, hinted)
        if self._sent_ahead(request):  # (its wall-clock bound from now: the worker may
            outcome = self.worker.receive(WALL * limit + GRACE)  # have had little CPU)
        else:
            if self.worker is None:
                self.worker = _Worker(self.network)
            outcome = self.worker.ask(request, WALL * limit + GRACE)
        if outcome is None or outcome[0] != "verdict":
            self.worker.stop()
            self.worker = None
            if outcome is None or outcome[0] in ("cpu", "died"):  # it used its time up
                self.spent[file] = self.spent.get(file, 0.0) + limit
            return _failed(outcome, limit)
        _, verdict, seconds = outcome
        self.spent[file] = self.spent.get(file, 0.0) + seconds
        return verdict

    def _sent_ahead(self, request: tuple) -> bool:
        """Was this request sent ahead? (A worker busy with another is replaced.)"""
        if self.ahead is None:
            return False
        sent, self.ahead = self.ahead, None
        self.foreseen = sent == request
        if not self.foreseen:
            self.close()
        return self.foreseen


def _failed(outcome, limit: float) -> Verdict:
    """The verdict on a claim whose worker died, was killed, or raised."""
    if outcome is None:
        hint = (f"out of time: judging this claim took longer than {WALL * limit + GRACE:g} "
                f"seconds")
    elif outcome[0] == "cpu":
        hint = (f"out of time: judging this claim took more than {limit:g} CPU seconds "
                f"(--budget gives the proof more)")
    elif outcome[0] == "memory":
        hint = (f"out of memory: judging this claim needed more than "
                f"{MEMORY >> 30} GiB")
    elif outcome[0] == "died":
        hint = (f"could not be judged: the process judging it ended (status {outcome[1]}; "
                f"out of memory?)")
    else:
        hint = f"could not be judged: {outcome[1]}"
    return Verdict("undecided", hint=hint)


class _Worker:
    def __init__(self, network: Network):
        context = multiprocessing.get_context(START or _start_method())
        self.conn, child = context.Pipe()
        # Forked, the worker starts with the network as built here; spawned, it gets the
        # spec and builds it again.
        forked = context.get_start_method() == "fork"
        source = network if forked else network.spec
        # Forked, the worker also holds this end of the pipe: it closes it, so that it sees
        # the end of the pipe (and ends) if this process dies without closing it.
        self.process = context.Process(target=_serve, daemon=True,
                                       args=(child, source, self.conn if forked else None))
        self.process.start()
        child.close()

    def ask(self, request, wall: float):
        """The worker's answer, or None if it died or was past the wall-clock bound."""
        failed = self.send(request)
        return self.receive(wall) if failed is None else failed

    def send(self, request):
        """None once the request is on its way; else why it is not (as `ask` says)."""
        try:
            self.conn.send(request)
        except (EOFError, OSError):
            return self._ended() or ("error", "the process judging it could not be reached")
        except (RecursionError, pickle.PicklingError):  # too deep to send: nothing was sent
            return ("error", "the formulas are nested too deeply to be judged")
        return None

    def receive(self, wall: float):
        """The answer to the request sent last, or None (as `ask`)."""
        try:
            if self.conn.poll(wall):
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        return self._ended()

    def _ended(self):
        """None while the worker is alive (past the wall-clock bound), else how it ended."""
        self.process.join(0.5)
        code = self.process.exitcode
        if code is None:  # alive, but past the wall-clock bound
            return None
        return ("cpu",) if -code == getattr(signal, "SIGXCPU", None) else ("died", code)

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


def _serve(conn, source, parents_end=None) -> None:
    """The worker: judge each claim it is sent, within the limits, until the pipe closes."""
    if parents_end is not None:
        parents_end.close()
    gc.freeze()  # the collector leaves what the parent built alone: scanning it would copy
    # every page of it into this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if hasattr(signal, "SIGXCPU"):
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)  # past its CPU limit: the worker ends
    network = source if isinstance(source, Network) else Network(source)
    _cap_memory()
    _no_core_files()
    while True:
        try:
            claim, truth, assume, budget, limit, hinted = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        start = limits.clock()
        _cap_cpu(start + limit)
        try:
            verdict = verdicts.judge(network, claim, truth, assume, budget, hinted)
            answer = ("verdict", verdict, limits.clock() - start)
        except MemoryError:
            answer = ("memory",)
        except RecursionError:
            answer = ("error", "the formulas are nested too deeply")
        except Exception as exc:  # noqa: BLE001 - a bug must not take the run down
            answer = ("error", f"internal error ({type(exc).__name__}); please report it")
        try:
            conn.send(answer)
        except (OSError, ValueError):
            os._exit(0)


def _cap_cpu(until: float) -> None:
    """SIGXCPU once this process has used `until` CPU seconds in all."""
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall-clock bound is the limit
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(until) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _no_core_files() -> None:
    """SIGXCPU's default action dumps core: a worker past its limit writes no core file."""
    try:
        import resource
    except ImportError:
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def _cap_memory() -> None:
    try:
        import resource
    except ImportError:
        return
    size = _address_space()
    if size is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = size + MEMORY
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None

