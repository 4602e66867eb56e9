"""Money mule pass-through (AML): a recruited customer's near-empty checking account (`opening_balance_cents`, USD)
receives `credits` large `Incoming Transfer`s (`credit_cents`, in USD, paid in the home currency; online banking) on different days, and each is
moved out again `first_outflow_delay_minutes` after it lands: `outflows_per_credit` debits `outflow_spread_minutes`
apart that together take a `share_moved_out` of the credit - `External Transfer`s from the customer's own
device and IP, or (a `cash_share` of the debits, when one is at most 1,000 in the home currency) ATM withdrawals in the home city.
Credits and debits are labelled (AML: the money is someone else's fraud, never charged back here). Ranges:
scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("money_mule",)
VICTIMS_PER_1000 = {"money_mule": 5}
CHARGEBACK: set[str] = set()


def add(bank, buf, logins) -> None:
    rng, D = bank.rng, bank.D
    sid, r, v = bank.scenario("money_mule")
    n_v = len(v)
    acc = bank.checking_of[v]
    # amounts drawn in USD, paid in the home currency (a mule ring moves the same money whatever the country)
    usd = w.usd_per_unit()[w.HOME_CURRENCY_CODE[bank.home[v]]]
    bank.acc_init_cents[acc] = np.round(ints(rng, r["opening_balance_cents"], n_v) / usd).astype(np.int64)
    # credits: on distinct days, leaving room for the outflows before the window ends
    last_day = max(3, D - 2 - int(np.ceil((r["first_outflow_delay_minutes"][1] + 5 * r["outflow_spread_minutes"][1]) / 1440)))
    k = np.minimum(ints(rng, r["credits"], n_v), last_day - 2)
    ci = np.repeat(np.arange(n_v), k)
    nc = len(ci)
    day = np.concatenate([np.sort(rng.choice(np.arange(2, last_day), size=m, replace=False))
                          for m in k])
    secs = rng.integers(7 * 3600, 20 * 3600, nc)
    place = bank.home[v[ci]]
    credit = np.round(ints(rng, r["credit_cents"], nc) / usd[ci]).astype(np.int64)
    buf.add(cust=v[ci], acct=acc[ci], day=day, secs=secs, type=2, merchant=w.M_INCOMING, cents=credit, channel=4,
            status=0, country=w.PLACE_COUNTRY_CODE[place], scenario=sid)
    # debits moving most of each credit out
    m = ints(rng, r["outflows_per_credit"], nc)
    oi = np.repeat(np.arange(nc), m)
    no = len(oi)
    weights = rng.gamma(2.0, 1.0, no)
    share = floats(rng, r["share_moved_out"], nc)
    total = np.bincount(oi, weights=weights, minlength=nc)
    part = np.floor(credit[oi] * share[oi] * weights / total[oi]).astype(np.int64)
    first = ints(rng, r["first_outflow_delay_minutes"], nc) * 60
    order_in_credit = np.arange(no) - np.repeat(np.r_[0, np.cumsum(m)[:-1]], m)
    at = secs[oi] + first[oi] + order_in_credit * ints(rng, r["outflow_spread_minutes"], no) * 60
    cash = (rng.random(no) < floats(rng, r["cash_share"], nc)[oi]) & (part <= 100_000)
    part = np.where(cash, np.maximum(part // 2000 * 2000, 2000), part)
    cust = v[ci][oi]
    home = bank.home[cust]
    buf.add(cust=cust, acct=acc[ci][oi], day=day[oi] + at // w.DAY, secs=at % w.DAY, type=np.where(cash, 1, 3),
            merchant=np.where(cash, w.M_ATM, w.M_EXTERNAL), cents=part, channel=np.where(cash, 2, 4), status=0,
            device=np.where(cash, -1, 2 * cust + 1), ip=np.where(cash, 0, bank.home_ip[cust]),
            place=np.where(cash, home, -1), country=w.PLACE_COUNTRY_CODE[home],
            lat=np.where(cash, w.PLACE_LAT[home] + rng.normal(0, 0.04, no), np.nan),
            lon=np.where(cash, w.PLACE_LON[home] + rng.normal(0, 0.04, no), np.nan),
            card_present=np.where(cash, 1, -1), scenario=sid)
