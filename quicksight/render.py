"""Local preview: the QuickSight definitions rendered from the local DuckDB marts into one offline HTML page and
one PNG per dashboard (Vega-Lite through altair + vl-convert).

    python -m quicksight.render --duckdb dbt/fintech_analytics.duckdb --out demo_output/dashboards

The same spec objects the CDK construct turns into QuickSight Definitions drive the SQL here (dataset = the mart
plus its customer join; a visual = one aggregate query with its visual-level filter), and the field check runs
first, so a picture is never drawn from a column QuickSight would not have. Dashboard-wide controls (date, segment,
region) are listed on the page and left at "all values", as a dashboard opens.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from decimal import Decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import vl_convert as vlc

from quicksight import catalog, fieldcheck, models, theme
from quicksight.models import MartModel
from quicksight.spec import (
    KPI,
    ZERO_WHEN_MISSING,
    Bar,
    Dashboard,
    Dataset,
    Donut,
    Heatmap,
    Histogram,
    Line,
    Measure,
    Table,
    Where,
)

# Natural orders of the marts' banded values (documented in the model YAML); anything else sorts by value.
ORDERS: tuple[tuple[str, ...], ...] = (
    ("low", "medium", "high", "critical"),
    ("low", "medium", "high", "unknown"),
    ("poor", "fair", "good", "very_good", "exceptional", "unknown"),
    ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"),
    ("<1y", "1-3y", "3-5y", "5y+"),
)
_VISUAL_WIDTH = 520
_KPI_TILE_WIDTH = 300
_AGG_SQL = {"SUM": "sum({c})", "AVERAGE": "avg({c})", "COUNT": "count({c})", "DISTINCT_COUNT": "count(distinct {c})",
            "MIN": "min({c})", "MAX": "max({c})"}
_AXIS_FORMAT = {"currency": "$,.3~s", "percent": ".1%", "decimal": ",.1f", "number": ",d"}


@dataclass
class RenderedDashboard:
    dashboard: Dashboard
    html_path: Path
    png_path: Path
    rows: dict[str, int] = field(default_factory=dict)  # visual id -> data rows behind it
    seconds: float = 0.0

    def as_summary(self) -> dict:
        """JSON-ready facts for demo_output/summary.json."""
        return {"name": self.dashboard.name, "html": str(self.html_path), "png": str(self.png_path),
                "html_bytes": self.html_path.stat().st_size, "png_bytes": self.png_path.stat().st_size,
                "visuals": len(self.rows), "rows_per_visual": self.rows, "seconds": round(self.seconds, 2)}


# --- SQL ----------------------------------------------------------------------------------------------------------


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def dataset_sql(ds: Dataset, marts: Mapping[str, MartModel]) -> str:
    """The dataset as QuickSight builds it: the mart's columns, LEFT JOIN the customer columns."""
    base = marts[ds.model]
    table = f"{_q(models.mart_schema(base))}.{_q(base.name)}"
    renamed = dict(ds.renames)
    cols = [f"f.{_q(c)}" + (f" as {_q(renamed[c])}" if c in renamed else "") for c in ds.columns]
    if ds.join is None:
        return f"select {', '.join(cols)} from {table} as f"
    dim = marts[ds.join.model]
    dim_table = f"{_q(models.mart_schema(dim))}.{_q(dim.name)}"
    cols += [f"d.{_q(src)} as {_q(alias)}" for src, alias in ds.join.columns]
    key = _q(ds.join.key)
    return f"select {', '.join(cols)} from {table} as f left join {dim_table} as d on f.{key} = d.{key}"


_PANDAS_FREQ = {"DAY": "D", "WEEK": "W-MON", "MONTH": "MS"}


def _fill_missing_periods(frame: pd.DataFrame, visual: Line) -> pd.DataFrame:
    periods = pd.date_range(frame["period"].min(), frame["period"].max(), freq=_PANDAS_FREQ[visual.granularity])
    frame = frame.assign(period=pd.to_datetime(frame["period"]))
    keys = ["period"] + ([visual.color] if visual.color else [])
    grid = pd.MultiIndex.from_product([periods] + ([frame[visual.color].dropna().unique()] if visual.color else []),
                                      names=keys)
    return frame.set_index(keys).reindex(grid, fill_value=0).reset_index()


