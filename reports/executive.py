"""The monthly executive pack: what the board reads in five minutes, for month M against the month before.

- Revenue by stream (fct_daily_revenue.revenue_type): M, M-1, the variance in USD and %.
- Fraud: alerts, transactions alerted, amount at risk (their USD), alerts the bank has confirmed, M vs M-1, and
  M's alerts by rule.
- Churn risk movement: customers per heuristic churn band (low / medium / high, dbt vars churn_medium_score and
  churn_high_score) at the last weekly cut-off of M and of M-1 (features.ml_customer_features).
- Segment mix: customers, deposits and credit balances per customer segment (dim_customers, as of the build).
Charts are drawn by the dashboards' own chart code (quicksight.render.chart_png). A month without data says so.
`build(read, month)`: month = the first day of M; default the latest month with revenue.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from reports import pdf

MARTS, FEATURES = "analytics_marts", "analytics_features"


def _month_start(d) -> date:
    d = pd.Timestamp(d)
    return date(d.year, d.month, 1)


def _previous(m: date) -> date:
    return date(m.year - 1, 12, 1) if m.month == 1 else date(m.year, m.month - 1, 1)


def _next(m: date) -> date:
    return date(m.year + 1, 1, 1) if m.month == 12 else date(m.year, m.month + 1, 1)


def _lit(d: date) -> str:
    return f"cast('{d.isoformat()}' as date)"


def latest_month(read) -> date:
    value = read(f"select max(revenue_date) as d from {MARTS}.fct_daily_revenue")["d"].iloc[0]
    return _month_start(value) if pd.notna(value) else _month_start(date.today())


def _variance(frame: pd.DataFrame, key: str, current: str, previous: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["change"] = frame[current] - frame[previous]
    frame["change_pct"] = [round(100 * c / p, 1) if p else None for c, p in zip(frame["change"], frame[previous])]
    return frame.sort_values(current, ascending=False, key=lambda s: s.astype(float)).reset_index(drop=True)


def build(read, month: date | None = None, *, churn_medium: float = 35, churn_high: float = 60):
    from reports.regulatory import Report

    m = _month_start(month) if month else latest_month(read)
    p, n = _previous(m), _next(m)
    cur, prev = m.strftime("%Y-%m"), p.strftime("%Y-%m")

    revenue = read(f"""
        select revenue_type,
               sum(case when revenue_date >= {_lit(m)} then revenue_usd else 0 end) as current_usd,
               sum(case when revenue_date < {_lit(m)} then revenue_usd else 0 end) as previous_usd
        from {MARTS}.fct_daily_revenue
        where revenue_date >= {_lit(p)} and revenue_date < {_lit(n)}
        group by revenue_type""")
    for c in ("current_usd", "previous_usd"):
        revenue[c] = revenue[c].astype(float).round(2)
    revenue = _variance(revenue, "revenue_type", "current_usd", "previous_usd")

    fraud = read(f"""
        select case when alert_date >= {_lit(m)} then '{cur}' else '{prev}' end as month,
               count(*) as alerts,
               sum(case when entity_type = 'transaction' then 1 else 0 end) as transactions_alerted,
               coalesce(sum(amount_usd), 0) as amount_at_risk_usd,
               sum(case when is_confirmed_fraud then 1 else 0 end) as confirmed_fraud,
               sum(case when reason_codes like '%MODEL%' then 1 else 0 end) as model_alerts
        from {MARTS}.fraud_alerts
        where alert_date >= {_lit(p)} and alert_date < {_lit(n)}
        group by 1 order by 1 desc""")
    fraud["amount_at_risk_usd"] = fraud["amount_at_risk_usd"].astype(float).round(2)
    for c in ("alerts", "transactions_alerted", "confirmed_fraud", "model_alerts"):
        fraud[c] = fraud[c].astype(int)
    by_rule = read(f"""
        select primary_reason_code, count(*) as alerts, coalesce(sum(amount_usd), 0) as amount_usd
        from {MARTS}.fraud_alerts where alert_date >= {_lit(m)} and alert_date < {_lit(n)}
        group by 1 order by 2 desc, 1""")
    by_rule["amount_usd"] = by_rule["amount_usd"].astype(float).round(2)

    churn = read(f"""
        with cutoffs as (
            select max(case when as_of_date < {_lit(n)} then as_of_date end) as current_cutoff,
                   max(case when as_of_date < {_lit(m)} then as_of_date end) as previous_cutoff
            from {FEATURES}.ml_customer_features
        )
        select case when churn_risk_score >= {churn_high} then 'high'
                    when churn_risk_score >= {churn_medium} then 'medium' else 'low' end as band,
               sum(case when f.as_of_date = c.current_cutoff then 1 else 0 end) as current_customers,
               sum(case when f.as_of_date = c.previous_cutoff then 1 else 0 end) as previous_customers,
               max(c.current_cutoff) as current_cutoff, max(c.previous_cutoff) as previous_cutoff
        from {FEATURES}.ml_customer_features as f cross join cutoffs as c
        where f.as_of_date in (c.current_cutoff, c.previous_cutoff) and f.as_of_date >= {_lit(p)}
        group by 1""")
    order = {"high": 0, "medium": 1, "low": 2}
    churn = churn.sort_values("band", key=lambda s: s.map(order)).reset_index(drop=True)
    for c in ("current_customers", "previous_customers"):
        churn[c] = churn[c].astype(int)
    churn["change"] = churn["current_customers"] - churn["previous_customers"]

    segments = read(f"""
        select customer_segment, count(*) as customers, sum(deposit_balance_usd) as deposits_usd,
               sum(credit_balance_usd) as credit_usd
        from {MARTS}.dim_customers group by 1 order by 2 desc, 1""")
    total = segments["customers"].sum()
    segments["share_pct"] = [round(100 * c / total, 1) if total else None for c in segments["customers"]]
    for c in ("deposits_usd", "credit_usd"):
        segments[c] = segments[c].astype(float).round(2)

    tables = {"revenue_by_stream": revenue, "fraud_summary": fraud, "fraud_by_rule": by_rule,
              "churn_risk_movement": churn, "segment_mix": segments}
    return Report("executive", m, tables, _document(m, cur, prev, tables))


def _money(v) -> str:
    return f"{float(v):,.0f}"


def _charts(t) -> dict[str, bytes]:
    from quicksight.render import chart_png
    from quicksight.spec import Bar, Donut, Measure

    charts = {}
    if not t["revenue_by_stream"].empty:
        frame = t["revenue_by_stream"].rename(columns={"current_usd": "value"})
        charts["revenue"] = chart_png(Bar("revenue", "Revenue by stream this month", "pack", "revenue_type",
                                          Measure("value", "SUM", "Revenue", "currency")), frame, width=520)
    if not t["fraud_by_rule"].empty:
        frame = t["fraud_by_rule"].rename(columns={"alerts": "value"})
        charts["fraud"] = chart_png(Bar("fraud", "Alerts this month by rule", "pack", "primary_reason_code",
                                        Measure("value", "COUNT", "Alerts")), frame, width=520)
    if not t["segment_mix"].empty:
        frame = t["segment_mix"].rename(columns={"customers": "value"})
        charts["segments"] = chart_png(Donut("segments", "Customers by segment", "pack", "customer_segment",
                                             Measure("value", "SUM", "Customers")), frame, width=360)
    return charts


def _document(m: date, cur: str, prev: str, t) -> pdf.Document:
    revenue, fraud, churn, segments = (t["revenue_by_stream"], t["fraud_summary"], t["churn_risk_movement"],
                                       t["segment_mix"])
    charts = _charts(t)
    total_cur = revenue["current_usd"].sum() if not revenue.empty else 0
    total_prev = revenue["previous_usd"].sum() if not revenue.empty else 0
    this = fraud[fraud["month"] == cur]
    last = fraud[fraud["month"] == prev]
    alerts = int(this["alerts"].iloc[0]) if len(this) else 0
    at_risk = float(this["amount_at_risk_usd"].iloc[0]) if len(this) else 0.0
    high = churn[churn["band"] == "high"]
    high_now = int(high["current_customers"].iloc[0]) if len(high) else 0
    high_change = int(high["change"].iloc[0]) if len(high) else 0
    change_pct = f"{100 * (total_cur - total_prev) / total_prev:+.1f} %" if total_prev else "n/a"
    summary = [("Revenue this month, USD", _money(total_cur)), ("vs last month", change_pct),
               ("Fraud alerts", f"{alerts:,}"), ("Amount at risk, USD", _money(at_risk)),
               ("Customers at high churn risk", f"{high_now:,} ({high_change:+,})"),
               ("Customers", f"{int(segments['customers'].sum()):,}" if not segments.empty else "0")]

    def money(frame, *cols):
        out = frame.copy()
        for c in cols:
            out[c] = [f"{float(v):,.2f}" for v in out[c]]
        return out

    lines = []
    if not revenue.empty:
        top = revenue.iloc[0]
        lines.append(f"Revenue was USD {_money(total_cur)} in {cur} against USD {_money(total_prev)} in {prev} "
                     f"({change_pct}); the largest stream was {top['revenue_type']} (USD {_money(top['current_usd'])}).")
    if len(this):
        prior = f" ({int(last['alerts'].iloc[0]):,} in {prev})" if len(last) else ""
        lines.append(f"{alerts:,} fraud alerts{prior} put USD {_money(at_risk)} at risk; "
                     f"{int(this['confirmed_fraud'].iloc[0]):,} are confirmed so far.")
    if len(churn):
        lines.append(f"{high_now:,} customers are at high churn risk at the last {cur} cut-off, {high_change:+,} "
                     f"since the last {prev} one.")
    sections = [
        pdf.Section(f"Highlights {cur}", lines or [f"No activity in {cur}: there is no data for this month."]),
        pdf.Section("Revenue by stream", [], [pdf.Table(
            f"Revenue {cur} vs {prev}", money(revenue, "current_usd", "previous_usd", "change"),
            {"revenue_type": "Stream", "current_usd": f"{cur} USD", "previous_usd": f"{prev} USD",
             "change": "Change USD", "change_pct": "Change %"}, f"No revenue booked in {cur} or {prev}.")],
            images=[(charts["revenue"], "Revenue by stream (the Revenue dashboard's chart)")] if "revenue" in charts else []),
        pdf.Section("Fraud", [], [
            pdf.Table("Alerts and amount at risk", money(fraud, "amount_at_risk_usd"),
                      {"month": "Month", "alerts": "Alerts", "transactions_alerted": "Transactions",
                       "amount_at_risk_usd": "At risk USD", "confirmed_fraud": "Confirmed", "model_alerts": "Model"},
                      f"No fraud alert in {cur} or {prev}."),
            pdf.Table(f"{cur} alerts by rule", money(t["fraud_by_rule"], "amount_usd"),
                      {"primary_reason_code": "Rule", "alerts": "Alerts", "amount_usd": "USD"},
                      f"No fraud alert in {cur}.")],
            images=[(charts["fraud"], "Alerts by rule")] if "fraud" in charts else [], page_break_before=True),
        pdf.Section("Churn risk and customers", [], [
            pdf.Table("Customers per churn risk band, at each month's last weekly cut-off", churn,
                      {"band": "Band", "current_customers": cur, "previous_customers": prev, "change": "Change",
                       "current_cutoff": f"{cur} cut-off", "previous_cutoff": f"{prev} cut-off"},
                      f"No weekly cut-off in {cur}."),
            pdf.Table("Segment mix", money(segments, "deposits_usd", "credit_usd"),
                      {"customer_segment": "Segment", "customers": "Customers", "share_pct": "Share %",
                       "deposits_usd": "Deposits USD", "credit_usd": "Credit USD"}, "No customers.")],
            images=[(charts["segments"], "Customers by segment")] if "segments" in charts else [],
            page_break_before=True),
    ]
    return pdf.Document(f"Executive pack - {m:%B %Y}", f"{cur} against {prev}, from the analytics marts", summary,
                        sections, footer=f"Executive pack {cur} - internal")
