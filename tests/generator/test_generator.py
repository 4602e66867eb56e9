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
from synthetic_bank.scenarios import HARD_NEGATIVES, ranges_for

CONFIG = BankConfig(seed=11, customers=800, days=30)
# the second bank the rules are judged on: another seed, the wide ranges
WIDE_CONFIG = BankConfig(seed=7, customers=800, days=30, ranges="wide")


def _generated(tmp_path_factory, config):
    out = tmp_path_factory.mktemp("bank")
    result = generate(config, out)
    tables = {
        t: pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in sorted((out / "landing" / t).rglob("*.csv"))])
        for t in TABLES
    }
    labels = pd.read_csv(out / "ground_truth" / "fraud_labels.csv", dtype=str)
    churn = pd.read_csv(out / "ground_truth" / "churn_labels.csv", dtype=str)
    return out, result, tables, labels, churn


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    return _generated(tmp_path_factory, CONFIG)


@pytest.fixture(scope="module")
def wide_bank(tmp_path_factory):
    return _generated(tmp_path_factory, WIDE_CONFIG)


@pytest.fixture(params=["standard", "wide"])
def either_bank(request):
    """(bank, its ranges): the scenario shapes hold within each preset's documented ranges."""
    preset = request.param
    return request.getfixturevalue("bank" if preset == "standard" else "wide_bank"), ranges_for(preset)


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
    assert set(logins.scenario) == {"account_takeover", "account_takeover_few_guesses"}
    assert set(logins.entity_id) <= set(tables["login_activity"]["login_id"])
    assert set(churn.customer_id) <= set(tables["customers"]["customer_id"])
    assert not labels.duplicated(["entity_type", "entity_id"]).any()


def test_is_fraudulent_is_what_operations_booked(bank):
    """Confirmed outcomes: whole chargeback-type cases (never AML typologies), some never confirmed, the latest ones
    not yet; plus a little friendly-fraud noise on ordinary purchases; never a hard negative."""
    from synthetic_bank.events import CONFIRMED_CASE_SHARE
    from synthetic_bank.scenarios import CHARGEBACK_SCENARIOS

    out, _, tables, labels, _ = bank
    t = tables["transactions"].set_index("transaction_id")
    t["moment"] = pd.to_datetime(t.transaction_date)
    fraud = t.is_fraudulent == "true"
    lab = labels[labels.entity_type == "transaction"].set_index("entity_id")["scenario"]
    labelled = t.index.isin(lab.index)
    assert not {lab[i] for i in t.index[fraud & labelled]} & {"structuring", "high_risk_geography", "money_mule"}
    # the noise: ordinary purchases, a few per ten thousand of them, none in the last two weeks
    noise = t[fraud & ~labelled]
    negatives = set(pd.read_csv(out / "ground_truth" / "hard_negatives.csv", dtype=str).entity_id)
    assert not set(noise.index) & negatives and (noise.transaction_type == "purchase").all()
    purchases = (t.transaction_type == "purchase") & ~labelled
    assert 0 < len(noise) < 0.001 * purchases.sum()
    assert noise.moment.max() < t.moment.max() - timedelta(days=13)
    # a case is booked whole: none of a victim's legs, or its chargeback legs (all but impossible travel's first)
    legs = t[labelled & t.index.isin(lab.index[lab.isin(sorted(CHARGEBACK_SCENARIOS))])]
    per_case = legs.assign(fraud=legs.is_fraudulent == "true").groupby("customer_id").fraud.mean()
    assert ((per_case == 0) | (per_case >= 0.5)).all() and (per_case == 1).sum() > (per_case == 0.5).sum()


