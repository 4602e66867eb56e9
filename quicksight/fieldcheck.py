"""Synth-time field check: every field a dataset or dashboard uses must exist in the dbt model it reads, with a
type the use allows. Run by the CDK construct before it creates anything, and by the local renderer; a problem
stops both with ONE line naming dashboard, visual and field (or dataset and column) and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from quicksight import models
from quicksight.models import BOOLEAN, DATETIME, NUMERIC, STRING, MartModel
from quicksight.spec import Dashboard, Dataset, fields_of

# What each use of a column accepts (type families from quicksight.models).
_ROLE_FAMILIES: dict[str, frozenset[str] | None] = {
    "category": frozenset({STRING, BOOLEAN}),
    "date": frozenset({DATETIME}),
    "numeric": NUMERIC,
    "measure:SUM": NUMERIC,
    "measure:AVERAGE": NUMERIC,
    "measure:MIN": NUMERIC,
    "measure:MAX": NUMERIC,
    "measure:COUNT": None,  # any type
    "measure:DISTINCT_COUNT": None,
    "any": None,
    "date_range": frozenset({DATETIME}),
    "multi_select": frozenset({STRING}),
}
_ROLE_WORDS = {"category": "a category", "date": "a date axis", "numeric": "a numeric axis",
               "date_range": "a date-range filter", "multi_select": "a list filter"}


class FieldCheckError(ValueError):
    """A definition uses a field its dbt model does not provide (message: one line)."""


def _rel(path) -> str:
    try:
        return str(path.relative_to(models.REPO_ROOT))
    except ValueError:
        return str(path)


def _dataset_problems(ds: Dataset, marts: Mapping[str, MartModel]) -> list[str]:
    problems = []
    sources = [(ds.model, c, c) for c in ds.columns]
    if ds.join:
        sources += [(ds.join.model, ds.join.key, ds.join.key)]
        sources += [(ds.join.model, src, alias) for src, alias in ds.join.columns]
    for model_name, column, _alias in sources:
        model = marts.get(model_name)
        if model is None:
            problems.append(f'dataset "{ds.id}": dbt model {model_name} is not declared in any '
                            f"dbt/models/marts/**/_*__models.yml: fix the dataset's model name in quicksight/catalog.py")
            break
        declared = model.columns.get(column)
        if declared is None:
            problems.append(f'dataset "{ds.id}": column "{column}" is not in dbt model {model_name} '
                            f"({_rel(model.path)}): remove it from quicksight/catalog.py or add it to the model")
        elif declared.family is None:
            problems.append(f'dataset "{ds.id}": column "{column}" of dbt model {model_name} has data_type '
                            f'"{declared.data_type}" which QuickSight cannot import: give it a SQL type in {_rel(model.path)}')
    names = list(ds.output_columns)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f'dataset "{ds.id}": column name(s) {", ".join(duplicates)} appear twice: rename the joined column')
    return problems


def _use_problem(where: str, ds: Dataset, column: str, role: str, marts: Mapping[str, MartModel]) -> str | None:
    if column not in ds.output_columns:
        model_name, _ = ds.source_of(column)
        model = marts.get(model_name)
        in_model = model is not None and column in model.columns
        hint = (f'add "{column}" to dataset "{ds.id}" in quicksight/catalog.py' if in_model else
                f"it is not a column of dbt model {ds.model} ({_rel(model.path) if model else 'undeclared'}): fix the "
                f"field name or add the column to the model")
        return f'{where}: field "{column}" is not in dataset "{ds.id}": {hint}'
    model_name, source = ds.source_of(column)
    model = marts.get(model_name)
    if model is None:
        return None  # the dataset check names the undeclared model
    declared = model.columns.get(source)
    if declared is None:
        return (f'{where}: field "{column}" is not a column of dbt model {model_name} ({_rel(model.path)}): fix the '
                "field in quicksight/catalog.py or add the column to the model")
    if declared.family is None:
        return None  # the dataset check reports the type QuickSight cannot import
    allowed = _ROLE_FAMILIES[role]
    if allowed is not None and declared.family not in allowed:
        use = _ROLE_WORDS.get(role) or f"{role.split(':', 1)[1]} of a measure"
        return (f'{where}: field "{column}" is {declared.data_type} in dbt model {model_name} ({_rel(model.path)}) '
                f"but is used as {use}, which needs {'/'.join(sorted(allowed))}: change the visual or the model's type")
    return None


def problems(dashboards: Iterable[Dashboard], datasets: Iterable[Dataset],
             marts: Mapping[str, MartModel] | None = None) -> list[str]:
    """Every problem, one line each, visuals first (they name dashboard, visual and field)."""
    marts = models.project_models() if marts is None else marts
    by_id = {d.id: d for d in datasets}
    found: list[str] = []
    for dash in dashboards:
        for visual in dash.all_visuals:
            where = f'dashboard "{dash.name}", visual "{visual.id}" ({visual.title})'
            ds = by_id.get(visual.dataset)
            if ds is None or visual.dataset not in dash.datasets:
                found.append(f'{where}: dataset "{visual.dataset}" is not one of the dashboard\'s datasets '
                             f"({', '.join(dash.datasets)}): fix it in quicksight/catalog.py")
                continue
            for column, role in fields_of(visual):
                problem = _use_problem(where, ds, column, role, marts)
                if problem:
                    found.append(problem)
        for control in dash.controls:
            for dataset_id, column in control.columns:
                where = f'dashboard "{dash.name}", control "{control.title}"'
                ds = by_id.get(dataset_id)
                if ds is None or dataset_id not in dash.datasets:
                    found.append(f'{where}: dataset "{dataset_id}" is not one of the dashboard\'s datasets: fix it in '
                                 "quicksight/catalog.py")
                    continue
                problem = _use_problem(where, ds, column, control.kind, marts)
                if problem:
                    found.append(problem)
    used = {d for dash in dashboards for d in dash.datasets}
    for ds in by_id.values():
        if ds.id in used:
            found += _dataset_problems(ds, marts)
    return list(dict.fromkeys(found))


def check(dashboards: Iterable[Dashboard], datasets: Iterable[Dataset],
          marts: Mapping[str, MartModel] | None = None) -> None:
    """Raise FieldCheckError with one line (the first problem, and how many more) if anything does not match."""
    found = problems(list(dashboards), list(datasets), marts)
    if found:
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        raise FieldCheckError(f"QuickSight field check: {found[0]}{more}")
