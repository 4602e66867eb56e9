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

from synthetic_bank import reference as ref
from synthetic_bank import events, scenarios, snapshots
from synthetic_bank.scenarios import hard_negatives
from synthetic_bank.world import (
    EPOCH,
    FOREIGN,
    HOUR_P,
    INCOME_LEVELS,
    INCOME_MULT,
    KYC_STATUSES,
    M_ATM,
    M_BILL,
    M_CARD_PAYMENT,
    M_CASH_DEP,
    M_CNP,
    M_EXTERNAL,
    M_INCOMING,
    M_INTERNAL,
    M_MEDIAN,
    M_P,
    M_PAYROLL,
    M_SIGMA,
    N_HOME,
    N_PURCHASE_MERCHANTS,
    PLACE_COUNTRY_CODE,
    PLACE_LAT,
    PLACE_LON,
    RISK_LEVELS,
    STATUS_P,
    TXN_TYPE_P,
    TxnBuffer,
)
from synthetic_bank.writer import (
    IdColumn,
    categorical,
    date_column,
    write_landing,
)

DEFAULT_END_DATE = date(2026, 10, 31)

SCENARIOS = scenarios.SCENARIOS
HARD_NEGATIVES = scenarios.HARD_NEGATIVES
MIN_VICTIMS = 3  # per scenario and per hard-negative kind, whatever the bank's size



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
    def scenario(self, name: str) -> tuple[int, dict, np.ndarray]:
        """(the scenario's code in the arrays - its index in SCENARIOS -, its ranges, its victims)."""
        return SCENARIOS.index(name), self.ranges[name], self.victims[name]

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
        result.rows["transactions"], txn_labels, txn_in_order = events.write_transactions(self, landing, txn)

        lg = [self._normal_logins()] + scenario_logins
        logins = {k: np.concatenate([p[k] for p in lg]) for k in lg[0]}
        hard_negatives.mark_trips(self, logins)
        result.rows["login_activity"], login_labels = events.write_logins(self, landing, logins)

        result.rows["accounts"] = snapshots.write_accounts(self, landing, txn_in_order)
        result.rows["credit_scores"] = snapshots.write_credit_scores(self, landing)

        by_entity = (("transaction", txn_labels), ("login", login_labels))
        events.write_entity_labels(truth / "fraud_labels.csv", "scenario", SCENARIOS, by_entity, result.labels)
        events.write_entity_labels(truth / "hard_negatives.csv", "kind", HARD_NEGATIVES, by_entity, result.hard_negatives,
                             key="negative")
        with open(truth / "churn_labels.csv", "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["customer_id", "churn_start_date"])
            for c, s in zip(self.churners, self.churn_start):
                w.writerow([f"CUST{c + 1:07d}", (self.cfg.start_date + timedelta(days=int(s))).isoformat()])
        return result



def generate(config: BankConfig, out: Path) -> GenerationResult:
    """Write `<out>/landing/<table>/ingest_date=.../*.csv` and `<out>/ground_truth/*.csv` for `config`."""
    return SyntheticBank(config).generate(Path(out))