def test_outcomes_are_booked_with_a_delay_and_not_for_every_case():
    """4,000 one-leg cases over 80 days: those that ended 6+ weeks before the extract are confirmed at the case
    share (the rest never disputed), those of the last two days hardly ever yet, the share rising in between."""
    from types import SimpleNamespace

    from synthetic_bank.events import CONFIRMED_CASE_SHARE, DAY, _booked_outcomes
    from synthetic_bank.scenarios import CHARGEBACK_SCENARIOS, SCENARIOS

    n, days = 4000, 80
    bank = SimpleNamespace(cfg=SimpleNamespace(seed=3), start_day=0, D=days)
    ts = np.sort(np.random.default_rng(0).integers(0, days * DAY, n))
    t = {"cust": np.arange(n), "chargeback_leg": np.ones(n, bool), "negative": np.full(n, -1),
         "scenario": np.full(n, SCENARIOS.index(sorted(CHARGEBACK_SCENARIOS)[0])), "type": np.zeros(n, int)}
    booked = _booked_outcomes(bank, t, ts)
    age_days = (days * DAY - ts) / DAY
    share = [booked[(age_days >= lo) & (age_days < hi)].mean() for lo, hi in ((0, 2), (5, 10), (14, 21), (42, 80))]
    assert share[0] < 0.1 and share[0] < share[1] < share[2] < share[3]
    assert abs(share[3] - CONFIRMED_CASE_SHARE) < 0.05


def _scenario_rows(bank, scenario):
    _, _, tables, labels, _ = bank
    t = tables["transactions"]
    ids = labels.loc[(labels.entity_type == "transaction") & (labels.scenario == scenario), "entity_id"]
    rows = t[t.transaction_id.isin(ids)].copy()
    rows["ts"] = pd.to_datetime(rows.transaction_date)
    # in USD, as the rules compare them: a purchase abroad is written in the merchant country's currency
    from synthetic_bank.world import FX_RATES_SEED

    rates = pd.read_csv(FX_RATES_SEED).set_index("currency")["usd_per_unit"]
    rows["amt"] = (rows.amount.astype(float) * rows.currency.map(rates)).round(2)
    return rows


def test_structuring_is_cash_deposits_just_under_10k(either_bank):
    bank, ranges = either_bank
    r = ranges["structuring"]
    rows = _scenario_rows(bank, "structuring")
    assert (rows.transaction_type == "deposit").all() and (rows.merchant_category == "cash").all()
    amount = rows.amount.astype(float)  # in the home currency, whose threshold is 10,000
    assert amount.between(r["deposit_cents"][0] / 100, r["deposit_cents"][1] / 100).all() and (amount < 10_000).all()
    for _, g in rows.groupby("customer_id"):
        assert len(g) >= r["deposits"][0] and (g.ts.max() - g.ts.min()) < timedelta(days=r["span_days"][1] + 1)


def test_card_testing_is_micro_burst_then_cash_out(either_bank):
    bank, ranges = either_bank
    for scenario in ("card_testing", "card_testing_late_cashout"):
        r = ranges[scenario]
        rows = _scenario_rows(bank, scenario)
        for _, g in rows.groupby("customer_id"):
            micro = g[g.amt <= 5]
            assert len(micro) >= r["tests"][0] and micro.merchant_name.nunique() == 1
            assert micro.ts.max() - micro.ts.min() <= timedelta(minutes=r["burst_minutes"][1])
            cashout = g[g.amt > 5]
            assert len(cashout) >= 1 and (g.channel == "ecommerce").all() and g.device_id.nunique() == 1
            delay = cashout.ts.min() - micro.ts.max()
            if scenario == "card_testing":
                assert timedelta(0) < delay <= timedelta(minutes=r["cashout_delay_minutes"][1] + r["burst_minutes"][1])
            else:  # hours to days later: past the old one-hour window, within the rule's 7 days
                assert timedelta(minutes=30) < delay <= timedelta(hours=r["cashout_delay_hours"][1] + 1)


