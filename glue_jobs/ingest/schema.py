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


def raw_schema(contract: Contract) -> T.StructType:
    """Schema of `<lake>/raw/<table>/` rows, partition column last."""
    fields = [T.StructField(c.name, spark_type(c), nullable=not c.required) for c in contract.columns]
    fields += [
        T.StructField(DQ_WARNINGS, T.StringType(), True),
        T.StructField(INGESTED_AT, T.TimestampNTZType(), False),
        T.StructField(BATCH_ID, T.StringType(), False),
        T.StructField(SOURCE_FILE, T.StringType(), False),
        T.StructField(INGEST_PARTITION, T.DateType(), False),
    ]
    return T.StructType(fields)


def quarantine_schema(contract: Contract) -> T.StructType:
    """Schema of `<lake>/quarantine/<table>/` rows: the text as received, and why it was refused."""
    fields = [T.StructField(c.name, T.StringType(), True) for c in contract.columns]
    fields += [
        T.StructField(RAW_RECORD, T.StringType(), True),
        T.StructField(QUARANTINE_REASONS, T.StringType(), False),
        T.StructField(SOURCE_FILE, T.StringType(), False),
        T.StructField(BATCH_ID, T.StringType(), False),
        T.StructField(INGEST_PARTITION, T.DateType(), False),
    ]
    return T.StructType(fields)
