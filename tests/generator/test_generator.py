"""Synthetic bank: deterministic, contract-shaped landing files, and scenarios shaped as documented."""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glue_jobs.contracts import TABLES, load_contract
from synthetic_bank import SCENARIOS, BankConfig, generate
from synthetic_bank.reference import HIGH_RISK_COUNTRIES

CONFIG = BankConfig(seed=11, customers=800, days=30)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    out = tmp_path_factory.mktemp("bank")
    result = generate(CONFIG, out)
    tables = {
        t: pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in sorted((out / "landing" / t).rglob("*.csv"))])
        for t in TABLES
    }
    labels = pd.read_csv(out / "ground_truth" / "fraud_labels.csv", dtype=str)
    churn = pd.read_csv(out / "ground_truth" / "churn_labels.csv", dtype=str)
    return out, result, tables, labels, churn


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_differs(bank, tmp_path):
    out, *_ = bank
    small = BankConfig(seed=11, customers=800, days=30)
    generate(small, tmp_path / "again")
    assert _digest(tmp_path / "again") == _digest(out)
    generate(BankConfig(seed=12, customers=800, days=30), tmp_path / "other")
    assert _digest(tmp_path / "other") != _digest(out)


def test_files_have_exactly_the_contract_columns_and_layout(bank):
    out, result, tables, *_ = bank
    for t in TABLES:
        files = sorted((out / "landing" / t).rglob("*.csv"))
        assert files, t
        for f in files:
            day = f.parent.name.split("=", 1)[1]
            assert f.name == f"{t}_{day.replace('-', '')}.csv"
            assert f.read_text().splitlines()[0].split(",") == load_contract(t).column_names
        assert len(tables[t]) == result.rows[t]
    dates = {f.parent.name for f in (out / "landing" / "transactions").rglob("*.csv")}
    assert len(dates) == CONFIG.days
    assert max(dates) == f"ingest_date={CONFIG.end_date.isoformat()}"


def test_ids_match_patterns_and_never_collide_with_seed_samples(bank):
    _, _, tables, *_ = bank
    for t in TABLES:
        c = load_contract(t)
        for col in c.columns:
            if col.pattern and col.name.endswith("_id"):
                assert tables[t][col.name].str.fullmatch(col.pattern[1:-1]).all(), (t, col.name)
    assert tables["customers"]["customer_id"].str.len().eq(11).all()  # CUST + 7 digits, seed uses CUST + 3
    assert tables["transactions"]["transaction_id"].is_unique
    assert not tables["accounts"].duplicated(["account_id", "as_of_date"]).any()


def test_accounts_are_a_daily_snapshot(bank):
    _, _, tables, *_ = bank
    acc = tables["accounts"]
    last_day = acc[acc["as_of_date"] == CONFIG.end_date.isoformat()]
    assert set(last_day["account_id"]) == set(acc["account_id"])  # every account appears on the last day
    assert (acc["as_of_date"] >= acc["open_date"]).all()
    assert set(acc["account_status"]) <= {"active", "dormant", "frozen", "closed"}


def test_accounts_transact_only_while_open(bank):
    """No transaction on an account before its first snapshot (its opening day), and no account opens on the last
    day just because it would open after the window (those do not exist yet)."""
    _, _, tables, *_ = bank
    acc, txn = tables["accounts"], tables["transactions"]
    first_snapshot = acc.groupby("account_id")["as_of_date"].min()
    txn_day = txn["transaction_date"].str[:10]
    opened = txn["account_id"].map(first_snapshot)
    assert opened.notna().all()
    assert (txn_day >= opened).all()
    opening_days = acc.drop_duplicates("account_id")["open_date"]
    last_day = CONFIG.end_date.isoformat()
    assert (opening_days == last_day).mean() < 0.05  # no pile-up of openings on the last day


def test_overdrafts_are_steady_not_a_growing_random_walk(bank):
    """A bank's overdrawn share is roughly stable from day to day; balances that all start in credit and wander
    would put more accounts in the red every day (a rising overdraft-fee line on the Revenue dashboard)."""
    _, _, tables, *_ = bank
    acc = tables["accounts"]
    checking = acc[acc["account_type"] == "checking"].assign(overdrawn=lambda a: a["balance"].astype(float) < 0)
    share = checking.groupby("as_of_date")["overdrawn"].mean()
    assert 0 < share.iloc[0] < 0.1
    assert abs(share.iloc[-1] - share.iloc[0]) < 0.02, share


def test_every_scenario_has_labels_that_point_at_real_rows(bank):
    _, _, tables, labels, churn = bank
    txn = labels[labels.entity_type == "transaction"]
    assert set(txn.scenario) == set(SCENARIOS)
    assert txn.groupby("scenario").size().min() >= 5
    assert set(txn.entity_id) <= set(tables["transactions"]["transaction_id"])
    logins = labels[labels.entity_type == "login"]
    assert set(logins.scenario) == {"account_takeover"}
    assert set(logins.entity_id) <= set(tables["login_activity"]["login_id"])
    assert set(churn.customer_id) <= set(tables["customers"]["customer_id"])
    assert not labels.duplicated(["entity_type", "entity_id"]).any()


