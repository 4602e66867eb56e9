"""fct_daily_revenue equals an independent recomputation in pandas/Decimal from the raw lake and the seeds,
to the cent, row by row (segment and region are looked up from dim_customers: attributes, not revenue rules)."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from scripts.load_postgres import read_raw, table_columns

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
CENT = Decimal("0.01")


def _raw(lake, table, key):
    df = read_raw(lake, table, [n for n, _ in table_columns(table)]).to_pandas()
    df = df.sort_values(["_ingested_at", "ingest_date", "_batch_id"], ascending=False)
    return df.drop_duplicates(key, keep="first")


def _seed(name):
    return pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)


def _dec(value):
    return None if value is None or value == "" or (isinstance(value, float) and pd.isna(value)) else Decimal(str(value))


def recompute(lake, customers):
    fx = {r.currency: Decimal(r.usd_per_unit) for r in _seed("ref_fx_rates").itertuples()}
    mcc_tier = {r.mcc: r.interchange_tier for r in _seed("ref_mcc_codes").itertuples()}
    default_tier = {r.merchant_category: r.interchange_tier for r in _seed("ref_mcc_codes").itertuples()
                    if r.is_category_default == "true"}
    rates = {(r.interchange_tier, r.card_network): (Decimal(r.rate), Decimal(r.fixed_fee_usd))
             for r in _seed("ref_interchange_rates").itertuples()}
    fees = {(r.fee_type, r.product): r for r in _seed("ref_fee_schedule").itertuples()}

    accounts = _raw(lake, "accounts", ["account_id", "as_of_date"])
    current = accounts.sort_values("as_of_date", ascending=False).drop_duplicates("account_id").set_index("account_id")
    transactions = _raw(lake, "transactions", ["transaction_id"])
    totals: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])

    def add(date, customer, product, channel, kind, amount):
        segment, country = customers.get(customer, ("unknown", "unknown"))
        key = (date, product or "unknown", segment, country, channel, kind)
        totals[key][0] += amount
        totals[key][1] += 1

    for t in transactions[transactions.status == "completed"].itertuples():
        account = current.loc[t.account_id] if t.account_id in current.index else None
        product = account.account_type if account is not None else None
        network = account.card_network if account is not None else None
        amount_usd = (t.amount * fx[t.currency]).quantize(CENT, ROUND_HALF_UP)
        channel = t.channel if isinstance(t.channel, str) else "unknown"
        date = t.transaction_date.date()
        if t.transaction_type == "purchase":
            tier = mcc_tier.get(t.mcc) or default_tier.get(t.merchant_category) or "standard"
            if (tier, network) in rates:
                rate, fixed = rates[(tier, network)]
                add(date, t.customer_id, product, channel, "interchange_fee", amount_usd * rate + fixed)
        if (t.transaction_type in ("purchase", "withdrawal") and account is not None
                and t.currency != account.currency and ("fx_fee", product) in fees):
            add(date, t.customer_id, product, channel, "fx_fee", amount_usd * Decimal(fees[("fx_fee", product)].rate))

    for a in accounts[accounts.account_status != "closed"].itertuples():
        usd = fx[a.currency]
        if a.account_type in ("credit_card", "personal_loan", "mortgage") and a.balance > 0 and _dec(a.interest_rate) is not None:
            add(a.as_of_date, a.customer_id, a.account_type, "account", "interest_income",
                a.balance * a.interest_rate / 365 * usd)
        schedule = fees.get(("account_fee", a.account_type))
        own_fee = _dec(a.monthly_fee)
        monthly = own_fee * usd if own_fee is not None else (_dec(schedule.amount_usd) if schedule else None)
        if monthly is not None and (own_fee if own_fee is not None else monthly) > 0:
            add(a.as_of_date, a.customer_id, a.account_type, "account", "account_fee", monthly * 12 / 365)
        overdraft = fees.get(("overdraft_fee", a.account_type))
        if a.balance < 0 and overdraft is not None:
            add(a.as_of_date, a.customer_id, a.account_type, "account", "overdraft_fee", Decimal(overdraft.amount_usd))

    return {key: (amount.quantize(CENT, ROUND_HALF_UP), count) for key, (amount, count) in totals.items()}


def test_daily_revenue_matches_independent_recomputation_to_the_cent(demo_lake, duckdb_marts):
    customers = {customer: (segment, country or "unknown") for customer, segment, country in duckdb_marts.execute(
        "select customer_id, customer_segment, country from analytics_marts.dim_customers").fetchall()}
    expected = recompute(demo_lake["lake"], customers)
    actual = {
        tuple(r[:6]): (r[6], r[7])
        for r in duckdb_marts.execute(
            "select revenue_date, product, customer_segment, customer_country, channel, revenue_type, revenue_usd, "
            "event_count from analytics_marts.fct_daily_revenue").fetchall()
    }
    assert len({k[3] for k in expected}) > 1  # the region splits revenue (several countries of residence)
    assert {k[5] for k in expected} >= {"interchange_fee", "interest_income", "account_fee", "fx_fee"}
    fx_events = sum(count for key, (_, count) in expected.items() if key[5] == "fx_fee")
    assert fx_events > 50, "card purchases and withdrawals abroad settle in the merchant's currency"
    missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    wrong = {k: (actual[k], expected[k]) for k in expected if actual[k] != expected[k]}
    assert not wrong, list(wrong.items())[:5]
    total = sum(v[0] for v in expected.values())
    assert total > 0
