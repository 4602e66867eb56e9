"""The verdict over dbt artifacts: what counts as passed, failed tests, or a failed build."""

from dbt_build_callback.summary import summarize

from tests.fixtures.lambdas import load_event


def test_passing_run_counts_models_and_tests_and_tolerates_warnings():
    summary = summarize(load_event("run_results_passed.json"), None)
    assert summary.outcome == "passed"
    assert summary.models == {"success": 2}
    assert summary.tests == {"pass": 2, "warn": 1}
    assert summary.tests_failed == 0 and summary.failing_tests == []
    assert summary.tests_warned == 1 and "1 warned: accepted_values_fct_transactions_channel (2 failing rows)" \
        in summary.message
    assert summary.alert_warning == ""  # an orphan-row warning publishes quietly


def test_model_drift_warning_publishes_but_carries_an_alert_line():
    summary = summarize(load_event("run_results_drift_warned.json"), None)
    assert summary.outcome == "passed"
    assert summary.alert_warning.startswith("model drift above the alert level: assert_model_drift_below_alert "
                                            "(3 failing rows)")
    assert "fct_model_drift" in summary.alert_warning


def test_failed_tests_are_named_with_their_failing_row_counts():
    summary = summarize(load_event("run_results_tests_failed.json"), None)
    assert summary.outcome == "tests_failed"
    assert summary.tests_failed == 2
    assert [(t.name, t.failures) for t in summary.failing_tests] == [
        ("unique_stg_core_banking__customers_customer_id", 3),
        ("not_null_stg_core_banking__customers_kyc_status", 1),
    ]
    assert "unique_stg_core_banking__customers_customer_id (3 failing rows)" in summary.message
    assert summary.models == {"success": 1, "skipped": 1}


def test_model_error_is_a_build_failure_naming_the_model():
    summary = summarize(load_event("run_results_model_error.json"), None)
    assert summary.outcome == "build_failed"
    assert "fct_transactions" in summary.message


def test_stale_source_fails_the_run_even_without_run_results():
    summary = summarize(None, load_event("sources_stale.json"))
    assert summary.outcome == "build_failed"
    assert summary.freshness == {"error": 1, "pass": 1}
    assert "raw.transactions" in summary.message and "freshness" in summary.message


def test_missing_run_results_is_a_build_failure():
    assert summarize(None, None).outcome == "build_failed"


def test_long_failure_lists_are_capped():
    results = {"results": [{"unique_id": f"test.p.t{i}.h", "status": "fail", "failures": 1} for i in range(30)]}
    summary = summarize(results, None)
    assert summary.tests_failed == 30
    assert summary.message.endswith("and 10 more")


def test_run_results_of_another_command_do_not_count_as_a_build():
    results = load_event("run_results_passed.json")
    results["args"]["which"] = "source"
    assert summarize(results, None).outcome == "build_failed"
