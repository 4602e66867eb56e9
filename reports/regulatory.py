"""The daily regulatory report: what compliance must file, and whether the data behind it can be trusted.

For a report date D (the day after the pipeline's batch, by default the warehouse's latest activity date):
- CTR candidates (rpt_ctr_candidates) whose filing is due on or after D and whose business day is on or before
  D, soonest first, with the transactions behind each (rpt_ctr_transactions);
- the SAR case queue (rpt_sar_cases) detected on or before D: open (deadline on or after D; "due soon" within
  7 days) and aged (deadline passed in the last AGED_DAYS days, unless filed - the warehouse does not know
  filings), each with its narrative (reports.narrative);
- the structuring watch (rpt_structuring_watch) with a flagged deposit in the last WATCH_DAYS days;
- data quality: rows quarantined per source and reason (the ingest manifests), dbt tests and source freshness
  (run_results.json, sources.json) and the last run's status.
A table with no rows says so. `build(read, report_date, quality)` -> Report (tables + the PDF's document).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from reports import pdf
from reports.narrative import narrative

DUE_SOON_DAYS = 7
AGED_DAYS = 90
WATCH_DAYS = 30
MARTS = "analytics_marts"


@dataclass
class QualityInputs:
    manifests: list[dict]  # the ingest job's batch manifests
    run_results: dict | None  # dbt's run_results.json of the last build
    sources: dict | None  # dbt source freshness (sources.json), if it ran


@dataclass
class Report:
    name: str
    report_date: date
    tables: dict[str, pd.DataFrame]  # CSV name -> rows
    document: pdf.Document


def _sql_date(d: date) -> str:
    return f"cast('{d.isoformat()}' as date)"


def latest_date(read) -> date:
    value = read(f"select max(transaction_date) as d from {MARTS}.fct_transaction_fraud_indicators")["d"].iloc[0]
    return pd.Timestamp(value).date() if pd.notna(value) else date.today()


def quality_tables(q: QualityInputs) -> dict[str, pd.DataFrame]:
    rows = []
    for m in sorted(q.manifests, key=lambda m: str(m.get("ingested_at", ""))):  # oldest first: "last" is the latest
        reasons = m.get("quarantine_reasons") or {}
        base = {"source": m.get("table"), "batch_id": m.get("batch_id"), "status": m.get("status"),
                "rows_in": m.get("rows_in", 0), "rows_quarantined": m.get("rows_quarantined", 0)}
        if reasons:
            rows += [{**base, "reason": r, "rows": n} for r, n in sorted(reasons.items())]
        else:
            rows.append({**base, "reason": "", "rows": 0})
    quarantine = pd.DataFrame(rows, columns=["source", "batch_id", "status", "rows_in", "rows_quarantined", "reason",
                                             "rows"])
    batches = quarantine.drop_duplicates(["source", "batch_id"])
    by_source = (batches.groupby("source", as_index=False)
                 .agg(batches=("batch_id", "count"), rows_in=("rows_in", "sum"),
                      rows_quarantined=("rows_quarantined", "sum"),
                      last_status=("status", "last"), last_batch=("batch_id", "last"))
                 if not quarantine.empty else
                 pd.DataFrame(columns=["source", "batches", "rows_in", "rows_quarantined", "last_status",
                                       "last_batch"]))
    results = (q.run_results or {}).get("results", [])
    tests = pd.DataFrame([{"kind": r["unique_id"].split(".")[0], "status": r.get("status")} for r in results
                          if r["unique_id"].split(".")[0] in ("test", "unit_test")], columns=["kind", "status"])
    test_counts = tests.groupby(["kind", "status"], as_index=False).size().rename(columns={"size": "count"}) \
        if not tests.empty else pd.DataFrame(columns=["kind", "status", "count"])
    problems = pd.DataFrame([{"node": r["unique_id"], "status": r.get("status"), "failures": r.get("failures"),
                              "message": (r.get("message") or "")[:200]} for r in results
                             if r.get("status") in ("fail", "error", "warn")],
                            columns=["node", "status", "failures", "message"])
    freshness = pd.DataFrame([{"source": r["unique_id"].split(".", 2)[-1], "status": r.get("status"),
                               "max_loaded_at": r.get("max_loaded_at"),
                               "age_hours": round(r["max_loaded_at_time_ago_in_s"] / 3600, 1)
                               if r.get("max_loaded_at_time_ago_in_s") is not None else None}
                              for r in (q.sources or {}).get("results", [])],
                             columns=["source", "status", "max_loaded_at", "age_hours"])
    return {"quarantine_by_source": by_source, "quarantine_reasons": quarantine[quarantine["rows"] > 0],
            "dbt_tests": test_counts, "dbt_problems": problems, "source_freshness": freshness}


def build(read, report_date: date | None, quality: QualityInputs) -> Report:
    d = report_date or latest_date(read)
    day = _sql_date(d)
    ctr = read(f"""select * from {MARTS}.rpt_ctr_candidates
                   where business_date <= {day} and filing_due_date >= {day}
                   order by filing_due_date, ctr_id""")
    ctr_tx = read(f"""select t.* from {MARTS}.rpt_ctr_transactions as t
                      inner join {MARTS}.rpt_ctr_candidates as c on t.ctr_id = c.ctr_id
                      where c.business_date <= {day} and c.filing_due_date >= {day}
                      order by t.ctr_id, t.transaction_at, t.transaction_id""")
    aged_from = _sql_date(d - timedelta(days=AGED_DAYS))
    sar = read(f"""select * from {MARTS}.rpt_sar_cases
                   where detection_date <= {day} and filing_deadline >= {aged_from}
                   order by filing_deadline, case_id""")
    watch = read(f"""select * from {MARTS}.rpt_structuring_watch
                     where last_date <= {day} and last_date >= {_sql_date(d - timedelta(days=WATCH_DAYS))}
                     order by total_usd desc, customer_id""")
    if not ctr.empty:
        ctr["days_left"] = [(pd.Timestamp(x).date() - d).days for x in ctr["filing_due_date"]]
    else:
        ctr["days_left"] = pd.Series(dtype=int)
    sar["days_left"] = [(pd.Timestamp(x).date() - d).days for x in sar["filing_deadline"]]
    sar["status"] = ["aged" if n < 0 else "due soon" if n <= DUE_SOON_DAYS else "open" for n in sar["days_left"]]
    sar["narrative"] = [narrative(row) for _, row in sar.iterrows()]
    quality_t = quality_tables(quality)
    tables = {"ctr_candidates": ctr, "ctr_transactions": ctr_tx, "sar_cases": sar, "structuring_watch": watch,
              **quality_t}
    return Report("regulatory", d, tables, _document(d, tables))


def _fmt_money(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    out = frame.copy()
    for c in columns:
        out[c] = [f"{float(v):,.2f}" if pd.notna(v) else "" for v in out[c]]
    return out


def _document(d: date, t: dict[str, pd.DataFrame]) -> pdf.Document:
    ctr, sar, watch = t["ctr_candidates"], t["sar_cases"], t["structuring_watch"]
    open_cases = sar[sar["status"] != "aged"]
    aged = sar[sar["status"] == "aged"]
    new_ctr = int((pd.to_datetime(ctr["business_date"]).dt.date == d).sum()) if not ctr.empty else 0
    quarantined = int(t["quarantine_by_source"]["rows_quarantined"].sum()) if not t["quarantine_by_source"].empty else 0
    failing = int((t["dbt_problems"]["status"].isin(["fail", "error"])).sum()) if not t["dbt_problems"].empty else 0
    summary = [
        ("CTRs to file (due within 15 days)", f"{len(ctr)}"),
        ("CTR cash total, USD", f"{float(ctr['total_usd'].sum()) if not ctr.empty else 0:,.2f}"),
        ("SAR cases open / due within 7 days", f"{len(open_cases)} / {int((sar['status'] == 'due soon').sum())}"),
        ("SAR cases past deadline (last 90 days)", f"{len(aged)}"),
        ("Structuring watch", f"{len(watch)}"),
        ("Rows quarantined / failing dbt tests", f"{quarantined:,} / {failing}"),
    ]
    ctr_view = _fmt_money(ctr, "total_usd", "branch_usd", "atm_usd")
    tx_view = _fmt_money(t["ctr_transactions"], "amount_usd", "amount")
    sar_view = _fmt_money(sar, "amount_usd")
    watch_view = _fmt_money(watch, "total_usd", "smallest_amount", "largest_amount")
    sections = [
        pdf.Section(
            "1. Currency transaction reports to file (31 CFR 1010.311/313)",
            [f"Cash in and cash out are aggregated separately per customer and business day; a total above USD "
             f"10,000 is a CTR, due 15 calendar days after the business day. {new_ctr} new today. The filer's "
             "identity details (name, address, identification) come from the KYC system by customer id."],
            [pdf.Table("CTR candidates, soonest due first", ctr_view,
                       {"ctr_id": "CTR", "business_date": "Business day", "direction": "Direction",
                        "transactions": "Txns", "total_usd": "Total USD", "branch_usd": "Branch USD",
                        "atm_usd": "ATM USD", "accounts": "Accounts", "filing_due_date": "Due",
                        "days_left": "Days left", "kyc_status": "KYC"},
                       "No CTR is due: no customer moved more than USD 10,000 in cash in one business day in the "
                       "last 15 days.", widths={"ctr_id": 2.6}),
             pdf.Table("Transactions behind each CTR", tx_view,
                       {"ctr_id": "CTR", "transaction_id": "Transaction", "transaction_at": "At (UTC)",
                        "account_id": "Account", "channel": "Channel", "amount": "Amount", "currency": "Ccy",
                        "amount_usd": "USD", "location_city": "City", "location_country": "Country",
                        "status": "Status"},
                       "No transactions (no CTR due).",
                       widths={"ctr_id": 2.6, "transaction_id": 1.5, "transaction_at": 1.6})]),
        pdf.Section(
            "2. Suspicious activity report case queue (31 CFR 1020.320)",
            ["Alerts of one customer within 30 days of each other form one case; the SAR is due 30 calendar days "
             "after the case's first alert. Aged: the deadline has passed - file at once unless already filed."],
            [pdf.Table("Cases, nearest deadline first", sar_view,
                       {"case_id": "Case", "status": "Status", "filing_deadline": "Deadline", "days_left": "Days left",
                        "alerts": "Alerts", "amount_usd": "USD involved", "rule_reasons": "Rules",
                        "model_alerts": "Model alerts", "narrative": "Narrative"},
                       "No case in the queue: no fraud alert in the last 120 days.",
                       widths={"case_id": 2.2, "narrative": 7, "rule_reasons": 1.6, "filing_deadline": 1.2})],
            page_break_before=True),
        pdf.Section(
            "3. Structuring watch",
            ["Customers with repeated cash deposits just under the reporting threshold (the STRUCTURING rule), "
             "with a flagged deposit in the last 30 days. Amounts are in the account's currency, in time order."],
            [pdf.Table("Customers", watch_view,
                       {"customer_id": "Customer", "deposits": "Deposits", "deposit_days": "Days",
                        "first_date": "First", "last_date": "Last", "total_usd": "Total USD",
                        "smallest_amount": "Smallest", "largest_amount": "Largest", "currency": "Ccy",
                        "amounts": "Pattern (amounts in order)"},
                       "No customer on the watch list in the last 30 days.", widths={"amounts": 4})],
            page_break_before=True),
        pdf.Section(
            "4. Data quality behind this report",
            ["Rows the ingest job quarantined (kept with their reason, never lost), the dbt tests of the build the "
             "marts come from, and source freshness."],
            [pdf.Table("Rows in and quarantined per source, and each source's last ingest", t["quarantine_by_source"],
                       {"source": "Source", "batches": "Batches", "rows_in": "Rows in",
                        "rows_quarantined": "Quarantined", "last_batch": "Last batch", "last_status": "Its status"},
                       "No ingest manifest was found for this run."),
             pdf.Table("Quarantine reasons", t["quarantine_reasons"],
                       {"source": "Source", "batch_id": "Batch", "reason": "Reason", "rows": "Rows"},
                       "No row was quarantined."),
             pdf.Table("dbt tests", t["dbt_tests"], {"kind": "Kind", "status": "Status", "count": "Count"},
                       "No dbt run results were found: the marts' tests cannot be confirmed."),
             pdf.Table("Tests that failed or warned", t["dbt_problems"],
                       {"node": "Node", "status": "Status", "failures": "Rows", "message": "Message"},
                       "Every test passed.", widths={"node": 3, "message": 4}),
             pdf.Table("Source freshness", t["source_freshness"],
                       {"source": "Source", "status": "Status", "max_loaded_at": "Last loaded", "age_hours": "Age (h)"},
                       "Source freshness was not checked in this run.")]),
    ]
    return pdf.Document(f"Regulatory filings queue - {d.isoformat()}",
                        "Currency transaction reports, suspicious activity cases, structuring watch and data quality, "
                        "from the analytics marts", summary, sections,
                        footer=f"Regulatory filings queue {d.isoformat()} - confidential: contains customer "
                               "identifiers")
