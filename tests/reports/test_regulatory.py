"""The daily regulatory report on the test bank's warehouse: CTR totals reconcile to the cent with independent SQL
on the marts, SAR cases are exactly the alerts grouped, the PDF (text extracted with pypdfium2) holds its sections
and figures, a day without data says so, the bytes are the same twice, and the narrative's words cover every
reason code the rules can give."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ml.warehouse import duckdb_reader
from reports import pdf, regulatory
from reports.narrative import REASONS
from reports.run import write

REPO_ROOT = Path(__file__).resolve().parents[2]


def pdf_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document).replace("\r\n", "\n")
    finally:
        document.close()


@pytest.fixture(scope="module")
def report(dbt_duckdb_build):
    quality = regulatory.QualityInputs(manifests=[{"table": "transactions", "batch_id": "b1", "status": "succeeded",
                                                   "rows_in": 100, "rows_quarantined": 2,
                                                   "quarantine_reasons": {"amount not a number": 2}}],
                                       run_results={"results": dbt_duckdb_build.build.results}, sources=None)
    return regulatory.build(duckdb_reader(dbt_duckdb_build.duckdb_path), None, quality)


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    return write(report, tmp_path_factory.mktemp("reports"))


def test_ctr_totals_reconcile_to_the_cent_with_independent_sql(duckdb_marts):
    independent = duckdb_marts.execute("""
        select customer_id, transaction_date,
               case when transaction_type = 'deposit' then 'cash_in' else 'cash_out' end as direction,
               sum(amount_usd) as total, count(*) as n
        from analytics_marts.fct_transaction_fraud_indicators
        where transaction_type in ('deposit', 'withdrawal')
          and (merchant_category = 'cash' or channel in ('branch', 'atm'))
          and status in ('completed', 'pending')
        group by all
        having sum(amount_usd) > 10000""").fetchall()
    mart = duckdb_marts.execute("""select customer_id, business_date, direction, total_usd, transactions
                                   from analytics_marts.rpt_ctr_candidates""").fetchall()
    assert independent, "the test bank should hold at least one day of cash above USD 10,000"
    assert sorted(mart) == sorted(independent)
    assert all(isinstance(t, Decimal) for _, _, _, t, _ in mart)  # exact: cents, never floats
    behind = duckdb_marts.execute("""select c.ctr_id from analytics_marts.rpt_ctr_candidates as c
        inner join analytics_marts.rpt_ctr_transactions as t on c.ctr_id = t.ctr_id
        group by c.ctr_id, c.total_usd having sum(t.amount_usd) <> c.total_usd""").fetchall()
    assert behind == []


def test_sar_cases_are_the_alerts_grouped(duckdb_marts):
    alerts = duckdb_marts.execute("""select customer_id, alert_at, alert_id, alert_date
                                     from analytics_marts.fraud_alerts order by customer_id, alert_at, alert_id""").df()
    expected = {}
    for customer, rows in alerts.groupby("customer_id"):
        start, previous = None, None
        for r in rows.itertuples():
            if previous is None or r.alert_at > previous + pd.Timedelta(days=30):
                start = r.alert_date
            expected[f"{customer}:{pd.Timestamp(start).date().isoformat()}"] = \
                expected.get(f"{customer}:{pd.Timestamp(start).date().isoformat()}", 0) + 1
            previous = r.alert_at
    cases = dict(duckdb_marts.execute("select case_id, alerts from analytics_marts.rpt_sar_cases").fetchall())
    assert cases == expected and sum(cases.values()) == len(alerts) > 0


def test_the_pdf_holds_every_section_and_its_figures(report, written):
    text = pdf_text(Path(written["path"]))
    d = report.report_date.isoformat()
    assert f"Regulatory filings queue - {d}" in text
    for section in ("1. Currency transaction reports to file", "2. Suspicious activity report case queue",
                    "3. Structuring watch", "4. Data quality behind this report"):
        assert section in text
    ctr, sar = report.tables["ctr_candidates"], report.tables["sar_cases"]
    assert f"{len(ctr)}\nCTRs to file" in text
    for ctr_id in ctr["ctr_id"]:
        assert ctr_id in text.replace("\n", "")
    open_cases = int((sar["status"] != "aged").sum())
    assert f"{open_cases} / {int((sar['status'] == 'due soon').sum())}" in text
    assert "amount not a number" in text  # the quarantine reason reaches the compliance officer
    assert written["pages"] >= 3 and written["rows"]["sar_cases"] == len(sar)
    csv = pd.read_csv(Path(written["csv"]) / "ctr_candidates.csv")
    assert len(csv) == len(ctr) and round(csv["total_usd"].sum(), 2) == round(float(ctr["total_usd"].sum()), 2)
    # the SAR narrative states the case's own figures
    first = sar.iloc[0]
    assert first["customer_id"] in first["narrative"] and f"SAR due {first['filing_deadline']:%Y-%m-%d}" in \
        first["narrative"]


def test_a_day_without_data_gives_a_report_that_says_so(dbt_duckdb_build, tmp_path):
    empty = regulatory.build(duckdb_reader(dbt_duckdb_build.duckdb_path), date(2020, 1, 1),
                             regulatory.QualityInputs([], None, None))
    assert all(len(frame) == 0 for frame in empty.tables.values())
    text = pdf_text(Path(write(empty, tmp_path)["path"]))
    for said in ("No CTR is due", "No case in the queue", "No customer on the watch list",
                 "No ingest manifest was found", "No dbt run results were found"):
        assert said in text


def test_the_same_report_twice_is_the_same_bytes(report, tmp_path):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    pdf.render(report.document, first)
    pdf.render(report.document, second)
    assert first.read_bytes() == second.read_bytes()


def test_every_reason_code_has_words_for_the_narrative():
    macros = (REPO_ROOT / "dbt" / "macros" / "scoring.sql").read_text()
    codes = set(re.findall(r"'code': '([A-Z_]+)'", macros)) | {"MODEL"}
    assert codes and codes == set(REASONS)
