"""The synthetic bank's event tables (transactions, login_activity) written in time order, and the ground-truth files
of the entities the scenarios and hard negatives labelled."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthetic_bank import reference as ref
from synthetic_bank.scenarios import CHARGEBACK_SCENARIOS, SCENARIOS
from synthetic_bank.world import (
    CHANNELS,
    COUNTRIES,
    COUNTRY_CURRENCY_CODE,
    CURRENCIES,
    DAY,
    DEVICE_TYPES,
    FAILURE_REASONS,
    HOME_COUNTRY_CODE,
    HOME_CURRENCY_CODE,
    LOGIN_CHANNELS,
    LOGIN_STATUSES,
    M_CAT_CODE,
    M_MCC_CODE,
    M_NAME,
    MCCS,
    MERCHANT_CATEGORIES,
    PLACE_CITY,
    PLACE_COUNTRY_CODE,
    PLACE_LAT,
    PLACE_LON,
    STATUSES,
    TXN_TYPES,
    usd_per_unit,
)
from synthetic_bank.writer import IdColumn, categorical, decimal_column, timestamp_column, write_landing

# What operations book as is_fraudulent, as of the extract's last day (the outcome a model may learn from; the
# ground truth files stay apart). A fraud case - one victim's chargeback-type scenario - is confirmed when the
# customer disputes it (CONFIRMED_CASE_SHARE of cases; the others never call) and all its chargeback legs are booked
# together CONFIRMATION_DELAY_DAYS after its last leg (lognormal: median 8 days, 90 % within about 3 weeks); a case
# booked after the extract's end is not fraud yet, so the latest weeks carry fewer outcomes than they will.
# Noise: FRIENDLY_FRAUD_RATE of the ordinary card purchases (no scenario, no hard negative) are booked as fraud too -
# a customer disputing a purchase they made and the chargeback granted.
CONFIRMED_CASE_SHARE = 0.8
CONFIRMATION_DELAY_DAYS = (8.0, 0.75)  # lognormal (median, sigma of its log)
FRIENDLY_FRAUD_RATE = 1 / 5000


def _booked_outcomes(bank, t: dict, ts: np.ndarray) -> np.ndarray:
    """is_fraudulent per transaction (in time order), as operations had booked it by the end of the extract."""
    rng = np.random.default_rng((bank.cfg.seed, 0x0D15))  # its own stream: the outcomes change nothing else
    leg = t["chargeback_leg"] & np.isin(t["scenario"], [SCENARIOS.index(s) for s in CHARGEBACK_SCENARIOS])
    cases, case_of = np.unique(t["cust"][leg], return_inverse=True)
    last_leg = np.full(len(cases), np.iinfo(np.int64).min)
    np.maximum.at(last_leg, case_of, ts[leg])
    median, sigma = CONFIRMATION_DELAY_DAYS
    booked_at = last_leg + (rng.lognormal(np.log(median), sigma, len(cases)) * DAY).astype(np.int64)
    end = (bank.start_day + bank.D) * DAY
    confirmed_case = (rng.random(len(cases)) < CONFIRMED_CASE_SHARE) & (booked_at < end)
    outcome = np.zeros(len(ts), bool)
    outcome[np.flatnonzero(leg)[confirmed_case[case_of]]] = True
    ordinary_purchase = (t["scenario"] < 0) & (t["negative"] < 0) & (t["type"] == TXN_TYPES.index("purchase"))
    friendly = ordinary_purchase & (rng.random(len(ts)) < FRIENDLY_FRAUD_RATE)
    # a friendly dispute follows the statement: purchases of the last two weeks are not disputed yet
    outcome |= friendly & (ts < end - 14 * DAY)
    return outcome


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


def _in_time_order(bank, events: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    """``events`` sorted by time (stable: events of the same second keep their generation order), their epoch
    seconds, and their ids: 1, 2, ... in that order, so ids ascend with time in every event table."""
    ts = (bank.start_day + events["day"]) * DAY + events["secs"]
    order = np.argsort(ts, kind="stable")
    return {k: v[order] for k, v in events.items()}, ts[order], np.arange(1, len(ts) + 1, dtype=np.int64)

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

def write_transactions(bank, landing: Path, t: dict) -> tuple[int, dict, dict]:
    """The transactions table; -> (rows, labels as _write_events gives them, the transactions in time order)."""
    t, ts, ids = _in_time_order(bank, t)
    confirmed = _booked_outcomes(bank, t, ts)
    lat_ok = ~np.isnan(t["lat"])
    merchant = t["merchant"]
    home = bank.home[t["cust"]]
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
    rows, labels = _write_events(landing, "transactions", columns, "transaction_id", ts, t)
    return rows, labels, t

def write_logins(bank, landing: Path, g: dict) -> tuple[int, dict]:
    """The login_activity table; -> (rows, labels as _write_events gives them)."""
    rng = bank.rng
    g, ts, ids = _in_time_order(bank, g)
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
    return _write_events(landing, "login_activity", columns, "login_id", ts, g)


def _device_ids(device: np.ndarray) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(device).cast(pa.string()), width=9, padding="0")
    ids = pc.binary_join_element_wise("DEV", digits, "")
    return pc.if_else(pa.array(device < 0), pa.scalar(None, pa.string()), ids)


def _ips(ip: np.ndarray) -> pa.Array:
    ip = np.asarray(ip, dtype=np.int64)
    octets = [pa.array((ip >> shift) & 0xFF).cast(pa.string()) for shift in (24, 16, 8, 0)]
    text = pc.binary_join_element_wise(*octets, ".")
    return pc.if_else(pa.array(ip == 0), pa.scalar(None, pa.string()), text)


def write_entity_labels(path: Path, column: str, names: tuple[str, ...], by_entity, counts: dict[str, int],
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
