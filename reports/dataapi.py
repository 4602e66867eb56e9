"""Read the warehouse through the Redshift Data API (the report job on AWS): `read(sql) -> DataFrame`, as
ml.warehouse's readers do locally. Serverless with IAM: no secret, the caller's role is the database user
IAMR:<role name> (the warehouse bootstrap grants it read on the marts and features only). Values are typed from
the result's column metadata: NUMERIC/DECIMAL as Decimal (money stays exact to the cent), dates and timestamps
as pandas timestamps, everything else as the API returns it."""

from __future__ import annotations

import time
from decimal import Decimal

import pandas as pd

FAILED = ("FAILED", "ABORTED")
_NUMERIC = ("numeric", "decimal")
_DATES = ("date", "timestamp", "timestamptz")


class QueryFailed(RuntimeError):
    pass


def _value(field: dict, type_name: str):
    if field.get("isNull"):
        return None
    for key in ("longValue", "doubleValue", "booleanValue"):
        if key in field:
            return field[key]
    text = field.get("stringValue")
    if type_name in _NUMERIC:
        return Decimal(text)
    if type_name in _DATES:
        return pd.Timestamp(text)
    return text


def data_api_reader(client, *, workgroup: str, database: str, timeout_s: float = 600, poll_s: float = 0.5,
                    sleep=time.sleep):
    def read(sql: str) -> pd.DataFrame:
        statement = client.execute_statement(WorkgroupName=workgroup, Database=database, Sql=sql)["Id"]
        waited = 0.0
        while True:
            described = client.describe_statement(Id=statement)
            if described["Status"] == "FINISHED":
                break
            if described["Status"] in FAILED:
                raise QueryFailed(f"report query {described['Status']}: {described.get('Error', 'no error text')} "
                                  f"(statement {statement})")
            if waited > timeout_s:
                client.cancel_statement(Id=statement)
                raise QueryFailed(f"report query still {described['Status']} after {timeout_s:.0f} s: cancelled "
                                  f"(statement {statement})")
            sleep(poll_s)
            waited += poll_s
        columns, rows, token = None, [], None
        while True:
            page = client.get_statement_result(Id=statement, **({"NextToken": token} if token else {}))
            columns = columns or [(c["name"], (c.get("typeName") or "").lower()) for c in page["ColumnMetadata"]]
            rows += [[_value(f, t) for f, (_, t) in zip(record, columns)] for record in page["Records"]]
            token = page.get("NextToken")
            if not token:
                break
        return pd.DataFrame(rows, columns=[name for name, _ in columns])

    return read
