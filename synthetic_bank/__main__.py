"""CLI: python -m synthetic_bank --out demo_output/bank [--seed 42] [--customers 2500] [--days 60] [--end-date ...]
[--ranges standard|wide]"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from synthetic_bank.generator import DEFAULT_END_DATE, BankConfig, generate
from synthetic_bank.scenarios import PRESETS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m synthetic_bank", description=__doc__)
    p.add_argument("--out", type=Path, required=True, help="output folder (landing/ and ground_truth/ go inside)")
    p.add_argument("--seed", type=int, default=BankConfig.seed)
    p.add_argument("--customers", type=int, default=BankConfig.customers)
    p.add_argument("--days", type=int, default=BankConfig.days)
    p.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE,
                   help="last business date (YYYY-MM-DD); fixed default so output is reproducible")
    p.add_argument("--txn-per-day", type=float, default=BankConfig.txn_per_day,
                   help="mean transactions per active customer per day (raise it for benchmark volumes)")
    p.add_argument("--logins-per-day", type=float, default=BankConfig.logins_per_day)
    p.add_argument("--ranges", choices=PRESETS, default=BankConfig.ranges,
                   help="the scenarios' parameter ranges (synthetic_bank/scenarios/ranges.py); `wide` for a second bank")
    a = p.parse_args(argv)
    try:
        cfg = BankConfig(seed=a.seed, customers=a.customers, days=a.days, end_date=a.end_date,
                         txn_per_day=a.txn_per_day, logins_per_day=a.logins_per_day, ranges=a.ranges)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = generate(cfg, a.out)
    print(json.dumps({"landing": str(result.landing), "ground_truth": str(result.ground_truth),
                      "rows": result.rows, "labels": result.labels,
                      "hard_negatives": result.hard_negatives,
                      "seconds": round(time.perf_counter() - t0, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
