"""Turn dbt's run_results.json (and sources.json from `dbt source freshness`) into the pipeline's verdict.

Plain functions over the artifact dicts, so they are tested without AWS. Node kinds come from the unique_id prefix
(`model.`, `test.`, `unit_test.`, `seed.`, `snapshot.`, `source.`), statuses are dbt's own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

TEST_KINDS = ("test", "unit_test")
BUILD_KINDS = ("model", "seed", "snapshot")
FAILED_TEST_STATUSES = ("fail", "error")
WARNED_TEST_STATUSES = ("warn",)
# Warning tests that raise an alert although the run publishes: a model's inputs or score drifted (PSI > 0.25,
# dbt/tests/assert_model_drift_below_alert.sql) - the marts are valid, the model's ranking may no longer be.
ALERT_ON_WARN = ("assert_model_drift_below_alert",)
FAILED_BUILD_STATUSES = ("error",)
FAILED_FRESHNESS_STATUSES = ("error", "runtime error")
MAX_NAMED = 20  # keeps the SNS message and the Step Functions output readable (and far below their size limits)


@dataclass
class FailingNode:
    name: str
    status: str
    failures: int | None
    message: str


@dataclass
class DbtRunSummary:
    outcome: str  # passed | tests_failed | build_failed
    models: dict[str, int] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    freshness: dict[str, int] = field(default_factory=dict)
    tests_failed: int = 0
    failing_tests: list[FailingNode] = field(default_factory=list)
    tests_warned: int = 0
    warning_tests: list[FailingNode] = field(default_factory=list)
    # "" or a line naming the ALERT_ON_WARN tests that warned: the pipeline publishes, then alerts with it.
    alert_warning: str = ""
    failing_nodes: list[FailingNode] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _kind(unique_id: str) -> str:
    return unique_id.split(".", 1)[0]


def _short_name(unique_id: str) -> str:
    # test.<project>.<test_name>.<hash> → <test_name>; model.<project>.<name> → <name>
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) >= 4:
        return parts[2]
    if parts[0] == "source" and len(parts) >= 4:
        return ".".join(parts[2:])
    return parts[-1]


def _node(result: dict[str, Any]) -> FailingNode:
    failures = result.get("failures")
    return FailingNode(
        name=_short_name(result["unique_id"]),
        status=result.get("status", ""),
        failures=int(failures) if failures is not None else None,
        message=(result.get("message") or "")[:300],
    )


def _describe(nodes: list[FailingNode]) -> str:
    named = [f"{n.name} ({n.failures} failing rows)" if n.failures else f"{n.name} ({n.status})" for n in nodes]
    extra = f" and {len(named) - MAX_NAMED} more" if len(named) > MAX_NAMED else ""
    return ", ".join(named[:MAX_NAMED]) + extra


def summarize(run_results: dict[str, Any] | None, sources: dict[str, Any] | None) -> DbtRunSummary:
    """Verdict of one dbt run. `run_results` is None when `dbt build` never ran (e.g. freshness failed)."""
    freshness_results = (sources or {}).get("results", [])
    freshness = dict(Counter(r.get("status", "") for r in freshness_results))
    stale = [_node(r) for r in freshness_results if r.get("status") in FAILED_FRESHNESS_STATUSES]

    if run_results is not None and (run_results.get("args") or {}).get("which") not in (None, "build"):
        run_results = None  # left over from another dbt command (e.g. freshness): dbt build never finished
    results = (run_results or {}).get("results", [])
    tests = [r for r in results if _kind(r["unique_id"]) in TEST_KINDS]
    built = [r for r in results if _kind(r["unique_id"]) in BUILD_KINDS]
    failing_tests = [_node(r) for r in tests if r.get("status") in FAILED_TEST_STATUSES]
    failing_built = [_node(r) for r in built if r.get("status") in FAILED_BUILD_STATUSES]
    warning_tests = [_node(r) for r in tests if r.get("status") in WARNED_TEST_STATUSES]

    summary = DbtRunSummary(
        outcome="passed",
        models=dict(Counter(r.get("status", "") for r in built)),
        tests=dict(Counter(r.get("status", "") for r in tests)),
        freshness=freshness,
        tests_failed=len(failing_tests),
        failing_tests=failing_tests,
        tests_warned=len(warning_tests),
        warning_tests=warning_tests,

        failing_nodes=stale + failing_built,
    )
    if stale:
        summary.outcome = "build_failed"
        summary.message = f"dbt source freshness failed, dbt build skipped: {_describe(stale)}"
    elif run_results is None:
        summary.outcome = "build_failed"
        summary.message = "dbt build wrote no run_results.json"
    elif failing_built:
        summary.outcome = "build_failed"
        summary.message = f"dbt build failed: {_describe(failing_built)}"
        if failing_tests:
            summary.message += f"; failing tests: {_describe(failing_tests)}"
    elif failing_tests:
        summary.outcome = "tests_failed"
        summary.message = f"{len(failing_tests)} dbt test(s) failed: {_describe(failing_tests)}"
    else:
        passed = summary.tests.get("pass", 0)
        summary.message = f"dbt build passed: {len(built)} models/seeds/snapshots, {passed} tests passed"
        if warning_tests:
            summary.message += f"; {len(warning_tests)} warned: {_describe(warning_tests)}"
        alerting = [n for n in warning_tests if n.name in ALERT_ON_WARN]
        if alerting:
            summary.alert_warning = (f"model drift above the alert level: {_describe(alerting)}; the batch is "
                                     "published, the models' PSI per feature is in fct_model_drift")
    return summary
