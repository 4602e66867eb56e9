"""Card testing: a burst of micro authorisations on a stolen card, then the cash-out it was testing for.

- card_testing: on one day, `tests` card-not-present purchases of `test_cents` at ONE digital_goods merchant
  (MCC 5816/5818) within `burst_minutes`, a `decline_share` of them declined, from a never-seen device and IP,
  merchant_country a foreign country; then `cashouts` purchases of `cashout_cents` at electronics/jewelry
  merchants `cashout_delay_minutes` after the burst ended, same device.
- card_testing_late_cashout: the same burst; the cash-out comes `cashout_delay_hours` later (the card was sold
  on, or the fraudster waited for the tests to go unnoticed): `cashouts` purchases of `cashout_cents` at
  electronics/jewelry/travel/retail merchants from the same device, a `new_ip_share` of them from another IP.
All legs are labelled and chargeback-type. Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("card_testing", "card_testing_late_cashout")
VICTIMS_PER_1000 = {"card_testing": 4, "card_testing_late_cashout": 4}
CHARGEBACK = set(SCENARIOS)


def _burst(bank, buf, v: np.ndarray, r: dict, sid: int, last_day: int):
    """The test authorisations; -> (day, start second, burst length s, device, ip, foreign place) per victim."""
    rng, n_v = bank.rng, len(v)
    day0 = rng.integers(3, max(4, last_day), n_v)
    t0 = rng.integers(0, w.DAY - 3 * 3600, n_v)
    dev = bank.attacker_devices(n_v)
    ip = rng.integers(0x17000000, 0xDF000000, n_v)
    merch = rng.choice(w.merchants_in("digital_goods"), n_v)
    where = rng.choice(w.FOREIGN, n_v)
    span = ints(rng, r["burst_minutes"], n_v) * 60
    decline = floats(rng, r["decline_share"], n_v)
    vi = np.repeat(np.arange(n_v), ints(rng, r["tests"], n_v))
    n = len(vi)
    buf.add(cust=v[vi], acct=bank.card_or_checking(v[vi], day0[vi]), day=day0[vi],
            secs=t0[vi] + (rng.random(n) * span[vi]).astype(np.int64), type=0, merchant=merch[vi],
            cents=ints(rng, r["test_cents"], n), channel=1, status=np.where(rng.random(n) < decline[vi], 2, 0),
            device=dev[vi], ip=ip[vi], country=w.PLACE_COUNTRY_CODE[where[vi]], card_present=0, scenario=sid,
            chargeback_leg=True)
    return day0, t0, span, dev, ip, where


def add(bank, buf, logins) -> None:
    rng, D = bank.rng, bank.D

    sid, r, v = bank.scenario("card_testing")
    day0, t0, span, dev, ip, where = _burst(bank, buf, v, r, sid, D - 1)
    vj = np.repeat(np.arange(len(v)), ints(rng, r["cashouts"], len(v)))
    nj = len(vj)
    buf.add(cust=v[vj], acct=bank.card_or_checking(v[vj], day0[vj]), day=day0[vj],
            secs=t0[vj] + span[vj] + ints(rng, r["cashout_delay_minutes"], nj) * 60, type=0,
            merchant=rng.choice(w.merchants_in("electronics", "jewelry"), nj),
            cents=ints(rng, r["cashout_cents"], nj), channel=1, status=0, device=dev[vj], ip=ip[vj],
            country=w.PLACE_COUNTRY_CODE[where[vj]], card_present=0, scenario=sid, chargeback_leg=True)

    sid, r, v = bank.scenario("card_testing_late_cashout")
    day0, t0, span, dev, ip, where = _burst(bank, buf, v, r, sid, D - 2 - int(np.ceil(r["cashout_delay_hours"][1] / 24)))
    vj = np.repeat(np.arange(len(v)), ints(rng, r["cashouts"], len(v)))
    nj = len(vj)
    at = t0[vj] + span[vj] + (floats(rng, r["cashout_delay_hours"], nj) * 3600).astype(np.int64)
    day = np.minimum(day0[vj] + at // w.DAY, D - 1)
    new_ip = rng.random(nj) < floats(rng, r["new_ip_share"], len(v))[vj]
    abroad = rng.random(nj) < 0.5
    buf.add(cust=v[vj], acct=bank.card_or_checking(v[vj], day), day=day, secs=at % w.DAY, type=0,
            merchant=rng.choice(w.merchants_in("electronics", "jewelry", "travel", "retail"), nj),
            cents=ints(rng, r["cashout_cents"], nj), channel=1, status=0, device=dev[vj],
            ip=np.where(new_ip, rng.integers(0x17000000, 0xDF000000, nj), ip[vj]),
            country=np.where(abroad, w.PLACE_COUNTRY_CODE[where[vj]], w.HOME_COUNTRY_CODE[bank.home[v[vj]]]),
            card_present=0, scenario=sid, chargeback_leg=True)