def _where_sql(where: Where | None) -> str:
    if where is None:
        return ""
    values = ", ".join("'" + v.replace("'", "''") + "'" for v in where.values)
    return f" where {_q(where.column)} in ({values})"


def _agg(m: Measure) -> str:
    return _AGG_SQL[m.agg].format(c=_q(m.column))


def visual_frame(con: duckdb.DuckDBPyConnection, visual, ds_sql: str) -> pd.DataFrame:
    """The aggregated rows one visual shows."""
    src = f"with ds as ({ds_sql}) "
    where = _where_sql(visual.where)
    if isinstance(visual, KPI):
        sql = f"{src}select {_agg(visual.measure)} as value from ds{where}"
    elif isinstance(visual, (Bar, Donut)):
        dims = [visual.category] + ([visual.color] if isinstance(visual, Bar) and visual.color else [])
        dim_sql = ", ".join(_q(d) for d in dims)
        sql = f"{src}select {dim_sql}, {_agg(visual.measure)} as value from ds{where} group by {dim_sql}"
        if isinstance(visual, Bar) and visual.top:
            cat = _q(visual.category)
            sql = (f"with agg as ({sql}), top as (select {cat} from agg group by {cat} order by sum(value) desc "
                   f"limit {visual.top}) select * from agg where {cat} in (select {cat} from top)")
    elif isinstance(visual, Line):
        unit = visual.granularity.lower()
        dims = [f"cast(date_trunc('{unit}', {_q(visual.date)}) as date) as period"]
        group = "period"
        if visual.color:
            dims.append(_q(visual.color))
            group += f", {_q(visual.color)}"
        sql = f"{src}select {', '.join(dims)}, {_agg(visual.measure)} as value from ds{where} group by {group} order by period"
    elif isinstance(visual, Heatmap):
        dims = f"{_q(visual.rows)}, {_q(visual.columns)}"
        sql = f"{src}select {dims}, {_agg(visual.measure)} as value from ds{where} group by {dims}"
    elif isinstance(visual, Histogram):
        c, w = _q(visual.column), visual.bin_width
        sql = (f"{src}select floor({c} / {w}) * {w} as bin_start, floor({c} / {w}) * {w} + {w} as bin_end, "
               f"count(*) as value from ds where {c} is not null{where.replace(' where ', ' and ', 1)} "
               "group by 1, 2 order by 1")
    elif isinstance(visual, Table):
        cols = ", ".join(_q(c) for c, _ in visual.columns)
        sql = f"{src}select {cols} from ds{where} order by {_q(visual.sort_by)} desc nulls last limit {visual.limit}"
    else:
        raise TypeError(f"unsupported visual {type(visual).__name__}")
    frame = con.execute(sql).df()
    if isinstance(visual, Line) and visual.measure.agg in ZERO_WHEN_MISSING and len(frame):
        frame = _fill_missing_periods(frame, visual)
    for column in frame.columns:  # DECIMAL arrives as object (Python Decimal): charts need floats
        if frame[column].dtype == object and len(frame) and frame[column].map(type).eq(Decimal).any():
            frame[column] = frame[column].astype(float)
    return frame


# --- charts -------------------------------------------------------------------------------------------------------


def _sort_order(values: Sequence) -> list:
    present = [v for v in values if v is not None and not pd.isna(v)]
    for order in ORDERS:
        if set(present) <= set(order):
            return [v for v in order if v in present]
    return sorted(present, key=str)


def _category_order(frame: pd.DataFrame, column: str) -> list:
    """Banded values in their natural order (poor..exceptional), anything else largest first."""
    values = frame[column].unique()
    natural = _sort_order(values)
    if any(set(v for v in values if v is not None) <= set(order) for order in ORDERS):
        return natural
    return frame.groupby(column)["value"].sum().sort_values(ascending=False).index.tolist()


