"""The declarative vocabulary of the dashboards: small frozen dataclasses, read by the Definition builder
(:mod:`quicksight.definition`), the field check (:mod:`quicksight.fieldcheck`) and the local renderer
(:mod:`quicksight.render`) alike — one definition, three consumers."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Literal, Union

Aggregation = Literal["SUM", "AVERAGE", "COUNT", "DISTINCT_COUNT", "MIN", "MAX"]
# Counts and sums of a period without rows are 0: line charts show 0 there instead of bridging the gap
# (QuickSight MissingDataConfigurations SHOW_AS_ZERO; the renderer fills the missing periods).
ZERO_WHEN_MISSING = frozenset({"COUNT", "DISTINCT_COUNT", "SUM"})
NumberFormat = Literal["number", "currency", "percent", "decimal"]


@dataclass(frozen=True)
class CustomerJoin:
    """Bring customer attributes (segment, region) onto a fact: LEFT JOIN ``model`` ON ``key``.

    ``columns`` maps a column of ``model`` to its name in the dataset (renamed when the fact has the same name).
    """

    model: str
    key: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Dataset:
    """One SPICE dataset over one dbt mart (``model``), importing ``columns`` typed from the model YAML."""

    id: str  # short id, unique in the project: QuickSight DataSetId suffix and Definition identifier
    name: str
    model: str
    columns: tuple[str, ...]  # model columns imported
    join: CustomerJoin | None = None
    renames: tuple[tuple[str, str], ...] = ()  # (model column, dataset column) among ``columns``

    @property
    def output_columns(self) -> tuple[str, ...]:
        renamed = dict(self.renames)
        joined = tuple(alias for _, alias in self.join.columns) if self.join else ()
        return tuple(renamed.get(c, c) for c in self.columns) + joined

    def source_of(self, column: str) -> tuple[str, str]:
        """(dbt model, model column) that a dataset column comes from."""
        if self.join:
            for source, alias in self.join.columns:
                if alias == column:
                    return self.join.model, source
        return self.model, {new: old for old, new in self.renames}.get(column, column)


@dataclass(frozen=True)
class Measure:
    column: str
    agg: Aggregation
    label: str
    format: NumberFormat = "number"


@dataclass(frozen=True)
class Where:
    """A visual-level filter: keep rows whose ``column`` is one of ``values``."""

    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class _VisualBase:
    """What every visual has: an id unique in its dashboard, a title, the dataset it reads and, keyword-only (so a
    visual's own fields follow ``dataset`` positionally), a visual-level filter and a subtitle."""

    id: str
    title: str
    dataset: str
    _: KW_ONLY
    where: Where | None = None
    subtitle: str = ""


@dataclass(frozen=True)
class KPI(_VisualBase):
    measure: Measure


@dataclass(frozen=True)
class Bar(_VisualBase):
    category: str
    measure: Measure
    color: str | None = None
    horizontal: bool = True
    top: int | None = None  # keep the largest N categories
    category_label: str = ""
    color_label: str = ""


@dataclass(frozen=True)
class Line(_VisualBase):
    date: str
    measure: Measure
    color: str | None = None
    granularity: Literal["DAY", "WEEK", "MONTH"] = "WEEK"
    color_label: str = ""


@dataclass(frozen=True)
class Donut(_VisualBase):
    category: str
    measure: Measure
    category_label: str = ""


@dataclass(frozen=True)
class Heatmap(_VisualBase):
    rows: str
    columns: str
    measure: Measure
    rows_label: str = ""
    columns_label: str = ""


@dataclass(frozen=True)
class Histogram(_VisualBase):
    column: str
    bin_width: float
    label: str
    domain: tuple[float, float] = (0, 100)  # the value axis (a 0-100 score; a probability is 0-1)
    count_label: str = "Customers"  # what a bar counts


@dataclass(frozen=True)
class Table(_VisualBase):
    """Row-level table (unaggregated), sorted by ``sort_by`` descending, first ``limit`` rows."""

    columns: tuple[tuple[str, str], ...]  # (column, header)
    sort_by: str
    limit: int = 20


Visual = Union[KPI, Bar, Line, Donut, Heatmap, Histogram, Table]


@dataclass(frozen=True)
class Control:
    """A dashboard-wide filter control bound to a parameter, applied to ``columns`` (dataset id -> column)."""

    kind: Literal["date_range", "multi_select"]
    name: str  # parameter base name, alphanumeric
    title: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Dashboard:
    id: str  # short id: DashboardId suffix
    name: str
    description: str
    datasets: tuple[str, ...]
    kpis: tuple[KPI, ...]
    visuals: tuple[Visual, ...]
    controls: tuple[Control, ...]
    notes: tuple[str, ...] = field(default=())  # shown under the title locally (e.g. what a filter cannot reach)

    @property
    def all_visuals(self) -> tuple[Visual, ...]:
        return (*self.kpis, *self.visuals)


def fields_of(visual: Visual) -> list[tuple[str, str]]:
    """(column, role) of every field a visual reads; roles drive the type check and the SQL of the renderer."""
    used: list[tuple[str, str]] = []
    if isinstance(visual, (KPI, Bar, Line, Donut, Heatmap)):
        used.append((visual.measure.column, "measure:" + visual.measure.agg))
    if isinstance(visual, Bar):
        used.append((visual.category, "category"))
        if visual.color:
            used.append((visual.color, "category"))
    elif isinstance(visual, Line):
        used.append((visual.date, "date"))
        if visual.color:
            used.append((visual.color, "category"))
    elif isinstance(visual, Donut):
        used.append((visual.category, "category"))
    elif isinstance(visual, Heatmap):
        used += [(visual.rows, "category"), (visual.columns, "category")]
    elif isinstance(visual, Histogram):
        used.append((visual.column, "numeric"))
    elif isinstance(visual, Table):
        used += [(c, "any") for c, _ in visual.columns]
        used.append((visual.sort_by, "any"))
    if visual.where:
        used.append((visual.where.column, "category"))
    return used
