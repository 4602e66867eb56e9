"""The contracts, the Spark schemas, the written Parquet and the demo lake agree; the seed samples and the
generated bank ingest cleanly."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.contracts import INGEST_PARTITION, TABLES, load_contract
from glue_jobs.ingest.schema import quarantine_schema, raw_schema
from glue_jobs.local_run import SAMPLES_BATCH_ID

pytestmark = pytest.mark.spark

_ARROW = {"string": pa.string(), "integer": pa.int32(), "bigint": pa.int64(), "double": pa.float64(),
          "boolean": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us")}


def _expected_arrow(column) -> pa.DataType:
    ps = column.decimal_precision_scale
    return pa.decimal128(*ps) if ps else _ARROW[column.type]


def test_spark_schemas_follow_the_contracts():
    for t in TABLES:
        c = load_contract(t)
        raw = raw_schema(c)
        assert raw.names == c.column_names + ["_dq_warnings", "_ingested_at", "_batch_id", "_source_file",
                                              INGEST_PARTITION]
        assert [f.nullable for f in raw.fields[: len(c.columns)]] == [not col.required for col in c.columns]
        q = quarantine_schema(c)
        assert q.names[: len(c.columns)] == c.column_names
        assert all(f.dataType.typeName() == "string" for f in q.fields[: len(c.columns)])


def test_written_parquet_has_the_contract_types(demo_lake):
    for t in TABLES:
        c = load_contract(t)
        files = sorted((demo_lake["lake"] / "raw" / t).rglob("*.parquet"))
        assert files, t
        schema = pq.read_schema(files[0])
        expected = {col.name: _expected_arrow(col) for col in c.columns}
        expected.update({"_dq_warnings": pa.string(), "_ingested_at": pa.timestamp("us"), "_batch_id": pa.string(),
                         "_source_file": pa.string()})
        assert {n: schema.field(n).type for n in schema.names} == expected, t
        # timestamps are written without a zone (UTC wall clock as sent)
        assert all(schema.field(n).type.tz is None for n in schema.names if pa.types.is_timestamp(schema.field(n).type))


def test_generated_bank_ingests_with_nothing_quarantined(demo_lake):
    manifests = demo_lake["manifests"]["synthetic-001"]
    for t in TABLES:
        m = manifests[t]
        assert m.rows_in == demo_lake["bank_rows"][t] > 0
        assert (m.rows_quarantined, m.rows_warned) == (0, 0), (t, m.quarantine_reasons, m.warning_reasons)


def test_seed_samples_ingest_as_is(demo_lake):
    manifests = demo_lake["manifests"][SAMPLES_BATCH_ID]
    assert set(manifests) == {"customers", "transactions", "login_activity", "credit_scores"}
    for t, m in manifests.items():
        assert (m.rows_in, m.rows_valid, m.rows_quarantined) == (10, 10, 0), t
    login = manifests["login_activity"]
    assert login.warning_reasons == {"ip_address:invalid_ipv4": 1}
    raw = pq.read_table(demo_lake["lake"] / "raw" / "login_activity" / "ingest_date=2024-03-01").to_pylist()
    log006 = next(r for r in raw if r["login_id"] == "LOG006")
    assert log006["ip_address"] is None and log006["_dq_warnings"] == "ip_address:invalid_ipv4"
    assert log006["failure_reason"] == "invalid_credentials" and log006["_batch_id"] == SAMPLES_BATCH_ID
    on_disk = json.loads((demo_lake["lake"] / "manifests" / "login_activity" / f"{SAMPLES_BATCH_ID}.json").read_text())
    assert on_disk["rows_in"] == on_disk["rows_valid"] + on_disk["rows_quarantined"]


def test_both_batches_coexist_in_the_lake(demo_lake):
    dates = {p.name for p in (demo_lake["lake"] / "raw" / "transactions").iterdir() if p.is_dir()}
    assert f"{INGEST_PARTITION}=2024-03-01" in dates and len(dates) == 46


def test_a_batch_without_duplicate_keys_writes_one_raw_file_per_ingest_date(demo_lake):
    """The generated batch has no duplicate keys, so the raw write keeps landing-file order (no shuffle): each
    ingest date still gets exactly one Parquet file (one landing file per table and date)."""
    manifests = demo_lake["manifests"]["synthetic-001"]
    for table in ("transactions", "login_activity"):
        assert not any("duplicate_primary_key" in r for r in manifests[table].quarantine_reasons)
        folders = [p for p in (demo_lake["lake"] / "raw" / table).iterdir() if p.name.startswith("ingest_date=")]
        assert len(folders) == len(manifests[table].ingest_dates) + 1  # + the seed samples' date
        assert {p.name: len(list(p.glob("*.parquet"))) for p in folders} == {p.name: 1 for p in folders}
