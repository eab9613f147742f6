"""Timings of derive against a naive SymPy baseline measured in the same run.

Naive: one fully nested E_total, sympy.diff, then simplify(claim - truth) == 0, run in a
child process with a timeout. derive: the same verdict through derive.api. Each figure is
the median of several runs. Run with `make bench`; nothing here is asserted.
"""

from __future__ import annotations

import gc
import multiprocessing
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sympy as sp
from sympy.core.cache import clear_cache

from derive import api, calculus, claims, verdicts
from derive.spec import Check, Formula

ROOT = Path(__file__).resolve().parent.parent
NAIVE_TIMEOUT = 60.0
REPEATS = 3


def spec(sizes: list[int], activation: str = "sigmoid") -> dict:
    layers = [{"name": "hgkmn"[k] if k < len(sizes) - 2 else "o", "units": n,
               "activation": activation} for k, n in enumerate(sizes[1:])]
    return {"inputs": sizes[0], "layers": layers, "loss": "sse"}


def median_time(action, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        clear_cache()  # each run from a cold SymPy cache, as in a fresh process
        gc.collect()
        gc.freeze()  # and without rescanning what earlier runs left behind
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def naive_verdict(sizes: list[int], queue) -> None:
    """Build E_total fully nested, differentiate, simplify(claim - truth)."""
    network = api.load(spec(sizes))
    loss = calculus.expand(network, network.loss.symbol)
    w = network[network.params[0]].symbol
    truth = sp.diff(loss, w)
    claim = calculus.expand(network, calculus.gradient(network, w.name))
    queue.put(sp.simplify(claim - truth) == 0)


def naive_time(sizes: list[int]) -> float | None:
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=naive_verdict, args=(sizes, queue))
    start = time.perf_counter()
    process.start()
    process.join(NAIVE_TIMEOUT)
    if process.is_alive():
        process.kill()
        return None
    return time.perf_counter() - start


def derive_verdict(sizes: list[int]) -> tuple[float, str]:
    """From the spec to the verdict, on a fresh network each time (nothing cached)."""
    data = spec(sizes)
    first = api.load(data)
    name = first.params[0]
    claim = str(calculus.gradient(first, name))
    shown = []
    seconds = median_time(lambda: shown.append(api.check_one(api.load(data), name, claim)[0]))
    return seconds, shown[-1].verdict.shown_by


TEMPLATE = Check(wrt="w_h[j, k]", claim=Formula(
    "Sum(delta_o[m]*w_o[m, j], (m, 1, n_o))*out_h[j]*(1 - out_h[j])*i[k]", "sympy", 1))


def template(data: dict, one_by_one: bool = False, isolated: bool = True) -> list:
    """From the spec to a verdict on every instance of TEMPLATE; one_by_one judges each
    instance on its own (the path a template takes without its symmetry)."""
    network = api.load(data)
    items = claims.claims_of(network, TEMPLATE)
    if one_by_one:
        return [verdicts.judge(network, c.claim, c.truth) for c in items]
    return [r.verdict for r in api.check_claims(network, items, isolated=isolated)]


MATRIX = Check(wrt="W_h", claim=Formula(
    "((transpose(W_o) @ delta_o) * out_h * (1 - out_h)) @ transpose(inputs)", "sympy", 1))


def matrix_claim(data: dict) -> list:
    """From the spec to the verdict on MATRIX: the template's claim in matrix form."""
    network = api.load(data)
    return [r.verdict for r in api.check_claims(network, claims.claims_of(network, MATRIX))]


def matrix_form() -> None:
    """A matrix claim costs what the template over the same weights costs (SPEC §6)."""
    print(f"\n{'wrt: W_h in matrix form':>24} {'entries':>10} {'template (s)':>13} "
          f"{'matrix (s)':>11} {'ratio':>6}  shown by")
    for sizes in ([16, 8, 4], [32, 16, 10], [64, 32, 10]):
        data = spec(sizes)
        found = []
        matrix = median_time(lambda data=data, found=found: found.append(matrix_claim(data)),
                             1)
        together = median_time(lambda data=data: template(data), 1)
        print(f"{'-'.join(map(str, sizes)):>24} {sizes[0] * sizes[1]:>10,} {together:>13.2f} "
              f"{matrix:>11.2f} {matrix / together:>5.2f}x  {found[-1][0].shown_by}")


