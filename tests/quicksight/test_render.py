"""The local preview: the same definitions rendered from the DuckDB marts built by dbt (session fixture
`duckdb_with_models`: the build scored by models trained on it) into an offline HTML page and a PNG per dashboard; headless Chromium proves every chart drew
its data."""

from __future__ import annotations

import dataclasses
import struct

import duckdb
import pytest

from quicksight import catalog, fieldcheck, models, render

from .chromium import dump_dom, rendered_marks
from .conftest import marts_with


@pytest.fixture(scope="module")
def rendered(duckdb_with_models, tmp_path_factory):
    out = tmp_path_factory.mktemp("dashboards")
    return {r.dashboard.id: r for r in render.render(duckdb_with_models, out)}


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_every_dashboard_has_a_page_and_a_picture(rendered):
    assert sorted(rendered) == sorted(d.id for d in catalog.DASHBOARDS)
    for r in rendered.values():
        width, height = png_size(r.png_path)
        assert width >= 1200 and height >= 900, (r.dashboard.id, width, height)
        page = r.html_path.read_text()
        # offline: the Vega bundle is inline, nothing is fetched
        assert "<script src" not in page and "<link" not in page and "vegaEmbed" in page
        assert r.dashboard.name in page


def test_every_visual_has_data(rendered):
    for r in rendered.values():
        empty = [vid for vid, rows in r.rows.items() if rows == 0]
        assert empty == [], (r.dashboard.id, empty)
        assert set(r.rows) == {v.id for v in r.dashboard.all_visuals}


def test_chromium_draws_every_chart_with_its_data(rendered, tmp_path):
    for r in rendered.values():
        dom = dump_dom(r.html_path, tmp_path / f"profile-{r.dashboard.id}")
        body, finished, marks = rendered_marks(dom)
        assert "data-render-error" not in body, body
        assert body.get("data-rendered") == str(len(r.rows)), r.dashboard.id
        for visual_id, rows in r.rows.items():
            assert finished[visual_id], (r.dashboard.id, visual_id)
            # one mark item (bar, cell, point, arc, text) at least per data row
            assert marks[visual_id] >= rows, (r.dashboard.id, visual_id, marks[visual_id], rows)


def test_dataset_join_keeps_one_row_per_fact(dbt_duckdb_build):
    """The customer join must not multiply facts (the dimension has one row per customer)."""
    marts = models.project_models()
    con = duckdb.connect(str(dbt_duckdb_build.duckdb_path), read_only=True)
    try:
        for ds in catalog.DATASETS:
            if ds.join is None:
                continue
            joined = con.execute(f"select count(*) from ({render.dataset_sql(ds, marts)})").fetchall()[0][0]
            base = con.execute(f'select count(*) from "{models.mart_schema(marts[ds.model])}"."{ds.model}"').fetchall()[0][0]
            assert joined == base > 0, ds.id
            unmatched = con.execute(f"select count(*) from ({render.dataset_sql(ds, marts)}) "
                                    f"where {catalog.REGION_FIELD} is null").fetchall()[0][0]
            assert unmatched == 0, ds.id
    finally:
        con.close()


def test_kpis_agree_with_the_marts(rendered, duckdb_with_models):
    con = duckdb.connect(str(duckdb_with_models), read_only=True)
    try:
        alerts, critical = con.execute(
            "select count(*), count(*) filter (where risk_band = 'critical') from analytics_marts.fraud_alerts").fetchall()[0]
        revenue = con.execute("select sum(revenue_usd) from analytics_marts.fct_daily_revenue").fetchall()[0][0]
    finally:
        con.close()
    page = rendered["fraud-detection"].html_path.read_text()
    assert f'"label": "{alerts:,}"' in page and f'"label": "{critical:,}"' in page
    assert f'"label": "{render.format_value(revenue, "currency")}"' in rendered["revenue"].html_path.read_text()


def test_render_runs_the_field_check_first(tmp_path):
    broken = dataclasses.replace(catalog.REVENUE, visuals=(dataclasses.replace(catalog.REVENUE.visuals[0],
                                                                                category="fee_type"),))
    with pytest.raises(fieldcheck.FieldCheckError, match='visual "byType".*field "fee_type"'):
        render.render(tmp_path / "never-opened.duckdb", tmp_path, dashboards=[broken])
    with pytest.raises(fieldcheck.FieldCheckError, match='dashboard "Revenue"'):
        render.render(tmp_path / "never-opened.duckdb", tmp_path, dashboards=[catalog.REVENUE],
                      marts=marts_with("fct_daily_revenue", "revenue_type", None))
    assert not (tmp_path / "never-opened.duckdb").exists()


def test_cli_says_what_to_do_without_marts(tmp_path, capsys):
    assert render.main(["--duckdb", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "build the marts first" in err
