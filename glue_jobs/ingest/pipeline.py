"""One ingest batch for one source table: list landing files, read, validate, write raw/quarantine/manifest.

Storage goes through Hadoop's FileSystem API (via the SparkSession's JVM), so the same code reads and writes
local folders (`file:`) in tests and `s3://` in Glue. Called by glue_jobs/ingest/job.py (Glue) and
glue_jobs/local_run.py (local Spark).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from urllib.parse import unquote

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_jobs.contracts import INGEST_PARTITION, Contract
from glue_jobs.ingest import transforms as tf
from glue_jobs.ingest.schema import RAW_RECORD, SOURCE_FILE

log = logging.getLogger(__name__)

DEFAULT_QUARANTINE_THRESHOLD = 0.05
# Rows per raw Parquet file when a batch's rows are shuffled before the write (duplicate keys): one day of a large
# bank's transactions (10 M) becomes ~5 files written by ~5 tasks, never one task holding the whole day. ~2 M
# transaction rows are ~100 MB of Parquet, inside the 64 MB - 1 GB Spectrum reads best.
RAW_ROWS_PER_FILE = 2_000_000
_COUNTS = ("rows_in", "rows_valid", "rows_quarantined", "rows_warned")
_PARTITION_DIR = re.compile(rf"(?:^|/){INGEST_PARTITION}=(\d{{4}}-\d{{2}}-\d{{2}})(?:/|$)")
# Session settings the transforms rely on; applied to whatever session the caller hands in (Glue or local).
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.ansi.enabled": "false",
}


class QuarantineThresholdExceeded(RuntimeError):
    """Raised after everything is written when too large a share of the batch was quarantined."""

    def __init__(self, manifest: "Manifest") -> None:
        self.manifest = manifest
        super().__init__(
            f"{manifest.table} batch {manifest.batch_id}: {manifest.rows_quarantined}/{manifest.rows_in} rows "
            f"({manifest.quarantine_share:.1%}) quarantined, above the {manifest.quarantine_threshold:.1%} threshold; "
            f"inspect {manifest.quarantine_path} and the manifest's quarantine_reasons, fix the source and re-run"
        )


@dataclass
class LandingFile:
    path: str
    ingest_date: str
    size: int
    header: list[str] | None = None


@dataclass
class Manifest:
    table: str
    batch_id: str
    ingested_at: str
    ingest_dates: list[str]
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_warned: int = 0
    quarantine_share: float = 0.0
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD
    status: str = "succeeded"
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    warning_reasons: dict[str, int] = field(default_factory=dict)
    per_ingest_date: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    raw_path: str = ""
    quarantine_path: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


class _Storage:
    """Tiny Hadoop FileSystem wrapper (list, first line, write text, delete)."""

    def __init__(self, spark: SparkSession) -> None:
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, uri: str):
        path = self.jvm.org.apache.hadoop.fs.Path(uri)
        return path, path.getFileSystem(self.conf)

    def list_files(self, uri: str) -> list[tuple[str, int]]:
        path, fs = self._fs(uri)
        if not fs.exists(path):
            return []
        found, it = [], fs.listFiles(path, True)
        while it.hasNext():
            status = it.next()
            p = status.getPath()
            name = p.getName()
            if name.startswith(("_", ".")):  # _SUCCESS, .crc, editor droppings
                continue
            found.append((p.toString(), int(status.getLen())))
        return sorted(found)

    def first_line(self, uri: str) -> str | None:
        path, fs = self._fs(uri)
        stream = fs.open(path)
        try:
            # Java decodes with replacement characters, so a non-UTF-8 header never raises here.
            reader = self.jvm.java.io.BufferedReader(self.jvm.java.io.InputStreamReader(stream, "UTF-8"))
            return reader.readLine()
        finally:
            stream.close()

    def ends_with_newline(self, uri: str) -> bool:
        path, fs = self._fs(uri)
        size = int(fs.getFileStatus(path).getLen())
        if size == 0:
            return True
        stream = fs.open(path)
        try:
            stream.seek(size - 1)
            return stream.read() == 0x0A  # "\n" (CRLF files end with it too)
        finally:
            stream.close()

    def write_text(self, uri: str, text: str) -> None:
        path, fs = self._fs(uri)
        out = fs.create(path, True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()

    def delete(self, uri: str) -> None:
        path, fs = self._fs(uri)
        if fs.exists(path):
            fs.delete(path, True)


def discover(spark: SparkSession, landing_table_uri: str, ingest_dates: list[str] | None) -> list[LandingFile]:
    """Files under `<landing>/<table>/ingest_date=YYYY-MM-DD/`, optionally only the given dates."""
    storage = _Storage(spark)
    wanted = set(ingest_dates) if ingest_dates else None
    files = []
    for path, size in storage.list_files(landing_table_uri):
        m = _PARTITION_DIR.search(path.replace("%3D", "="))
        if not m:
            log.warning("skipping %s: not under an %s=YYYY-MM-DD folder", path, INGEST_PARTITION)
            continue
        if wanted is not None and m.group(1) not in wanted:
            continue
        f = LandingFile(path=path, ingest_date=m.group(1), size=size)
        line = storage.first_line(path) if size else None
        if line is not None:
            f.header = tf.normalise_header(next(csv.reader([line.rstrip("\r")]), []))
        files.append(f)
    return files


def _read_group(spark: SparkSession, files: list[LandingFile], header: list[str], contract: Contract) -> DataFrame:
    paths = [f.path for f in files]
    if tf.header_is_recognised(header, contract):
        schema = T.StructType(
            [T.StructField(f"_c{i}", T.StringType()) for i in range(len(header))]
            + [T.StructField(tf.CORRUPT_RECORD, T.StringType())]
        )
        reader = (
            spark.read.schema(schema)
            .option("header", True)
            .option("enforceSchema", True)  # the header was read and mapped by name above
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", tf.CORRUPT_RECORD)
            .option("encoding", "UTF-8")
            # RFC 4180: a quoted field may hold the delimiter, doubled quotes ("") and line breaks (addresses and
            # merchant names in core-banking extracts do). multiLine parses such a field as part of one record;
            # it reads each file in one task (a file is not split), so parallelism comes from the files.
            .option("multiLine", True)
            .option("quote", '"')
            .option("escape", '"')
        )
        df = reader.csv(paths)
    else:
        # Not this table's extract: keep every line whole (\u0001 never splits it, no quoting).
        schema = T.StructType([T.StructField(RAW_RECORD, T.StringType())])
        df = spark.read.schema(schema).option("header", True).option("sep", "\u0001").option("quote", "\u0000").csv(paths)
    df = df.withColumn(SOURCE_FILE, F.input_file_name())
    folder_date = F.regexp_extract(F.regexp_replace(F.col(SOURCE_FILE), "%3D", "="), _PARTITION_DIR.pattern, 1)
    df = df.withColumn(INGEST_PARTITION, F.to_date(folder_date))
    df = df.withColumn(tf.ROW_SEQ, F.monotonically_increasing_id())
    if tf.header_is_recognised(header, contract):
        return tf.conform_to_contract(df, header, contract)
    return tf.unrecognised_file_rows(df, contract)


def ingest_table(
    spark: SparkSession,
    contract: Contract,
    *,
    landing_uri: str,
    raw_uri: str,
    quarantine_uri: str,
    manifest_uri: str,
    batch_id: str,
    ingest_dates: list[str] | None = None,
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD,
    now: datetime | None = None,
    rows_per_file: int = RAW_ROWS_PER_FILE,
) -> Manifest:
    """Ingest every landing file of `contract`'s table (optionally only `ingest_dates`) as batch `batch_id`.

    landing_uri is `<landing>/<table>`, raw_uri/quarantine_uri the table's folders; manifest_uri the folder that
    receives `<batch_id>.json`. Raises QuarantineThresholdExceeded after writing everything when the
    quarantined share is above the threshold.
    """
    for k, v in SESSION_CONF.items():
        spark.conf.set(k, v)
    now = now or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    storage = _Storage(spark)
    files = discover(spark, landing_uri, ingest_dates)
    manifest = Manifest(
        table=contract.name, batch_id=batch_id, ingested_at=now.isoformat(sep=" "),
        ingest_dates=sorted({f.ingest_date for f in files} | set(ingest_dates or [])),
        quarantine_threshold=quarantine_threshold, raw_path=raw_uri, quarantine_path=quarantine_uri,
    )
    groups: dict[tuple[str, ...], list[LandingFile]] = {}
    for f in files:
        issue = None
        if f.header is None:
            issue = "empty_file"
        elif not tf.header_is_recognised(f.header, contract):
            issue = "unrecognised_header"
        else:
            unknown = [h for h in f.header if h not in contract.column_names]
            missing = [c for c in contract.column_names if c not in f.header]
            issue = "; ".join(filter(None, [unknown and f"unknown columns {unknown}",
                                            missing and f"absent columns {missing}"])) or None
        manifest.files.append({"path": f.path, "ingest_date": f.ingest_date, "bytes": f.size, "issue": issue})
        if f.header is not None:
            groups.setdefault(tuple(f.header), []).append(f)

    parts = [_read_group(spark, fs, list(h), contract) for h, fs in groups.items()]
    if parts:
        combined = parts[0]
        for p in parts[1:]:
            combined = combined.unionByName(p)
        # One pass over the landing files: parse + validate once into the cache (the costly part, all CPU), then
        # every later step reads the cache. The wide rows are shuffled only when they must be: the rare batch
        # with duplicate primary keys (window over the key) — otherwise the raw write keeps the read order, in
        # which each landing file (one ingest date) is contiguous, so it writes ~one file per date unshuffled.
        validated = tf.validate(combined, contract, now).persist(StorageLevel.MEMORY_AND_DISK)
        checked = validated
        try:
            unterminated = _files_ending_inside_quotes(spark, storage, validated, contract)  # job 1 fills the cache
            if unterminated:
                checked = tf.flag_unterminated_quote(validated, unterminated)
            has_duplicates = not tf.duplicate_keys(checked, contract).isEmpty()
            if has_duplicates:
                checked = tf.flag_duplicates(checked, contract).persist(StorageLevel.MEMORY_AND_DISK)
            stats: dict[str, dict[str, int]] = {}
            for r in tf.outcome_counts(checked).collect():
                s = stats.setdefault(r[INGEST_PARTITION].isoformat(), dict.fromkeys(_COUNTS, 0))
                n, bad = int(r["count"]), r["errors"] is not None
                s["rows_in"] += n
                s["rows_quarantined" if bad else "rows_valid"] += n
                if not bad and r["warnings"] is not None:
                    s["rows_warned"] += n
                text = r["errors"] if bad else r["warnings"]
                bucket = manifest.quarantine_reasons if bad else manifest.warning_reasons
                for token in (text.split("; ") if text else []):
                    bucket[token] = bucket.get(token, 0) + n
            # Skipping an empty side saves a Spark job; its stale partitions are cleared below.
            if any(s["rows_valid"] for s in stats.values()):
                files = -(-max(s["rows_valid"] for s in stats.values()) // rows_per_file)
                _write(tf.raw_rows(checked, contract, batch_id, now), raw_uri, cluster=has_duplicates,
                       files_per_date=files, dates=sum(1 for s in stats.values() if s["rows_valid"]),
                       key=contract.primary_key)
            if any(s["rows_quarantined"] for s in stats.values()):
                # Few rows: clustering them by date is a cheap shuffle and avoids a tiny file per read partition.
                _write(tf.quarantine_rows(checked, contract, batch_id), quarantine_uri, cluster=True)
        finally:
            checked.unpersist()
            validated.unpersist()
    else:
        stats = {}
    for d in manifest.ingest_dates:
        s = stats.get(d, {})
        counts = {k: int(s.get(k) or 0) for k in _COUNTS}
        manifest.per_ingest_date[d] = counts
        # Dynamic overwrite only replaces partitions that receive rows; clear the ones this batch left empty
        # so a re-run never keeps rows from an earlier attempt.
        for uri, n in ((raw_uri, counts["rows_valid"]), (quarantine_uri, counts["rows_quarantined"])):
            if n == 0:
                storage.delete(f"{uri}/{INGEST_PARTITION}={d}")
        for k, v in counts.items():
            setattr(manifest, k, getattr(manifest, k) + v)
    manifest.quarantine_share = manifest.rows_quarantined / manifest.rows_in if manifest.rows_in else 0.0
    exceeded = manifest.quarantine_share > quarantine_threshold
    manifest.status = "quarantine_threshold_exceeded" if exceeded else "succeeded"
    storage.write_text(f"{manifest_uri}/{batch_id}.json", manifest.to_json())
    log.info("%s batch %s: in=%d valid=%d quarantined=%d warned=%d", contract.name, batch_id, manifest.rows_in,
             manifest.rows_valid, manifest.rows_quarantined, manifest.rows_warned)
    if exceeded:
        raise QuarantineThresholdExceeded(manifest)
    return manifest


def _files_ending_inside_quotes(spark: SparkSession, storage: "_Storage", validated: DataFrame,
                                contract: Contract) -> dict[str, int]:
    """{source file: row sequence of its last record} for each file that ends inside a quoted field.

    An opening quote that is never closed makes the parser read to the end of the file: the file's LAST record
    swallows every line after the quote (or, on the file's last line, the quote just vanishes). RFC 4180 quotes
    come in pairs (enclosures and doubled "" escapes), so such a file holds an odd number of quote characters.
    Counting them means reading the file again, so only files where it is possible are counted: those whose last
    record holds a line break (the swallowed lines) or that do not end with one (the quote on the last line).
    """
    last = {r[SOURCE_FILE]: (r["last_seq"], r["has_break"])
            for r in tf.last_records(validated, contract).collect()}
    # input_file_name() is a URI with its path percent-encoded (a space is %20); the readers want the path.
    candidates = [f for f, (_, has_break) in last.items() if has_break or not storage.ends_with_newline(unquote(f))]
    if not candidates:
        return {}
    lines = spark.read.text([unquote(f) for f in candidates]).withColumn(SOURCE_FILE, F.input_file_name())
    return {f: last[f][0] for f in tf.files_with_odd_quotes(lines)}


def _write(df: DataFrame, uri: str, *, cluster: bool, files_per_date: int = 1, dates: int = 1,
           key: list[str] | None = None) -> None:
    """Parquet partitioned by ingest date; dynamic partition overwrite replaces exactly the dates this batch
    carries. ``cluster`` shuffles rows by date first (few files per date per batch, small-file friendly for
    Spectrum/DuckDB): into ``files_per_date`` buckets of each date by a hash of ``key``, so a daily batch (one date)
    is written by that many tasks, not funnelled through one; without it each read partition (a landing file's
    split) writes the dates it holds (Spark sorts locally by the partition column), in parallel, one file per
    date when the rows are still in landing-file order."""
    if cluster and files_per_date > 1 and key:
        bucket = F.pmod(F.xxhash64(*[F.col(k) for k in key]), F.lit(files_per_date))
        df = df.repartition(files_per_date * dates, INGEST_PARTITION, bucket)
    elif cluster:
        df = df.repartition(INGEST_PARTITION)
    (
        df.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(INGEST_PARTITION)
        .parquet(uri)
    )


def as_date_list(values: list[str] | None) -> list[str] | None:
    """Validate YYYY-MM-DD strings (CLI/job arguments)."""
    if not values:
        return None
    out = []
    for v in values:
        try:
            out.append(date.fromisoformat(v).isoformat())
        except ValueError:
            raise ValueError(f"ingest date {v!r} is not YYYY-MM-DD; pass e.g. --ingest-date 2026-10-31") from None
    return out
