"""The synthetic bank's snapshot tables: accounts as a daily end-of-day snapshot (balances following the
transactions) and the monthly credit-bureau pulls."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from synthetic_bank.world import (
    ACCOUNT_STATUSES,
    ACCOUNT_TYPES,
    BUREAUS,
    CARD_NETWORKS,
    CURRENCIES,
    HOME_CURRENCY,
    M_CARD_PAYMENT,
    PAYMENT_HISTORY,
    RISK_LEVELS,
)
from synthetic_bank.writer import IdColumn, categorical, date_column, decimal_column, write_landing

# Share of checking accounts that are overdrawn all window (see _write_accounts); the others never are.
CHRONICALLY_OVERDRAWN_SHARE = 0.03

_PRODUCTS = [f"{tier} {name}" for name in ("Checking", "Savings", "Credit Card", "Personal Loan", "Mortgage")
             for tier in ("Essential", "Everyday", "Premier")]



def write_accounts(bank, landing: Path, t: dict) -> int:
    """The daily account snapshots, balances following `t` (the transactions in time order)."""
    A, D = len(bank.acc_cust), bank.D
    done = t["status"] == 0
    sign_deposit = np.select([np.isin(t["type"], (2, 5))], [1], -1)  # deposits/refunds in, others out
    is_card = bank.acc_type[t["acct"]] == 2
    signed = np.where(is_card, -sign_deposit, sign_deposit) * t["cents"] * done
    flows = np.bincount(t["acct"] * D + t["day"], weights=signed, minlength=A * D).reshape(A, D)
    # a card payment also reduces what is owed on the customer's card
    pay = done & (t["merchant"] == M_CARD_PAYMENT)
    card = bank.card_of[t["cust"][pay]]
    flows += np.bincount(card * D + t["day"][pay], weights=-t["cents"][pay].astype(float),
                         minlength=A * D).reshape(A, D)
    cum = np.cumsum(flows, axis=1)
    # Checking balances as a bank sees them mid-life, not as a random walk that starts everyone in credit (that
    # walk drifts more accounts into overdraft every day: a rising overdraft line on every dashboard). Most
    # customers keep a cushion: their opening balance is lifted just enough to stay in credit all window. A few
    # are chronically overdrawn: their opening balance is lowered until even their best day is in the red
    # (within the overdraft limit below). A constant shift per account, so each day's change is still exactly
    # its transactions; drawn from a generator of its own, so every other column stays byte-identical.
    chronic = np.random.default_rng([bank.cfg.seed, 1]).random(A) < CHRONICALLY_OVERDRAWN_SHARE
    checking = bank.acc_type == 0
    lift = np.where(checking & ~chronic, np.maximum(0, -(bank.acc_init_cents + cum.min(axis=1))), 0)
    sink = np.where(checking & chronic, -(bank.acc_init_cents + cum.max(axis=1)) - 100, 0)
    bal = (bank.acc_init_cents + lift + sink)[:, None] + cum
    atype = bank.acc_type[:, None]
    amort = np.where(atype >= 3, bank.acc_init_cents[:, None] / 3600.0 * np.arange(1, D + 1)[None, :], 0)
    bal = np.where(atype == 0, np.maximum(bal, -bank.acc_overdraft_cents[:, None]), bal)
    bal = np.where(atype == 2, np.clip(bal, 0, bank.acc_limit_cents[:, None] * 1.2), bal)
    bal = np.where(atype == 1, np.maximum(bal, 0), bal) - amort
    bal = np.where(bank.acc_status == 3, 0, bal)
    active = np.zeros((A, D), dtype=np.int64)
    touched = t["acct"] * D + t["day"]
    active.ravel()[touched] = bank.start_day + t["day"]
    last = np.maximum.accumulate(np.maximum(active, bank.acc_last_before[:, None]), axis=1)
    # rows: one per account per day from its opening day, day-major so files are contiguous
    day_idx, acc_idx = np.nonzero((np.arange(D)[:, None] >= bank.acc_open[None, :]))
    status = bank.acc_status[acc_idx, day_idx]
    close = bank.acc_close[acc_idx]
    loan = bank.acc_type[acc_idx] >= 3
    columns = {
        "account_id": IdColumn("ACC", 8, acc_idx + 1),
        "customer_id": IdColumn("CUST", 7, bank.acc_cust[acc_idx] + 1),
        "as_of_date": date_column(bank.start_day + day_idx),
        "account_type": categorical(bank.acc_type[acc_idx], ACCOUNT_TYPES),
        "product_name": categorical(bank.acc_type[acc_idx] * 3 + bank.income[bank.acc_cust[acc_idx]], _PRODUCTS),
        "account_status": categorical(status, ACCOUNT_STATUSES),
        "open_date": date_column(bank.start_day + np.minimum(bank.acc_open[acc_idx], day_idx)),
        "close_date": date_column(bank.start_day + close, mask=status != 3),
        "currency": categorical(
            np.array([CURRENCIES.index(c) for c in HOME_CURRENCY])[bank.home[bank.acc_cust[acc_idx]]], CURRENCIES),
        "balance": decimal_column(np.round(bal[acc_idx, day_idx]).astype(np.int64), 2),
        "interest_rate": decimal_column(bank.acc_rate[acc_idx], 5, precision=7),
        "credit_limit": decimal_column(bank.acc_limit_cents[acc_idx], 2, mask=bank.acc_limit_cents[acc_idx] < 0),
        "overdraft_limit": decimal_column(bank.acc_overdraft_cents[acc_idx], 2,
                                          mask=bank.acc_overdraft_cents[acc_idx] < 0),
        "card_network": categorical(bank.acc_network[acc_idx], CARD_NETWORKS),
        "monthly_fee": decimal_column(bank.acc_fee[acc_idx], 2, precision=10),
        "last_activity_date": date_column(np.minimum(last[acc_idx, day_idx], bank.start_day + day_idx), mask=loan),
    }
    return sum(write_landing(landing, "accounts", columns, bank.start_day + day_idx).values())

def write_credit_scores(bank, landing: Path) -> int:
    """One bureau pull per customer on the first day of every month in the window (and its first day)."""
    rng, N = bank.rng, bank.N
    start, end = bank.cfg.start_date, bank.cfg.end_date
    pulls = [start] if start.day != 1 else []
    d = date(start.year + (start.month == 12), start.month % 12 + 1, 1) if start.day != 1 else start
    while d <= end:
        pulls.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    P = len(pulls)
    pull_day = np.array([(p - start).days for p in pulls])
    base = rng.normal(700, 65, N)
    drift = rng.normal(0, 12, (N, P))
    drift[bank.churners] -= 6  # churners' credit tends to deteriorate
    score = np.clip(np.round(base[:, None] + np.cumsum(drift, axis=1)), 300, 850).astype(np.int64)
    change = np.diff(score, axis=1, prepend=(score[:, :1] - np.round(rng.normal(0, 15, (N, 1)))).astype(np.int64))
    exists = pull_day[None, :] >= bank.created[:, None]
    cust, p = np.nonzero(exists.T)[1], np.nonzero(exists.T)[0]  # pull-major order
    s = score[cust, p]
    n = len(s)
    util = np.clip(1.0 - (s - 300) / 600 + rng.normal(0, 0.1, n), 0, 1.2)
    columns = {
        "score_id": IdColumn("SCR", 9, np.arange(1, n + 1)),
        "customer_id": IdColumn("CUST", 7, cust + 1),
        "score_date": date_column(bank.start_day + pull_day[p]),
        "credit_score": pa.array(s),
        "score_change": pa.array(change[cust, p]),
        "payment_history": categorical(np.select([s >= 760, s >= 700, s >= 640], [0, 1, 2], 3), PAYMENT_HISTORY),
        "credit_utilization": decimal_column(np.round(util * 1e4).astype(np.int64), 4, precision=5),
        "credit_age": decimal_column(np.round(np.clip(rng.normal(8, 5, n), 0.3, 60) * 100).astype(np.int64), 2,
                                     precision=5),
        "recent_inquiries": pa.array(rng.poisson(1.0 + (s < 640))),
        "debt_to_income": decimal_column(np.round(np.clip(rng.normal(0.3, 0.12, n), 0.02, 1.5) * 1e4)
                                         .astype(np.int64), 4, precision=5),
        "risk_factors": categorical(np.select([s >= 700, s >= 620], [0, 1], 2), RISK_LEVELS),
        "bureau": categorical(rng.integers(0, 3, n), BUREAUS),
    }
    return sum(write_landing(landing, "credit_scores", columns, bank.start_day + pull_day[p]).values())
