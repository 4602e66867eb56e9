"""Typed Lambda settings read once from environment variables.

CDK sets every variable (infra/constructs/orchestration.py); a missing one is a deployment bug, so the error says
where to fix it instead of failing later with a KeyError deep in the handler.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class SettingsError(RuntimeError):
    """The function's environment is incomplete or malformed."""


def load_settings(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Build the dataclass `cls` from upper-cased field names; str, int, bool and tuple[str, ...] (JSON list)."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = field.name.upper()
        raw = environ.get(name)
        if raw is None or raw == "":
            if field.default is not dataclasses.MISSING:
                continue
            raise SettingsError(
                f"environment variable {name} is not set: redeploy the stack (it is set in "
                "infra/constructs/orchestration.py) or export it for a local run"
            )
        values[field.name] = _convert(name, raw, hints[field.name])
    return cls(**values)


def _convert(name: str, raw: str, hint: Any) -> Any:
    if hint is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"environment variable {name}={raw!r} must be an integer") from None
    if hint is bool:
        if raw.lower() not in ("true", "false"):
            raise SettingsError(f"environment variable {name}={raw!r} must be true or false")
        return raw.lower() == "true"
    if typing.get_origin(hint) is tuple:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise SettingsError(f"environment variable {name} must be a JSON list of strings, got {raw!r}")
        return tuple(parsed)
    return raw
