"""High-risk geography (AML): `transactions` transactions over `span_days` days, each either an `External
Transfer` (`wire_cents`, for a `wire_share`) or a card-not-present crypto/gambling/jewelry purchase
(`card_cents`) whose merchant_country is in `synthetic_bank.reference.HIGH_RISK_COUNTRIES`. No normal traffic
ever goes there. All labelled (AML, never is_fraudulent). Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("high_risk_geography",)
VICTIMS_PER_1000 = {"high_risk_geography": 5}
CHARGEBACK: set[str] = set()


def add(bank, buf, logins) -> None:
    rng, D = bank.rng, bank.D
    sid, r, v = bank.scenario("high_risk_geography")
    n_v = len(v)
    longest = int(r["span_days"][1])
    day0 = rng.integers(1, max(2, D - 1 - longest), n_v)
    span = ints(rng, r["span_days"], n_v)
    wire_share = floats(rng, r["wire_share"], n_v)
    vi = np.repeat(np.arange(n_v), ints(rng, r["transactions"], n_v))
    n = len(vi)
    wire = rng.random(n) < wire_share[vi]
    where = rng.choice(w.HIGH_RISK, n)
    day = day0[vi] + rng.integers(0, span[vi] + 1)
    buf.add(cust=v[vi], acct=np.where(wire, bank.checking_of[v[vi]], bank.card_or_checking(v[vi], day)),
            day=day, secs=rng.choice(24, n, p=w.HOUR_P) * 3600 + rng.integers(0, 3600, n),
            type=np.where(wire, 3, 0),
            merchant=np.where(wire, w.M_EXTERNAL, rng.choice(w.merchants_in("crypto", "gambling", "jewelry"), n)),
            cents=np.where(wire, ints(rng, r["wire_cents"], n), ints(rng, r["card_cents"], n)),
            channel=np.where(wire, 4, 1), status=0, device=2 * v[vi] + 1, ip=bank.home_ip[v[vi]],
            country=w.PLACE_COUNTRY_CODE[where], card_present=np.where(wire, -1, 0), scenario=sid)