def test_takeover_guesses_then_success_then_transfer(either_bank):
    bank, ranges = either_bank
    _, _, tables, labels, _ = bank
    lg = tables["login_activity"]
    for scenario in ("account_takeover", "account_takeover_few_guesses"):
        r = ranges[scenario]
        ids = labels.loc[(labels.entity_type == "login") & (labels.scenario == scenario), "entity_id"]
        ato_logins = lg[lg.login_id.isin(ids)].copy()
        ato_logins["ts"] = pd.to_datetime(ato_logins.login_timestamp)
        transfers = _scenario_rows(bank, scenario)
        for cust, g in ato_logins.groupby("customer_id"):
            g = g.sort_values("ts")
            assert (g.login_status.iloc[:-1] == "failed").all()
            assert r["guesses"][0] <= len(g) - 1 <= r["guesses"][1]
            assert g.login_status.iloc[-1] == "success" and g.device_id.nunique() == 1
            home = tables["customers"].set_index("customer_id").loc[cust, "country"]
            assert (g.location_country != home).all()
            # the victim had banked online from their own device before the attack
            own = lg[(lg.customer_id == cust) & ~lg.login_id.isin(ids)]
            assert (pd.to_datetime(own.login_timestamp) < g.ts.min()).any()
            tx = transfers[transfers.customer_id == cust]
            assert len(tx) >= 1 and (tx.transaction_type == "transfer").all()
            gap = tx.ts - g.ts.iloc[-1]
            assert ((gap > timedelta(0)) & (gap <= timedelta(minutes=r["transfer_delay_minutes"][1] + 1))).all()
            assert (tx.device_id == g.device_id.iloc[0]).all()


def _km(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    d = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(d))


def test_impossible_travel_pairs_are_far_and_close_in_time(either_bank):
    bank, ranges = either_bank
    r = ranges["impossible_travel"]
    rows = _scenario_rows(bank, "impossible_travel")
    for _, g in rows.groupby("customer_id"):
        g = g.sort_values("ts")
        assert len(g) == 2 and (g.card_present == "true").all()
        a, b = g.iloc[0], g.iloc[1]
        km = _km((float(a.latitude), float(a.longitude)), (float(b.latitude), float(b.longitude)))
        hours = (b.ts - a.ts).total_seconds() / 3600
        assert km >= 500 and hours <= r["gap_minutes"][1] / 60 and km / hours > 0.95 * r["min_speed_kmh"][0]


def test_no_legitimate_traveller_looks_impossible(either_bank):
    """Card-present pairs of unlabelled transactions never imply > 1,000 km/h (so the rule has no noise here),
    the legitimate long-haul trips of the hard negatives included."""
    (_, _, tables, labels, _), _ = either_bank
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
        # amounts in the home currency (a purchase at home settles in it)
        assert len(g) >= 10 and g.ts.max() - g.ts.min() <= timedelta(hours=1) and g.amount.astype(float).between(40, 800).all()
    acc = tables["accounts"]
    for cust, g in _scenario_rows(bank, "dormant_reactivation").groupby("customer_id"):
        day = g.ts.min().date().isoformat()
        before = acc[(acc.customer_id == cust) & (acc.as_of_date < day)]
        assert (before.account_status == "dormant").all() and len(before)
        dated = before[before.last_activity_date != "null"]  # loans carry no last activity date
        assert (pd.to_datetime(dated.last_activity_date) <= pd.Timestamp(CONFIG.start_date) - timedelta(days=180)).all()
        assert g.transaction_type.eq("transfer").all()
    hr = _scenario_rows(bank, "high_risk_geography")
    assert hr.merchant_country.isin(HIGH_RISK_COUNTRIES).all()
    t = tables["transactions"]
    assert set(t.loc[t.merchant_country.isin(HIGH_RISK_COUNTRIES), "transaction_id"]) == set(hr.transaction_id)


def test_money_mules_move_most_of_each_credit_out_within_hours(either_bank):
    bank, ranges = either_bank
    r = ranges["money_mule"]
    rows = _scenario_rows(bank, "money_mule").sort_values("ts")
    assert len(rows)
    for _, g in rows.groupby("customer_id"):
        credits = g[g.transaction_type == "deposit"]
        assert len(credits) >= 1 and (credits.merchant_name == "Incoming Transfer").all()
        assert credits.amt.between(r["credit_cents"][0] / 100 - 1, r["credit_cents"][1] / 100 + 1).all()
        debits = g[g.transaction_type != "deposit"]
        assert debits.transaction_type.isin(["transfer", "withdrawal"]).all()
        assert (debits.merchant_name != "Internal Transfer").all()
        # each credit's debits follow it within the documented delays and take a documented share of it out
        hours = (r["first_outflow_delay_minutes"][1] + (r["outflows_per_credit"][1] - 1) * r["outflow_spread_minutes"][1]) / 60
        for _, credit in credits.iterrows():
            after = debits[(debits.ts > credit.ts) & (debits.ts <= credit.ts + timedelta(hours=hours))]
            assert len(after) >= 1
        assert debits.amt.sum() <= credits.amt.sum() * r["share_moved_out"][1] + 1
        assert debits.amt.sum() >= credits.amt.sum() * r["share_moved_out"][0] * 0.6  # cash legs round down to 20


