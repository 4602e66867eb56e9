"""Generator and local ingest throughput: a 10 M-transaction synthetic bank, then the Glue ingest transforms on
local Spark (local[2], one SparkSession) over ~1 M (the first ingest dates) and all ~10 M transactions.

Goals: generation of >= 10 M transactions <= 120 s (issue 3). Ingest rows/s is reported without a goal (local[2] on
a shared 2-core machine says little about Glue workers; it tracks regressions). Each ingest also reports the JVM's
CPU seconds (rows per CPU-second is steadier than wall-clock when other processes compete for the cores), the
JVM's peak resident memory and the Parquet files written. Working data lives in bench_output/ingest and is deleted
afterwards (~2.5 GB of CSV).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from bench.run import REPO_ROOT, Measurement

WORK = REPO_ROOT / "bench_output" / "ingest"
# 25,000 customers x 90 days x 4.8 transactions/day ~ 10.2 M transactions (plus ~4.8 M account snapshot rows).
BANK = dict(seed=42, customers=25_000, days=90, txn_per_day=4.8)
GENERATION_GOAL_S = 120.0
SUBSET_ROWS = 1_000_000


class _Jvm:
    """CPU seconds and peak RSS of the Spark driver JVM (local mode: the only Spark process), from /proc."""

    def __init__(self, spark) -> None:
        self.pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def run() -> list[Measurement]:
    from glue_jobs.local_run import ingest_one, landing_dates, local_spark
    from synthetic_bank import BankConfig, generate

    shutil.rmtree(WORK, ignore_errors=True)
    out: list[Measurement] = []
    try:
        started = time.perf_counter()
        bank = generate(BankConfig(**BANK), WORK / "bank")
        gen_s = time.perf_counter() - started
        txns = bank.rows["transactions"]
        out.append(Measurement("generate_10m_seconds", round(gen_s, 1), "s", f"<= {GENERATION_GOAL_S:g}",
                               gen_s <= GENERATION_GOAL_S and txns >= 10_000_000,
                               f"{txns:,} transactions, {sum(bank.rows.values()):,} rows in all tables"))
        out.append(Measurement("generate_rows_per_s", round(sum(bank.rows.values()) / gen_s), "rows/s"))
        print(f"    generated {txns:,} transactions in {gen_s:.1f} s", flush=True)  # the 10 M ingest takes long

        spark = local_spark(app_name="bench-ingest", shuffle_partitions=8, driver_memory="8g")
        try:
            jvm = _Jvm(spark)
            dates = landing_dates(bank.landing)
            per_day = txns / len(dates)
            subset = dates[: max(1, round(SUBSET_ROWS / per_day))]
            for label, chosen in (("1m", subset), ("10m", None)):
                lake = WORK / f"lake_{label}"
                started, cpu = time.perf_counter(), jvm.cpu_seconds()
                m = ingest_one(spark, "transactions", bank.landing, lake, f"bench-{label}", chosen)
                secs, cpu = time.perf_counter() - started, jvm.cpu_seconds() - cpu
                files = len(list((lake / "raw" / "transactions").rglob("*.parquet")))
                load = os.getloadavg()[0]
                out.append(Measurement(f"ingest_{label}_rows_per_s", round(m.rows_in / secs), "rows/s", "", None,
                                       f"{m.rows_in:,} rows in {secs:.1f} s, {m.rows_quarantined} quarantined, "
                                       f"{files} raw files for {len(m.ingest_dates)} dates, load avg {load:.1f}"))
                out.append(Measurement(f"ingest_{label}_rows_per_cpu_s", round(m.rows_in / cpu), "rows/s", "", None,
                                       f"{cpu:.1f} JVM CPU seconds on local[2]"))
                out.append(Measurement(f"ingest_{label}_jvm_peak_rss_mb", round(jvm.peak_rss_mb()), "MB", "", None,
                                       "driver JVM high-water mark so far (driver memory 8g)"))
                for row in out[-3:]:
                    print(f"    {row.name}: {row.value:g} {row.unit} ({row.detail})", flush=True)
                shutil.rmtree(lake, ignore_errors=True)  # keep the disk footprint to one lake at a time
        finally:
            spark.stop()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    return out
