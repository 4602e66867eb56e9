"""Landing-zone CSV writer: one file per table per ingest date, columns exactly as the contract lists them.

Columns arrive as typed Arrow arrays (or `IdColumn`s, formatted lazily) and are turned into text one ingest date
at a time, so a 10 M-row table never exists as Python strings all at once. Nulls are written as the literal
`null`, timestamps as `YYYY-MM-DD HH:MM:SS`, like the seed extracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from glue_jobs.contracts import INGEST_PARTITION, load_contract

NULL_TEXT = "null"
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class IdColumn:
    """Sequential ids written as <prefix><zero-padded number>; formatted per file to keep memory flat."""

    prefix: str
    width: int
    numbers: np.ndarray

    def __len__(self) -> int:
        return len(self.numbers)

    def take(self, lo: int, hi: int) -> pa.Array:
        digits = pc.utf8_lpad(pa.array(self.numbers[lo:hi]).cast(pa.string()), width=self.width, padding="0")
        return pc.binary_join_element_wise(self.prefix, digits, "")


def categorical(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pa.DictionaryArray:
    """Arrow dictionary column from integer codes; a negative code means null."""
    codes = np.asarray(codes, dtype=np.int32)
    indices = pa.array(codes, mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(labels), pa.string()))


def decimal_column(unscaled: np.ndarray, scale: int, precision: int = 18, mask: np.ndarray | None = None) -> pa.Array:
    """decimal128 column from integer unscaled values (e.g. cents for scale 2), no float round-trip."""
    unscaled = np.asarray(unscaled, dtype=np.int64)
    words = np.empty(len(unscaled) * 2, dtype=np.int64)
    words[0::2] = unscaled
    words[1::2] = np.where(unscaled < 0, -1, 0)  # two's-complement sign extension of the high word
    arr = pa.Array.from_buffers(pa.decimal128(precision, scale), len(unscaled), [None, pa.py_buffer(words)])
    if mask is not None:
        arr = pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
    return arr


def timestamp_column(epoch_seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(epoch_seconds, dtype=np.int64), pa.timestamp("s"))


def date_column(epoch_days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(epoch_days, dtype=np.int32), pa.date32(), mask=mask)


def _as_text(column: pa.Array | IdColumn, lo: int, hi: int) -> pa.Array:
    if isinstance(column, IdColumn):
        text = column.take(lo, hi)
    else:
        part = column.slice(lo, hi - lo)
        if pa.types.is_timestamp(part.type):
            text = pc.strftime(part, format="%Y-%m-%d %H:%M:%S")
        else:
            text = part.cast(pa.string())
    return pc.fill_null(text, NULL_TEXT)


def write_landing(
    out: Path,
    table: str,
    columns: dict[str, pa.Array | IdColumn],
    ingest_day: np.ndarray,
) -> dict[str, int]:
    """Write `<out>/<table>/ingest_date=YYYY-MM-DD/<table>_YYYYMMDD.csv`; rows must be sorted by ingest_day.

    ingest_day holds days since 1970-01-01. Returns rows written per ingest date.
    """
    contract = load_contract(table)
    names = contract.column_names
    if set(columns) != set(names):
        raise ValueError(
            f"{table}: generator columns differ from the contract: missing {sorted(set(names) - set(columns))}, "
            f"extra {sorted(set(columns) - set(names))}; update synthetic_bank to match glue_jobs/contracts"
        )
    ingest_day = np.asarray(ingest_day)
    if len(ingest_day) and np.any(np.diff(ingest_day) < 0):
        raise ValueError(f"{table}: rows must be sorted by ingest date before writing")
    header = (",".join(names) + "\n").encode()
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    counts: dict[str, int] = {}
    days, starts = np.unique(ingest_day, return_index=True)
    bounds = list(starts) + [len(ingest_day)]
    for i, day in enumerate(days):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        d = _EPOCH + timedelta(days=int(day))
        folder = out / table / f"{INGEST_PARTITION}={d.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        text = pa.Table.from_arrays([_as_text(columns[n], lo, hi) for n in names], names=names)
        with open(folder / f"{table}_{d:%Y%m%d}.csv", "wb") as fh:
            fh.write(header)
            pacsv.write_csv(text, fh, options)
        counts[d.isoformat()] = hi - lo
    return counts