def batch_and_conv() -> None:
    """A batch of 32 examples on 8-8-4, and a conv layer over 64 inputs: from the spec to
    every gradient with its number, and to the verdict on a matrix claim, beside one
    example's (the batch should cost about 32 of them)."""
    print(f"\n{'wiring':>34} {'gradients (s)':>14} {'verdict (s)':>12} {'shown by':>9}")
    one = spec([8, 8, 4])
    many = {**one, "examples": 32, "reduction": "mean"}
    conv = {"inputs": 64, "loss": "sse", "layers": [
        {"name": "c", "type": "conv1d", "kernel": ["k1", "k2", "k3"], "activation": "relu"},
        {"name": "o", "units": 2, "activation": "sigmoid"}]}
    claim = Check(wrt="W_o", claim=Formula("delta_o @ transpose(out_h)", "sympy", 1))
    kernel = Check(wrt="k2", claim=Formula("Sum(delta_c[j]*i[j + 1], (j, 1, n_c))",
                                           "sympy", 1))
    for label, data, check in [("8-8-4, one example", one, claim),
                               ("8-8-4, a batch of 32 (mean)", many, claim),
                               ("conv1d, kernel 3 over 64 inputs", conv, kernel)]:
        def grads(data=data):
            network = api.load(data)
            api.gradients(network, at={n: 0.1 for n in api.specs.settable_names(
                network.spec)})

        found = []

        def verdict(data=data, check=check, found=found):
            network = api.load(data)
            found[:] = api.check_claims(network, claims.claims_of(network, check))

        seconds, judged = median_time(grads, 1), median_time(verdict, 1)
        print(f"{label:>34} {seconds:>14.2f} {judged:>12.2f} "
              f"{found[0].verdict.shown_by or found[0].verdict.verdict:>9}")


def isolation_overhead() -> None:
    """What judging each claim in a worker process costs, beside judging it here."""
    print(f"\n{'isolation':>34} {'in-process (s)':>15} {'isolated (s)':>13} "
          f"{'per claim (ms)':>15}")
    cases = [("mazur.yaml, its 15 checks", ROOT / "specs" / "mazur.yaml"),
             ("every spec in specs/", *sorted((ROOT / "specs").glob("*.yaml")))]
    for title, *paths in cases:
        count = sum(len(api.check(path, isolated=False)) for path in paths)
        times = {isolated: median_time(lambda isolated=isolated, paths=paths: [
            api.check(path, isolated=isolated) for path in paths], 5)
            for isolated in (False, True)}
        extra = (times[True] - times[False]) / count * 1000
        print(f"{title:>34} {times[False]:>15.3f} {times[True]:>13.3f} {extra:>15.1f}")


def grading_a_class(count: int = 1000, through_pytest: int = 600) -> None:
    """derive grade over a class of small submissions (two thirds right, a third with
    one wrong answer), and the same files through pytest, serial and with xdist."""
    import tempfile

    from derive import grading

    course = ROOT / "examples" / "coursework" / "grading"
    right = (course / "solution.derive.yaml").read_text()
    wrong = right.replace("delta_o1 + delta_o2", "delta_o1")
    with tempfile.TemporaryDirectory() as folder:
        top = Path(folder)
        (top / "course").mkdir()
        (top / "course" / "network.yaml").write_text(
            (course / "course" / "network.yaml").read_text())
        for k in range(count):
            (top / "submissions" / f"s{k:04}").mkdir(parents=True)
            (top / "submissions" / f"s{k:04}" / "answers.derive.yaml").write_text(
                wrong if k % 3 == 0 else right)
        paths = sorted(str(p) for p in (top / "submissions").iterdir())
        start = time.perf_counter()
        grading.grade(grading.Course(top / "course" / "network.yaml"), paths)
        seconds = time.perf_counter() - start
        print(f"\nderive grade, {count:,} submissions of 5 exercises: {seconds:.1f} s "
              f"({seconds / count * 1000:.0f} ms each)")
        (top / "pytest.ini").write_text("[pytest]\nderive_files = answers.derive.yaml\n"
                                        "derive_network = course/network.yaml\n")
        files = [f"{p}/answers.derive.yaml" for p in paths[:through_pytest]]
        pytest = [sys.executable, "-m", "pytest", "-q", "-c", str(top / "pytest.ini"),
                  "--rootdir", str(top), "--noconftest", "-p", "no:python", "-p",
                  "no:cacheprovider", "--assert=plain"]
        for label, extra in (("serial", []), ("-n 2", ["-n", "2"])):
            start = time.perf_counter()
            subprocess.run(pytest + extra + files, capture_output=True, cwd=top)
            print(f"pytest, {through_pytest} submissions, {label}: "
                  f"{time.perf_counter() - start:.1f} s (whole process)")


