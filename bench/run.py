"""`make bench`: run every benchmark module, print a table, write bench_output/results.json.

A benchmark module is any ``bench/bench_<name>.py`` with ``def run() -> list[Measurement]``: it is discovered by
name, nothing to register. Run a subset with ``python -m bench.run synth``. Benchmarks are never part of the
test suite (timings on a shared machine are evidence, not pass/fail gates).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    modules = discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help=f"benchmarks to run (default: all of {', '.join(sorted(modules))})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(modules))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(sorted(modules))}")
    results: dict[str, dict] = {}
    rows: list[list[str]] = []
    failed: list[str] = []
    for short in args.only or sorted(modules):
        print(f"== {short}", flush=True)
        started = time.perf_counter()
        try:
            measurements = importlib.import_module(modules[short]).run()
        except Exception as err:  # one broken benchmark must not hide the others' figures
            message = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            print(f"   FAILED: {message}", file=sys.stderr, flush=True)
            results[short] = {"seconds": round(time.perf_counter() - started, 1), "error": message}
            rows.append([short, "(failed)", "", "", "ERROR", message[:100]])
            failed.append(short)
            continue
        results[short] = {"seconds": round(time.perf_counter() - started, 1),
                          "measurements": [asdict(m) for m in measurements]}
        for m in measurements:
            verdict = "" if m.met is None else ("met" if m.met else "MISSED")
            rows.append([short, m.name, f"{m.value:g} {m.unit}", m.goal, verdict, m.detail])
    widths = [max(len(r[i]) for r in rows + [["bench", "measurement", "value", "goal", "", "detail"]]) for i in range(6)]
    for row in [["bench", "measurement", "value", "goal", "", "detail"], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"machine": {"python": platform.python_version(), "cpus": _cpus()},
                                  "benchmarks": results}, indent=2) + "\n")
    print(f"results: {OUTPUT}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)} (see above)", file=sys.stderr)
    return 1 if failed else 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
