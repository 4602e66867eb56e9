"""The synthetic bank's world: enumerations, places, merchants and the transaction buffer that the generator and its
scenario modules (synthetic_bank/scenarios/) share. Index = the code the generator's arrays carry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from synthetic_bank import reference as ref

EPOCH = date(1970, 1, 1)
DAY = 86_400

TXN_TYPES = ("purchase", "withdrawal", "deposit", "transfer", "payment", "refund")
TXN_TYPE_P = np.array([0.70, 0.06, 0.07, 0.08, 0.07, 0.02])
CHANNELS = ("pos", "ecommerce", "atm", "mobile", "online_banking", "branch")
STATUSES = ("completed", "pending", "declined", "failed", "reversed")
STATUS_P = np.array([0.952, 0.02, 0.02, 0.005, 0.003])
ACCOUNT_TYPES = ("checking", "savings", "credit_card", "personal_loan", "mortgage")
ACCOUNT_STATUSES = ("active", "dormant", "frozen", "closed")
CARD_NETWORKS = ("visa", "mastercard", "amex")
INCOME_LEVELS = ("low", "medium", "high")
INCOME_MULT = np.array([0.6, 1.0, 1.9])
RISK_LEVELS = ("low", "medium", "high")
KYC_STATUSES = ("verified", "pending", "rejected", "expired")
LOGIN_STATUSES = ("success", "failed")
FAILURE_REASONS = ("invalid_password", "invalid_credentials", "account_locked", "mfa_failed", "expired_session")
DEVICE_TYPES = tuple(ref.DEVICE_TYPES)
LOGIN_CHANNELS = ("web", "mobile_app")
BUREAUS = ("equifax", "experian", "transunion")
PAYMENT_HISTORY = ("excellent", "good", "fair", "poor")
# Probability of a transaction/login in each hour of the day (UTC; the bank's customers are mostly in the
# Americas, so the evening peak lands late in UTC terms — good enough for a demo dataset).
HOUR_P = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3.5, 4, 4.5, 5, 6, 5.5, 5, 5, 5.5, 6, 6.5, 6, 5, 4, 3, 2])
HOUR_P = HOUR_P / HOUR_P.sum()


# ---------------------------------------------------------------------------------------------------------------
# places and merchants as flat lookup tables (index = code used in the arrays)
PLACES = [(c[0], c[2], c[4], c[5]) for c in ref.HOME_CITIES] + [
    (c[0], c[1], c[2], c[3]) for c in ref.FOREIGN_CITIES + ref.HIGH_RISK_CITIES
]
PLACE_CITY = [p[0] for p in PLACES]
PLACE_COUNTRY = [p[1] for p in PLACES]
PLACE_LAT = np.array([p[2] for p in PLACES])
PLACE_LON = np.array([p[3] for p in PLACES])
N_HOME = len(ref.HOME_CITIES)
FOREIGN = np.arange(N_HOME, N_HOME + len(ref.FOREIGN_CITIES))
HIGH_RISK = np.arange(N_HOME + len(ref.FOREIGN_CITIES), len(PLACES))
COUNTRIES = sorted(set(PLACE_COUNTRY))
PLACE_COUNTRY_CODE = np.array([COUNTRIES.index(c) for c in PLACE_COUNTRY])
HOME_CURRENCY = [c[3] for c in ref.HOME_CITIES]
CURRENCIES = sorted(set(HOME_CURRENCY) | set(ref.COUNTRY_CURRENCY.values()))
COUNTRY_CURRENCY_CODE = np.array([CURRENCIES.index(ref.COUNTRY_CURRENCY[c]) for c in COUNTRIES])
HOME_COUNTRY_CODE = np.array([COUNTRIES.index(c[2]) for c in ref.HOME_CITIES])
HOME_CURRENCY_CODE = np.array([CURRENCIES.index(c) for c in HOME_CURRENCY])
FX_RATES_SEED = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "ref_fx_rates.csv"


def usd_per_unit() -> np.ndarray:
    """USD per unit of each of CURRENCIES, from the dbt seed the warehouse converts with."""
    rates = dict(line.split(",") for line in FX_RATES_SEED.read_text().splitlines()[1:] if line)
    missing = [c for c in CURRENCIES if c not in rates]
    if missing:
        raise ValueError(f"{FX_RATES_SEED} has no rate for {missing}: add them")
    return np.array([float(rates[c]) for c in CURRENCIES])


# Age at opening, chosen so that the book TODAY (opening age + years as a customer, often a decade or more) is


def _merchant_table():
    names, cats, mccs, median, sigma, cnp, weight = [], [], [], [], [], [], []
    for cat, (merchants, med, sig, share, w) in ref.PURCHASE_CATEGORIES.items():
        for name, mcc in merchants:
            names.append(name), cats.append(cat), mccs.append(mcc)
            median.append(med), sigma.append(sig), cnp.append(share), weight.append(w / len(merchants))
    n_purchase = len(names)
    # Non-purchase counterparties: (name, category, mcc or None)
    special = [("ATM Withdrawal", "cash", "6011"), ("Payroll Deposit", "banking", None),
               ("Cash Deposit", "cash", "6010"), ("Internal Transfer", "banking", None),
               ("External Transfer", "banking", "4829"), ("Credit Card Payment", "banking", None),
               ("Bill Payment", "utilities", "4900"),
               ("Incoming Transfer", "banking", None)]
    for name, cat, mcc in special:
        names.append(name), cats.append(cat), mccs.append(mcc)
    w = np.array(weight)
    return names, cats, mccs, n_purchase, np.array(median), np.array(sigma), np.array(cnp), w / w.sum()


M_NAME, M_CAT, M_MCC, N_PURCHASE_MERCHANTS, M_MEDIAN, M_SIGMA, M_CNP, M_P = _merchant_table()
MERCHANT_CATEGORIES = sorted(set(M_CAT))
M_CAT_CODE = np.array([MERCHANT_CATEGORIES.index(c) for c in M_CAT])
MCCS = sorted({m for m in M_MCC if m})
M_MCC_CODE = np.array([MCCS.index(m) if m else -1 for m in M_MCC])
(M_ATM, M_PAYROLL, M_CASH_DEP, M_INTERNAL, M_EXTERNAL, M_CARD_PAYMENT, M_BILL,
 M_INCOMING) = range(N_PURCHASE_MERCHANTS, len(M_NAME))


def merchants_in(*categories: str) -> np.ndarray:
    return np.array([i for i in range(N_PURCHASE_MERCHANTS) if M_CAT[i] in categories])


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(a))


# ---------------------------------------------------------------------------------------------------------------
class TxnBuffer:
    """Column-wise accumulator of transaction parts (normal traffic + each scenario), concatenated once."""

    FIELDS = ("cust", "acct", "day", "secs", "type", "merchant", "cents", "channel", "status", "device", "ip",
              "place", "country", "lat", "lon", "card_present", "scenario", "chargeback_leg", "negative")

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, **cols) -> None:
        n = len(cols["cust"])
        defaults = {"device": -1, "ip": 0, "place": -1, "country": -1, "lat": np.nan, "lon": np.nan,
                    "card_present": -1, "scenario": -1, "chargeback_leg": False,
                    "negative": -1}
        part = {}
        for f in self.FIELDS:
            v = cols.get(f, defaults.get(f))
            if v is None:
                raise KeyError(f"transaction part is missing {f}")
            part[f] = np.broadcast_to(np.asarray(v), (n,)).copy() if np.ndim(v) == 0 else np.asarray(v)
        self.parts.append(part)

    def concat(self) -> dict[str, np.ndarray]:
        return {f: np.concatenate([p[f] for p in self.parts]) for f in self.FIELDS}

