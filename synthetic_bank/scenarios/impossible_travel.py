"""Impossible travel: a card-present purchase at home (retail/food/grocery, `home_cents`), then `gap_minutes`
later a card-present purchase (electronics/jewelry/retail, `far_cents`) in a foreign city far enough away that
the implied speed exceeds `min_speed_kmh` (the gap is shortened when no city is that far). Both legs are
labelled; only the far leg can be a confirmed chargeback. Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import ints

SCENARIOS = ("impossible_travel",)
VICTIMS_PER_1000 = {"impossible_travel": 6}
CHARGEBACK = set(SCENARIOS)


def add(bank, buf, logins) -> None:
    rng, D = bank.rng, bank.D
    sid, r, v = bank.scenario("impossible_travel")
    n_v = len(v)
    day0 = rng.integers(3, D - 1, n_v)
    t0 = rng.integers(8 * 3600, 18 * 3600, n_v)
    home = bank.home[v]
    km = w.haversine_km(w.PLACE_LAT[home][:, None], w.PLACE_LON[home][:, None],
                        w.PLACE_LAT[w.FOREIGN][None, :], w.PLACE_LON[w.FOREIGN][None, :])
    speed = ints(rng, r["min_speed_kmh"], n_v)
    gap = ints(rng, r["gap_minutes"], n_v) * 60
    gap = np.minimum(gap, (km.max(axis=1) / speed * 3600 * 0.95).astype(np.int64))  # reachable only faster
    far_ok = km >= (speed * gap / 3600)[:, None]
    far = w.FOREIGN[np.argmax(far_ok * rng.random(far_ok.shape), axis=1)]
    both, vv, days = np.concatenate([home, far]), np.concatenate([v, v]), np.concatenate([day0, day0])
    buf.add(cust=vv, acct=bank.card_or_checking(vv, days), day=days, secs=np.concatenate([t0, t0 + gap]), type=0,
            merchant=np.concatenate([rng.choice(w.merchants_in("retail", "food", "grocery"), n_v),
                                     rng.choice(w.merchants_in("electronics", "jewelry", "retail"), n_v)]),
            cents=np.concatenate([ints(rng, r["home_cents"], n_v), ints(rng, r["far_cents"], n_v)]),
            channel=0, status=0, place=both, country=w.PLACE_COUNTRY_CODE[both],
            lat=w.PLACE_LAT[both] + rng.normal(0, 0.03, 2 * n_v), lon=w.PLACE_LON[both] + rng.normal(0, 0.03, 2 * n_v),
            card_present=1, scenario=sid, chargeback_leg=np.concatenate([np.zeros(n_v, bool), np.ones(n_v, bool)]))