def _process(args: list[str], cwd: Path, repeats: int = 3) -> float:
    """Median seconds of `derive ARGS` as a whole process, start-up and imports included."""
    command = [sys.executable, "-m", "derive.cli", *args]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _with_checks(sizes: list[int], checks: list[dict]) -> dict:
    return {**spec(sizes), "checks": checks}


LARGE_COMMANDS = [  # (label, the command's arguments after the file, the checks)
    ("show", ["show"], []),
    ("grad --wrt w_o1_h1", ["grad", "--wrt", "w_o1_h1"], []),
    ("a right claim", ["check"], [{"wrt": "w_o[1, 1]", "claim": "delta_o[1]*out_h[1]"}]),
    ("a wrong claim", ["check"], [{"wrt": "w_o[1, 1]", "claim": "2*delta_o[1]*out_h[1]"}]),
    ("W_o in matrix form", ["check"], [{"wrt": "W_o", "claim": "delta_o @ transpose(out_h)"}]),
    ("the first layer in matrix form", ["check"], [{"wrt": MATRIX.wrt,
                                                   "claim": MATRIX.claim.text}]),
    ("the first layer's template", ["check"], [{"wrt": TEMPLATE.wrt,
                                                "claim": TEMPLATE.claim.text}]),
    ("the same template, wrong", ["check"], [{"wrt": TEMPLATE.wrt, "claim":
                                              TEMPLATE.claim.text.replace("*i[k]", "*2*i[k]"),
                                              "expect": "incorrect"}]),
]


