"""Hard negatives: legitimate behaviour that looks like fraud, so the rules' false-positive rate can be measured.
Nothing here is labelled fraud; every episode's transactions and logins are listed in
ground_truth/hard_negatives.csv with their kind, and scripts/evaluate_fraud.py reports the share of episodes
(customers) that raised any alert.

- legitimate_trip: a long-haul trip abroad (`trip_days`, to a city `distance_km` away) with the customer's own
  card and devices: `bookings` travel purchases online beforehand (`booking_cents`), card-present spend and logins
  from own devices in the destination (a new country, far from home), one large purchase there
  (`large_purchase_cents`) and `atm_withdrawals` cash withdrawals in the local currency. Flights are physically
  possible: card-present spend on the departure and return days starts mid-afternoon (see the generator).
- small_business_cash: a shop owner paying in the till: `deposits_per_week` cash deposits (branch, or ATM for an
  `atm_share`) lognormal around `median_deposit` (`sigma`) all window - some over 10,000, some just under it.
- forgotten_password: `failures` failed logins (invalid password, the account locked after five) from the
  customer's own device at home, `failure_gap_seconds` apart, a successful login `reset_minutes` later (after a
  reset), then `transfers` ordinary transfers (`transfer_cents`) `transfer_delay_minutes` after it.
- payday_large_purchase: a payroll credit (`payroll_cents`), `small_app_purchases` app-store purchases under 5 on
  the customer's own phone, then `delay_hours` later `large_purchases` big-ticket purchases (electronics, jewelry,
  travel; online from the own device for an `online_share`, else card-present at home) of `large_purchase_cents`,
  and the rent (`rent_share` of the pay) transferred out.
Ranges: scenarios/ranges.py.
"""

from __future__ import annotations

import numpy as np

from synthetic_bank import world as w
from synthetic_bank.scenarios.ranges import floats, ints

KINDS = ("legitimate_trip", "small_business_cash", "forgotten_password", "payday_large_purchase")
SUBJECTS_PER_1000 = {"legitimate_trip": 8, "small_business_cash": 4, "forgotten_password": 10,
                     "payday_large_purchase": 10}


