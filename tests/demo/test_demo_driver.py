"""The `make demo` driver's own logic on cheap stand-in steps and tiny inputs (the real steps are exercised by
their owners' test folders; the whole demo is never run inside the suite)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from glue_jobs.ingest.pipeline import Manifest
from scripts import demo
from scripts.evaluate_fraud import evaluate
from scripts.process_memory import PeakMemory


def _ok(name: str, summary):
    return demo.Step(name, f"{name} stand-in", lambda ctx: demo.StepResult(headline=f"{name} done", summary=summary))


def _read_summary(tmp_path):
    return json.loads((tmp_path / "summary.json").read_text())


def test_every_step_contributes_its_section_and_the_run_record(tmp_path, capsys):
    steps = [_ok("first", {"rows": 3}), _ok("second", ["a.png", "b.png"])]
    assert demo.run(steps, tmp_path) == 0
    summary = _read_summary(tmp_path)
    assert summary["first"] == {"rows": 3}
    assert summary["second"] == ["a.png", "b.png"]
    assert summary["run"]["status"] == "ok"
    assert set(summary["run"]["steps"]) == {"first", "second"}
    for record in summary["run"]["steps"].values():
        assert record["status"] == "ok" and record["seconds"] >= 0 and record["peak_rss_mb"] > 0
    out = capsys.readouterr().out
    assert "[1/2] first" in out and "[2/2] second" in out
    assert "first done" in out and "second done" in out  # the closing summary table


def test_a_demo_error_stops_the_run_with_one_line_and_exit_1(tmp_path, capsys):
    ran = []

    def failing(ctx):
        raise demo.DemoError("lake is empty: run the ingest step first")

    def never(ctx):
        ran.append("never")
        return demo.StepResult("", {})

    steps = [_ok("first", {"x": 1}), demo.Step("broken", "fails", failing), demo.Step("after", "skipped", never)]
    assert demo.run(steps, tmp_path) == 1
    assert ran == []
    err = capsys.readouterr().err.rstrip().splitlines()
    assert err == ["    FAILED: broken: lake is empty: run the ingest step first"]
    summary = _read_summary(tmp_path)  # written even on failure: what did succeed stays visible
    assert summary["first"] == {"x": 1} and "broken" not in summary and "after" not in summary
    assert summary["run"]["status"] == "failed"
    assert summary["run"]["steps"]["broken"]["status"] == "failed"
    assert "after" not in summary["run"]["steps"]


def test_an_unexpected_exception_is_one_line_with_the_traceback_in_a_file(tmp_path, capsys):
    def buggy(ctx):
        raise KeyError("stacks\nsecond line")

    assert demo.run([demo.Step("buggy", "has a bug", buggy)], tmp_path) == 1
    err = capsys.readouterr().err.rstrip().splitlines()
    assert len(err) == 1 and err[0].startswith("    FAILED: buggy: KeyError: ")
    assert str(tmp_path / "demo_error.log") in err[0]
    assert "Traceback" in (tmp_path / "demo_error.log").read_text()


@pytest.mark.parametrize("step,missing", [("ingest", "generate"), ("dbt", "ingest"),
                                          ("fraud_evaluation", "dbt"), ("models", "dbt"), ("dashboards", "dbt")])
def test_a_step_run_alone_on_an_empty_folder_names_the_step_to_run_first(tmp_path, capsys, step, missing):
    assert demo.main(["--steps", step, "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"run the {missing} step first" in err and len(err.strip().splitlines()) == 1


def test_steps_follow_the_data_flow():
    assert [s.name for s in demo.STEPS] == ["generate", "ingest", "dbt", "models", "fraud_evaluation", "dashboards",
                                            "reports", "synth"]


def test_unknown_step_is_rejected_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--steps", "deploy"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err


def _manifest(table, batch, rows_in, valid, quarantined, warned=0, reasons=None):
    return Manifest(table=table, batch_id=batch, ingested_at="2026-11-25T00:00:00", ingest_dates=[],
                    rows_in=rows_in, rows_valid=valid, rows_quarantined=quarantined, rows_warned=warned,
                    quarantine_reasons=reasons or {})


def test_ingest_summary_adds_the_batches_per_table_and_keeps_each_batch():
    summary = demo.ingest_summary({
        "synthetic-001": {"customers": _manifest("customers", "synthetic-001", 100, 100, 0),
                          "accounts": _manifest("accounts", "synthetic-001", 50, 49, 1, 2,
                                                {"balance:not_a_number": 1})},
        "seed-samples": {"customers": _manifest("customers", "seed-samples", 10, 8, 2, 1,
                                                {"customer_id:missing": 2})},
    })
    assert summary["customers"]["rows_in"] == 110
    assert summary["customers"]["rows_valid"] == 108
    assert summary["customers"]["rows_quarantined"] == 2
    assert summary["customers"]["rows_warned"] == 1
    assert summary["customers"]["batches"]["seed-samples"]["quarantine_reasons"] == {"customer_id:missing": 2}
    assert summary["accounts"]["rows_quarantined"] == 1 and set(summary["accounts"]["batches"]) == {"synthetic-001"}


def test_dbt_results_summary_counts_models_and_tests_and_names_problems():
    results = [
        {"unique_id": "model.p.a", "status": "success"},
        {"unique_id": "model.p.b", "status": "error", "message": "Binder Error"},
        {"unique_id": "model.p.c", "status": "skipped"},
        {"unique_id": "seed.p.s", "status": "success"},
        {"unique_id": "snapshot.p.snp", "status": "success"},
        {"unique_id": "test.p.t1", "status": "pass"},
        {"unique_id": "test.p.t2", "status": "fail"},
        {"unique_id": "test.p.t3", "status": "warn"},
        {"unique_id": "unit_test.p.a.u1", "status": "pass"},
        {"unique_id": "unit_test.p.a.u2", "status": "error"},
    ]
    counts = demo.dbt_results_summary(results)
    assert (counts["models"], counts["seeds"], counts["snapshots"]) == (1, 1, 1)
    assert (counts["tests_passed"], counts["tests_warned"], counts["tests_failed"], counts["unit_tests"]) == (2, 1, 2, 2)
    assert counts["problems"] == ["model.p.b error: Binder Error", "model.p.c skipped", "test.p.t2 fail",
                                  "unit_test.p.a.u2 error"]


def test_fraud_summary_has_precision_and_recall_per_scenario():
    labels = {("transaction", "T1"): "card_testing", ("transaction", "T2"): "card_testing",
              ("login", "L1"): "account_takeover"}
    alerts = [("transaction", "T1", "CARD_TESTING"), ("transaction", "T9", "CARD_TESTING"),
              ("login", "L1", "FAILED_BURST,NEW_DEVICE")]
    negatives = {("login", "L7"): ("CUST2", "forgotten_password"), ("login", "L8"): ("CUST2", "forgotten_password"),
                 ("transaction", "T9"): ("CUST3", "payday_large_purchase"), ("login", "L5"): ("CUST4", "forgotten_password")}
    summary = demo.fraud_summary(evaluate(alerts, labels, negatives))
    assert summary["card_testing"]["recall"] == 0.5 and summary["card_testing"]["precision"] == 0.5
    assert summary["hard_negatives"]["payday_large_purchase"]["false_positive_rate"] == 1.0
    assert summary["hard_negatives"]["forgotten_password"]["false_positive_rate"] == 0.0
    assert summary["account_takeover"]["recall"] == 1.0 and summary["account_takeover"]["precision"] == 1.0
    assert summary["structuring"]["recall"] is None  # no labelled entity of that scenario
    assert summary["overall"]["alerts"] == 3 and summary["overall"]["meets_goals"] is False


def test_peak_memory_includes_child_processes():
    with PeakMemory() as baseline:
        time.sleep(0.3)
    child = "b = bytearray(300 * 2**20); import time; time.sleep(1.0)"  # 300 MB touched (zero-filled) in a child
    with PeakMemory() as peak:
        subprocess.run([sys.executable, "-c", child], check=True)
    assert peak.peak_mb >= baseline.peak_mb + 250
