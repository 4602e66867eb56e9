"""Pure ingest transforms (DataFrame -> DataFrame): conform, parse and validate per contract, dedup, split.

No I/O and no awsglue here, so the same code runs in the Glue job and on local Spark in tests. Reasons are
recorded as `column:reason` tokens joined by "; ":
- quarantine (required field/PK/row unusable): missing, missing_column, unparseable, invalid_encoding,
  not_allowed, pattern_mismatch, too_long, below_min, above_max, invalid_ipv4, in_future,
  duplicate_primary_key, `_record:malformed_row` (field count differs from the header),
  `_record:unterminated_quote` (a quoted field never closed: the file's last record, holding every line after it),
  `_file:unrecognised_header` (not a CSV extract of this table);
- warning (optional field nulled, row kept): the same per-field reasons, and `<name>:unknown_column` for a
  column the contract does not know (dropped).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from glue_jobs.contracts import INGEST_PARTITION, NULL_LITERALS, Column, Contract
from glue_jobs.ingest.schema import (
    BATCH_ID,
    DQ_WARNINGS,
    INGESTED_AT,
    QUARANTINE_REASONS,
    RAW_RECORD,
    SOURCE_FILE,
    spark_type,
)

# Columns the reader adds next to the contract's (string) columns.
CORRUPT_RECORD = "_corrupt_record"
FILE_ERRORS = "_file_errors"
FILE_WARNINGS = "_file_warnings"
ROW_SEQ = "_row_seq"
_TYPED = "__typed__"
_ERRORS = "__errors__"
_WARNINGS = "__warnings__"

# A source clock a few minutes ahead of ours is not a future-dated record.
FUTURE_TOLERANCE = timedelta(minutes=5)
_INT = r"^[+-]?[0-9]+$"
_DECIMAL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
_DOUBLE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_BOOL_TRUE, _BOOL_FALSE = ("true", "t", "1", "yes"), ("false", "f", "0", "no")


def normalise_header(names: list[str]) -> list[str]:
    """Header cells as column names: BOM, surrounding blanks/quotes removed, lower-case."""
    out = []
    for i, n in enumerate(names):
        n = n.replace("\ufeff", "").strip().strip('"').strip().lower()
        out.append(n)
    return out


def header_is_recognised(header: list[str], contract: Contract) -> bool:
    """A file is an extract of this table if its header names every primary-key column."""
    return all(k in header for k in contract.primary_key)


def conform_to_contract(df: DataFrame, header: list[str], contract: Contract) -> DataFrame:
    """Positional CSV columns (`_c0`..) named by `header` -> exactly the contract's string columns.

    Missing optional columns become null; a missing required column fails every row of the file; columns the
    contract does not know are dropped with a per-row warning, so nothing is silently lost.
    """
    position = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    known = set(contract.column_names)
    errors = [f"{c.name}:missing_column" for c in contract.columns if c.required and c.name not in position]
    warnings = [f"{name or f'column_{i + 1}'}:unknown_column" for i, name in enumerate(header) if name not in known]
    cols = [
        (F.col(f"_c{position[c.name]}") if c.name in position else F.lit(None).cast("string")).alias(c.name)
        for c in contract.columns
    ]
    return df.select(
        *cols,
        F.col(CORRUPT_RECORD).alias(RAW_RECORD),
        F.col(SOURCE_FILE),
        F.col(INGEST_PARTITION),
        F.col(ROW_SEQ),
        F.lit("; ".join(errors) or None).cast("string").alias(FILE_ERRORS),
        F.lit("; ".join(warnings) or None).cast("string").alias(FILE_WARNINGS),
    )


def unrecognised_file_rows(df: DataFrame, contract: Contract) -> DataFrame:
    """Lines of a file that is not an extract of this table: kept whole, every one quarantined."""
    return df.select(
        *[F.lit(None).cast("string").alias(c.name) for c in contract.columns],
        F.col(RAW_RECORD),
        F.col(SOURCE_FILE),
        F.col(INGEST_PARTITION),
        F.col(ROW_SEQ),
        F.lit("_file:unrecognised_header").alias(FILE_ERRORS),
        F.lit(None).cast("string").alias(FILE_WARNINGS),
    )


def _parse(value: SparkColumn, column: Column) -> SparkColumn:
    """The typed value, or null when the text is null or does not parse as the contract's type."""
    t = column.type
    if column.decimal_precision_scale:
        ok = value.rlike(_DECIMAL)
        typed = F.when(ok, value.cast(spark_type(column)))
    elif t in ("integer", "bigint"):
        typed = F.when(value.rlike(_INT), value.cast(spark_type(column)))
    elif t == "double":
        typed = F.when(value.rlike(_DOUBLE), value.cast("double"))
    elif t == "boolean":
        low = F.lower(value)
        typed = F.when(low.isin(*_BOOL_TRUE), F.lit(True)).when(low.isin(*_BOOL_FALSE), F.lit(False))
    elif t == "date":
        typed = F.when(value.rlike(_DATE), F.to_date(value, "yyyy-MM-dd"))
    elif t == "timestamp":
        typed = F.when(value.rlike(_TIMESTAMP), F.to_timestamp_ntz(value, F.lit("yyyy-MM-dd HH:mm:ss")))
    else:
        typed = value
    return typed.cast(spark_type(column))