def plan_trips(bank, who: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start day, length, destination place) of each legitimate_trip subject's trip, drawn before any traffic
    (the generator's travellers machinery then moves their card-present spend and logins there)."""
    rng, D, r = bank.rng, bank.D, bank.ranges["legitimate_trip"]
    n = len(who)
    length = np.minimum(ints(rng, r["trip_days"], n), D - 6)
    start = 3 + (rng.random(n) * (D - 5 - length)).astype(np.int64)
    home = bank.home[who]
    km = w.haversine_km(w.PLACE_LAT[home][:, None], w.PLACE_LON[home][:, None],
                        w.PLACE_LAT[w.FOREIGN][None, :], w.PLACE_LON[w.FOREIGN][None, :])
    low, high = r["distance_km"]
    ok = (km >= low) & (km <= high)
    score = np.where(ok, 1 + rng.random(ok.shape), (km <= high) * km / 1e6)  # else the farthest allowed
    place = w.FOREIGN[np.argmax(score, axis=1)]
    return start, length, place


def _trips(bank, buf, logins) -> None:
    rng, kind = bank.rng, KINDS.index("legitimate_trip")
    r, who = bank.ranges["legitimate_trip"], bank.negatives["legitimate_trip"]
    t = bank.traveller_index(who)
    start, length, place = bank.trip_start[t], bank.trip_len[t], bank.trip_place[t]
    n = len(who)
    # they bank online from both their devices at home before leaving (so the phone they take is not new abroad)
    for k in (0, 1):
        day = (rng.random(n) * np.maximum(start - 1, 1)).astype(np.int64)
        logins.append(dict(cust=who, day=day, secs=rng.integers(8 * 3600, 20 * 3600, n), status=np.zeros(n, int),
                           reason=np.full(n, -1), device=2 * who + 1 + k, device_type=bank.device_type[who, k],
                           ip=bank.home_ip[who], place=bank.home[who], scenario=np.full(n, -1),
                           negative=np.full(n, -1)))
    # bookings online before leaving, from the own device at home
    bi = np.repeat(np.arange(n), ints(rng, r["bookings"], n))
    nb = len(bi)
    bday = np.maximum(0, start[bi] - rng.integers(1, 21, nb))
    buf.add(cust=who[bi], acct=bank.card_or_checking(who[bi], bday), day=bday,
            secs=rng.choice(24, nb, p=w.HOUR_P) * 3600 + rng.integers(0, 3600, nb), type=0,
            merchant=rng.choice(w.merchants_in("travel"), nb), cents=ints(rng, r["booking_cents"], nb), channel=1,
            status=0, device=2 * who[bi] + 1, ip=bank.home_ip[who[bi]],
            country=w.HOME_COUNTRY_CODE[bank.home[who[bi]]], card_present=0, negative=kind)
    # one large purchase and some cash abroad, on trip days after the arrival day, during the day
    ai = np.concatenate([np.arange(n), np.repeat(np.arange(n), ints(rng, r["atm_withdrawals"], n))])
    na = len(ai)
    large = np.arange(na) < n
    day = start[ai] + 1 + (rng.random(na) * np.maximum(length[ai] - 1, 1)).astype(np.int64)
    day = np.minimum(day, start[ai] + length[ai] - 1)
    p = place[ai]
    cents = np.where(large, ints(rng, r["large_purchase_cents"], na), np.ceil(rng.lognormal(np.log(150), 0.5, na) / 20) * 2000)
    buf.add(cust=who[ai], acct=np.where(large, bank.card_or_checking(who[ai], day), bank.checking_of[who[ai]]),
            day=day, secs=rng.integers(10 * 3600, 20 * 3600, na), type=np.where(large, 0, 1),
            merchant=np.where(large, rng.choice(w.merchants_in("electronics", "jewelry", "retail"), na), w.M_ATM),
            cents=cents.astype(np.int64), channel=np.where(large, 0, 2), status=0, place=p,
            country=w.PLACE_COUNTRY_CODE[p], lat=w.PLACE_LAT[p] + rng.normal(0, 0.03, na),
            lon=w.PLACE_LON[p] + rng.normal(0, 0.03, na), card_present=1, negative=kind)


def _business_cash(bank, buf) -> None:
    rng, D, kind = bank.rng, bank.D, KINDS.index("small_business_cash")
    r, who = bank.ranges["small_business_cash"], bank.negatives["small_business_cash"]
    n = len(who)
    per_week = floats(rng, r["deposits_per_week"], n)
    median = floats(rng, r["median_deposit"], n)
    sigma = floats(rng, r["sigma"], n)
    atm_share = floats(rng, r["atm_share"], n)
    weekday = (bank.start_day + np.arange(D) + 3) % 7
    open_day = weekday < 6  # Monday-Saturday
    drawn = (rng.random((n, D)) < (per_week / 6)[:, None]) & open_day[None, :]
    ci, day = np.nonzero(drawn)
    m = len(ci)
    atm = rng.random(m) < atm_share[ci]
    place = bank.home[who[ci]]
    buf.add(cust=who[ci], acct=bank.checking_of[who[ci]], day=day, secs=rng.integers(15 * 3600, 19 * 3600, m), type=2,
            merchant=w.M_CASH_DEP, cents=np.round(rng.lognormal(np.log(median[ci]), sigma[ci]) * 100).astype(np.int64),
            channel=np.where(atm, 2, 5), status=0, place=place, country=w.PLACE_COUNTRY_CODE[place],
            lat=w.PLACE_LAT[place] + rng.normal(0, 0.04, m), lon=w.PLACE_LON[place] + rng.normal(0, 0.04, m),
            card_present=np.where(atm, 1, -1), negative=kind)


def _forgotten_password(bank, buf, logins) -> None:
    rng, D, kind = bank.rng, bank.D, KINDS.index("forgotten_password")
    r, who = bank.ranges["forgotten_password"], bank.negatives["forgotten_password"]
    n = len(who)
    day0 = rng.integers(1, D - 2, n)
    t0 = rng.integers(7 * 3600, 20 * 3600, n)
    fails = ints(rng, r["failures"], n)
    fi = np.repeat(np.arange(n), fails)
    starts = np.r_[0, np.cumsum(fails)[:-1]]
    step = ints(rng, r["failure_gap_seconds"], len(fi))
    step[starts] = 0
    cumulative = np.cumsum(step)
    within = cumulative - np.repeat(cumulative[starts], fails)
    nth = np.arange(len(fi)) - np.repeat(starts, fails)
    reason = np.where(nth >= 5, 2, rng.choice([0, 1], len(fi), p=[0.8, 0.2]))
    success = t0 + within[np.cumsum(fails) - 1] + ints(rng, r["reset_minutes"], n) * 60
    for idx, at, status, why in ((fi, t0[fi] + within, 1, reason), (np.arange(n), success, 0, np.full(n, -1))):
        c = who[idx]
        logins.append(dict(cust=c, day=day0[idx] + at // w.DAY, secs=at % w.DAY, status=np.full(len(idx), status),
                           reason=why, device=2 * c + 1, device_type=bank.device_type[c, 0], ip=bank.home_ip[c],
                           place=bank.home[c], scenario=np.full(len(idx), -1), negative=np.full(len(idx), kind)))
    ti = np.repeat(np.arange(n), ints(rng, r["transfers"], n))
    nt = len(ti)
    at = success[ti] + ints(rng, r["transfer_delay_minutes"], nt) * 60
    c = who[ti]
    buf.add(cust=c, acct=bank.checking_of[c], day=day0[ti] + at // w.DAY, secs=at % w.DAY, type=3,
            merchant=np.where(rng.random(nt) < 0.5, w.M_EXTERNAL, w.M_INTERNAL), cents=ints(rng, r["transfer_cents"], nt),
            channel=np.where(bank.device_type[c, 0] == 0, 3, 4), status=0, device=2 * c + 1, ip=bank.home_ip[c],
            country=w.HOME_COUNTRY_CODE[bank.home[c]], negative=kind)


def _payday(bank, buf) -> None:
    rng, D, kind = bank.rng, bank.D, KINDS.index("payday_large_purchase")
    r, who = bank.ranges["payday_large_purchase"], bank.negatives["payday_large_purchase"]
    n = len(who)
    day0 = rng.integers(1, max(2, D - 2 - int(np.ceil(r["delay_hours"][1] / 24))), n)
    t0 = rng.integers(6 * 3600, 10 * 3600, n)
    pay = ints(rng, r["payroll_cents"], n)
    home = bank.home[who]
    buf.add(cust=who, acct=bank.checking_of[who], day=day0, secs=t0, type=2, merchant=w.M_PAYROLL, cents=pay,
            channel=4, status=0, country=w.HOME_COUNTRY_CODE[home], negative=kind)
    # small app purchases on the own phone the same evening
    si = np.repeat(np.arange(n), ints(rng, r["small_app_purchases"], n))
    ns = len(si)
    c = who[si]
    buf.add(cust=c, acct=bank.card_or_checking(c, day0[si]), day=day0[si], secs=t0[si] + rng.integers(3600, 8 * 3600, ns),
            type=0, merchant=rng.choice(w.merchants_in("digital_goods"), ns), cents=rng.integers(99, 500, ns), channel=1,
            status=0, device=2 * c + 1, ip=bank.home_ip[c], country=w.HOME_COUNTRY_CODE[bank.home[c]],
            card_present=0, negative=kind)
    # the big purchase(s), online from the own device or in a shop at home
    li = np.repeat(np.arange(n), ints(rng, r["large_purchases"], n))
    nl = len(li)
    c = who[li]
    at = t0[li] + (floats(rng, r["delay_hours"], nl) * 3600).astype(np.int64)
    day = day0[li] + at // w.DAY
    online = rng.random(nl) < floats(rng, r["online_share"], n)[li]
    place = bank.home[c]
    buf.add(cust=c, acct=bank.card_or_checking(c, day), day=day, secs=at % w.DAY, type=0,
            merchant=rng.choice(w.merchants_in("electronics", "jewelry", "travel"), nl),
            cents=ints(rng, r["large_purchase_cents"], nl), channel=np.where(online, 1, 0), status=0,
            device=np.where(online, 2 * c + 1, -1), ip=np.where(online, bank.home_ip[c], 0),
            place=np.where(online, -1, place), country=w.PLACE_COUNTRY_CODE[place],
            lat=np.where(online, np.nan, w.PLACE_LAT[place] + rng.normal(0, 0.04, nl)),
            lon=np.where(online, np.nan, w.PLACE_LON[place] + rng.normal(0, 0.04, nl)),
            card_present=np.where(online, 0, 1), negative=kind)
    # the rent, transferred out within two days
    at = t0 + rng.integers(2 * 3600, 48 * 3600, n)
    buf.add(cust=who, acct=bank.checking_of[who], day=day0 + at // w.DAY, secs=at % w.DAY, type=3,
            merchant=w.M_EXTERNAL, cents=(pay * floats(rng, r["rent_share"], n)).astype(np.int64), channel=4, status=0,
            device=2 * who + 1, ip=bank.home_ip[who], country=w.HOME_COUNTRY_CODE[home], negative=kind)


def add(bank, buf, logins) -> None:
    _trips(bank, buf, logins)
    _business_cash(bank, buf)
    _forgotten_password(bank, buf, logins)
    _payday(bank, buf)


def mark_trips(bank, events: dict) -> None:
    """The legitimate trips' own traffic (drawn as normal traffic, moved to the destination) belongs to the
    episode: every event of a trip subject from the day before departure to the return day."""
    t = bank.traveller_index(events["cust"])
    subject = np.isin(events["cust"], bank.negatives["legitimate_trip"])
    start, length = bank.trip_start[np.maximum(t, 0)], bank.trip_len[np.maximum(t, 0)]
    inside = (subject & (events["day"] >= start - 1) & (events["day"] <= start + length)
              & (events["negative"] < 0) & (events["scenario"] < 0))
    events["negative"] = np.where(inside, KINDS.index("legitimate_trip"), events["negative"])
