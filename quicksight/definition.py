"""Spec -> QuickSight API structures.

Everything is built in the API's PascalCase (what botocore validates and what the synthesized template holds);
:func:`camel` turns a structure into the camelCase dict CDK's L1 constructs expect for nested properties —
CDK maps only the keys it knows and silently drops the rest (ARCHITECTURE.md), so tests compare the synthesized
template with :func:`dashboard_definition` key for key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from quicksight import models
from quicksight.models import DATETIME, NUMERIC, QUICKSIGHT_INPUT_TYPE, MartModel
from quicksight.spec import (
    KPI,
    ZERO_WHEN_MISSING,
    Bar,
    Control,
    Dashboard,
    Dataset,
    Donut,
    Heatmap,
    Histogram,
    Line,
    Measure,
    Table,
)

GRID_COLUMNS = 36
_KPI_ROWS = 5
_VISUAL_ROWS = 12


# --- casing -----------------------------------------------------------------------------------------------------

_LEADING_CAPS = re.compile(r"^([A-Z]+)(?=[A-Z][a-z]|$)|^([A-Z])")


def camel_key(key: str) -> str:
    """CDK's property name for a CloudFormation key: leading capitals lowered as one word (KPIVisual -> kpiVisual,
    XAxisLabelOptions -> xAxisLabelOptions, DataSetArn -> dataSetArn)."""
    return _LEADING_CAPS.sub(lambda m: m.group(0).lower(), key, count=1)


def camel(value: Any, *, maps: frozenset[str] = frozenset()) -> Any:
    """Recursively camelCase the keys of an API structure. Keys under a key named in ``maps`` (free-form maps such
    as PhysicalTableMap) are ids, kept as they are."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k in maps:
                out[camel_key(k)] = {ik: camel(iv, maps=maps) for ik, iv in v.items()}
            else:
                out[camel_key(k)] = camel(v, maps=maps)
        return out
    if isinstance(value, list):
        return [camel(v, maps=maps) for v in value]
    return value


# --- datasets ---------------------------------------------------------------------------------------------------

# Dataset structure: CloudFormation's current model (DataPrepConfiguration + SemanticModelConfiguration; the older
# LogicalTableMap and top-level RowLevelPermissionDataSet are deprecated in the resource schema, aws-cdk#36519).
_FACT, _CUSTOMER, _DESTINATION = "fact", "customer", "dataset"
# Transform step ids, in pipeline order: import -> rename -> join -> project
_IMPORT, _RENAME, _JOIN, _PROJECT = "import-{}", "rename-{}", "join", "project"
DATA_PREP_MAPS = frozenset({"SourceTableMap", "TransformStepMap", "DestinationTableMap", "TableMap"})


def _input_columns(model: MartModel, names: list[str]) -> list[dict]:
    return [{"Name": n, "Type": QUICKSIGHT_INPUT_TYPE[model.columns[n].family]} for n in names]


def _relational(model: MartModel, names: list[str], data_source_arn: str) -> dict:
    return {"RelationalTable": {"DataSourceArn": data_source_arn, "Schema": models.mart_schema(model),
                                "Name": model.name, "InputColumns": _input_columns(model, names)}}


def _steps(table: str, alias: str, renames: list[tuple[str, str]]) -> tuple[dict, str]:
    """Import one source table (and rename columns): (steps, id of the last step)."""
    steps = {_IMPORT.format(table): {"ImportTableStep": {"Alias": alias, "Source": {"SourceTableId": table}}}}
    last = _IMPORT.format(table)
    if renames:
        steps[_RENAME.format(table)] = {"RenameColumnsStep": {
            "Alias": f"{alias} renamed", "Source": {"TransformOperationId": last},
            "RenameColumnOperations": [{"ColumnName": old, "NewColumnName": new} for old, new in renames]}}
        last = _RENAME.format(table)
    return steps, last


def _row_level_permission(rules_arn: str) -> dict:
    return {"RowLevelPermissionDataSet": {"Arn": rules_arn, "PermissionPolicy": "GRANT_ACCESS",
                                         "FormatVersion": "VERSION_1", "Status": "ENABLED"}}


