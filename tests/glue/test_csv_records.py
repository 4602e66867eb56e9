"""CSV records as RFC 4180 defines them, through the ingest job on local Spark: a quoted field may hold the
delimiter, doubled quotes and line breaks (LF or CRLF) and is one record; a quote that is never closed and a ragged
row are quarantined with their reason; rows_in = rows_valid + rows_quarantined always holds."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from glue_jobs.local_run import ingest_one
from tests.glue.test_ingest_job import HEADER, good, land

pytestmark = pytest.mark.spark

MULTILINE = good(1).replace("Shop", '"Corner Shop\nUnit 4, High St"')
DOUBLED = good(2).replace("Shop", '"The ""Best"" Deli, Ltd"')
DELIMITER = good(3).replace("Shop", '"Smith, Jones & Co"')
CRLF_MULTILINE = good(4).replace("Shop", '"Line one\r\nline two"')

FILES = {
    # one file per case, so each file's last record is the interesting one where it matters
    "a_quoted.csv": "\n".join([HEADER, MULTILINE, DOUBLED, DELIMITER, good(5)]) + "\n",
    "b_crlf.csv": "\r\n".join([HEADER, CRLF_MULTILINE, good(6)]) + "\r\n",
    # a quote opened in a middle field and never closed: the parser reads to the end of the file, so the rest of
    # the file is one record (the three lines after it are inside it, not lost: they are in the quarantined row)
    "c_unterminated_middle.csv": "\n".join([HEADER, good(11), good(12).replace("Shop", '"Shop'), good(13),
                                            good(14)]) + "\n",
    # in the last column: the record has the right field count, only the quote count shows it
    "d_unterminated_last_column.csv": "\n".join([HEADER, good(21), good(22).replace("false", '"false'),
                                                 good(23)]) + "\n",
    # on the very last line without a final line break: the quote would silently vanish
    "e_unterminated_last_line.csv": "\n".join([HEADER, good(31), good(32).replace("Shop", '"Shop')]),
    "f_ragged.csv": "\n".join([HEADER, good(41), "TXN42,CUST001,ACC001,purchase", good(43)]) + "\n",
    # a multi-line field in the file's last record, correctly closed: not mistaken for an unterminated quote
    "g_multiline_last.csv": "\n".join([HEADER, good(51), good(52).replace("Shop", '"Last\nrecord"')]) + "\n",
}
VALID = {"TXN1", "TXN2", "TXN3", "TXN4", "TXN5", "TXN6", "TXN11", "TXN21", "TXN31", "TXN41", "TXN43", "TXN51",
         "TXN52"}
QUARANTINED = {
    "TXN12": "_record:unterminated_quote",
    "TXN22": "_record:unterminated_quote",
    "TXN32": "_record:unterminated_quote",
    "TXN42": "_record:malformed_row",
}


@pytest.fixture(scope="module")
def batch(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("rfc4180")
    landing = land(root, {name: text.encode() for name, text in FILES.items()})
    manifest = ingest_one(spark, "transactions", landing, root / "lake", "rfc", quarantine_threshold=1.0)
    raw = [r for f in sorted((root / "lake" / "raw" / "transactions").rglob("*.parquet"))
           for r in pq.read_table(f).to_pylist()]
    quarantine = [r for f in sorted((root / "lake" / "quarantine" / "transactions").rglob("*.parquet"))
                  for r in pq.read_table(f).to_pylist()]
    return manifest, {r["transaction_id"]: r for r in raw}, quarantine


def _quarantined_id(row: dict) -> str:
    return row["transaction_id"] or (row["_raw_record"] or "").split(",")[0]


def test_rows_in_counts_records_not_lines(batch):
    manifest, raw, quarantine = batch
    assert manifest.rows_in == len(VALID) + len(QUARANTINED)
    assert manifest.rows_in == manifest.rows_valid + manifest.rows_quarantined
    assert set(raw) == VALID and len(quarantine) == manifest.rows_quarantined


def test_quoted_fields_keep_line_breaks_quotes_and_delimiters(batch):
    _, raw, _ = batch
    assert raw["TXN1"]["merchant_name"] == "Corner Shop\nUnit 4, High St"
    assert raw["TXN2"]["merchant_name"] == 'The "Best" Deli, Ltd'
    assert raw["TXN3"]["merchant_name"] == "Smith, Jones & Co"
    assert raw["TXN4"]["merchant_name"] in ("Line one\r\nline two", "Line one\nline two")
    assert raw["TXN52"]["merchant_name"] == "Last\nrecord"
    assert all(r["_dq_warnings"] is None for r in raw.values())


def test_unterminated_quotes_and_ragged_rows_are_quarantined_with_their_reason(batch):
    manifest, _, quarantine = batch
    assert {_quarantined_id(r): r["_quarantine_reasons"] for r in quarantine} == QUARANTINED
    assert manifest.quarantine_reasons == {"_record:unterminated_quote": 3, "_record:malformed_row": 1}


def test_the_lines_an_unterminated_quote_swallowed_are_kept_in_its_quarantined_row(batch):
    _, _, quarantine = batch
    middle = next(r for r in quarantine if _quarantined_id(r) == "TXN12")
    kept = "\n".join(v for v in middle.values() if isinstance(v, str))
    assert "TXN13" in kept and "TXN14" in kept
    last_column = next(r for r in quarantine if _quarantined_id(r) == "TXN22")
    assert "TXN23" in "\n".join(v for v in last_column.values() if isinstance(v, str))
