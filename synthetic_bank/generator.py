"""Vectorized synthetic bank: customers, accounts, transactions, logins, bureau scores, fraud and churn.

All randomness flows from one numpy Generator seeded by `BankConfig.seed`, in a fixed order, so the same
config writes byte-identical files. The hot paths (transactions, logins, account snapshots) are numpy/Arrow
array operations; only per-customer reference columns (names, addresses) use small list comprehensions.
Fraud scenarios and hard negatives live in synthetic_bank/scenarios/ (one module per family, ranges
in scenarios/ranges.py); the world they share (places, merchants, enumerations) in synthetic_bank/world.py.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthetic_bank import reference as ref
from synthetic_bank import scenarios
from synthetic_bank.scenarios import hard_negatives
from synthetic_bank.world import (
    ACCOUNT_STATUSES,
    ACCOUNT_TYPES,
    BUREAUS,
    CARD_NETWORKS,
    CHANNELS,
    COUNTRIES,
    COUNTRY_CURRENCY_CODE,
    CURRENCIES,
    DAY,
    DEVICE_TYPES,
    EPOCH,
    FAILURE_REASONS,
    FOREIGN,
    FX_RATES_SEED,
    HOME_COUNTRY_CODE,
    HOME_CURRENCY,
    HOME_CURRENCY_CODE,
    HOUR_P,
    INCOME_LEVELS,
    INCOME_MULT,
    KYC_STATUSES,
    LOGIN_CHANNELS,
    LOGIN_STATUSES,
    M_ATM,
    M_BILL,
    M_CARD_PAYMENT,
    M_CASH_DEP,
    M_CAT_CODE,
    M_CNP,
    M_EXTERNAL,
    M_INCOMING,
    M_INTERNAL,
    M_MCC_CODE,
    M_MEDIAN,
    M_NAME,
    M_P,
    M_PAYROLL,
    M_SIGMA,
    MCCS,
    MERCHANT_CATEGORIES,
    N_HOME,
    N_PURCHASE_MERCHANTS,
    PAYMENT_HISTORY,
    PLACE_CITY,
    PLACE_COUNTRY_CODE,
    PLACE_LAT,
    PLACE_LON,
    RISK_LEVELS,
    STATUS_P,
    STATUSES,
    TXN_TYPE_P,
    TXN_TYPES,
    TxnBuffer,
    usd_per_unit,
)
from synthetic_bank.writer import (
    IdColumn,
    categorical,
    date_column,
    decimal_column,
    timestamp_column,
    write_landing,
)

DEFAULT_END_DATE = date(2026, 10, 31)

SCENARIOS = scenarios.SCENARIOS
HARD_NEGATIVES = scenarios.HARD_NEGATIVES
MIN_VICTIMS = 3  # per scenario and per hard-negative kind, whatever the bank's size
# A random ~40 % of the chargeback-type scenarios' fraud legs get is_fraudulent = true (confirmed disputes).
CONFIRMED_FRAUD_SHARE = 0.4

# Share of checking accounts that are overdrawn all window (see _write_accounts); the others never are.
CHRONICALLY_OVERDRAWN_SHARE = 0.03


@dataclass(frozen=True)
class BankConfig:
    seed: int = 42
    customers: int = 2500
    days: int = 60
    end_date: date = DEFAULT_END_DATE
    txn_per_day: float = 1.2  # mean transactions per active customer per day
    logins_per_day: float = 0.6
    ranges: str = "standard"  # the scenarios' parameter ranges: synthetic_bank/scenarios/ranges.py

    def __post_init__(self) -> None:
        scenarios.ranges_for(self.ranges)  # one clear line for an unknown preset
        if self.customers < 50:
            raise ValueError("--customers must be at least 50 so every scenario gets its own victims")
        if self.days < 14:
            raise ValueError("--days must be at least 14 so scenarios have history before them")
        if self.txn_per_day <= 0 or self.logins_per_day <= 0:
            raise ValueError("--txn-per-day and --logins-per-day must be positive")

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)


@dataclass
class GenerationResult:
    landing: Path
    ground_truth: Path
    rows: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    hard_negatives: dict[str, int] = field(default_factory=dict)


def _epoch_day(d: date) -> int:
    return (d - EPOCH).days


# Age at opening, chosen so that the book TODAY (opening age + years as a customer, often a decade or more) is
# census-shaped like a retail bank's (demo bank: 9 % 18-24, 25 % 25-34, 16-17 % 35-54, 14 % 55-64, 18.5 % 65+; US/UK/Canada
# adults: 11 %, 17 %, 16 %, 15 %, 16 %, 22 %). Drawn from the same random numbers a uniform age used,
# mapped through this distribution, so every other column of the bank stays as it was.
AGE_AT_OPENING_BANDS = ((18, 25, 0.25), (25, 35, 0.17), (35, 45, 0.17), (45, 55, 0.15), (55, 65, 0.14),
                        (65, 75, 0.08), (75, 90, 0.04))


def _book_ages(uniform_days: np.ndarray, low: int, high: int) -> np.ndarray:
    """Days of age: uniform draws in [low, high) mapped through the inverse CDF of AGE_AT_OPENING_BANDS."""
    u = (uniform_days - low) / (high - low)
    edges = np.cumsum([0.0] + [share for _, _, share in AGE_AT_OPENING_BANDS])
    edges /= edges[-1]
    band = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(AGE_AT_OPENING_BANDS) - 1)
    start = np.array([b[0] for b in AGE_AT_OPENING_BANDS])[band]
    width = np.array([b[1] - b[0] for b in AGE_AT_OPENING_BANDS])[band]
    within = (u - edges[band]) / (edges[band + 1] - edges[band])
    return np.floor((start + within * width) * 365).astype(np.int64)


def _settlement(types: np.ndarray, country: np.ndarray, home: np.ndarray,
                cents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(currency code, amount in cents of that currency) per transaction. A card purchase or cash withdrawal in
    another country than the customer's home settles in that country's currency (the card network converts; the
    bank then charges its FX fee); everything else is in the home currency. Amounts are generated in the home
    currency and converted at the reference rates, so their USD value is unchanged up to rounding."""
    home_currency = HOME_CURRENCY_CODE[home]
    abroad = (np.isin(types, [TXN_TYPES.index("purchase"), TXN_TYPES.index("withdrawal")]) & (country >= 0)
              & (country != HOME_COUNTRY_CODE[home]))
    local = np.where(country >= 0, COUNTRY_CURRENCY_CODE[np.maximum(country, 0)], home_currency)
    currency = np.where(abroad, local, home_currency)
    usd = usd_per_unit()
    converted = np.round(cents * usd[home_currency] / usd[currency]).astype(np.int64)
    return currency, np.where(abroad, np.maximum(converted, 1), cents)