def test_is_fraudulent_is_a_subset_of_chargeback_labels(bank):
    _, _, tables, labels, _ = bank
    t = tables["transactions"]
    fraud_ids = set(t.loc[t.is_fraudulent == "true", "transaction_id"])
    lab = labels[labels.entity_type == "transaction"].set_index("entity_id")["scenario"]
    assert fraud_ids <= set(lab.index)
    assert not {lab[i] for i in fraud_ids} & {"structuring", "high_risk_geography"}
    share = len(fraud_ids) / lab.isin(["card_testing", "velocity_burst", "account_takeover"]).sum()
    assert 0.2 < share < 0.6


def _scenario_rows(bank, scenario):
    _, _, tables, labels, _ = bank
    t = tables["transactions"]
    ids = labels.loc[(labels.entity_type == "transaction") & (labels.scenario == scenario), "entity_id"]
    rows = t[t.transaction_id.isin(ids)].copy()
    rows["ts"] = pd.to_datetime(rows.transaction_date)
    # in USD, as the rules compare them: a purchase abroad is written in the merchant country's currency
    from synthetic_bank.generator import FX_RATES_SEED

    rates = pd.read_csv(FX_RATES_SEED).set_index("currency")["usd_per_unit"]
    rows["amt"] = (rows.amount.astype(float) * rows.currency.map(rates)).round(2)
    return rows


def test_structuring_is_cash_deposits_just_under_10k(bank):
    rows = _scenario_rows(bank, "structuring")
    assert (rows.transaction_type == "deposit").all() and (rows.merchant_category == "cash").all()
    assert rows.amt.between(9000, 9950).all()
    for _, g in rows.groupby("customer_id"):
        assert len(g) >= 3 and (g.ts.max() - g.ts.min()) < timedelta(days=5)


def test_card_testing_is_micro_burst_then_cash_out(bank):
    rows = _scenario_rows(bank, "card_testing")
    for _, g in rows.groupby("customer_id"):
        micro = g[g.amt < 3]
        assert len(micro) >= 8 and micro.merchant_name.nunique() == 1
        assert micro.ts.max() - micro.ts.min() <= timedelta(minutes=15)
        assert (g[g.amt >= 3].amt >= 250).all()
        assert (g.channel == "ecommerce").all() and g.device_id.nunique() == 1


def test_takeover_failed_burst_then_success_then_transfer_within_an_hour(bank):
    _, _, tables, labels, _ = bank
    lg = tables["login_activity"]
    ato_logins = lg[lg.login_id.isin(labels.entity_id)].copy()
    ato_logins["ts"] = pd.to_datetime(ato_logins.login_timestamp)
    transfers = _scenario_rows(bank, "account_takeover")
    for cust, g in ato_logins.groupby("customer_id"):
        g = g.sort_values("ts")
        assert (g.login_status.iloc[:-1] == "failed").all() and len(g) >= 5
        assert g.login_status.iloc[-1] == "success" and g.device_id.nunique() == 1
        home = tables["customers"].set_index("customer_id").loc[cust, "country"]
        assert (g.location_country != home).all()
        tx = transfers[transfers.customer_id == cust]
        assert len(tx) >= 1 and (tx.transaction_type == "transfer").all()
        gap = tx.ts - g.ts.iloc[-1]
        assert ((gap > timedelta(0)) & (gap <= timedelta(hours=1))).all()
        assert (tx.device_id == g.device_id.iloc[0]).all()


def _km(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    d = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(d))


def test_impossible_travel_pairs_are_far_and_close_in_time(bank):
    rows = _scenario_rows(bank, "impossible_travel")
    for _, g in rows.groupby("customer_id"):
        g = g.sort_values("ts")
        assert len(g) == 2 and (g.card_present == "true").all()
        a, b = g.iloc[0], g.iloc[1]
        km = _km((float(a.latitude), float(a.longitude)), (float(b.latitude), float(b.longitude)))
        hours = (b.ts - a.ts).total_seconds() / 3600
        assert km >= 4900 and hours <= 3 and km / hours > 1000


