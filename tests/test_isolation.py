"""Per-claim limits by process isolation: whatever a claim does, the run goes on.

The worker is forked with the parent's modules, so replacing `verdicts.judge` here puts a
claim that never ends (or eats memory, or crashes) into the worker, where only the limits
can stop it.
"""

import gc
import os
import threading
import time
from pathlib import Path

import pytest

from derive import api, claims, isolation, limits, verdicts

MAZUR = Path(__file__).parent.parent / "specs" / "mazur.yaml"
HARMLESS = "delta_o1*out_h1"


def forever():
    while True:
        sum(range(10_000))


@pytest.fixture
def hostile(monkeypatch):
    """Claims that mention w1 misbehave as `behave` says; the rest are judged as usual."""
    monkeypatch.setattr(limits, "SCREEN", 1.0)
    judge = verdicts.judge

    def install(behave):
        def judged(network, claim, truth, *args, **kwargs):
            if "w1" in str(claim):
                behave()
            return judge(network, claim, truth, *args, **kwargs)
        monkeypatch.setattr(verdicts, "judge", judged)
    return install


def results(texts, budget=0.5):
    network = api.load(MAZUR)
    with isolation.Judge(network, budget) as judge:
        out = []
        for text in texts:
            items = claims.one_claim(network, "w5", text)
            out.append(api.check_claims(network, items, budget, judge=judge)[0])
        return out


def test_a_claim_that_never_ends_is_undecided_at_its_cpu_limit(hostile):
    hostile(forever)
    start = time.monotonic()
    stuck, after = results(["delta_o1*out_h1 + w1", HARMLESS])
    assert time.monotonic() - start < 20
    assert stuck.verdict.verdict == "undecided"
    assert stuck.verdict.hint.startswith("out of time: judging this claim took more than 1.5 "
                                         "CPU seconds")
    assert (after.verdict.verdict, after.verdict.shown_by) == ("correct", "symbolic")


def test_work_inside_a_garbage_collector_callback_is_stopped_too(hostile):
    def in_gc():
        gc.callbacks.append(lambda phase, info: forever())
        gc.collect()
    hostile(in_gc)
    stuck, after = results(["delta_o1*out_h1 + w1", HARMLESS])
    assert stuck.verdict.hint.startswith("out of time")
    assert after.verdict.verdict == "correct"


def test_a_claim_that_eats_memory_is_undecided(hostile, monkeypatch):
    monkeypatch.setattr(isolation, "MEMORY", 256 << 20)
    hostile(lambda: bytearray(2 << 30))
    stuck, after = results(["delta_o1*out_h1 + w1", HARMLESS])
    assert stuck.verdict.hint.startswith("out of memory")
    assert after.verdict.verdict == "correct"


def test_a_worker_that_dies_costs_only_its_claim(hostile):
    hostile(lambda: os._exit(3))
    stuck, after = results(["delta_o1*out_h1 + w1", HARMLESS])
    assert stuck.verdict.verdict == "undecided"
    assert "the process judging it ended (status 3" in stuck.verdict.hint
    assert after.verdict.verdict == "correct"


def test_limits_hold_outside_the_main_thread(hostile):
    """A timer signal cannot reach a thread; the worker's own limits can."""
    hostile(forever)
    found = []
    thread = threading.Thread(target=lambda: found.extend(results(["w1 + delta_o1*out_h1"])))
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert found[0].verdict.hint.startswith("out of time")


def test_a_file_has_a_limit_of_its_own(monkeypatch):
    monkeypatch.setattr(limits, "FILE", 0.0)
    first, second = results([HARMLESS, HARMLESS])
    assert first.verdict.verdict == "correct"
    assert second.verdict.verdict == "undecided"
    assert second.verdict.hint.startswith("not judged: the claims before it used up the limit")


def test_a_spawned_worker_judges_alike(monkeypatch):
    """Where fork is missing, the worker is spawned and builds the network from the spec."""
    monkeypatch.setattr(isolation, "START", "spawn")
    spawned = [(r.verdict.verdict, r.verdict.shown_by) for r in api.check(MAZUR)]
    monkeypatch.setattr(isolation, "START", None)
    assert spawned == [(r.verdict.verdict, r.verdict.shown_by)
                       for r in api.check(MAZUR, isolated=False)]


def test_a_worker_writes_no_core_file(monkeypatch):
    """SIGXCPU's default action dumps core; the worker's core limit is 0."""
    import resource

    def report(network, claim, truth, *args, **kwargs):
        return verdicts.Verdict("undecided", hint=str(resource.getrlimit(
            resource.RLIMIT_CORE)[0]))
    monkeypatch.setattr(verdicts, "judge", report)
    [result] = results([HARMLESS])
    assert result.verdict.hint == "0"


