"""Structuring (AML): `deposits` cash deposits (`Cash Deposit`, merchant_category cash, MCC 6010, at a branch or,
for an `atm_share`, an ATM) of `deposit_cents` each - just under the 10,000 reporting threshold - spread over
`span_days` consecutive days in the home city. All labelled (AML, never is_fraudulent). Ranges:
scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("structuring",)
VICTIMS_PER_1000 = {"structuring": 3}
CHARGEBACK: set[str] = set()


def add(bank, buf, logins) -> None:
    rng, D = bank.rng, bank.D
    sid, r, v = bank.scenario("structuring")
    n_v = len(v)
    span = ints(rng, r["span_days"], n_v)
    first = rng.integers(1, max(2, D - 1 - int(r["span_days"][1])), n_v)
    vi = np.repeat(np.arange(n_v), ints(rng, r["deposits"], n_v))
    n = len(vi)
    atm = rng.random(n) < floats(rng, r["atm_share"], n_v)[vi]
    place = bank.home[v[vi]]
    buf.add(cust=v[vi], acct=bank.checking_of[v[vi]], day=first[vi] + rng.integers(0, span[vi] + 1),
            secs=rng.integers(9 * 3600, 17 * 3600, n), type=2, merchant=w.M_CASH_DEP,
            cents=ints(rng, r["deposit_cents"], n), channel=np.where(atm, 2, 5), status=0, place=place,
            country=w.PLACE_COUNTRY_CODE[place], lat=w.PLACE_LAT[place] + rng.normal(0, 0.04, n),
            lon=w.PLACE_LON[place] + rng.normal(0, 0.04, n), card_present=np.where(atm, 1, -1), scenario=sid)
