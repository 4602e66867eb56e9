"""The fraud alerts meet the recall/precision goals per scenario family on the demo bank, computed by
scripts/evaluate_fraud.py from the generator's ground truth (which no model reads)."""

from scripts.evaluate_fraud import PRECISION_GOAL, RECALL_GOAL, evaluate, load_labels


def test_alerts_meet_recall_and_precision_goals_per_family(dbt_duckdb_build, duckdb_marts, demo_lake):
    alerts = duckdb_marts.execute("select entity_type, entity_id, reason_codes from analytics_marts.fraud_alerts").fetchall()
    report = evaluate(alerts, load_labels(demo_lake["ground_truth"]))
    for family, scores in report["families"].items():
        if scores["labelled"]:
            assert scores["recall"] >= RECALL_GOAL, (family, scores)
        if scores["family_alerts"]:
            assert scores["precision"] >= PRECISION_GOAL, (family, scores)
    assert report["meets_goals"]


def test_evaluation_counts_misses_and_false_alarms():
    labels = {("transaction", "T1"): "card_testing", ("transaction", "T2"): "card_testing",
              ("login", "L1"): "account_takeover"}
    alerts = [("transaction", "T1", "CARD_TESTING,VELOCITY"), ("transaction", "T9", "CARD_TESTING"),
              ("login", "L1", "FAILED_BURST")]
    report = evaluate(alerts, labels)
    card = report["families"]["card_testing"]
    assert (card["recall"], card["precision"]) == (0.5, 0.5)
    assert report["families"]["account_takeover"]["recall"] == 1.0
    assert report["families"]["velocity_burst"]["precision"] == 1.0
    assert report["overall_precision"] == round(2 / 3, 4) and not report["meets_goals"]
