"""The monthly executive pack on the test bank's warehouse: revenue, amount at risk and the churn bands reconcile
with independent SQL; the PDF holds its sections, figures and the dashboards' charts; a month without data says so."""

from datetime import date
from pathlib import Path

import pytest

from ml.warehouse import duckdb_reader
from reports import executive
from reports.run import churn_bands, write
from tests.reports.test_regulatory import pdf_text


@pytest.fixture(scope="module")
def pack(dbt_duckdb_build):
    return executive.build(duckdb_reader(dbt_duckdb_build.duckdb_path), None, **churn_bands())


def test_figures_reconcile_with_independent_sql(pack, duckdb_marts):
    m = pack.report_date
    nxt = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    revenue = dict(duckdb_marts.execute(
        "select revenue_type, round(sum(revenue_usd), 2) from analytics_marts.fct_daily_revenue "
        "where revenue_date >= ? and revenue_date < ? group by 1", [m, nxt]).fetchall())
    got = dict(zip(pack.tables["revenue_by_stream"]["revenue_type"], pack.tables["revenue_by_stream"]["current_usd"]))
    assert revenue and {k: float(v) for k, v in revenue.items()} == got
    at_risk, alerts = duckdb_marts.execute(
        "select round(coalesce(sum(amount_usd), 0), 2), count(*) from analytics_marts.fraud_alerts "
        "where alert_date >= ? and alert_date < ?", [m, nxt]).fetchone()
    this = pack.tables["fraud_summary"].set_index("month").loc[m.strftime("%Y-%m")]
    assert this["alerts"] == alerts and this["amount_at_risk_usd"] == float(at_risk)
    churn = pack.tables["churn_risk_movement"]
    cutoff = churn["current_cutoff"].iloc[0]
    (customers,) = duckdb_marts.execute("select count(*) from analytics_features.ml_customer_features "
                                        "where as_of_date = ?", [cutoff]).fetchone()
    assert churn["current_customers"].sum() == customers
    assert pack.tables["segment_mix"]["share_pct"].sum() == pytest.approx(100, abs=0.5)


def test_the_pack_reads_in_a_few_pages_with_its_charts(pack, tmp_path):
    written = write(pack, tmp_path)
    text = pdf_text(Path(written["path"]))
    for heading in (f"Executive pack - {pack.report_date:%B %Y}", "Highlights", "Revenue by stream", "Fraud",
                    "Churn risk and customers", "Segment mix"):
        assert heading in text
    assert "Revenue by stream (the Revenue dashboard's chart)" in text  # the chart's caption: the chart is there
    assert 2 <= written["pages"] <= 5


def test_a_month_without_data_says_so(dbt_duckdb_build, tmp_path):
    empty = executive.build(duckdb_reader(dbt_duckdb_build.duckdb_path), date(2020, 1, 1), **churn_bands())
    assert empty.tables["revenue_by_stream"].empty and empty.tables["fraud_summary"].empty
    text = pdf_text(Path(write(empty, tmp_path)["path"]))
    assert "No activity in 2020-01" in text and "No revenue booked in 2020-01 or 2019-12" in text