def _column_reason(value: SparkColumn, typed: SparkColumn, column: Column, now: datetime) -> SparkColumn:
    """First reason this field is unusable, as 'column:reason', else null."""
    checks: list[tuple[SparkColumn, str]] = [
        (value.contains("\ufffd"), "invalid_encoding"),
        (typed.isNull(), "unparseable"),
    ]
    if column.allowed_values is not None:
        checks.append((~typed.cast("string").isin(*column.allowed_values), "not_allowed"))
    if column.pattern:
        checks.append((~value.rlike(column.pattern), "pattern_mismatch"))
    if column.max_length is not None:
        checks.append((F.length(value) > column.max_length, "too_long"))
    if column.min is not None:
        checks.append((typed < F.lit(column.min), "below_min"))
    if column.max is not None:
        checks.append((typed > F.lit(column.max), "above_max"))
    if column.format == "ipv4":
        checks.append((~value.rlike(_IPV4), "invalid_ipv4"))
    if column.not_in_future:
        if column.type == "date":
            checks.append((typed > F.lit(now.date()), "in_future"))
        else:
            limit = (now + FUTURE_TOLERANCE).strftime("%Y-%m-%d %H:%M:%S")
            checks.append((typed > F.lit(limit).cast("timestamp_ntz"), "in_future"))
    reason = F.lit(None).cast("string")
    for cond, name in reversed(checks):  # the first failing check wins
        reason = F.when(value.isNotNull() & cond, F.lit(f"{column.name}:{name}")).otherwise(reason)
    if column.required:
        reason = F.when(value.isNull(), F.lit(f"{column.name}:missing")).otherwise(reason)
    return reason


def _join_reasons(parts: list[SparkColumn]) -> SparkColumn:
    joined = F.concat_ws("; ", *parts)
    return F.when(joined == "", F.lit(None).cast("string")).otherwise(joined)


def validate(df: DataFrame, contract: Contract, now: datetime) -> DataFrame:
    """Parse every contract column; collect quarantine reasons (required) and warnings (optional).

    Adds `__typed__<col>` (parsed, null when unusable), `__errors__` and `__warnings__` (null when clean).
    `now` is the batch's ingest time (naive UTC): records dated after it are future-dated.
    Built in stages (text -> parsed -> reason -> result) so each value is computed once: one flat expression
    repeats the trimming per check and outgrows Spark's 64 KB generated-method limit.
    """
    nulls = list(NULL_LITERALS)
    value = {c.name: f"__value__{c.name}" for c in contract.columns}
    parsed = {c.name: f"__parsed__{c.name}" for c in contract.columns}
    reason = {c.name: f"__reason__{c.name}" for c in contract.columns}
    stage = df.select("*", *[
        F.when(F.trim(F.col(c.name)).isin(*nulls) | F.col(c.name).isNull(), F.lit(None).cast("string"))
        .otherwise(F.trim(F.col(c.name))).alias(value[c.name])
        for c in contract.columns
    ])
    stage = stage.select("*", *[_parse(F.col(value[c.name]), c).alias(parsed[c.name]) for c in contract.columns])
    stage = stage.select("*", *[
        _column_reason(F.col(value[c.name]), F.col(parsed[c.name]), c, now).alias(reason[c.name])
        for c in contract.columns
    ])
    # A file- or record-level problem explains every field failure of the row: report it alone.
    structural = F.coalesce(F.col(FILE_ERRORS), F.when(F.col(RAW_RECORD).isNotNull(), F.lit("_record:malformed_row")))
    field_errors = _join_reasons([F.col(reason[c.name]) for c in contract.columns if c.required])
    errors = [F.coalesce(structural, field_errors)]
    warnings = [F.col(FILE_WARNINGS)] + [F.col(reason[c.name]) for c in contract.columns if not c.required]
    keep = [n for n in df.columns]
    return stage.select(
        *keep,
        *[F.when(F.col(reason[c.name]).isNull(), F.col(parsed[c.name])).alias(_TYPED + c.name)
          for c in contract.columns],
        _join_reasons(errors).alias(_ERRORS),
        _join_reasons(warnings).alias(_WARNINGS),
    )


