"""Dormant reactivation: all the customer's accounts are `dormant` with last_activity_date `dormant_days` before
the window and no activity in the window, the checking balance is `balance_cents`; on the reactivation day a
login succeeds from a never-seen device (not labelled), then `transfers` `External Transfer`s
`transfer_delay_minutes` after it drain a `drain_share` of that balance. The transfers are labelled
(chargeback-type); the accounts are `active` from that day. Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("dormant_reactivation",)
VICTIMS_PER_1000 = {"dormant_reactivation": 6}
CHARGEBACK = set(SCENARIOS)


def plan(bank, activity: np.ndarray) -> None:
    """Before any traffic is drawn: the reactivation day, the accounts dormant until then, no activity."""
    rng, D, r = bank.rng, bank.D, bank.ranges["dormant_reactivation"]
    dormant = bank.victims["dormant_reactivation"]
    bank.reactivation = rng.integers(D // 3, D - 2, len(dormant))
    activity[dormant] = 0  # dormant until the takeover; the outflows are added by add()
    silence = ints(rng, r["dormant_days"], len(dormant))
    for c, day, quiet in zip(dormant, bank.reactivation, silence):
        acc = np.nonzero(bank.acc_cust == c)[0]
        bank.acc_status[acc, :day] = 1
        bank.acc_last_before[acc] = bank.start_day - quiet


def add(bank, buf, logins) -> None:
    rng = bank.rng
    sid, r, v = bank.scenario("dormant_reactivation")
    n_v = len(v)
    acc = bank.checking_of[v]
    bank.acc_init_cents[acc] = ints(rng, r["balance_cents"], n_v)
    dev = bank.attacker_devices(n_v)
    t0 = rng.integers(6 * 3600, 20 * 3600, n_v)
    logins.append(dict(cust=v, day=bank.reactivation, secs=t0, status=np.zeros(n_v, int), reason=np.full(n_v, -1),
                       device=dev, device_type=np.ones(n_v, int), ip=rng.integers(0x17000000, 0xDF000000, n_v),
                       place=bank.home[v], scenario=np.full(n_v, -1), negative=np.full(n_v, -1)))
    m = ints(rng, r["transfers"], n_v)
    share = floats(rng, r["drain_share"], n_v)
    vi = np.repeat(np.arange(n_v), m)
    n = len(vi)
    at = t0[vi] + ints(rng, r["transfer_delay_minutes"], n) * 60
    buf.add(cust=v[vi], acct=acc[vi], day=bank.reactivation[vi] + at // w.DAY, secs=at % w.DAY, type=3,
            merchant=w.M_EXTERNAL, cents=(bank.acc_init_cents[acc][vi] * share[vi] / m[vi]).astype(np.int64),
            channel=4, status=0, device=dev[vi], ip=bank.home_ip[v[vi]] ^ 0x3C3C,
            country=w.PLACE_COUNTRY_CODE[bank.home[v[vi]]], scenario=sid, chargeback_leg=True)
