"""Validation of incoming events into typed values: one clear line per problem (`BadEvent`), never a bare KeyError.

Values that end up in S3 keys, CodeBuild environment variables or execution names are checked against what they
may contain (`../../x` is not an ingest date nor an execution id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

# Step Functions execution names: 1-80 characters; this product only makes [A-Za-z0-9_-] ones.
_EXECUTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# Glue job names and run ids as AWS makes them (run ids: jr_<hex>), CodeBuild build ids and ARNs (<project>:<uuid>).
_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,2048}$")


class BadEvent(ValueError):
    """The event is not one this function handles: the message says what was expected (raised before any effect)."""


def field(event: Mapping[str, Any], key: str, what: str) -> Any:
    """event[key], present and non-empty, else BadEvent naming what the event is."""
    if not isinstance(event, Mapping):
        raise BadEvent(f"{what}: expected a JSON object, got {type(event).__name__}")
    value = event.get(key)
    if value is None or value == "":
        raise BadEvent(f"{what} has no {key!r}")
    return value


def iso_date(value: Any, key: str = "ingest_date") -> str:
    """YYYY-MM-DD (a longer ISO timestamp is cut to its date), else BadEvent."""
    text = str(value)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text):
            raise ValueError
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise BadEvent(f"{key} {text!r} is not YYYY-MM-DD: pass e.g. {{\"{key}\": \"2026-11-24\"}}") from None


def execution_id(value: Any, key: str = "execution_id") -> str:
    text = str(value)
    if not _EXECUTION_ID.fullmatch(text):
        raise BadEvent(f"{key} {text!r} is not a pipeline execution name (1-80 of A-Z a-z 0-9 _ -)")
    return text


def name(value: Any, key: str) -> str:
    text = str(value)
    if not _NAME.fullmatch(text) or ".." in text:
        raise BadEvent(f"{key} {text!r} is not an AWS resource name or id")
    return text