def test_hard_negatives_are_legitimate_and_shaped_as_documented(either_bank):
    bank, ranges = either_bank
    out, result, tables, labels, _ = bank
    neg = pd.read_csv(out / "ground_truth" / "hard_negatives.csv", dtype=str)
    assert set(neg.kind) == set(HARD_NEGATIVES)
    assert not set(neg.customer_id) & set(labels.customer_id)  # nobody is both a victim and a hard negative
    assert not neg.duplicated(["entity_type", "entity_id"]).any()
    t = tables["transactions"].set_index("transaction_id")
    lg = tables["login_activity"].set_index("login_id")
    assert set(neg.loc[neg.entity_type == "transaction", "entity_id"]) <= set(t.index)
    assert set(neg.loc[neg.entity_type == "login", "entity_id"]) <= set(lg.index)
    assert (t.loc[neg.loc[neg.entity_type == "transaction", "entity_id"], "is_fraudulent"] == "false").all()
    home = tables["customers"].set_index("customer_id")["country"]

    def rows(kind, entity="transaction"):
        ids = neg.loc[(neg.kind == kind) & (neg.entity_type == entity), "entity_id"]
        return (t if entity == "transaction" else lg).loc[ids]

    trip = rows("legitimate_trip")
    abroad = trip[trip.merchant_country != trip.customer_id.map(home)]
    assert abroad.customer_id.nunique() == trip.customer_id.nunique()  # every trip spends abroad
    trip_logins = rows("legitimate_trip", "login")
    own = trip_logins.device_id.str[3:].astype(int) <= 2 * 800  # customers' own devices are DEV 1..2N
    assert own.all() and (trip_logins.location_country != trip_logins.customer_id.map(home)).any()
    shop = rows("small_business_cash")
    amounts = shop.amount.astype(float)
    assert (shop.merchant_category == "cash").all() and (shop.transaction_type == "deposit").all()
    assert (shop.groupby("customer_id").transaction_date.apply(lambda d: d.str[:10].nunique()) >= 5).all()
    assert amounts.std() > 0.2 * amounts.mean()  # lognormal takings, not one fixed amount
    fp = rows("forgotten_password", "login")
    assert (fp.login_status == "failed").sum() >= len(set(fp.customer_id)) * ranges["forgotten_password"]["failures"][0]
    assert (fp.device_id.str[3:].astype(int) <= 2 * 800).all()  # their own device, at home
    assert (fp.location_country == fp.customer_id.map(home)).all()
    pay = rows("payday_large_purchase")
    assert set(pay.merchant_name) >= {"Payroll Deposit", "External Transfer"}
    assert (pay[pay.transaction_type == "purchase"].amount.astype(float) >= 5).any()
    assert result.hard_negatives and set(k.split(":")[1] for k in result.hard_negatives) == set(HARD_NEGATIVES)


def test_presets_differ_and_an_unknown_one_is_one_clear_line(bank, wide_bank):
    # the wide bank really is wider: card tests with fewer than the standard minimum, guesses from 1 on
    wide = _scenario_rows(wide_bank, "structuring")
    assert wide.amt.min() < 9_000 or len(wide) != len(_scenario_rows(bank, "structuring"))
    with pytest.raises(ValueError, match="--ranges must be one of standard, wide"):
        BankConfig(ranges="narrow")


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
    from synthetic_bank.world import FX_RATES_SEED
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