UNTERMINATED_QUOTE = "_record:unterminated_quote"


def last_records(df: DataFrame, contract: Contract) -> DataFrame:
    """Per source file: the row sequence of its last record and whether that record holds a line break (in a field
    or in its raw text). One small row per file."""
    texts = [F.col(c.name) for c in contract.columns] + [F.col(RAW_RECORD)]
    has_break = F.greatest(*[F.coalesce(t.rlike("[\r\n]"), F.lit(False)) for t in texts])
    return df.groupBy(SOURCE_FILE).agg(
        F.max(ROW_SEQ).alias("last_seq"), F.max_by(has_break, F.col(ROW_SEQ)).alias("has_break"))


def files_with_odd_quotes(lines: DataFrame) -> list[str]:
    """Source files (lines read as text, with SOURCE_FILE) holding an odd number of double-quote characters."""
    quotes = F.length(F.col("value")) - F.length(F.translate(F.col("value"), '"', ""))
    counted = lines.groupBy(SOURCE_FILE).agg(F.sum(quotes).alias("quotes"))
    return [r[SOURCE_FILE] for r in counted.where(F.col("quotes") % 2 == 1).collect()]


def flag_unterminated_quote(df: DataFrame, last_seq_by_file: dict[str, int]) -> DataFrame:
    """The last record of each given file is quarantined as `_record:unterminated_quote` (its text, with every line
    it swallowed, stays in the quarantined row)."""
    hit = F.lit(False)
    for source_file, seq in last_seq_by_file.items():
        hit = hit | ((F.col(SOURCE_FILE) == source_file) & (F.col(ROW_SEQ) == seq))
    return df.withColumn(_ERRORS, F.when(hit, F.lit(UNTERMINATED_QUOTE)).otherwise(F.col(_ERRORS)))


def duplicate_keys(df: DataFrame, contract: Contract) -> DataFrame:
    """Primary keys held by more than one valid row (only those can become duplicates): a narrow aggregate
    (key columns only), so a batch without duplicates never sorts its wide rows."""
    return (df.where(F.col(_ERRORS).isNull())
            .groupBy(*[F.col(_TYPED + k) for k in contract.primary_key]).count()
            .where(F.col("count") > 1))


def flag_duplicates(df: DataFrame, contract: Contract) -> DataFrame:
    """Within the batch keep one row per primary key (the latest ingest date, then the last row read);
    the others get a `duplicate_primary_key` quarantine reason, so rows_in still adds up."""
    valid = F.col(_ERRORS).isNull()
    window = Window.partitionBy(*[F.col(_TYPED + k) for k in contract.primary_key]).orderBy(
        valid.desc(), F.col(INGEST_PARTITION).desc(), F.col(SOURCE_FILE).desc(), F.col(ROW_SEQ).desc()
    )
    duplicate = valid & (F.row_number().over(window) > 1)
    reason = F.lit("+".join(contract.primary_key) + ":duplicate_primary_key")
    return df.withColumn(_ERRORS, F.when(duplicate, reason).otherwise(F.col(_ERRORS)))


def raw_rows(df: DataFrame, contract: Contract, batch_id: str, now: datetime) -> DataFrame:
    """Valid rows in the agreed raw layout (typed contract columns + lineage, partition column last)."""
    return df.where(F.col(_ERRORS).isNull()).select(
        *[F.col(_TYPED + c.name).alias(c.name) for c in contract.columns],
        F.col(_WARNINGS).alias(DQ_WARNINGS),
        F.lit(now.strftime("%Y-%m-%d %H:%M:%S")).cast("timestamp_ntz").alias(INGESTED_AT),
        F.lit(batch_id).alias(BATCH_ID),
        F.col(SOURCE_FILE),
        F.col(INGEST_PARTITION),
    )


def quarantine_rows(df: DataFrame, contract: Contract, batch_id: str) -> DataFrame:
    """Refused rows as received (strings), with their reasons, file and batch."""
    return df.where(F.col(_ERRORS).isNotNull()).select(
        *[F.col(c.name) for c in contract.columns],
        F.col(RAW_RECORD),
        F.col(_ERRORS).alias(QUARANTINE_REASONS),
        F.col(SOURCE_FILE),
        F.lit(batch_id).alias(BATCH_ID),
        F.col(INGEST_PARTITION),
    )


def outcome_counts(df: DataFrame) -> DataFrame:
    """Rows per (ingest date, quarantine reasons, warnings): one small aggregate from which the manifest's
    totals and per-reason counts are derived in a single pass over the batch."""
    return df.groupBy(INGEST_PARTITION, F.col(_ERRORS).alias("errors"), F.col(_WARNINGS).alias("warnings")).count()
