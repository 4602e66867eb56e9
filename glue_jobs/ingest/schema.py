"""Spark types derived from the source contracts (never written by hand)."""

from __future__ import annotations

from pyspark.sql import types as T

from glue_jobs.contracts import INGEST_PARTITION, Column, Contract

# Columns every raw row carries besides the contract's own (agreed raw layout, see ARCHITECTURE.md).
DQ_WARNINGS = "_dq_warnings"
INGESTED_AT = "_ingested_at"
BATCH_ID = "_batch_id"
SOURCE_FILE = "_source_file"
QUARANTINE_REASONS = "_quarantine_reasons"
RAW_RECORD = "_raw_record"

_SIMPLE = {
    "string": T.StringType(),
    "integer": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    # Sources send UTC wall-clock times without a zone; NTZ keeps them exactly as sent (Parquet
    # isAdjustedToUTC=false), so DuckDB/Redshift read a plain `timestamp` with no session-zone shift.
    "timestamp": T.TimestampNTZType(),
}


def spark_type(column: Column) -> T.DataType:
    ps = column.decimal_precision_scale
    if ps:
        return T.DecimalType(*ps)
    return _SIMPLE[column.type]


# (type, nullable) of each bookkeeping column, declared once: raw and quarantine rows share the lineage columns
# (batch, source file, partition), which must read the same in both layouts.
_BOOKKEEPING: dict[str, tuple[T.DataType, bool]] = {
    DQ_WARNINGS: (T.StringType(), True),
    INGESTED_AT: (T.TimestampNTZType(), False),
    BATCH_ID: (T.StringType(), False),
    SOURCE_FILE: (T.StringType(), False),
    RAW_RECORD: (T.StringType(), True),
    QUARANTINE_REASONS: (T.StringType(), False),
    INGEST_PARTITION: (T.DateType(), False),
}


def _bookkeeping(*names: str) -> list[T.StructField]:
    return [T.StructField(name, *_BOOKKEEPING[name]) for name in names]


def raw_schema(contract: Contract) -> T.StructType:
    """Schema of `<lake>/raw/<table>/` rows, partition column last."""
    fields = [T.StructField(c.name, spark_type(c), nullable=not c.required) for c in contract.columns]
    return T.StructType(fields + _bookkeeping(DQ_WARNINGS, INGESTED_AT, BATCH_ID, SOURCE_FILE, INGEST_PARTITION))


def quarantine_schema(contract: Contract) -> T.StructType:
    """Schema of `<lake>/quarantine/<table>/` rows: the text as received, and why it was refused."""
    fields = [T.StructField(c.name, T.StringType(), True) for c in contract.columns]
    return T.StructType(fields + _bookkeeping(RAW_RECORD, QUARANTINE_REASONS, SOURCE_FILE, BATCH_ID, INGEST_PARTITION))