def dataset_properties(ds: Dataset, data_source_arn: str, marts: Mapping[str, MartModel] | None = None, *,
                       rules_arn: str | None = None) -> dict:
    """PhysicalTableMap, DataPrepConfiguration and SemanticModelConfiguration of a dataset (PascalCase), columns typed
    from the dbt model YAML; ``rules_arn`` = the row-level-security rules dataset protecting it."""
    marts = models.project_models() if marts is None else marts
    physical = {_FACT: _relational(marts[ds.model], list(ds.columns), data_source_arn)}
    steps, last = _steps(_FACT, ds.model, list(ds.renames))
    if ds.join is not None:
        joined_key = f"{ds.join.model}_{ds.join.key}"
        physical[_CUSTOMER] = _relational(marts[ds.join.model], [ds.join.key, *(s for s, _ in ds.join.columns)],
                                          data_source_arn)
        # the dimension's key and clashing names are renamed: a join's output names must be unique
        dim_steps, dim_last = _steps(_CUSTOMER, ds.join.model,
                                     [(ds.join.key, joined_key), *((s, a) for s, a in ds.join.columns if s != a)])
        steps.update(dim_steps)
        steps[_JOIN] = {"JoinStep": {"Alias": f"{ds.model} with customer", "Type": "LEFT",
                                     "LeftOperand": {"TransformOperationId": last},
                                     "RightOperand": {"TransformOperationId": dim_last},
                                     "OnClause": f"{{{ds.join.key}}} = {{{joined_key}}}"}}
        last = _JOIN
    steps[_PROJECT] = {"ProjectStep": {"Alias": ds.name, "Source": {"TransformOperationId": last},
                                       "ProjectedColumns": list(ds.output_columns)}}
    semantic_table: dict[str, Any] = {"Alias": ds.name, "DestinationTableId": _DESTINATION}
    if rules_arn is not None:
        semantic_table["RowLevelPermissionConfiguration"] = _row_level_permission(rules_arn)
    return {
        "PhysicalTableMap": physical,
        "DataPrepConfiguration": {
            "SourceTableMap": {t: {"PhysicalTableId": t} for t in physical},
            "TransformStepMap": steps,
            "DestinationTableMap": {_DESTINATION: {"Alias": ds.name, "Source": {"TransformOperationId": _PROJECT}}},
        },
        "SemanticModelConfiguration": {"TableMap": {_DESTINATION: semantic_table}},
    }


def region_rules_properties(region_access: Mapping[str, str | None], region_field: str, data_source_arn: str) -> dict:
    """The row-level-security rules dataset: one row per QuickSight group, ``region_field`` = comma-separated regions
    the group may see (QuickSight reads a comma as "or"), NULL = all.

    The rules are reviewed config, written as literal rows of a custom SQL query (the config check allows no quotes);
    a dbt seed could replace this once the warehouse owns an access-control table.
    """
    def literal(value: str | None) -> str:
        return "null" if value is None else "'" + value.replace("'", "''") + "'"

    rows = [f'select {literal(group)} as "GroupName", cast({literal(regions)} as varchar(1024)) as "{region_field}"'
            for group, regions in sorted(region_access.items())]
    physical = {"rules": {"CustomSql": {
        "DataSourceArn": data_source_arn, "Name": "region_access_rules", "SqlQuery": "\nunion all\n".join(rows),
        "Columns": [{"Name": "GroupName", "Type": "STRING"}, {"Name": region_field, "Type": "STRING"}]}}}
    steps, last = _steps("rules", "region access rules", [])
    return {
        "PhysicalTableMap": physical,
        "DataPrepConfiguration": {
            "SourceTableMap": {"rules": {"PhysicalTableId": "rules"}},
            "TransformStepMap": steps,
            "DestinationTableMap": {_DESTINATION: {"Alias": "region access rules",
                                                   "Source": {"TransformOperationId": last}}},
        },
        "SemanticModelConfiguration": {"TableMap": {_DESTINATION: {"Alias": "region access rules",
                                                                   "DestinationTableId": _DESTINATION}}},
    }


