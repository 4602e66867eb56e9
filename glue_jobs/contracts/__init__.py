"""Source contracts: one YAML file per source table, loaded into typed, validated objects.

Everything that needs to know a source table's shape (the Spark read schema and row validation in the
ingest job, the Glue Data Catalog table in CDK, the dbt sources, the synthetic generator) derives it from
these objects, so a column is written down exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

try:
    import yaml
except ImportError:  # the Glue runtime: contracts come from the JSON bundle the CDK asset adds (_bundle.json)
    yaml = None

CONTRACTS_DIR = Path(__file__).resolve().parent

_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
SIMPLE_TYPES = {"string", "integer", "bigint", "double", "boolean", "date", "timestamp"}
PII_CLASSES = {"none", "quasi", "identifier", "direct"}
FORMATS = {"ipv4"}
SOURCE_SYSTEMS = {"core_banking", "auth", "bureau"}
# Values a source writes for "no value" (the seed extracts write the literal string `null`).
NULL_LITERALS = ("", "null", "NULL", "None")
INGEST_PARTITION = "ingest_date"


class ContractError(ValueError):
    """A contract file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    pii: str
    description: str
    allowed_values: tuple[str, ...] | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    format: str | None = None
    not_in_future: bool = False

    @property
    def decimal_precision_scale(self) -> tuple[int, int] | None:
        m = _DECIMAL.match(self.type)
        return (int(m.group(1)), int(m.group(2))) if m else None

    @property
    def is_numeric(self) -> bool:
        return self.type in {"integer", "bigint", "double"} or self.decimal_precision_scale is not None


@dataclass(frozen=True)
class Contract:
    name: str
    source_system: str
    description: str
    file_format: str
    primary_key: tuple[str, ...]
    event_timestamp: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _fail(path: Path, msg: str) -> ContractError:
    return ContractError(f"{path.name}: {msg}")


def _parse_column(path: Path, raw: dict[str, Any]) -> Column:
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise _fail(path, f"column name {name!r} must be snake_case")
    ctype = str(raw.get("type", ""))
    if ctype not in SIMPLE_TYPES and not _DECIMAL.match(ctype):
        raise _fail(path, f"column {name}: type {ctype!r} is not one of {sorted(SIMPLE_TYPES)} or decimal(p,s)")
    pii = raw.get("pii")
    if pii not in PII_CLASSES:
        raise _fail(path, f"column {name}: pii must be one of {sorted(PII_CLASSES)}")
    if "required" not in raw or not isinstance(raw["required"], bool):
        raise _fail(path, f"column {name}: required must be true or false")
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise _fail(path, f"column {name}: format {fmt!r} is not one of {sorted(FORMATS)}")
    pattern = raw.get("pattern")
    if pattern is not None:
        re.compile(pattern)
    unknown = set(raw) - {
        "name", "type", "required", "pii", "description", "allowed_values", "pattern", "min", "max",
        "max_length", "format", "not_in_future",
    }
    if unknown:
        raise _fail(path, f"column {name}: unknown keys {sorted(unknown)}")
    allowed = raw.get("allowed_values")
    return Column(
        name=name,
        type=ctype,
        required=raw["required"],
        pii=pii,
        description=str(raw.get("description", "")),
        allowed_values=tuple(str(v) for v in allowed) if allowed is not None else None,
        pattern=pattern,
        min=raw.get("min"),
        max=raw.get("max"),
        max_length=raw.get("max_length"),
        format=fmt,
        not_in_future=bool(raw.get("not_in_future", False)),
    )


def parse_contract(path: Path, raw: Any = None) -> Contract:
    """Parse a contract file (or, when given, its already-loaded mapping `raw`)."""
    if raw is None:
        raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise _fail(path, "must be a mapping")
    columns = tuple(_parse_column(path, c) for c in raw.get("columns") or [])
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise _fail(path, "duplicate column names")
    if INGEST_PARTITION in names or any(n.startswith("_") for n in names):
        raise _fail(path, f"{INGEST_PARTITION} and _-prefixed names are added by ingestion, not declared")
    pk = tuple(raw.get("primary_key") or ())
    if not pk or any(k not in names for k in pk):
        raise _fail(path, f"primary_key {list(pk)} must name declared columns")
    by_name = {c.name: c for c in columns}
    if any(not by_name[k].required for k in pk):
        raise _fail(path, "primary key columns must be required")
    event_ts = raw.get("event_timestamp")
    if event_ts not in by_name or by_name[event_ts].type not in {"date", "timestamp"}:
        raise _fail(path, "event_timestamp must name a date or timestamp column")
    if raw.get("source_system") not in SOURCE_SYSTEMS:
        raise _fail(path, f"source_system must be one of {sorted(SOURCE_SYSTEMS)}")
    if raw.get("name") != path.stem:
        raise _fail(path, "name must equal the file name")
    return Contract(
        name=raw["name"],
        source_system=raw["source_system"],
        description=str(raw.get("description", "")),
        file_format=str(raw.get("file_format", "csv")),
        primary_key=pk,
        event_timestamp=event_ts,
        columns=columns,
    )


@lru_cache(maxsize=None)
def load_all() -> dict[str, Contract]:
    """Every contract in this folder, keyed by table name, in a stable order."""
    bundle = CONTRACTS_DIR / "_bundle.json"
    if yaml is None and bundle.exists():
        import json

        raw = json.loads(bundle.read_text())
        return {name: parse_contract(CONTRACTS_DIR / f"{name}.yml", raw[name]) for name in sorted(raw)}
    return {p.stem: parse_contract(p) for p in sorted(CONTRACTS_DIR.glob("*.yml"))}


def load_contract(name: str) -> Contract:
    contracts = load_all()
    if name not in contracts:
        raise ContractError(f"no contract for source table {name!r}; known: {', '.join(contracts)}")
    return contracts[name]


TABLES: tuple[str, ...] = ("customers", "accounts", "transactions", "login_activity", "credit_scores")
