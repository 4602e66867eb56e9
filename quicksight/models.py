"""The dbt mart models as QuickSight sees them: columns and their ``data_type``, read from the marts'
``_<folder>__models.yml`` files (the dbt engineer's contract for consumers; never re-listed here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO_ROOT / "dbt"
MARTS_DIR = DBT_PROJECT / "models" / "marts"
# dbt's default generate_schema_name: <target schema>_<custom schema>. The Redshift targets' schema defaults to
# "analytics" (dbt/profiles.yml, DBT_TARGET_SCHEMA); the custom schema comes from dbt_project.yml below.
DBT_TARGET_SCHEMA = "analytics"

# Type families: what a visual role may do with a column (see quicksight.fieldcheck).
STRING, INTEGER, DECIMAL, DATETIME, BOOLEAN = "string", "integer", "decimal", "datetime", "boolean"
NUMERIC = frozenset({INTEGER, DECIMAL})

_FAMILIES = (
    (re.compile(r"^(varchar|text|string|char|character varying)(\(\d+\))?$"), STRING),
    (re.compile(r"^(integer|int|bigint|smallint|int4|int8)$"), INTEGER),
    (re.compile(r"^(numeric|decimal)(\(\d+,\s*\d+\))?$|^(double|double precision|float|float8|real)$"), DECIMAL),
    (re.compile(r"^(date|timestamp|timestamptz|timestamp without time zone)$"), DATETIME),
    (re.compile(r"^(boolean|bool)$"), BOOLEAN),
)

# QuickSight InputColumn.Type per family (botocore enum InputColumnDataType).
QUICKSIGHT_INPUT_TYPE = {STRING: "STRING", INTEGER: "INTEGER", DECIMAL: "DECIMAL", DATETIME: "DATETIME",
                         BOOLEAN: "BOOLEAN"}


class ModelError(ValueError):
    """A mart model file that cannot be read as QuickSight needs it (one line)."""


def type_family(data_type: str) -> str | None:
    normalized = data_type.strip().lower()
    for pattern, family in _FAMILIES:
        if pattern.match(normalized):
            return family
    return None


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # as written in the model YAML
    family: str | None  # None = a type QuickSight cannot take (the field check reports it)
    description: str = ""


@dataclass(frozen=True)
class MartModel:
    name: str
    path: Path  # the YAML that declares it
    columns: dict[str, Column]
    description: str = ""


def _custom_schema(folder: str) -> str | None:
    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())
    models = project.get("models", {}).get(project["name"], {})
    marts = models.get("marts", {})
    return marts.get(folder, {}).get("+schema") or marts.get("+schema")


def mart_schema(model: MartModel) -> str:
    """Redshift schema dbt builds the model in (``analytics_marts`` with this project's config)."""
    custom = _custom_schema(model.path.parent.name)
    return f"{DBT_TARGET_SCHEMA}_{custom}" if custom else DBT_TARGET_SCHEMA


def load_models(marts_dir: Path = MARTS_DIR) -> dict[str, MartModel]:
    """Every model declared in ``marts_dir/**/_*__models.yml``, keyed by name."""
    found: dict[str, MartModel] = {}
    for path in sorted(marts_dir.glob("**/_*__models.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for entry in document.get("models", []):
            columns = {}
            for col in entry.get("columns", []):
                data_type = str(col.get("data_type") or "")
                columns[col["name"]] = Column(col["name"], data_type, type_family(data_type) if data_type else None,
                                              str(col.get("description") or ""))
            found[entry["name"]] = MartModel(entry["name"], path, columns, str(entry.get("description") or ""))
    if not found:
        raise ModelError(f"no dbt mart models under {marts_dir}: run from the repository root (dbt/models/marts)")
    return found


@lru_cache(maxsize=1)
def project_models() -> dict[str, MartModel]:
    return load_models()