def test_no_legitimate_traveller_looks_impossible(bank):
    """Card-present pairs of unlabelled transactions never imply > 1,000 km/h (so the rule has no noise here)."""
    _, _, tables, labels, _ = bank
    t = tables["transactions"]
    t = t[(t.card_present == "true") & ~t.transaction_id.isin(labels.entity_id)].copy()
    t["ts"] = pd.to_datetime(t.transaction_date)
    t = t.sort_values(["customer_id", "ts"])
    lat, lon = t.latitude.astype(float).to_numpy(), t.longitude.astype(float).to_numpy()
    same = (t.customer_id.to_numpy()[1:] == t.customer_id.to_numpy()[:-1])
    p1, p2 = np.radians(lat[:-1]), np.radians(lat[1:])
    d = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon[1:] - lon[:-1]) / 2) ** 2
    km = 6371 * 2 * np.arcsin(np.sqrt(d))
    hours = np.maximum(np.diff(t.ts.to_numpy()).astype("timedelta64[s]").astype(float) / 3600, 1 / 60)
    assert not np.any(same & (km > 500) & (km / hours > 1000))


def test_velocity_dormant_and_high_risk_shapes(bank):
    _, _, tables, _, _ = bank
    for _, g in _scenario_rows(bank, "velocity_burst").groupby("customer_id"):
        assert len(g) >= 10 and g.ts.max() - g.ts.min() <= timedelta(hours=1) and g.amt.between(40, 800).all()
    acc = tables["accounts"]
    for cust, g in _scenario_rows(bank, "dormant_reactivation").groupby("customer_id"):
        day = g.ts.min().date().isoformat()
        before = acc[(acc.customer_id == cust) & (acc.as_of_date < day)]
        assert (before.account_status == "dormant").all() and len(before)
        assert (pd.to_datetime(before.last_activity_date) <= pd.Timestamp(CONFIG.start_date) - timedelta(days=180)).all()
        assert g.transaction_type.eq("transfer").all()
    hr = _scenario_rows(bank, "high_risk_geography")
    assert hr.merchant_country.isin(HIGH_RISK_COUNTRIES).all()
    t = tables["transactions"]
    assert set(t.loc[t.merchant_country.isin(HIGH_RISK_COUNTRIES), "transaction_id"]) == set(hr.transaction_id)


def test_churners_activity_decays(bank):
    _, _, tables, _, churn = bank
    t = tables["transactions"].merge(churn, on="customer_id")
    t["d"] = (pd.to_datetime(t.transaction_date) - pd.to_datetime(t.churn_start_date)).dt.days
    before = (t.d.between(-10, -1)).sum()
    after = (t.d.between(10, 19)).sum()
    assert after < before * 0.5


def test_config_errors_say_what_to_do():
    with pytest.raises(ValueError, match="--customers"):
        BankConfig(customers=3)
    with pytest.raises(ValueError, match="--days"):
        BankConfig(days=2)


def test_purchases_and_withdrawals_abroad_settle_in_the_merchant_countrys_currency(bank):
    from synthetic_bank.generator import FX_RATES_SEED
    from synthetic_bank.reference import COUNTRY_CURRENCY, HOME_CITIES

    _, _, tables, _, _ = bank
    tx = tables["transactions"]
    customers = tables["customers"].drop_duplicates("customer_id", keep="last").set_index("customer_id")
    home = tx["customer_id"].map(customers["country"])
    home_currency = home.map({c[2]: c[3] for c in HOME_CITIES})
    card_or_cash = tx["transaction_type"].isin(["purchase", "withdrawal"])
    abroad = card_or_cash & tx["merchant_country"].ne("null") & tx["merchant_country"].ne(home)
    assert abroad.sum() > 100
    assert (tx.loc[abroad, "currency"] == tx.loc[abroad, "merchant_country"].map(COUNTRY_CURRENCY)).all()
    assert (tx.loc[~abroad, "currency"] == home_currency[~abroad]).all()
    assert tx.loc[abroad, "currency"].nunique() >= 6 and (tx.loc[abroad, "currency"] != home_currency[abroad]).all()
    # converted at the warehouse's reference rates: a foreign purchase is as large in USD as a domestic one
    rates = pd.read_csv(FX_RATES_SEED).set_index("currency")["usd_per_unit"]
    usd = tx["amount"].astype(float) * tx["currency"].map(rates)
    purchases = tx["transaction_type"].eq("purchase")
    ratio = usd[abroad & purchases].median() / usd[~abroad & purchases].median()
    assert 0.5 < ratio < 2.0, ratio


def test_customer_ages_are_shaped_like_a_retail_banks_book(bank):
    _, _, tables, _, _ = bank
    customers = tables["customers"].drop_duplicates("customer_id", keep="last")
    end = pd.Timestamp(CONFIG.end_date)
    age = (end - pd.to_datetime(customers["date_of_birth"])).dt.days // 365
    share = lambda lo, hi: ((age >= lo) & (age < hi)).mean()  # noqa: E731
    assert age.min() >= 18
    assert 0.05 < share(18, 25) < 0.15 and 0.12 < share(65, 200) < 0.25, age.describe()
    assert all(0.10 < share(lo, lo + 10) < 0.30 for lo in (25, 35, 45, 55))
