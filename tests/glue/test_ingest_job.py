"""The ingest job end to end on local Spark: every bad-input class lands in quarantine or warnings with its reason,
nothing is lost (rows_in = rows_valid + rows_quarantined), re-runs replace, and the threshold fails the run after
writing. One crafted landing batch is ingested once per module; each test asserts one behaviour of it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from glue_jobs.ingest.pipeline import QuarantineThresholdExceeded
from glue_jobs.local_run import SAMPLES_DIR, ingest_one, main

pytestmark = pytest.mark.spark

HEADER = (SAMPLES_DIR / "transactions.csv").read_text().splitlines()[0]
GOOD = "TXN{n},CUST001,ACC001,purchase,10.00,USD,Shop,retail,2024-03-01 10:00:00,DEV1,10.0.0.1,completed,false"
DAY = "2024-03-01"


def good(n: int) -> str:
    return GOOD.format(n=n)


# file name -> bytes; every class of bad input the issue lists, in one batch for one table
FILES: dict[str, bytes] = {
    "a_seed.csv": (SAMPLES_DIR / "transactions.csv").read_bytes(),
    "b_ragged.csv": "\n".join([HEADER, good(101), "TXN102,CUST001,ACC001,purchase",
                               good(103) + ",surplus,fields"]).encode(),
    "c_empty.csv": b"",
    "d_header_only.csv": (HEADER + "\n").encode(),
    "e_bom_crlf.csv": ("\ufeff" + "\r\n".join([HEADER, good(201), good(202)]) + "\r\n").encode("utf-8"),
    "f_latin1.csv": "\n".join([HEADER, good(301).replace("Shop", "Caf\xe9"),
                               good(302).replace("TXN302", "TXN30\xff")]).encode("latin-1"),
    "g_extra_column.csv": "\n".join([HEADER + ",loyalty_points", good(401) + ",12"]).encode(),
    "h_not_csv.json": b'{"transactions": [\n{"id": 1},\n{"id": 2}\n]}\n',
    "i_bad_values.csv": "\n".join([
        HEADER,
        good(501).replace("TXN501", ""),                                   # missing primary key
        GOOD.format(n="001").replace("Shop", "Duplicate"),                 # TXN001 again (seed has it)
        good(503).replace("2024-03-01 10:00:00", "2024-13-45 99:00:00"),  # unparseable timestamp
        good(504).replace("10.00", "ten"),                                 # unparseable amount
        good(505).replace("10.00", "-5.00"),                               # negative amount
        good(506).replace("purchase", "teleport"),                         # unknown transaction type
        good(507).replace("USD", "XYZ"),                                   # unknown currency
        good(508).replace("10.0.0.1", "999.1.1.1"),                        # invalid IP: optional -> warned
        good(509).replace("2024-03-01 10:00:00", "2099-01-01 00:00:00"),  # future timestamp
        good(510).replace("retail", "spaceship"),                          # unknown optional enum -> warned
        good(511).replace("false", "null"),                                # literal null optional: clean
    ]).encode(),
}
QUARANTINED = {  # transaction_id (or a marker) -> expected reason
    "TXN102": "_record:malformed_row",
    "TXN103": "_record:malformed_row",
    "TXN302": "transaction_id:invalid_encoding",
    "": "transaction_id:missing",
    "TXN001": "transaction_id:duplicate_primary_key",
    "TXN503": "transaction_date:unparseable",
    "TXN504": "amount:unparseable",
    "TXN505": "amount:below_min",
    "TXN506": "transaction_type:not_allowed",
    "TXN507": "currency:not_allowed",
    "TXN509": "transaction_date:in_future",
}
WARNED = {
    "TXN301": "merchant_name:invalid_encoding",
    "TXN401": "loyalty_points:unknown_column",
    "TXN508": "ip_address:invalid_ipv4",
    "TXN510": "merchant_category:not_allowed",
}
NOT_CSV_LINES = 3  # lines after the first ("header") line of h_not_csv.json
ROWS_IN = 10 + 3 + 0 + 0 + 2 + 2 + 1 + NOT_CSV_LINES + 11


def land(root: Path, files: dict[str, bytes], day: str = DAY) -> Path:
    folder = root / "landing" / "transactions" / f"ingest_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return root / "landing"


@pytest.fixture(scope="module")
def batch(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_inputs")
    landing = land(root, FILES)
    with pytest.raises(QuarantineThresholdExceeded) as exc:
        ingest_one(spark, "transactions", landing, root / "lake", "b1")
    return root, exc.value.manifest


def read(root: Path, kind: str) -> list[dict]:
    files = sorted((root / "lake" / kind / "transactions").rglob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def test_nothing_is_lost(batch):
    root, m = batch
    assert m.rows_in == ROWS_IN
    assert m.rows_in == m.rows_valid + m.rows_quarantined
    assert len(read(root, "raw")) == m.rows_valid
    assert len(read(root, "quarantine")) == m.rows_quarantined
    assert m.rows_quarantined == len(QUARANTINED) + NOT_CSV_LINES


def test_each_bad_row_is_quarantined_with_its_reason(batch):
    root, _ = batch
    rows = read(root, "quarantine")
    by_id = {}
    for r in rows:
        if r["_quarantine_reasons"] == "_file:unrecognised_header":
            continue
        key = (r["transaction_id"] or "").replace("\ufffd", "2")  # TXN30\xff decodes to TXN30\ufffd
        if r["_raw_record"] and not r["transaction_id"]:
            key = r["_raw_record"].split(",")[0]
        by_id[key] = r["_quarantine_reasons"]
    assert by_id == QUARANTINED
    assert all(r["_batch_id"] == "b1" and r["_source_file"].endswith(".csv") or r["_source_file"].endswith(".json")
               for r in rows)


def test_not_csv_file_lines_are_quarantined_whole(batch):
    root, m = batch
    junk = [r for r in read(root, "quarantine") if r["_quarantine_reasons"] == "_file:unrecognised_header"]
    assert len(junk) == NOT_CSV_LINES
    assert {r["_raw_record"] for r in junk} == {'{"id": 1},', '{"id": 2}', "]}"}
    issues = {Path(f["path"]).name: f["issue"] for f in m.files}
    assert issues["h_not_csv.json"] == "unrecognised_header"
    assert issues["c_empty.csv"] == "empty_file"
    assert "loyalty_points" in issues["g_extra_column.csv"]


def test_bad_optional_fields_are_warned_and_nulled(batch):
    root, m = batch
    raw = {r["transaction_id"]: r for r in read(root, "raw")}
    assert {k: raw[k]["_dq_warnings"] for k in WARNED} == WARNED
    assert raw["TXN508"]["ip_address"] is None
    assert raw["TXN510"]["merchant_category"] is None
    assert raw["TXN301"]["merchant_name"] is None
    assert raw["TXN511"]["is_fraudulent"] is None and raw["TXN511"]["_dq_warnings"] is None
    assert m.rows_warned == len(WARNED)
    assert m.warning_reasons == {v: 1 for v in WARNED.values()}


def test_bom_crlf_and_types(batch):
    root, _ = batch
    raw = {r["transaction_id"]: r for r in read(root, "raw")}
    r = raw["TXN202"]
    assert r["is_fraudulent"] is False and r["status"] == "completed" and r["_dq_warnings"] is None
    assert str(r["amount"]) == "10.00" and r["transaction_date"].isoformat() == "2024-03-01T10:00:00"
    assert r["ingest_date"].isoformat() == DAY if "ingest_date" in r else True
    seed = raw["TXN004"]
    assert seed["is_fraudulent"] is True and str(seed["amount"]) == "2500.00"


def test_duplicate_keeps_one_row(batch):
    root, _ = batch
    ids = [r["transaction_id"] for r in read(root, "raw")]
    assert len(ids) == len(set(ids))
    assert "TXN001" in ids


def test_manifest_written_with_reason_counts_before_failing(batch):
    root, m = batch
    on_disk = json.loads((root / "lake" / "manifests" / "transactions" / "b1.json").read_text())
    assert on_disk["status"] == "quarantine_threshold_exceeded"
    assert on_disk["rows_in"] == on_disk["rows_valid"] + on_disk["rows_quarantined"]
    expected = {}
    for reason in QUARANTINED.values():
        expected[reason] = expected.get(reason, 0) + 1
    expected["_file:unrecognised_header"] = NOT_CSV_LINES
    assert on_disk["quarantine_reasons"] == expected
    assert on_disk["per_ingest_date"][DAY]["rows_in"] == ROWS_IN


def test_rerun_replaces_never_duplicates(spark, tmp_path):
    landing = land(tmp_path, {"a.csv": "\n".join([HEADER, good(1), good(2), "TXN3,x"]).encode()})
    for _ in range(2):
        m = ingest_one(spark, "transactions", landing, tmp_path / "lake", "b1", quarantine_threshold=1.0)
    assert (m.rows_valid, m.rows_quarantined) == (2, 1)
    assert len(read(tmp_path, "raw")) == 2 and len(read(tmp_path, "quarantine")) == 1
    # the source is fixed and re-sent: the partition is replaced and the stale quarantine row disappears
    (landing / "transactions" / f"ingest_date={DAY}" / "a.csv").write_text("\n".join([HEADER, good(1), good(3)]))
    m = ingest_one(spark, "transactions", landing, tmp_path / "lake", "b2")
    assert sorted(r["transaction_id"] for r in read(tmp_path, "raw")) == ["TXN1", "TXN3"]
    assert read(tmp_path, "quarantine") == []
    assert {r["_batch_id"] for r in read(tmp_path, "raw")} == {"b2"}


def test_cli_exits_non_zero_after_writing_when_threshold_exceeded(spark, tmp_path):
    landing = land(tmp_path, {"a.csv": "\n".join([HEADER, good(1), "junk"]).encode()})
    out = tmp_path / "lake"
    args = ["--source", "transactions", "--landing", str(landing), "--output", str(out), "--batch-id", "cli"]
    assert main(args + ["--quarantine-threshold", "0.6"]) == 0
    assert main(args) == 3
    assert json.loads((out / "manifests" / "transactions" / "cli.json").read_text())["rows_quarantined"] == 1
    assert len(read(tmp_path, "raw")) == 1
    assert main(args + ["--ingest-date", "2024-3-1"]) == 2


def test_other_ingest_dates_are_left_alone(spark, tmp_path):
    landing = land(tmp_path, {"a.csv": "\n".join([HEADER, good(1)]).encode()}, day="2024-03-01")
    land(tmp_path, {"a.csv": "\n".join([HEADER, good(2)]).encode()}, day="2024-03-02")
    ingest_one(spark, "transactions", landing, tmp_path / "lake", "all")
    m = ingest_one(spark, "transactions", landing, tmp_path / "lake", "only-2nd", ingest_dates=["2024-03-02"])
    assert m.ingest_dates == ["2024-03-02"] and m.rows_in == 1
    assert {r["_batch_id"] for r in read(tmp_path, "raw")} == {"all", "only-2nd"}


def test_a_days_batch_is_written_by_many_tasks_not_one(spark, tmp_path):
    """One day's batch is one ingest date: a write shuffled by that date alone would put the whole day in one
    task (10 M transactions in one executor's memory and one file). With duplicate keys in the batch (the path
    that shuffles before writing) the day is spread over ceil(rows / rows_per_file) hash buckets of the key;
    without, each landing file's split writes its own rows. Checked on the written files: each is one task's."""
    from glue_jobs.ingest.pipeline import ingest_table
    from glue_jobs.local_run import _uri, load_contract

    rows = [good(n) for n in range(1, 601)]
    files = {f"part{i}.csv": "\n".join([HEADER, *rows[i * 200:(i + 1) * 200]]).encode() for i in range(3)}
    contract = load_contract("transactions")
    # (Spark packs small landing files into one read split, so 3 files may be 2 tasks; a real day's files are
    # split at 128 MB.) Shuffled: 601 rows (600 valid) at 100 a file -> 6 buckets of ~100.
    for name, landing_files, least_files, most_rows in [
        ("unshuffled", files, 2, 400),
        ("shuffled", {**files, "dup.csv": "\n".join([HEADER, good(1)]).encode()}, 4, 250),
    ]:
        root = tmp_path / name
        landing = land(root, landing_files)
        out = root / "lake"
        manifest = ingest_table(
            spark, contract, landing_uri=_uri(landing / "transactions"), raw_uri=_uri(out / "raw" / "transactions"),
            quarantine_uri=_uri(out / "quarantine" / "transactions"), manifest_uri=_uri(out / "manifests"),
            batch_id=name, rows_per_file=100)
        written = sorted((out / "raw" / "transactions" / f"ingest_date={DAY}").glob("*.parquet"))
        per_file = [pq.read_metadata(f).num_rows for f in written]
        assert manifest.rows_valid == sum(per_file) == 600, (name, per_file)
        # every task's file holds a share of the day, none all of it (hash buckets are uneven)
        assert len(written) >= least_files and max(per_file) <= most_rows, (name, per_file)