def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    """It holds no end of the parent's pipe, so the parent's death ends its wait."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\nfrom derive import api, isolation\n"
        f"network = api.load({str(MAZUR)!r})\n"
        "judge = isolation.Judge(network)\n"
        "[c] = api.claims.one_claim(network, 'w5', 'delta_o1*out_h1')\n"
        "judge(c.claim, c.truth, None)\n"
        "print(judge.worker.process.pid, flush=True)\n"
        "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its entry waits to be reaped


def test_a_claim_too_deep_to_send_to_the_worker_is_undecided():
    import sympy as sp

    network = api.load(MAZUR)
    deep = network["w1"].symbol
    for _ in range(3000):
        deep = sp.sin(deep, evaluate=False)  # as no claim could be built: only sent
    with isolation.Judge(network) as judge:
        verdict = judge(deep, network["delta_o1"].symbol, None)
        assert verdict.verdict == "undecided"
        assert "nested too deeply" in verdict.hint
        [after] = claims.one_claim(network, "w5", HARMLESS)
        assert judge(after.claim, after.truth, None).verdict == "correct"


def test_a_claim_sent_ahead_is_answered_when_asked_and_a_wrong_guess_costs_nothing(hostile):
    """The worker may start on the first claim while the others are made; asked for
    another, it is replaced, and a claim stuck ahead does not hold the next one up."""
    network = api.load(MAZUR)
    [right] = claims.one_claim(network, "w5", HARMLESS)
    [wrong] = claims.one_claim(network, "w5", "2*" + HARMLESS)
    with isolation.Judge(network) as judge:
        judge.foresee(right.claim, right.truth, None)
        assert judge(right.claim, right.truth, None).verdict == "correct"
        assert judge.foreseen is True
        judge.close()
        judge.foresee(right.claim, right.truth, None)
        assert judge(wrong.claim, wrong.truth, None).verdict == "incorrect"
        assert judge.foreseen is False
    hostile(forever)
    [stuck] = claims.one_claim(network, "w5", HARMLESS + " + w1")
    with isolation.Judge(network, 0.5) as judge:
        judge.foresee(stuck.claim, stuck.truth, None)
        start = time.monotonic()
        assert judge(right.claim, right.truth, None).verdict == "correct"
        assert time.monotonic() - start < 5


def test_a_checks_first_claim_is_judged_while_the_rest_are_made(monkeypatch, tmp_path):
    """api.check sends a template's first instance ahead; it must be the one asked first."""
    seen = []
    close = isolation.Judge.close
    monkeypatch.setattr(isolation.Judge, "close",
                        lambda self: (seen.append(self.foreseen), close(self)))
    spec = tmp_path / "template.yaml"
    spec.write_text(MAZUR.read_text().split("checks:")[0] + """checks:
  - wrt: w_o[j, k]
    claim: delta_o[j] * out_h[k]
  - wrt: w1
    claim: 2 * delta_h1 * i1
    expect: incorrect
""")
    results = api.check(spec)
    assert [r.verdict.verdict for r in results] == ["correct"] * 4 + ["incorrect"]
    assert True in seen


@pytest.mark.parametrize("check, made_alone", [
    ("wrt: w_o[j, k]\n    claim: delta_o[j] * out_h[k]", True),
    ("steps:\n      - d(E_total, w5)\n      - delta_o1 * out_h1\n    wrt: w5", True),
    ("wrt: W_o\n    claim: delta_o @ transpose(out_h)", False),  # made with its layout
])
def test_the_first_claim_made_alone_is_the_first_of_all_claims(tmp_path, check, made_alone):
    spec = tmp_path / "first.yaml"
    spec.write_text(MAZUR.read_text().split("checks:")[0] + f"checks:\n  - {check}\n")
    network = api.load(spec)
    first = claims.first_claim(network)
    if not made_alone:
        assert first is None
        return
    [(_, made)] = claims.every_check(network)
    assert (first.claim, first.truth, first.assume, first.hinted) == \
        (made[0].claim, made[0].truth, made[0].assume, made[0].hinted)


def test_a_claim_sent_ahead_has_its_wall_clock_bound_from_when_it_is_asked(hostile,
                                                                          monkeypatch):
    """While this process makes the other claims, the worker may get little CPU: the
    time before the claim is asked does not count against it."""
    monkeypatch.setattr(isolation, "WALL", 0.0)
    monkeypatch.setattr(isolation, "GRACE", 1.0)  # a bound of 1 s from the asking
    hostile(lambda: time.sleep(1.5))  # a worker slow for want of CPU, as it were
    network = api.load(MAZUR)
    [slow] = claims.one_claim(network, "w5", HARMLESS + " + w1")
    with isolation.Judge(network) as judge:
        judge.foresee(slow.claim, slow.truth, None)
        time.sleep(0.8)  # making the others
        assert judge(slow.claim, slow.truth, None).verdict == "incorrect"


def test_the_first_claim_made_ahead_gives_up_early(monkeypatch, tmp_path):
    """Made again with the others, a claim slow to make must not cost its limit twice."""
    monkeypatch.setattr(limits, "AHEAD", 0.2)
    monkeypatch.setattr(limits, "BUILD", 1.0)
    monkeypatch.setattr(limits, "BUILD_EACH", 0.0)
    spec = tmp_path / "slow.yaml"
    spec.write_text(MAZUR.read_text().split("checks:")[0] + "checks:\n  - wrt: w5\n"
                    "    claim: delta_o1*out_h1 + 0*Sum(Max(w1*j, w2 - j, w3*j*j, w4), "
                    "(j, 1, 9000))\n")
    network = api.load(spec)
    start = limits.clock()
    assert claims.first_claim(network) is None
    assert limits.clock() - start < 0.6
    with pytest.raises(claims.ClaimError, match="building the claim took more than 1 CPU"):
        claims.every_check(network)
