"""Account takeover: an attacker guesses the password from a new device abroad, gets in, and moves money out.

- account_takeover: `guesses` failed logins (invalid_password/invalid_credentials) `guess_gap_seconds` apart
  from a never-seen device (desktop, or mobile for a `mobile_share`) and IP geolocated to a foreign city, a
  successful login from that device `success_delay_seconds` after the last failure, then `transfers`
  `External Transfer`s (online_banking from a desktop, mobile from a phone; `transfer_x_spend_scale` x the
  customer's spend scale) `transfer_delay_minutes` after the success, same device/IP, merchant_country the
  attacker's country.
- account_takeover_few_guesses: the same with 1-3 guesses (a phished or reused password), slower: the attacker
  comes back minutes to hours later, so no burst of failures ever forms.
All those logins (entity_type login) and transfers are labelled; the victim's accounts are frozen from the day
after the last transfer. Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

SCENARIOS = ("account_takeover", "account_takeover_few_guesses")
VICTIMS_PER_1000 = {"account_takeover": 8, "account_takeover_few_guesses": 6}
CHARGEBACK = set(SCENARIOS)


def _takeover(bank, buf, logins, name: str) -> None:
    rng, D = bank.rng, bank.D
    sid, r, v = bank.scenario(name)
    n_v = len(v)
    day0 = rng.integers(3, max(4, D - 3), n_v)
    t0 = rng.integers(0, w.DAY // 2, n_v)
    dev = bank.attacker_devices(n_v)
    mobile = rng.random(n_v) < floats(rng, r["mobile_share"], n_v)
    ip = rng.integers(0x17000000, 0xDF000000, n_v)
    where = rng.choice(w.FOREIGN, n_v)
    guesses = ints(rng, r["guesses"], n_v)
    vi = np.repeat(np.arange(n_v), guesses)
    step = ints(rng, r["guess_gap_seconds"], len(vi))
    starts = np.r_[0, np.cumsum(guesses)[:-1]]
    step[starts] = 0  # each victim's first guess is at t0
    cumulative = np.cumsum(step)
    within = cumulative - np.repeat(cumulative[starts], guesses)
    last_guess = within[np.cumsum(guesses) - 1]
    success_at = t0 + last_guess + ints(rng, r["success_delay_seconds"], n_v)
    for idx, at, status, reason in (
        (vi, t0[vi] + within, 1, rng.choice([0, 1], len(vi))),
        (np.arange(n_v), success_at, 0, np.full(n_v, -1)),
    ):
        logins.append(dict(cust=v[idx], day=day0[idx] + at // w.DAY, secs=at % w.DAY, status=np.full(len(idx), status),
                           reason=reason, device=dev[idx], device_type=np.where(mobile[idx], 0, 1),
                           ip=ip[idx], place=where[idx], scenario=np.full(len(idx), sid),
                           negative=np.full(len(idx), -1)))
    # the victim banks online: an ordinary login from their own device at home before the attack (without one the
    # attacker's device would be the first the bank ever saw for them, and not "new")
    before = (rng.random(n_v) * day0).astype(np.int64)
    logins.append(dict(cust=v, day=before, secs=rng.integers(8 * 3600, 20 * 3600, n_v), status=np.zeros(n_v, int),
                       reason=np.full(n_v, -1), device=2 * v + 1, device_type=bank.device_type[v, 0], ip=bank.home_ip[v],
                       place=bank.home[v], scenario=np.full(n_v, -1), negative=np.full(n_v, -1)))
    vj = np.repeat(np.arange(n_v), ints(rng, r["transfers"], n_v))
    nj = len(vj)
    at = success_at[vj] + ints(rng, r["transfer_delay_minutes"], nj) * 60
    day = day0[vj] + at // w.DAY
    buf.add(cust=v[vj], acct=bank.checking_of[v[vj]], day=day, secs=at % w.DAY, type=3, merchant=w.M_EXTERNAL,
            cents=(floats(rng, r["transfer_x_spend_scale"], nj) * bank.spend_scale[v[vj]] * 100).astype(np.int64),
            channel=np.where(mobile[vj], 3, 4), status=0, device=dev[vj], ip=ip[vj],
            country=w.PLACE_COUNTRY_CODE[where[vj]], scenario=sid, chargeback_leg=True)
    last = np.zeros(n_v, dtype=np.int64)
    np.maximum.at(last, vj, day)
    for c, d in zip(v, last):
        bank.acc_status[bank.acc_cust == c, d + 1:] = 2  # frozen after the fraud team steps in


def add(bank, buf, logins) -> None:
    for name in SCENARIOS:
        _takeover(bank, buf, logins, name)