class SyntheticBank:
    def __init__(self, config: BankConfig) -> None:
        self.cfg = config
        self.rng = np.random.default_rng(config.seed)
        self.ranges = scenarios.ranges_for(config.ranges)
        self.start_day = _epoch_day(config.start_date)  # epoch day of window day 0
        self.D = config.days
        self.N = config.customers

    # ----------------------------------------------------------------------------------------- customers
    def _customers(self) -> None:
        rng, N, D = self.rng, self.N, self.D
        self.home = rng.choice(N_HOME, size=N, p=ref.HOME_CITY_WEIGHTS / ref.HOME_CITY_WEIGHTS.sum())
        self.income = rng.choice(3, size=N, p=[0.3, 0.45, 0.25])
        n_new = max(1, N // 20)  # ~5 % of customers onboard during the window
        created = -rng.integers(30, 3650, size=N)
        new_idx = rng.choice(N, size=n_new, replace=False)
        created[new_idx] = rng.integers(1, D - 7, size=n_new)
        self.created = created  # window day index (negative = before the window)
        self.spend_scale = INCOME_MULT[self.income] * rng.lognormal(0, 0.35, N)
        self.activity = rng.lognormal(0, 0.5, N)
        self.activity /= self.activity.mean()
        # devices: each customer has a primary and a secondary device; ids DEV<9 digits>
        self.device_type = rng.choice(3, size=(N, 2), p=[v[2] for v in ref.DEVICE_TYPES.values()])
        self.home_ip = rng.integers(0x17000000, 0xDF000000, size=N, dtype=np.int64)
        self.next_attacker_device = 2 * N + 1

    def _customer_columns(self) -> tuple[dict, np.ndarray]:
        rng, N = self.rng, self.N
        first = rng.integers(0, len(ref.FIRST_NAMES), N)
        last = rng.integers(0, len(ref.LAST_NAMES), N)
        street_no = rng.integers(1, 9999, N)
        street = rng.integers(0, len(ref.STREETS), N)
        domain = rng.integers(0, len(ref.EMAIL_DOMAINS), N)
        area = rng.integers(200, 999, N)
        line = rng.integers(0, 10_000, N)
        zip_tail = rng.integers(0, 100, N)
        occupation = rng.integers(0, len(ref.OCCUPATIONS), N)
        cc = {"USA": "+1", "Canada": "+1", "UK": "+44", "Mexico": "+52"}
        cities = ref.HOME_CITIES
        fn = [ref.FIRST_NAMES[i] for i in first]
        ln = [ref.LAST_NAMES[i] for i in last]
        email = [f"{a.lower()}.{b.lower()}{i + 1}@{ref.EMAIL_DOMAINS[d]}" for i, (a, b, d) in
                 enumerate(zip(fn, ln, domain))]
        phone = [f"{cc[cities[h][2]]}-{a}-{x:04d}" for h, a, x in zip(self.home, area, line)]
        address = [f"{n} {ref.STREETS[s]}" for n, s in zip(street_no, street)]
        zip_code = [f"{cities[h][6]}{z:02d}" if cities[h][2] in ("USA", "Mexico")
                    else f"{cities[h][6].strip()} {z % 10}AB" for h, z in zip(self.home, zip_tail)]
        missing_phone = rng.random(N) < 0.02
        missing_occ = rng.random(N) < 0.01
        kyc = rng.choice(4, size=N, p=[0.9, 0.06, 0.01, 0.03])
        risk = rng.choice(3, size=N, p=[0.75, 0.2, 0.05])
        age_days = _book_ages(rng.integers(18 * 365, 85 * 365, N), 18 * 365, 85 * 365)
        created_epoch = self.start_day + self.created
        kyc_verified = np.minimum(created_epoch + rng.integers(0, 30, N), self.start_day + self.D - 1)
        kyc_verified = np.maximum(kyc_verified, np.minimum(created_epoch, self.start_day + self.D - 1))
        ids = np.arange(1, N + 1)
        columns = {
            "customer_id": IdColumn("CUST", 7, ids),
            "first_name": pa.array(fn),
            "last_name": pa.array(ln),
            "email": pa.array(email),
            "phone": pa.array(phone, mask=missing_phone),
            "address": pa.array(address),
            "city": categorical(self.home, [c[0] for c in cities]),
            "state": categorical(self.home, [c[1] for c in cities]),
            "zip_code": pa.array(zip_code),
            "country": categorical(self.home, [c[2] for c in cities]),
            "income_level": categorical(self.income, INCOME_LEVELS),
            "occupation": categorical(np.where(missing_occ, -1, occupation), ref.OCCUPATIONS),
            "account_created_date": date_column(created_epoch),
            "kyc_status": categorical(kyc, KYC_STATUSES),
            "risk_level": categorical(risk, RISK_LEVELS),
            "date_of_birth": date_column(created_epoch - age_days),
            "kyc_verified_date": date_column(kyc_verified, mask=kyc != 0),
        }
        # The first extract carries every existing customer; later extracts carry the day's new customers.
        ingest = np.maximum(created_epoch, self.start_day)
        return columns, ingest

    # ------------------------------------------------------------------------------------------ accounts
    def _accounts(self) -> None:
        rng, N, D = self.rng, self.N, self.D
        has = np.stack([
            np.ones(N, bool),
            rng.random(N) < 0.55,
            rng.random(N) < 0.60,
            rng.random(N) < 0.10,
            rng.random(N) < 0.15,
        ], axis=1)
        cust, atype = np.nonzero(has)  # sorted by customer, then product
        A = len(cust)
        self.acc_cust, self.acc_type = cust, atype
        offset = np.where(atype == 0, 0, rng.integers(0, 1200, A))
        # day index the account opens on (negative: before the window). An account opening after the window does
        # not exist yet: it gets no snapshot and no transactions (see card_open).
        self.acc_open = np.where(atype == 0, self.created[cust], self.created[cust] + offset)
        self.checking_of = np.full(N, -1)
        self.checking_of[cust[atype == 0]] = np.nonzero(atype == 0)[0]
        self.card_of = np.full(N, -1)
        self.card_of[cust[atype == 2]] = np.nonzero(atype == 2)[0]
        inc = self.income[cust]
        rate = np.select(
            [atype == 0, atype == 1, atype == 2, atype == 3],
            [rng.uniform(0.0001, 0.001, A), rng.uniform(0.035, 0.048, A), rng.uniform(0.18, 0.29, A),
             rng.uniform(0.07, 0.16, A)],
            rng.uniform(0.055, 0.075, A),
        )
        self.acc_rate = np.round(rate * 1e5).astype(np.int64)
        limit = np.array([1500, 5000, 15000])[inc] * rng.choice([0.5, 1, 1.5, 2], A)
        self.acc_limit_cents = np.where(atype == 2, np.round(limit) * 100, -1).astype(np.int64)
        od = rng.choice([0, 250, 500, 1000], A, p=[0.4, 0.3, 0.2, 0.1]) * 100
        self.acc_overdraft_cents = np.where(atype == 0, od, -1).astype(np.int64)
        network = rng.choice(3, A, p=[0.55, 0.35, 0.10])
        network = np.where((atype == 0) & (network == 2), 0, network)  # amex issues no debit cards
        self.acc_network = np.where(atype <= 0, network, np.where(atype == 2, network, -1))
        fee = np.select([atype == 0, atype == 2], [rng.choice([0, 495, 1200], A), rng.choice([0, 0, 791], A)], 0)
        self.acc_fee = fee.astype(np.int64)
        init = np.select(
            [atype == 0, atype == 1, atype == 2, atype == 3],
            [rng.lognormal(np.log(3500), 0.9, A), rng.lognormal(np.log(9000), 1.1, A),
             rng.lognormal(np.log(1200), 0.8, A), rng.uniform(3000, 30000, A)],
            rng.uniform(80_000, 650_000, A),
        ) * np.where(atype <= 1, INCOME_MULT[inc], 1.0)
        self.acc_init_cents = np.round(init * 100).astype(np.int64)
        self.acc_init_cents = np.where(atype == 2, np.minimum(self.acc_init_cents, self.acc_limit_cents),
                                       self.acc_init_cents)
        self.acc_last_before = self.start_day - rng.integers(1, 6, A)  # last activity before the window
        self.acc_status = np.zeros((A, D), dtype=np.int8)  # 0 active, filled in by scenarios and churn
        self.acc_close = np.full(A, 10**6)

    # ------------------------------------------------------------------------- who is active, when
    def _plan(self) -> None:
        rng, N, D = self.rng, self.N, self.D
        eligible = np.nonzero(self.created < 0)[0]
        rng.shuffle(eligible)
        take = 0
        self.victims: dict[str, np.ndarray] = {}
        for name in SCENARIOS:
            k = max(MIN_VICTIMS, round(self.N * scenarios.VICTIMS_PER_1000[name] / 1000))
            self.victims[name] = np.sort(eligible[take:take + k])
            take += k
        self.negatives: dict[str, np.ndarray] = {}
        for kind in HARD_NEGATIVES:
            k = max(MIN_VICTIMS, round(self.N * scenarios.SUBJECTS_PER_1000[kind] / 1000))
            self.negatives[kind] = np.sort(eligible[take:take + k])
            take += k
        n_churn = max(MIN_VICTIMS, round(N * 0.08))
        self.churners = np.sort(eligible[take:take + n_churn])
        take += n_churn
        n_trav = max(2, round(N * 0.04))
        travellers = np.sort(eligible[take:take + n_trav])
        self.churn_start = rng.integers(int(D * 0.25), int(D * 0.7), len(self.churners))
        trip_start = rng.integers(2, D - 8, len(travellers))
        trip_len = rng.integers(2, 7, len(travellers))
        trip_place = np.where(rng.random(len(travellers)) < 0.5, rng.integers(0, N_HOME, len(travellers)),
                              rng.choice(FOREIGN, len(travellers)))
        # the legitimate-trip hard negatives travel the same way, long-haul (scenarios/hard_negatives.py)
        trips = self.negatives["legitimate_trip"]
        extra = hard_negatives.plan_trips(self, trips)
        self.travellers = np.concatenate([travellers, trips])
        self.trip_start, self.trip_len, self.trip_place = (np.concatenate([a, b]) for a, b in
                                                           zip((trip_start, trip_len, trip_place), extra))
        self._traveller_pos = np.full(N, -1)
        self._traveller_pos[self.travellers] = np.arange(len(self.travellers))
        # activity multiplier per customer-day
        days = np.arange(D)
        act = (days[None, :] >= self.created[:, None]).astype(np.float64)
        decay = np.exp(-np.clip(days[None, :] - self.churn_start[:, None], 0, None) / 10.0)
        act[self.churners] *= decay
        close = self.churn_start + 30
        for c, cl in zip(self.churners, close):  # per churner (≈8 % of customers), not per row
            if cl < D:
                act[c, cl:] = 0
                acc = np.nonzero(self.acc_cust == c)[0]
                self.acc_status[acc, cl:] = 3
                self.acc_close[acc] = cl
        for module in scenarios.FRAUD_MODULES:
            if hasattr(module, "plan"):
                module.plan(self, act)
        self.activity_matrix = act

    # ----------------------------------------------------------------------------------- normal traffic
    def _whereabouts(self, cust: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where each (customer, day) was: home, or the trip destination on a traveller's trip days.
        -> (traveller index, -1 for a non-traveller; on a trip; place)."""
        t = self._traveller_pos[cust]
        in_trip = (t >= 0) & (day >= self.trip_start[t]) & (day < self.trip_start[t] + self.trip_len[t])
        return t, in_trip, np.where(in_trip, self.trip_place[t], self.home[cust])

    def _normal_transactions(self, buf: TxnBuffer) -> None:
        rng, N, D = self.rng, self.N, self.D
        weekday = (self.start_day + np.arange(D) + 3) % 7  # 0 = Monday
        week_factor = np.where(weekday >= 5, 1.15, 0.95)
        lam = self.cfg.txn_per_day * self.activity[:, None] * week_factor[None, :] * self.activity_matrix
        counts = rng.poisson(lam).ravel()
        flat = np.repeat(np.arange(N * D, dtype=np.int64), counts)
        cust = (flat // D).astype(np.int64)
        day = (flat % D).astype(np.int64)
        n = len(cust)
        secs = rng.choice(24, n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n)
        ttype = rng.choice(6, n, p=TXN_TYPE_P)
        merchant = rng.choice(N_PURCHASE_MERCHANTS, n, p=M_P)
        cnp = rng.random(n) < M_CNP[merchant]
        amount = M_MEDIAN[merchant] * self.spend_scale[cust] * rng.lognormal(0, 1, n) ** M_SIGMA[merchant]
        channel = np.where(cnp, 1, 0)
        # non-purchase types: counterparty, amount and channel
        is_w, is_d, is_t, is_p, is_r = (ttype == k for k in range(1, 6))
        credit = rng.random(n)  # a deposit is payroll (60 %), a transfer in from someone (15 %) or cash
        payroll, incoming = credit < 0.6, (credit >= 0.6) & (credit < 0.75)
        internal = rng.random(n) < 0.6
        card = self.card_open(cust, day)
        merchant = np.select(
            [is_w, is_d & payroll, is_d & incoming, is_d, is_t & internal, is_t, is_p & (card >= 0), is_p],
            [M_ATM, M_PAYROLL, M_INCOMING, M_CASH_DEP, M_INTERNAL, M_EXTERNAL, M_CARD_PAYMENT, M_BILL], merchant)
        base = self.spend_scale[cust]
        amount = np.select(
            [is_w, is_d & payroll, is_d, is_t, is_p, is_r],
            [np.ceil(rng.lognormal(np.log(120), 0.6, n) * base / 20) * 20,
             rng.lognormal(np.log(1800), 0.3, n) * base,
             rng.lognormal(np.log(400), 1.0, n) * base,
             rng.lognormal(np.log(350), 1.1, n) * base,
             rng.lognormal(np.log(400), 0.7, n) * base,
             rng.lognormal(np.log(40), 0.8, n) * base],
            amount)
        remote = rng.random(n) < 0.5
        channel = np.select(
            [is_w, is_d & (payroll | incoming), is_d, is_t | is_p],
            [2, 4, np.where(remote, 2, 5), np.where(remote, 3, 4)], channel)
        cents = np.maximum(np.round(amount * 100), 1).astype(np.int64)
        status = rng.choice(5, n, p=STATUS_P)
        status = np.where(is_r | is_d, 0, status)
        on_card = (ttype == 0) & (card >= 0) & (rng.random(n) < 0.65)
        on_card |= is_r & (card >= 0)
        acct = np.where(on_card, card, self.checking_of[cust])
        card_present = np.select([channel == 0, channel == 2, channel == 1], [1, 1, 0], -1)
        # where the card or customer was: home, or the trip destination for travellers
        t, _, place = self._whereabouts(cust, day)
        # Legitimate trips start and end with a day where card-present spend begins mid-afternoon, so travel
        # between home and destination is physically possible (no false impossible-travel pair).
        edge = (t >= 0) & ((day == self.trip_start[t]) | (day == self.trip_start[t] + self.trip_len[t]))
        secs = np.where(edge & (card_present == 1), 15 * 3600 + secs % (9 * 3600), secs)
        located = np.isin(channel, (0, 2, 5))
        foreign_online = (channel == 1) & (rng.random(n) < 0.07)
        country = np.where(foreign_online, PLACE_COUNTRY_CODE[rng.choice(FOREIGN, n)],
                           PLACE_COUNTRY_CODE[place])
        lat = np.where(located, PLACE_LAT[place] + rng.normal(0, 0.04, n), np.nan)
        lon = np.where(located, PLACE_LON[place] + rng.normal(0, 0.04, n), np.nan)
        device = np.where(located, -1, 2 * cust + 1 + (rng.random(n) < 0.2))
        ip = np.where(located, 0, self.home_ip[cust])
        buf.add(cust=cust, acct=acct, day=day, secs=secs, type=ttype, merchant=merchant, cents=cents,
                channel=channel, status=status, device=device, ip=ip, place=np.where(located, place, -1),
                country=country, lat=lat, lon=lon, card_present=card_present)

    def card_open(self, cust: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The customer's credit card (account index) where it is open on `day`, else -1."""
        card = self.card_of[cust]
        return np.where((card >= 0) & (day >= self.acc_open[np.maximum(card, 0)]), card, -1)

    # ----------------------------------------------------------------- what the scenario modules use
    def sid(self, scenario: str) -> int:
        """The code of a scenario in the arrays (its index in SCENARIOS)."""
        return SCENARIOS.index(scenario)

    def attacker_devices(self, k: int) -> np.ndarray:
        """k never-seen device ids."""
        ids = np.arange(self.next_attacker_device, self.next_attacker_device + k)
        self.next_attacker_device += k
        return ids

    def card_or_checking(self, cust: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The account a card payment is charged to: the credit card where open on `day`, else checking."""
        card = self.card_open(cust, day)
        return np.where(card >= 0, card, self.checking_of[cust])

    def traveller_index(self, cust: np.ndarray) -> np.ndarray:
        """Position of each customer in the trip arrays (trip_start, trip_len, trip_place)."""
        return self._traveller_pos[cust]

    # ---------------------------------------------------------------------------------------------- logins
    def _normal_logins(self) -> dict:
        rng, N, D = self.rng, self.N, self.D
        lam = self.cfg.logins_per_day * self.activity[:, None] * self.activity_matrix
        counts = rng.poisson(lam).ravel()
        flat = np.repeat(np.arange(N * D, dtype=np.int64), counts)
        cust, day = flat // D, flat % D
        n = len(cust)
        k = (rng.random(n) < 0.2).astype(np.int64)
        failed = rng.random(n) < 0.04
        _, in_trip, place = self._whereabouts(cust, day)
        ip = np.where(in_trip, self.home_ip[cust] ^ 0x00FF00, self.home_ip[cust])
        return dict(cust=cust, day=day, secs=rng.choice(24, n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n),
                    status=failed.astype(int),
                    reason=np.where(failed, rng.choice(5, n, p=[0.55, 0.25, 0.05, 0.1, 0.05]), -1),
                    device=2 * cust + 1 + k, device_type=self.device_type[cust, k], ip=ip, place=place,
                    scenario=np.full(n, -1), negative=np.full(n, -1))

    # --------------------------------------------------------------------------------------------- build
    def generate(self, out: Path) -> GenerationResult:
        out = Path(out)
        landing, truth = out / "landing", out / "ground_truth"
        truth.mkdir(parents=True, exist_ok=True)
        self._customers()
        self._accounts()
        self._plan()
        result = GenerationResult(landing=landing, ground_truth=truth)

        columns, ingest = self._customer_columns()
        order = np.argsort(ingest, kind="stable")
        columns = {k: (IdColumn(c.prefix, c.width, c.numbers[order]) if isinstance(c, IdColumn) else c.take(order))
                   for k, c in columns.items()}
        result.rows["customers"] = sum(write_landing(landing, "customers", columns, ingest[order]).values())

        buf = TxnBuffer()
        self._normal_transactions(buf)
        scenario_logins: list[dict] = []
        for module in scenarios.FRAUD_MODULES:
            module.add(self, buf, scenario_logins)
        hard_negatives.add(self, buf, scenario_logins)
        txn = buf.concat()
        hard_negatives.mark_trips(self, txn)
        result.rows["transactions"], txn_labels = self._write_transactions(landing, txn)

        lg = [self._normal_logins()] + scenario_logins
        logins = {k: np.concatenate([p[k] for p in lg]) for k in lg[0]}
        hard_negatives.mark_trips(self, logins)
        result.rows["login_activity"], login_labels = self._write_logins(landing, logins)

        result.rows["accounts"] = self._write_accounts(landing, txn)
        result.rows["credit_scores"] = self._write_credit_scores(landing)

        by_entity = (("transaction", txn_labels), ("login", login_labels))
        _write_entity_labels(truth / "fraud_labels.csv", "scenario", SCENARIOS, by_entity, result.labels)
        _write_entity_labels(truth / "hard_negatives.csv", "kind", HARD_NEGATIVES, by_entity, result.hard_negatives,
                             key="negative")
        with open(truth / "churn_labels.csv", "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["customer_id", "churn_start_date"])
            for c, s in zip(self.churners, self.churn_start):
                w.writerow([f"CUST{c + 1:07d}", (self.cfg.start_date + timedelta(days=int(s))).isoformat()])
        return result

    def _in_time_order(self, events: dict) -> tuple[dict, np.ndarray, np.ndarray]:
        """``events`` sorted by time (stable: events of the same second keep their generation order), their epoch
        seconds, and their ids: 1, 2, ... in that order, so ids ascend with time in every event table."""
        ts = (self.start_day + events["day"]) * DAY + events["secs"]
        order = np.argsort(ts, kind="stable")
        return {k: v[order] for k, v in events.items()}, ts[order], np.arange(1, len(ts) + 1, dtype=np.int64)

    @staticmethod
    def _write_events(landing: Path, table: str, columns: dict, id_column: str, ts: np.ndarray,
                      events: dict) -> tuple[int, tuple]:
        """Write an event table partitioned by day; -> (rows, {"scenario": fraud labels, "negative": hard-negative
        episodes}, each as (entity id, customer index, scenario or kind index)), the ids formatted as the table's
        own id column writes them."""
        rows = sum(write_landing(landing, table, columns, ts // DAY).values())
        ids: IdColumn = columns[id_column]
        labels = {}
        for key in ("scenario", "negative"):
            lab = events[key] >= 0
            entity_ids = np.char.add(ids.prefix, np.char.zfill(ids.numbers[lab].astype(str), ids.width))
            labels[key] = (entity_ids, events["cust"][lab], events[key][lab])
        return rows, labels

    def _write_transactions(self, landing: Path, t: dict) -> tuple[int, tuple]:
        rng = self.rng
        t, ts, ids = self._in_time_order(t)
        n = len(ts)
        confirmed = t["chargeback_leg"] & np.isin(t["scenario"], [SCENARIOS.index(s) for s in scenarios.CHARGEBACK_SCENARIOS])
        confirmed &= rng.random(n) < CONFIRMED_FRAUD_SHARE
        lat_ok = ~np.isnan(t["lat"])
        merchant = t["merchant"]
        home = self.home[t["cust"]]
        currency, cents = _settlement(t["type"], t["country"], home, t["cents"])
        columns = {
            "transaction_id": IdColumn("TXN", 10, ids),
            "customer_id": IdColumn("CUST", 7, t["cust"] + 1),
            "account_id": IdColumn("ACC", 8, t["acct"] + 1),
            "transaction_type": categorical(t["type"], TXN_TYPES),
            "amount": decimal_column(cents, 2),
            "currency": categorical(currency, CURRENCIES),
            "merchant_name": categorical(merchant, M_NAME),
            "merchant_category": categorical(M_CAT_CODE[merchant], MERCHANT_CATEGORIES),
            "transaction_date": timestamp_column(ts),
            "device_id": _device_ids(t["device"]),
            "ip_address": _ips(t["ip"]),
            "status": categorical(t["status"], STATUSES),
            "is_fraudulent": pa.array(confirmed),
            "channel": categorical(t["channel"], CHANNELS),
            "mcc": categorical(M_MCC_CODE[merchant], MCCS),
            "merchant_country": categorical(t["country"], COUNTRIES),
            "merchant_city": categorical(t["place"], PLACE_CITY),
            "latitude": pa.array(np.round(t["lat"], 5), mask=~lat_ok),
            "longitude": pa.array(np.round(t["lon"], 5), mask=~lat_ok),
            "card_present": pa.array(t["card_present"] == 1, mask=t["card_present"] < 0),
        }
        self._txn_sorted = t
        return self._write_events(landing, "transactions", columns, "transaction_id", ts, t)

    def _write_logins(self, landing: Path, g: dict) -> tuple[int, tuple]:
        rng = self.rng
        g, ts, ids = self._in_time_order(g)
        n = len(ts)
        dtype = g["device_type"]
        browsers = sorted({b for v in ref.DEVICE_TYPES.values() for b in v[0]})
        oses = sorted({o for v in ref.DEVICE_TYPES.values() for o in v[1]})
        # browser/OS are a stable property of the device id
        h = (g["device"] * 2654435761) % 2**32
        b_choice = np.array([[browsers.index(b) for b in (list(v[0]) * 4)[:4]] for v in ref.DEVICE_TYPES.values()])
        o_choice = np.array([[oses.index(o) for o in (list(v[1]) * 4)[:4]] for v in ref.DEVICE_TYPES.values()])
        place = g["place"]
        lat = np.round(PLACE_LAT[place] + rng.normal(0, 0.05, n), 5)
        lon = np.round(PLACE_LON[place] + rng.normal(0, 0.05, n), 5)
        columns = {
            "login_id": IdColumn("LOG", 10, ids),
            "customer_id": IdColumn("CUST", 7, g["cust"] + 1),
            "login_timestamp": timestamp_column(ts),
            "ip_address": _ips(g["ip"]),
            "device_id": _device_ids(g["device"]),
            "device_type": categorical(dtype, DEVICE_TYPES),
            "browser": categorical(b_choice[dtype, h % 4], browsers),
            "os": categorical(o_choice[dtype, (h // 4) % 4], oses),
            "login_status": categorical(g["status"], LOGIN_STATUSES),
            "failure_reason": categorical(g["reason"], FAILURE_REASONS),
            "location_country": categorical(PLACE_COUNTRY_CODE[place], COUNTRIES),
            "location_city": categorical(place, PLACE_CITY),
            "latitude": pa.array(lat),
            "longitude": pa.array(lon),
            "channel": categorical(np.where(dtype == 0, 1, 0), LOGIN_CHANNELS),
        }
        return self._write_events(landing, "login_activity", columns, "login_id", ts, g)

    def _write_accounts(self, landing: Path, t: dict) -> int:
        A, D = len(self.acc_cust), self.D
        t = self._txn_sorted
        done = t["status"] == 0
        sign_deposit = np.select([np.isin(t["type"], (2, 5))], [1], -1)  # deposits/refunds in, others out
        is_card = self.acc_type[t["acct"]] == 2
        signed = np.where(is_card, -sign_deposit, sign_deposit) * t["cents"] * done
        flows = np.bincount(t["acct"] * D + t["day"], weights=signed, minlength=A * D).reshape(A, D)
        # a card payment also reduces what is owed on the customer's card
        pay = done & (t["merchant"] == M_CARD_PAYMENT)
        card = self.card_of[t["cust"][pay]]
        flows += np.bincount(card * D + t["day"][pay], weights=-t["cents"][pay].astype(float),
                             minlength=A * D).reshape(A, D)
        cum = np.cumsum(flows, axis=1)
        # Checking balances as a bank sees them mid-life, not as a random walk that starts everyone in credit (that
        # walk drifts more accounts into overdraft every day: a rising overdraft line on every dashboard). Most
        # customers keep a cushion: their opening balance is lifted just enough to stay in credit all window. A few
        # are chronically overdrawn: their opening balance is lowered until even their best day is in the red
        # (within the overdraft limit below). A constant shift per account, so each day's change is still exactly
        # its transactions; drawn from a generator of its own, so every other column stays byte-identical.
        chronic = np.random.default_rng([self.cfg.seed, 1]).random(A) < CHRONICALLY_OVERDRAWN_SHARE
        checking = self.acc_type == 0
        lift = np.where(checking & ~chronic, np.maximum(0, -(self.acc_init_cents + cum.min(axis=1))), 0)
        sink = np.where(checking & chronic, -(self.acc_init_cents + cum.max(axis=1)) - 100, 0)
        bal = (self.acc_init_cents + lift + sink)[:, None] + cum
        atype = self.acc_type[:, None]
        amort = np.where(atype >= 3, self.acc_init_cents[:, None] / 3600.0 * np.arange(1, D + 1)[None, :], 0)
        bal = np.where(atype == 0, np.maximum(bal, -self.acc_overdraft_cents[:, None]), bal)
        bal = np.where(atype == 2, np.clip(bal, 0, self.acc_limit_cents[:, None] * 1.2), bal)
        bal = np.where(atype == 1, np.maximum(bal, 0), bal) - amort
        bal = np.where(self.acc_status == 3, 0, bal)
        active = np.zeros((A, D), dtype=np.int64)
        touched = t["acct"] * D + t["day"]
        active.ravel()[touched] = self.start_day + t["day"]
        last = np.maximum.accumulate(np.maximum(active, self.acc_last_before[:, None]), axis=1)
        # rows: one per account per day from its opening day, day-major so files are contiguous
        day_idx, acc_idx = np.nonzero((np.arange(D)[:, None] >= self.acc_open[None, :]))
        n = len(acc_idx)
        status = self.acc_status[acc_idx, day_idx]
        close = self.acc_close[acc_idx]
        loan = self.acc_type[acc_idx] >= 3
        columns = {
            "account_id": IdColumn("ACC", 8, acc_idx + 1),
            "customer_id": IdColumn("CUST", 7, self.acc_cust[acc_idx] + 1),
            "as_of_date": date_column(self.start_day + day_idx),
            "account_type": categorical(self.acc_type[acc_idx], ACCOUNT_TYPES),
            "product_name": categorical(self.acc_type[acc_idx] * 3 + self.income[self.acc_cust[acc_idx]], _PRODUCTS),
            "account_status": categorical(status, ACCOUNT_STATUSES),
            "open_date": date_column(self.start_day + np.minimum(self.acc_open[acc_idx], day_idx)),
            "close_date": date_column(self.start_day + close, mask=status != 3),
            "currency": categorical(
                np.array([CURRENCIES.index(c) for c in HOME_CURRENCY])[self.home[self.acc_cust[acc_idx]]], CURRENCIES),
            "balance": decimal_column(np.round(bal[acc_idx, day_idx]).astype(np.int64), 2),
            "interest_rate": decimal_column(self.acc_rate[acc_idx], 5, precision=7),
            "credit_limit": decimal_column(self.acc_limit_cents[acc_idx], 2, mask=self.acc_limit_cents[acc_idx] < 0),
            "overdraft_limit": decimal_column(self.acc_overdraft_cents[acc_idx], 2,
                                              mask=self.acc_overdraft_cents[acc_idx] < 0),
            "card_network": categorical(self.acc_network[acc_idx], CARD_NETWORKS),
            "monthly_fee": decimal_column(self.acc_fee[acc_idx], 2, precision=10),
            "last_activity_date": date_column(np.minimum(last[acc_idx, day_idx], self.start_day + day_idx), mask=loan),
        }
        return sum(write_landing(landing, "accounts", columns, self.start_day + day_idx).values())

    def _write_credit_scores(self, landing: Path) -> int:
        rng, N = self.rng, self.N
        start, end = self.cfg.start_date, self.cfg.end_date
        pulls = [start] if start.day != 1 else []
        d = date(start.year + (start.month == 12), start.month % 12 + 1, 1) if start.day != 1 else start
        while d <= end:
            pulls.append(d)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        P = len(pulls)
        pull_day = np.array([(p - start).days for p in pulls])
        base = rng.normal(700, 65, N)
        drift = rng.normal(0, 12, (N, P))
        drift[self.churners] -= 6  # churners' credit tends to deteriorate
        score = np.clip(np.round(base[:, None] + np.cumsum(drift, axis=1)), 300, 850).astype(np.int64)
        change = np.diff(score, axis=1, prepend=(score[:, :1] - np.round(rng.normal(0, 15, (N, 1)))).astype(np.int64))
        exists = pull_day[None, :] >= self.created[:, None]
        cust, p = np.nonzero(exists.T)[1], np.nonzero(exists.T)[0]  # pull-major order
        s = score[cust, p]
        n = len(s)
        util = np.clip(1.0 - (s - 300) / 600 + rng.normal(0, 0.1, n), 0, 1.2)
        columns = {
            "score_id": IdColumn("SCR", 9, np.arange(1, n + 1)),
            "customer_id": IdColumn("CUST", 7, cust + 1),
            "score_date": date_column(self.start_day + pull_day[p]),
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
        return sum(write_landing(landing, "credit_scores", columns, self.start_day + pull_day[p]).values())


_PRODUCTS = [f"{tier} {name}" for name in ("Checking", "Savings", "Credit Card", "Personal Loan", "Mortgage")
             for tier in ("Essential", "Everyday", "Premier")]


def _device_ids(device: np.ndarray) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(device).cast(pa.string()), width=9, padding="0")
    ids = pc.binary_join_element_wise("DEV", digits, "")
    return pc.if_else(pa.array(device < 0), pa.scalar(None, pa.string()), ids)


def _ips(ip: np.ndarray) -> pa.Array:
    ip = np.asarray(ip, dtype=np.int64)
    octets = [pa.array((ip >> shift) & 0xFF).cast(pa.string()) for shift in (24, 16, 8, 0)]
    text = pc.binary_join_element_wise(*octets, ".")
    return pc.if_else(pa.array(ip == 0), pa.scalar(None, pa.string()), text)


def _write_entity_labels(path: Path, column: str, names: tuple[str, ...], by_entity, counts: dict[str, int],
                         key: str | None = None) -> None:
    """A ground-truth file (entity_type, entity_id, customer_id, <column>) of the events' `key` labels (default:
    `column`), counting rows per "<entity>:<name>" into `counts`."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["entity_type", "entity_id", "customer_id", column])
        for entity, labels in by_entity:
            for i, c, k in zip(*labels[key or column]):
                w.writerow([entity, i, f"CUST{c + 1:07d}", names[k]])
                counts[f"{entity}:{names[k]}"] = counts.get(f"{entity}:{names[k]}", 0) + 1


def generate(config: BankConfig, out: Path) -> GenerationResult:
    """Write `<out>/landing/<table>/ingest_date=.../*.csv` and `<out>/ground_truth/*.csv` for `config`."""
    return SyntheticBank(config).generate(Path(out))
