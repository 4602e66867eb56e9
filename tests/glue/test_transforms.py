"""Pure transforms on tiny inline DataFrames: each contract rule gives its reason, on the right side
(quarantine for required fields, warning + null for optional ones)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from glue_jobs.contracts import INGEST_PARTITION, load_contract
from glue_jobs.ingest import transforms as tf
from glue_jobs.ingest.schema import RAW_RECORD, SOURCE_FILE

pytestmark = pytest.mark.spark
NOW = datetime(2026, 11, 1, 12, 0, 0)


def run(spark, table: str, rows: list[dict]):
    c = load_contract(table)
    data = [
        tuple(r.get(n) for n in c.column_names) + (None, "file:/x.csv", date(2026, 11, 1), i, None, None)
        for i, r in enumerate(rows)
    ]
    names = c.column_names + [RAW_RECORD, SOURCE_FILE, INGEST_PARTITION, tf.ROW_SEQ, tf.FILE_ERRORS,
                              tf.FILE_WARNINGS]
    schema = ", ".join(f"{n} string" for n in c.column_names) + (
        f", {RAW_RECORD} string, {SOURCE_FILE} string, {INGEST_PARTITION} date, {tf.ROW_SEQ} long, "
        f"{tf.FILE_ERRORS} string, {tf.FILE_WARNINGS} string")
    df = spark.createDataFrame(data, schema=schema)
    out = tf.flag_duplicates(tf.validate(df, c, NOW), c).orderBy(tf.ROW_SEQ).collect()
    return [(r["__errors__"], r["__warnings__"]) for r in out], out


SCORE = dict(score_id="SCR1", customer_id="CUST1", score_date="2026-10-01", credit_score="700")


def test_credit_score_range_and_optional_ranges(spark):
    rows = [SCORE, {**SCORE, "score_id": "SCR2", "credit_score": "900"},
            {**SCORE, "score_id": "SCR3", "credit_score": "299"},
            {**SCORE, "score_id": "SCR4", "credit_utilization": "7.5", "bureau": "acme"},
            {**SCORE, "score_id": "SCR5", "credit_score": "7e2"},
            {**SCORE, "score_id": "SCR6", "score_date": "2026-11-02"}]
    reasons, _ = run(spark, "credit_scores", rows)
    assert reasons == [
        (None, None),
        ("credit_score:above_max", None),
        ("credit_score:below_min", None),
        (None, "credit_utilization:above_max; bureau:not_allowed"),
        ("credit_score:unparseable", None),
        ("score_date:in_future", None),
    ]


LOGIN = dict(login_id="LOG1", customer_id="CUST1", login_timestamp="2026-10-01 08:00:00", login_status="success")


def test_login_ip_and_timestamp_rules(spark):
    rows = [{**LOGIN, "ip_address": "10.1.2.3"}, {**LOGIN, "login_id": "LOG2", "ip_address": "256.1.1.1"},
            {**LOGIN, "login_id": "LOG3", "ip_address": "1.2.3"},
            {**LOGIN, "login_id": "LOG4", "login_timestamp": "2026-10-01T08:00:00"},
            {**LOGIN, "login_id": "LOG5", "login_timestamp": "2026-11-01 12:04:00"},  # within clock tolerance
            {**LOGIN, "login_id": "LOG6", "login_timestamp": " NULL "},
            {**LOGIN, "login_id": "LOG7", "latitude": "91", "customer_id": "C1"},
            {**LOGIN, "login_id": "LOG1"}]  # duplicate of the first row
    reasons, out = run(spark, "login_activity", rows)
    assert reasons == [
        ("login_id:duplicate_primary_key", None),  # LOG1 again in the last row: the last row read wins
        (None, "ip_address:invalid_ipv4"),
        (None, "ip_address:invalid_ipv4"),
        ("login_timestamp:unparseable", None),
        (None, None),
        ("login_timestamp:missing", None),
        ("customer_id:pattern_mismatch", "latitude:above_max"),
        (None, None),
    ]
    assert out[1]["__typed__login_id"] == "LOG2" and out[1]["__typed__ip_address"] is None


def test_duplicate_primary_key_keeps_the_last_row_read(spark):
    reasons, _ = run(spark, "login_activity", [LOGIN, {**LOGIN, "login_status": "failed"}])
    assert reasons == [("login_id:duplicate_primary_key", None), (None, None)]


def test_required_column_absent_from_header_fails_every_row_once(spark):
    c = load_contract("transactions")
    df = spark.createDataFrame([("TXN1", None, "f", date(2026, 1, 1), 0)],
                               f"_c0 string, {tf.CORRUPT_RECORD} string, {SOURCE_FILE} string, "
                               f"{INGEST_PARTITION} date, {tf.ROW_SEQ} long")
    conformed = tf.conform_to_contract(df, ["transaction_id"], c)
    row = tf.validate(conformed, c, NOW).collect()[0]
    assert row["__errors__"].split("; ") == [f"{n}:missing_column" for n in
                                             ("customer_id", "account_id", "transaction_type", "amount",
                                              "currency", "transaction_date", "status")]