def large_networks(sizes=([64, 32, 10], [256, 32, 10], [784, 32, 10])) -> None:
    """Each command as a whole process on networks up to MNIST's input, and how its cost
    grows with the parameters (the exponent of a least-squares fit of log time on log
    parameters); the naive baseline on the smallest, in the same run."""
    import json
    import math
    import tempfile

    counts = [len(api.load(spec(s)).params) for s in sizes]
    naive = naive_time(sizes[0])
    print(f"\nnaive baseline on {'-'.join(map(str, sizes[0]))} (a right claim): "
          + (f"> {NAIVE_TIMEOUT:.0f} s" if naive is None else f"{naive:.1f} s"))
    header = "".join(f"{'-'.join(map(str, s)) + f' ({n:,})':>22}" for s, n in
                     zip(sizes, counts))
    print(f"{'whole process (s)':>28}{header}{'growth':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for label, args, checks in LARGE_COMMANDS:
            times = []
            for k, s in enumerate(sizes):
                path = Path(folder) / f"{label.replace(' ', '_')}_{k}.yaml"
                path.write_text(json.dumps(_with_checks(s, checks)))  # JSON is YAML
                times.append(_process([args[0], str(path), *args[1:]], Path(folder)))
            xs, ys = [math.log(n) for n in counts], [math.log(t) for t in times]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / \
                sum((x - mx) ** 2 for x in xs)
            print(f"{label:>28}" + "".join(f"{t:>22.2f}" for t in times) + f"{slope:>8.2f}")


def deep_chains(depths=(10, 20)) -> None:
    """A claim written through every layer of a deep chain (one unit a layer), proved."""
    import json
    import string
    import tempfile

    print(f"\n{'through every layer':>28} {'whole process (s)':>18}  verdicts")
    with tempfile.TemporaryDirectory() as folder:
        for depth in depths:
            names = ["h" + string.ascii_lowercase[k] for k in range(depth)]
            layers = [{"name": n, "units": 1, "activation": "sigmoid"} for n in names]
            factors = ["(out_o1 - target_o1)*out_o1*(1 - out_o1)", f"w_o1_{names[-1]}1"]
            factors += [f"out_{names[k]}1*(1 - out_{names[k]}1)*w_{names[k]}1_{names[k - 1]}1"
                        for k in range(depth - 1, 0, -1)]
            factors.append(f"out_{names[0]}1*(1 - out_{names[0]}1)*i1")
            claim = "*".join(factors)
            data = {"inputs": 1, "loss": "sse", "layers": layers + [
                {"name": "o", "units": 1, "activation": "sigmoid"}], "checks": [
                {"wrt": f"w_{names[0]}1_i1", "claim": claim},
                {"wrt": f"w_{names[0]}1_i1", "claim": claim.replace("*i1", "*2*i1"),
                 "expect": "incorrect"}]}
            path = Path(folder) / f"deep{depth}.yaml"
            path.write_text(json.dumps(data))
            seconds = _process(["check", str(path)], Path(folder))
            report = subprocess.run([sys.executable, "-m", "derive.cli", "check", str(path),
                                     "--format", "json"], capture_output=True, text=True)
            shown = [f"{c['verdict']} ({c['shown_by'] or '-'})"
                     for c in json.loads(report.stdout)["checks"]]
            print(f"{f'{depth} hidden layers':>28} {seconds:>18.2f}  {', '.join(shown)}")


def judged_in_full(action) -> int:
    """How many claims `action` sends through the full screen-and-proof (counted in this
    process, so the action must judge here, not in a worker)."""
    calls, judge = [], verdicts.judge
    verdicts.judge = lambda *args, **kwargs: calls.append(1) or judge(*args, **kwargs)
    try:
        action()
    finally:
        verdicts.judge = judge
    return len(calls)


def main() -> None:
    print(f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores, "
          f"Python {platform.python_version()}, SymPy {sp.__version__}\n")
    print(f"{'size':>10} {'params':>7} {'naive (s)':>10} {'derive (s)':>11} {'ratio':>8}  "
          f"shown by")
    for sizes in ([2, 2, 2], [4, 4, 3], [8, 8, 4]):
        network = api.load(spec(sizes))
        derive_seconds, shown_by = derive_verdict(sizes)
        naive = naive_time(sizes)
        naive_text = f"> {NAIVE_TIMEOUT:.0f}" if naive is None else f"{naive:.2f}"
        ratio = f"{(naive or NAIVE_TIMEOUT) / derive_seconds:.0f}x"
        ratio = ("> " if naive is None else "") + ratio
        print(f"{'-'.join(map(str, sizes)):>10} {len(network.params):>7} {naive_text:>10} "
              f"{derive_seconds:>11.3f} {ratio:>8}  {shown_by}")

    print(f"\n{'size':>10} {'params':>7} {'all gradients + numbers (s)':>28}")
    for sizes in ([8, 8, 4], [16, 16, 8], [32, 16, 10], [64, 32, 10]):
        data = spec(sizes)
        network = api.load(data)
        point = {name: 0.1 for name in api.specs.settable_names(network.spec)}

        def every_gradient(data=data, point=point):
            api.gradients(api.load(data), at=point)

        print(f"{'-'.join(map(str, sizes)):>10} {len(network.params):>7} "
              f"{median_time(every_gradient, 1):>28.3f}")

    print(f"\n{'template over w_h[j, k]':>24} {'instances':>10} {'one by one (s)':>15} "
          f"{'together (s)':>13} {'ratio':>6} {'judged in full':>15}  shown by")
    for sizes in ([16, 8, 4], [32, 16, 10], [64, 32, 10]):
        data = spec(sizes)
        found = []
        together = median_time(lambda data=data, found=found: found.append(template(data)), 1)
        alone = median_time(lambda data=data: template(data, one_by_one=True), 1)
        full = judged_in_full(lambda data=data: template(data, isolated=False))
        shown = ", ".join(sorted({v.shown_by for v in found[-1]}))
        print(f"{'-'.join(map(str, sizes)):>24} {len(found[-1]):>10,} {alone:>15.2f} "
              f"{together:>13.2f} {alone / together:>5.1f}x {full:>15,}  {shown}")

    matrix_form()
    batch_and_conv()
    large_networks()
    deep_chains()
    isolation_overhead()
    grading_a_class()

    cli = [sys.executable, "-m", "derive.cli", "check", str(ROOT / "specs" / "mazur.yaml")]
    seconds = median_time(lambda: subprocess.run(cli, capture_output=True, check=True))
    print(f"\nderive check specs/mazur.yaml (whole process): {seconds:.2f} s")


if __name__ == "__main__":
    if sys.argv[1:] == ["large"]:  # the large-network figures alone
        large_networks()
        deep_chains()
    else:
        main()