def _color_scale(column: str, values: Sequence, palette: dict[str, dict[str, str]]) -> alt.Scale:
    """Risk bands in their fixed colours; any other value keeps the colour it first got for its column on this
    dashboard, so "interest_income" is the same blue in every chart."""
    present = _sort_order(values)
    if set(present) <= set(theme.RISK_COLORS):
        return alt.Scale(domain=present, range=[theme.RISK_COLORS[v] for v in present])
    colors = palette.setdefault(column, {})
    for value in present:
        colors.setdefault(str(value), theme.DATA_COLORS[len(colors) % len(theme.DATA_COLORS)])
    return alt.Scale(domain=present, range=[colors[str(v)] for v in present])


def _title(visual) -> alt.TitleParams:
    return alt.TitleParams(visual.title, subtitle=visual.subtitle or alt.Undefined, anchor="start", fontSize=15,
                           subtitleColor="#555555")


def _value_axis(m: Measure) -> alt.Axis:
    return alt.Axis(title=m.label, format=_AXIS_FORMAT[m.format], grid=True)


def format_value(value, fmt: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    value = float(value)
    if fmt == "currency":
        for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= scale:
                return f"${value / scale:,.2f}{suffix}"
        return f"${value:,.0f}"
    if fmt == "percent":
        return f"{value:.1%}"
    if fmt == "decimal":
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def visual_chart(visual, frame: pd.DataFrame, width: int = _VISUAL_WIDTH,
                 palette: dict[str, dict[str, str]] | None = None) -> alt.TopLevelMixin:
    palette = {} if palette is None else palette
    if isinstance(visual, KPI):
        label = format_value(frame["value"].iloc[0] if len(frame) else None, visual.measure.format)
        data = pd.DataFrame({"label": [label], "what": [visual.measure.label]})
        number = alt.Chart(data).mark_text(fontSize=30, fontWeight="bold", color=theme.DATA_COLORS[0]).encode(
            text="label:N")
        return number.properties(width=width, height=56, title=_title(visual))
    if isinstance(visual, Bar):
        order = _category_order(frame, visual.category)
        cat_title = visual.category_label or visual.category
        # horizontal bars: the chart title names the category, an axis title would only crowd the labels
        enc = {"y" if visual.horizontal else "x": alt.Y(f"{visual.category}:N", sort=order,
                                                        title=None if visual.horizontal else cat_title,
                                                        axis=alt.Axis(labelLimit=320)),
               "x" if visual.horizontal else "y": alt.X("value:Q", title=visual.measure.label,
                                                        axis=_value_axis(visual.measure), stack="zero"),
               "tooltip": [alt.Tooltip(f"{visual.category}:N", title=cat_title),
                           alt.Tooltip("value:Q", title=visual.measure.label, format=_AXIS_FORMAT[visual.measure.format])]}
        if visual.color:
            enc["color"] = alt.Color(f"{visual.color}:N", title=visual.color_label or visual.color,
                                     scale=_color_scale(visual.color, frame[visual.color].unique(), palette),
                                     legend=alt.Legend(orient="bottom", columns=4))
            enc["order"] = alt.Order("color_rank:Q")
            ranks = {v: i for i, v in enumerate(_sort_order(frame[visual.color].unique()))}
            frame = frame.assign(color_rank=frame[visual.color].map(ranks))
        else:
            enc["color"] = alt.value(theme.DATA_COLORS[0])
        height = max(140, 26 * len(order)) if visual.horizontal else 260
        return alt.Chart(frame).mark_bar().encode(**enc).properties(width=width, height=height, title=_title(visual))
    if isinstance(visual, Line):
        enc = {"x": alt.X("period:T", title=f"{visual.granularity.title()} of {visual.date.replace('_', ' ')}",
                          axis=alt.Axis(format="%d %b", labelAngle=0)),
               "y": alt.Y("value:Q", title=visual.measure.label, axis=_value_axis(visual.measure)),
               "tooltip": [alt.Tooltip("period:T"), alt.Tooltip("value:Q", format=_AXIS_FORMAT[visual.measure.format])]}
        if visual.color:
            enc["color"] = alt.Color(f"{visual.color}:N", title=visual.color_label or visual.color,
                                     scale=_color_scale(visual.color, frame[visual.color].unique(), palette),
                                     legend=alt.Legend(orient="bottom", columns=5))
        else:
            enc["color"] = alt.value(theme.DATA_COLORS[0])
        return (alt.Chart(frame).mark_line(point=True, strokeWidth=2).encode(**enc)
                .properties(width=width, height=240, title=_title(visual)))
    if isinstance(visual, Donut):
        total = frame["value"].sum()
        frame = frame.assign(share=frame["value"] / total if total else 0.0)
        title = visual.category_label or visual.category
        base = alt.Chart(frame).encode(
            theta=alt.Theta("value:Q", stack=True),
            color=alt.Color(f"{visual.category}:N", title=title, scale=_color_scale(visual.category, frame[visual.category].unique(), palette),
                            sort=_sort_order(frame[visual.category].unique()), legend=alt.Legend(orient="right")),
            tooltip=[alt.Tooltip(f"{visual.category}:N", title=title),
                     alt.Tooltip("value:Q", title=visual.measure.label, format=_AXIS_FORMAT[visual.measure.format]),
                     alt.Tooltip("share:Q", title="Share", format=".1%")],
        )
        arcs = base.mark_arc(innerRadius=62, outerRadius=110, stroke="#FFFFFF")
        labels = base.transform_filter("datum.share >= 0.04").mark_text(radius=132, fontSize=12).encode(
            text=alt.Text("share:Q", format=".0%"))
        return (arcs + labels).properties(width=width - 160, height=260, title=_title(visual))
    if isinstance(visual, Heatmap):
        rows, cols = _sort_order(frame[visual.rows].unique()), _sort_order(frame[visual.columns].unique())
        fmt = _AXIS_FORMAT[visual.measure.format]
        base = alt.Chart(frame).encode(
            x=alt.X(f"{visual.columns}:N", sort=cols, title=visual.columns_label or visual.columns,
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{visual.rows}:N", sort=rows, title=visual.rows_label or visual.rows))
        cells = base.mark_rect(stroke="#FFFFFF").encode(
            color=alt.Color("value:Q", title=visual.measure.label, scale=alt.Scale(range=list(theme.GRADIENT)),
                            legend=alt.Legend(format=fmt)),
            tooltip=[alt.Tooltip(f"{visual.rows}:N"), alt.Tooltip(f"{visual.columns}:N"),
                     alt.Tooltip("value:Q", title=visual.measure.label, format=fmt)])
        top = frame["value"].max() if len(frame) else 0
        text = base.mark_text(fontSize=11).encode(
            text=alt.Text("value:Q", format=fmt),
            color=alt.condition(f"datum.value > {top * 0.55}", alt.value("#FFFFFF"), alt.value("#1B1B1B")))
        return (cells + text).properties(width=width, height=max(150, 30 * len(rows)), title=_title(visual))
    if isinstance(visual, Histogram):
        frame = frame.assign(middle=(frame["bin_start"] + frame["bin_end"]) / 2)
        bars = alt.Chart(frame).mark_bar(color=theme.DATA_COLORS[0], binSpacing=1).encode(
            x=alt.X("bin_start:Q", bin="binned", title=visual.label, scale=alt.Scale(domain=list(visual.domain))),
            x2="bin_end:Q",
            y=alt.Y("value:Q", title=visual.count_label, axis=alt.Axis(format=",d")),
            tooltip=[alt.Tooltip("bin_start:Q", title="From"), alt.Tooltip("bin_end:Q", title="To"),
                     alt.Tooltip("value:Q", title=visual.count_label)])
        # counts on the bars: the long tail (the customers to call) is too small to read from the axis alone
        counts = alt.Chart(frame).mark_text(dy=-7, fontSize=11).encode(
            x="middle:Q", y="value:Q", text=alt.Text("value:Q", format=",d"))
        return (bars + counts).properties(width=width, height=240, title=_title(visual))
    if isinstance(visual, Table):
        shown = frame.copy()
        for column in shown.columns:
            if pd.api.types.is_datetime64_any_dtype(shown[column]):
                shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M")
            elif pd.api.types.is_float_dtype(shown[column]):
                shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
        shown = shown.fillna("").astype(str).reset_index(drop=True)
        shown["row"] = shown.index
        def col_width(column: str, header: str) -> int:  # ~7 px per character of the longest cell
            longest = max([len(header), *(len(v) for v in shown[column])])
            return 7 * longest + 18

        columns = [alt.Chart(shown).mark_text(align="left", fontSize=12, dx=-col_width(c, h) // 2 + 4).encode(
            y=alt.Y("row:O", axis=None), text=f"{c}:N").properties(
            width=col_width(c, h), height=22 * max(1, len(shown)), title=alt.TitleParams(h, fontSize=12, anchor="start"))
            for c, h in visual.columns]
        return alt.hconcat(*columns, spacing=0, title=_title(visual))
    raise TypeError(f"unsupported visual {type(visual).__name__}")


# --- pages --------------------------------------------------------------------------------------------------------


def _config(chart):
    return (chart.configure(font=theme.FONT, background="#FFFFFF")
            .configure_view(stroke=None)
            .configure_axis(labelFontSize=11, titleFontSize=12, titleColor="#333333", labelColor="#333333")
            .configure_legend(labelFontSize=11, titleFontSize=12))


def chart_png(visual, frame: pd.DataFrame, width: int = _VISUAL_WIDTH, scale: float = 2) -> bytes:
    """One visual as a PNG, drawn and styled as on the dashboards (the reports' charts use it)."""
    return vlc.vegalite_to_png(_config(visual_chart(visual, frame, width=width)).to_json(), scale=scale)


def dashboard_picture(dash: Dashboard, charts: Mapping[str, alt.TopLevelMixin]) -> alt.TopLevelMixin:
    """The whole dashboard as one Vega-Lite composition (for the PNG): title, KPI row, visuals two per row."""
    kpi_width = (2 * _VISUAL_WIDTH + 40) // max(1, len(dash.kpis)) - 20
    kpis = alt.hconcat(*(charts[k.id].properties(width=kpi_width) for k in dash.kpis), spacing=20)
    rows, pending = [kpis], []
    for v in dash.visuals:
        if isinstance(v, Table):
            rows.append(charts[v.id])
            continue
        pending.append(charts[v.id])
        if len(pending) == 2:
            rows.append(alt.hconcat(*pending, spacing=40))
            pending = []
    if pending:
        rows.append(alt.hconcat(*pending, spacing=40))
    controls = ", ".join(c.title for c in dash.controls)
    subtitle = [dash.description, f"QuickSight controls: {controls} (shown here: all values)", *dash.notes]
    # every visual keeps its own colours and legend, as in QuickSight (Vega-Lite would merge same-named scales)
    rows = [r.resolve_scale(color="independent") if isinstance(r, alt.HConcatChart) else r for r in rows]
    return alt.vconcat(*rows, spacing=36, title=alt.TitleParams(
        dash.name, subtitle=subtitle, anchor="start", fontSize=24, subtitleFontSize=13, subtitleColor="#555555",
        offset=16)).resolve_scale(color="independent")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>
  body {{ font-family: {font}; margin: 24px; color: #1B1B1B; background: #F3F6FA; }}
  h1 {{ margin: 0 0 4px 0; color: #1F3A5F; }}
  p.meta {{ margin: 2px 0; color: #555; }}
  /* tiles take their chart's size (as QuickSight's fixed 1600 px canvas): no clipped axes or numbers */
  .grid {{ display: grid; grid-template-columns: repeat(2, max-content); gap: 16px; margin-top: 16px; }}
  .kpis {{ display: grid; grid-template-columns: repeat({kpi_count}, max-content); gap: 16px; margin-top: 16px; }}
  .tile {{ background: #FFF; border: 1px solid #D8DEE6; border-radius: 6px; padding: 12px; }}
  .wide {{ grid-column: 1 / -1; }}
</style>
<script type="text/javascript">
// vega-embed bundle (Vega {vega_version}, Vega-Lite {vl_version}) inlined: the page works offline
{bundle}
</script>
</head>
<body>
<h1>{title}</h1>
<p class="meta">{description}</p>
<p class="meta">QuickSight controls: {controls} — this preview shows all values.</p>
{notes}
<div class="kpis">{kpi_divs}</div>
<div class="grid">{visual_divs}</div>
<script type="text/javascript">
const specs = {specs};
const opts = {{renderer: "svg", actions: false}};
Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed("#" + CSS.escape(id), spec, opts).then(() => {{ document.getElementById(id).dataset.rendered = "1"; }})
)).then(() => {{ document.body.dataset.rendered = String(Object.keys(specs).length); }})
  .catch((err) => {{ document.body.dataset.renderError = String(err); console.error(err); }});
</script>
</body>
</html>
"""


def dashboard_html(dash: Dashboard, charts: Mapping[str, alt.TopLevelMixin], bundle: str) -> str:
    kpi_ids = {k.id for k in dash.kpis}
    specs = {f"v-{vid}": _config(chart.properties(width=_KPI_TILE_WIDTH) if vid in kpi_ids else chart).to_dict()
             for vid, chart in charts.items()}
    kpi_divs = "".join(f'<div class="tile" id="v-{k.id}" data-visual="{k.id}"></div>' for k in dash.kpis)
    visual_divs = "".join(
        f'<div class="tile{" wide" if isinstance(v, Table) else ""}" id="v-{v.id}" data-visual="{v.id}"></div>'
        for v in dash.visuals)
    notes = "".join(f'<p class="meta">{html.escape(n)}</p>' for n in dash.notes)
    return _PAGE.format(
        title=html.escape(dash.name), font=theme.FONT, kpi_count=len(dash.kpis), description=html.escape(dash.description),
        controls=html.escape(", ".join(c.title for c in dash.controls)), notes=notes, kpi_divs=kpi_divs,
        visual_divs=visual_divs, specs=json.dumps(specs, default=str).replace("</", "<\\/"), bundle=bundle,
        vega_version=vlc.get_vega_version(), vl_version=alt.SCHEMA_VERSION,
    )


def render(duckdb_path: str | Path, out_dir: str | Path, *, dashboards: Sequence[Dashboard] = catalog.DASHBOARDS,
           datasets: Sequence[Dataset] = catalog.DATASETS, marts: Mapping[str, MartModel] | None = None,
           png_scale: float = 1.0) -> list[RenderedDashboard]:
    """Render every dashboard to ``out_dir/<id>.html`` and ``out_dir/<id>.png``. Raises FieldCheckError (one line)
    when a definition does not match the dbt models."""
    marts = models.project_models() if marts is None else marts
    fieldcheck.check(dashboards, datasets, marts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_id = {d.id: d for d in datasets}
    bundle = vlc.javascript_bundle(vl_version=alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0])
    results = []
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        for dash in dashboards:
            started = time.perf_counter()
            sql = {d: dataset_sql(by_id[d], marts) for d in dash.datasets}
            rendered = RenderedDashboard(dash, out / f"{dash.id}.html", out / f"{dash.id}.png")
            charts, palette = {}, {}
            for visual in dash.all_visuals:
                frame = visual_frame(con, visual, sql[visual.dataset])
                rendered.rows[visual.id] = len(frame)
                charts[visual.id] = visual_chart(visual, frame, palette=palette)
            rendered.html_path.write_text(dashboard_html(dash, charts, bundle))
            picture = _config(dashboard_picture(dash, charts)).properties(padding=24)
            rendered.png_path.write_bytes(vlc.vegalite_to_png(picture.to_dict(), scale=png_scale))
            rendered.seconds = time.perf_counter() - started
            results.append(rendered)
    finally:
        con.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quicksight.render", description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", required=True, help="DuckDB file holding the dbt marts (dbt target local)")
    parser.add_argument("--out", default="demo_output/dashboards", help="output folder (default: %(default)s)")
    parser.add_argument("--scale", type=float, default=1.0, help="PNG scale factor (default: %(default)s)")
    args = parser.parse_args(argv)
    if not Path(args.duckdb).is_file():
        print(f"error: no DuckDB file at {args.duckdb}: build the marts first (make demo, or dbt build --target local)",
              file=sys.stderr)
        return 1
    try:
        results = render(args.duckdb, args.out, png_scale=args.scale)
    except fieldcheck.FieldCheckError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except duckdb.CatalogException as err:
        print(f"error: a mart is missing from {args.duckdb} ({str(err).splitlines()[0]}): run the dbt build first",
              file=sys.stderr)
        return 1
    for r in results:
        print(f"{r.dashboard.name}: {r.html_path} ({r.html_path.stat().st_size // 1024} KiB), {r.png_path} "
              f"({r.png_path.stat().st_size // 1024} KiB), {len(r.rows)} visuals in {r.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