# --- dashboards -------------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, dash: Dashboard, datasets: Mapping[str, Dataset], marts: Mapping[str, MartModel]):
        self.dash, self.datasets, self.marts = dash, datasets, marts
        self.sheet_id = f"{dash.id}-overview"

    def family(self, dataset_id: str, column: str) -> str | None:
        model_name, source = self.datasets[dataset_id].source_of(column)
        return self.marts[model_name].columns[source].family

    @staticmethod
    def col(dataset_id: str, column: str) -> dict:
        return {"DataSetIdentifier": dataset_id, "ColumnName": column}

    @staticmethod
    def number_format(fmt: str) -> dict:
        if fmt == "currency":
            inner = {"CurrencyDisplayFormatConfiguration": {"Symbol": "USD", "NumberScale": "AUTO",
                                                            "DecimalPlacesConfiguration": {"DecimalPlaces": 0}}}
        elif fmt == "percent":
            inner = {"PercentageDisplayFormatConfiguration": {"DecimalPlacesConfiguration": {"DecimalPlaces": 1}}}
        else:
            places = 1 if fmt == "decimal" else 0
            inner = {"NumberDisplayFormatConfiguration": {"NumberScale": "NONE",
                                                          "DecimalPlacesConfiguration": {"DecimalPlaces": places}}}
        return {"FormatConfiguration": inner}

    def measure(self, visual_id: str, dataset_id: str, m: Measure) -> dict:
        field_id = f"{visual_id}.{m.column}.{m.agg.lower()}"
        if self.family(dataset_id, m.column) in NUMERIC:
            return {"NumericalMeasureField": {"FieldId": field_id, "Column": self.col(dataset_id, m.column),
                                              "AggregationFunction": {"SimpleNumericalAggregation": m.agg},
                                              "FormatConfiguration": self.number_format(m.format)}}
        return {"CategoricalMeasureField": {"FieldId": field_id, "Column": self.col(dataset_id, m.column),
                                            "AggregationFunction": m.agg}}

    def dimension(self, visual_id: str, dataset_id: str, column: str, granularity: str | None = None) -> dict:
        field_id = f"{visual_id}.{column}"
        family = self.family(dataset_id, column)
        if family == DATETIME:
            return {"DateDimensionField": {"FieldId": field_id, "Column": self.col(dataset_id, column),
                                           "DateGranularity": granularity or "DAY"}}
        if family in NUMERIC:
            return {"NumericalDimensionField": {"FieldId": field_id, "Column": self.col(dataset_id, column)}}
        return {"CategoricalDimensionField": {"FieldId": field_id, "Column": self.col(dataset_id, column)}}

    @staticmethod
    def titles(visual) -> dict:
        out = {"Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": visual.title}}}
        if visual.subtitle:
            out["Subtitle"] = {"Visibility": "VISIBLE", "FormatText": {"PlainText": visual.subtitle}}
        return out

    @staticmethod
    def label(text: str) -> dict:
        return {"Visibility": "VISIBLE", "AxisLabelOptions": [{"CustomLabel": text}]}

    def visual(self, v) -> dict:
        head = {"VisualId": v.id, **self.titles(v)}
        if isinstance(v, KPI):
            return {"KPIVisual": {**head, "ChartConfiguration": {
                "FieldWells": {"Values": [self.measure(v.id, v.dataset, v.measure)]}}}}
        if isinstance(v, Bar):
            measure = self.measure(v.id, v.dataset, v.measure)
            wells = {"Category": [self.dimension(v.id, v.dataset, v.category)], "Values": [measure]}
            if v.color:
                wells["Colors"] = [self.dimension(v.id, v.dataset, v.color)]
            sort: dict[str, Any] = {"CategorySort": [{"FieldSort": {"FieldId": _field_id(measure), "Direction": "DESC"}}]}
            if v.top:
                sort["CategoryItemsLimit"] = {"ItemsLimit": v.top, "OtherCategories": "EXCLUDE"}
            config = {"FieldWells": {"BarChartAggregatedFieldWells": wells}, "SortConfiguration": sort,
                      "Orientation": "HORIZONTAL" if v.horizontal else "VERTICAL",
                      "BarsArrangement": "STACKED" if v.color else "CLUSTERED",
                      "CategoryLabelOptions": self.label(v.category_label or v.category),
                      "ValueLabelOptions": self.label(v.measure.label),
                      "Legend": {"Visibility": "VISIBLE" if v.color else "HIDDEN"}}
            if v.color:
                config["ColorLabelOptions"] = self.label(v.color_label or v.color)
            return {"BarChartVisual": {**head, "ChartConfiguration": config}}
        if isinstance(v, Line):
            wells = {"Category": [self.dimension(v.id, v.dataset, v.date, v.granularity)],
                     "Values": [self.measure(v.id, v.dataset, v.measure)]}
            if v.color:
                wells["Colors"] = [self.dimension(v.id, v.dataset, v.color)]
            return {"LineChartVisual": {**head, "ChartConfiguration": {
                "FieldWells": {"LineChartAggregatedFieldWells": wells}, "Type": "LINE",
                "XAxisLabelOptions": self.label(f"{v.granularity.title()} of {v.date}"),
                "PrimaryYAxisLabelOptions": self.label(v.measure.label),
                # a day without alerts is 0 alerts, not a gap bridged by the line
                **({"PrimaryYAxisDisplayOptions": {"MissingDataConfigurations": [{"TreatmentOption": "SHOW_AS_ZERO"}]}}
                   if v.measure.agg in ZERO_WHEN_MISSING else {}),
                "Legend": {"Visibility": "VISIBLE" if v.color else "HIDDEN"}}}}
        if isinstance(v, Donut):
            measure = self.measure(v.id, v.dataset, v.measure)
            return {"PieChartVisual": {**head, "ChartConfiguration": {
                "FieldWells": {"PieChartAggregatedFieldWells": {
                    "Category": [self.dimension(v.id, v.dataset, v.category)], "Values": [measure]}},
                "SortConfiguration": {"CategorySort": [{"FieldSort": {"FieldId": _field_id(measure), "Direction": "DESC"}}]},
                "DonutOptions": {"ArcOptions": {"ArcThickness": "MEDIUM"}},
                "CategoryLabelOptions": self.label(v.category_label or v.category),
                "DataLabels": {"Visibility": "VISIBLE", "LabelContent": "PERCENT"}}}}
        if isinstance(v, Heatmap):
            return {"HeatMapVisual": {**head, "ChartConfiguration": {
                "FieldWells": {"HeatMapAggregatedFieldWells": {
                    "Rows": [self.dimension(v.id, v.dataset, v.rows)],
                    "Columns": [self.dimension(v.id, v.dataset, v.columns)],
                    "Values": [self.measure(v.id, v.dataset, v.measure)]}},
                "RowLabelOptions": self.label(v.rows_label or v.rows),
                "ColumnLabelOptions": self.label(v.columns_label or v.columns),
                "DataLabels": {"Visibility": "VISIBLE"}}}}
        if isinstance(v, Histogram):
            field = {"NumericalMeasureField": {"FieldId": f"{v.id}.{v.column}", "Column": self.col(v.dataset, v.column)}}
            return {"HistogramVisual": {**head, "ChartConfiguration": {
                "FieldWells": {"HistogramAggregatedFieldWells": {"Values": [field]}},
                "BinOptions": {"SelectedBinType": "BIN_WIDTH", "BinWidth": {"Value": v.bin_width}, "StartValue": 0},
                "XAxisLabelOptions": self.label(v.label)}}}
        if isinstance(v, Table):
            fields = [{"FieldId": f"{v.id}.{c}", "Column": self.col(v.dataset, c)} for c, _ in v.columns]
            return {"TableVisual": {**head, "ChartConfiguration": {
                "FieldWells": {"TableUnaggregatedFieldWells": {"Values": fields}},
                "SortConfiguration": {
                    "RowSort": [{"FieldSort": {"FieldId": f"{v.id}.{v.sort_by}", "Direction": "DESC"}}],
                    "PaginationConfiguration": {"PageSize": v.limit, "PageNumber": 1}},
                "FieldOptions": {"SelectedFieldOptions": [
                    {"FieldId": f"{v.id}.{c}", "CustomLabel": header, "Visibility": "VISIBLE"} for c, header in v.columns]}}}}
        raise TypeError(f"unsupported visual {type(v).__name__}")

    # filters -----------------------------------------------------------------------------------------------
    def scope(self, visual_ids: list[str] | None = None) -> dict:
        scoping = {"SheetId": self.sheet_id, "Scope": "ALL_VISUALS"}
        if visual_ids:
            scoping = {"SheetId": self.sheet_id, "Scope": "SELECTED_VISUALS", "VisualIds": visual_ids}
        return {"SelectedSheets": {"SheetVisualScopingConfigurations": [scoping]}}

    def where_groups(self) -> list[dict]:
        groups = []
        for v in self.dash.all_visuals:
            if v.where is None:
                continue
            groups.append({
                "FilterGroupId": f"{v.id}-where", "CrossDataset": "SINGLE_DATASET", "Status": "ENABLED",
                "ScopeConfiguration": self.scope([v.id]),
                "Filters": [{"CategoryFilter": {
                    "FilterId": f"{v.id}-where-{v.where.column}", "Column": self.col(v.dataset, v.where.column),
                    "Configuration": {"FilterListConfiguration": {
                        "MatchOperator": "EQUALS", "CategoryValues": list(v.where.values),
                        "NullOption": "NON_NULLS_ONLY"}}}}],
            })
        return groups

    def control_parts(self, c: Control) -> tuple[list[dict], list[dict], list[dict]]:
        """(parameter declarations, parameter controls, filter groups) of one dashboard control."""
        if c.kind == "date_range":
            start, end = f"{c.name}From", f"{c.name}To"
            params = [
                # default: the last 12 months up to today (analysts narrow it with the pickers)
                {"DateTimeParameterDeclaration": {"Name": start, "TimeGranularity": "DAY", "DefaultValues": {
                    "RollingDate": {"Expression": "addDateTime(-12, 'MM', truncDate('DD', now()))"}}}},
                {"DateTimeParameterDeclaration": {"Name": end, "TimeGranularity": "DAY", "DefaultValues": {
                    "RollingDate": {"Expression": "truncDate('DD', now())"}}}},
            ]
            controls = [
                {"DateTimePicker": {"ParameterControlId": f"ctl-{start}", "Title": f"{c.title} from",
                                    "SourceParameterName": start}},
                {"DateTimePicker": {"ParameterControlId": f"ctl-{end}", "Title": f"{c.title} to",
                                    "SourceParameterName": end}},
            ]
            filters = [{"TimeRangeFilter": {
                "FilterId": f"flt-{c.name}-{ds}", "Column": self.col(ds, col), "IncludeMinimum": True,
                "IncludeMaximum": True, "RangeMinimumValue": {"Parameter": start},
                "RangeMaximumValue": {"Parameter": end}, "NullOption": "NON_NULLS_ONLY", "TimeGranularity": "DAY"}}
                for ds, col in c.columns]
        else:
            params = [{"StringParameterDeclaration": {"Name": c.name, "ParameterValueType": "MULTI_VALUED",
                                                      "ValueWhenUnset": {"ValueWhenUnsetOption": "NULL"}}}]
            first_ds, first_col = c.columns[0]
            controls = [{"Dropdown": {"ParameterControlId": f"ctl-{c.name}", "Title": c.title,
                                      "SourceParameterName": c.name, "Type": "MULTI_SELECT",
                                      "SelectableValues": {"LinkToDataSetColumn": self.col(first_ds, first_col)}}}]
            filters = [{"CategoryFilter": {
                "FilterId": f"flt-{c.name}-{ds}", "Column": self.col(ds, col),
                # nothing selected = every value (FILTER_ALL_VALUES), not an empty dashboard
                "Configuration": {"CustomFilterConfiguration": {
                    "MatchOperator": "EQUALS", "ParameterName": c.name, "SelectAllOptions": "FILTER_ALL_VALUES",
                    "NullOption": "ALL_VALUES"}}}}
                for ds, col in c.columns]
        groups = [{"FilterGroupId": f"grp-{f_id(f)}", "CrossDataset": "SINGLE_DATASET", "Status": "ENABLED",
                   "ScopeConfiguration": self.scope(), "Filters": [f]} for f in filters]
        return params, controls, groups

    def layout(self) -> list[dict]:
        elements = []
        width = GRID_COLUMNS // max(1, len(self.dash.kpis))
        for i, k in enumerate(self.dash.kpis):
            elements.append({"ElementId": k.id, "ElementType": "VISUAL", "ColumnIndex": i * width, "RowIndex": 0,
                             "ColumnSpan": width, "RowSpan": _KPI_ROWS})
        half = GRID_COLUMNS // 2
        for i, v in enumerate(self.dash.visuals):
            # a lone last visual or a table takes the full width
            full = isinstance(v, Table) or (i == len(self.dash.visuals) - 1 and i % 2 == 0)
            elements.append({"ElementId": v.id, "ElementType": "VISUAL", "ColumnIndex": 0 if full else (i % 2) * half,
                             "RowIndex": _KPI_ROWS + (i // 2) * _VISUAL_ROWS,
                             "ColumnSpan": GRID_COLUMNS if full else half, "RowSpan": _VISUAL_ROWS})
        return [{"Configuration": {"GridLayout": {
            "Elements": elements,
            "CanvasSizeOptions": {"ScreenCanvasSizeOptions": {"ResizeOption": "FIXED",
                                                              "OptimizedViewPortWidth": "1600px"}}}}}]

    def build(self, dataset_arns: Mapping[str, str]) -> dict:
        params, controls, groups = [], [], []
        for c in self.dash.controls:
            p, ctl, g = self.control_parts(c)
            params += p
            controls += ctl
            groups += g
        groups += self.where_groups()
        control_ids = [f_id(ctl) for ctl in controls]
        sheet = {
            "SheetId": self.sheet_id,
            "Name": "Overview",
            "Title": self.dash.name,
            "Description": self.dash.description,
            "ContentType": "INTERACTIVE",
            "Visuals": [self.visual(v) for v in self.dash.all_visuals],
            "ParameterControls": controls,
            "Layouts": self.layout(),
            "SheetControlLayouts": [{"Configuration": {"GridLayout": {"Elements": [
                {"ElementId": cid, "ElementType": "PARAMETER_CONTROL", "ColumnSpan": 2, "RowSpan": 1}
                for cid in control_ids]}}}],
        }
        return {
            "DataSetIdentifierDeclarations": [{"Identifier": d, "DataSetArn": dataset_arns[d]}
                                              for d in self.dash.datasets],
            "Sheets": [sheet],
            "ParameterDeclarations": params,
            "FilterGroups": groups,
            "AnalysisDefaults": {"DefaultNewSheetConfiguration": {"SheetContentType": "INTERACTIVE"}},
        }


def _field_id(field: dict) -> str:
    return next(iter(field.values()))["FieldId"]


def f_id(wrapper: dict) -> str:
    """Id of a one-key wrapper like {"CategoryFilter": {"FilterId": ...}} or {"Dropdown": {"ParameterControlId": ...}}."""
    inner = next(iter(wrapper.values()))
    return inner.get("FilterId") or inner["ParameterControlId"]


def dashboard_definition(dash: Dashboard, dataset_arns: Mapping[str, str], datasets: Mapping[str, Dataset],
                         marts: Mapping[str, MartModel] | None = None) -> dict:
    """The dashboard's Definition (DashboardVersionDefinition, PascalCase). ``dataset_arns``: dataset id -> ARN."""
    marts = models.project_models() if marts is None else marts
    return _Builder(dash, datasets, marts).build(dataset_arns)
