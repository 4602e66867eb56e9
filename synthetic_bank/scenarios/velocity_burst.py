"""Velocity burst: `purchases` purchases of ordinary size (lognormal around `median_amount`, clipped to
`amount_bounds`) at electronics, jewelry, retail and digital goods merchants within `burst_minutes`, an
`approved_share` approved; an `online_share` card-not-present from one new device, the rest card-present in the
home city. All labelled and chargeback-type. (Not card testing: normal amounts, mostly approved, many
merchants.) Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("velocity_burst",)
VICTIMS_PER_1000 = {"velocity_burst": 4}
CHARGEBACK = set(SCENARIOS)


def add(bank, buf, logins) -> None:
    rng, D = bank.rng, bank.D
    sid, r, v = bank.scenario("velocity_burst")
    n_v = len(v)
    day0 = rng.integers(3, D - 1, n_v)
    t0 = rng.integers(0, w.DAY - 2 * 3600, n_v)
    dev = bank.attacker_devices(n_v)
    span = ints(rng, r["burst_minutes"], n_v) * 60
    median = floats(rng, r["median_amount"], n_v)
    online_share = floats(rng, r["online_share"], n_v)
    approved = floats(rng, r["approved_share"], n_v)
    vi = np.repeat(np.arange(n_v), ints(rng, r["purchases"], n_v))
    n = len(vi)
    online = rng.random(n) < online_share[vi]
    place = bank.home[v[vi]]
    low, high = r["amount_bounds"]
    buf.add(cust=v[vi], acct=bank.card_or_checking(v[vi], day0[vi]), day=day0[vi],
            secs=t0[vi] + (rng.random(n) * span[vi]).astype(np.int64), type=0,
            merchant=rng.choice(w.merchants_in("electronics", "jewelry", "retail", "digital_goods"), n),
            cents=np.round(rng.lognormal(np.log(median[vi]), 0.6, n).clip(low, high) * 100).astype(np.int64),
            channel=np.where(online, 1, 0), status=np.where(rng.random(n) < approved[vi], 0, 2),
            device=np.where(online, dev[vi], -1), ip=np.where(online, bank.home_ip[v[vi]] ^ 0x5A5A, 0),
            place=np.where(online, -1, place), country=w.PLACE_COUNTRY_CODE[place],
            lat=np.where(online, np.nan, w.PLACE_LAT[place] + rng.normal(0, 0.04, n)),
            lon=np.where(online, np.nan, w.PLACE_LON[place] + rng.normal(0, 0.04, n)),
            card_present=np.where(online, 0, 1), scenario=sid, chargeback_leg=True)
