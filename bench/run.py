"""`make bench`: run every benchmark module, print a table, write bench_output/results.json.

A benchmark module is any ``bench/bench_<name>.py`` with ``def run() -> list[Measurement]``: it is discovered by
name, nothing to register. Run a subset with ``python -m bench.run synth``. Benchmarks are never part of the
test suite (timings on a shared machine are evidence, not pass/fail gates).

Each benchmark runs in its own Python process (a benchmark's leftovers, e.g. the Spark JVM pyspark keeps after
``spark.stop()``, must not weigh on the next one) and gets its peak memory: the highest resident set size of that
process plus all its children (Spark JVM, dbt, the Node runtime of jsii) while it ran. The machine (CPUs, memory) and its load average before and
after the run are recorded with the results, since other processes on a shared machine move every wall-clock figure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from scripts.process_memory import PeakMemory

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT = REPO_ROOT / "bench_output" / "results.json"


@dataclass
class Measurement:
    name: str
    value: float
    unit: str
    goal: str = ""  # human-readable target, e.g. "<= 2.0"
    met: bool | None = None  # None when there is no goal
    detail: str = ""


def discover() -> dict[str, str]:
    """Short name -> module name of every bench/bench_*.py."""
    package_dir = Path(__file__).resolve().parent
    return {m.name.removeprefix("bench_"): f"bench.{m.name}"
            for m in pkgutil.iter_modules([str(package_dir)]) if m.name.startswith("bench_")}


def _write(machine: dict, results: dict, *, complete: bool) -> None:
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"machine": machine, "complete": complete, "benchmarks": results}, indent=2) + "\n")


def _run_isolated(short: str) -> dict:
    """Run one benchmark in a child process; its measurements (or one-line error) come back through a file."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        with PeakMemory() as peak:
            proc = subprocess.run([sys.executable, "-m", "bench.run", "--child", short, str(result_file)],
                                  cwd=REPO_ROOT)
        if not result_file.exists():
            return {"error": f"benchmark process exited with status {proc.returncode} before reporting"}
        outcome = json.loads(result_file.read_text())
    outcome["peak_rss_mb"] = peak.peak_mb
    return outcome


def _child(short: str, result_file: Path) -> int:
    try:
        measurements = importlib.import_module(discover()[short]).run()
        outcome: dict = {"measurements": [asdict(m) for m in measurements]}
    except Exception as err:
        outcome = {"error": f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"}
    result_file.write_text(json.dumps(outcome))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv[1], Path(argv[2]))
    modules = discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help=f"benchmarks to run (default: all of {', '.join(sorted(modules))})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(modules))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(sorted(modules))}")
    machine = {"python": platform.python_version(), "cpus": os.cpu_count() or 0,
               "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
               "load_average_start": [round(x, 2) for x in os.getloadavg()],
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    results: dict[str, dict] = {}
    rows: list[list[str]] = []
    failed: list[str] = []
    for short in args.only or sorted(modules):
        print(f"== {short}", flush=True)
        started = time.perf_counter()
        outcome = _run_isolated(short)
        seconds = round(time.perf_counter() - started, 1)
        if "error" in outcome:  # one broken benchmark must not hide the others' figures
            message = outcome["error"]
            print(f"   FAILED: {message}", file=sys.stderr, flush=True)
            results[short] = {"seconds": seconds, "error": message}
            rows.append([short, "(failed)", "", "", "ERROR", message[:100]])
            failed.append(short)
            continue
        measurements = [Measurement(**m) for m in outcome["measurements"]]
        measurements.append(Measurement("peak memory (process tree)", outcome["peak_rss_mb"], "MB",
                                        detail="benchmark process + children, sampled every 100 ms"))
        results[short] = {"seconds": seconds, "peak_rss_mb": outcome["peak_rss_mb"],
                          "measurements": [asdict(m) for m in measurements]}
        for m in measurements:
            verdict = "" if m.met is None else ("met" if m.met else "MISSED")
            rows.append([short, m.name, f"{m.value:g} {m.unit}", m.goal, verdict, m.detail])
        _write(machine, results, complete=False)  # a long run stopped midway keeps what it measured
    widths = [max(len(r[i]) for r in rows + [["bench", "measurement", "value", "goal", "", "detail"]]) for i in range(6)]
    for row in [["bench", "measurement", "value", "goal", "", "detail"], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    _write(machine, results, complete=True)
    print(f"machine: {machine['cpus']} CPUs, {machine['memory_gb']} GB; load average (1, 5, 15 min) "
          f"{machine['load_average_start']} at start, {machine['load_average_end']} at end")
    print(f"results: {OUTPUT}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)} (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
