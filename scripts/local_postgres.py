"""This checkout's local PostgreSQL server (scripts/postgres.sh) seen from Python: where it listens, start, stop.

The server belongs to one checkout: `scripts/postgres.sh start` picks a free loopback port and records it in
`.local/postgres.env`; everything that connects (the test fixtures, scripts/load_postgres.py, the dbt `ci` target
through DBT_PG_PORT) asks here instead of assuming a fixed port, so two checkouts never share a server.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "postgres.sh"
USER = "postgres"


class ServerNotRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    data_dir: str
    user: str = USER

    @property
    def dsn(self) -> dict:
        """psycopg2.connect() keywords (add dbname)."""
        return {"host": self.host, "port": self.port, "user": self.user}

    def dbt_env(self) -> dict[str, str]:
        """The dbt `ci` target's connection variables (dbt/profiles.yml)."""
        return {"DBT_PG_HOST": self.host, "DBT_PG_PORT": str(self.port), "DBT_PG_USER": self.user}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True)


def running() -> Server | None:
    """This checkout's server if it is up, else None."""
    proc = _run("env")
    if proc.returncode != 0:
        return None
    values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return Server(host=values["PGHOST"], port=int(values["PGPORT"]), data_dir=values["PGDATA"])


def start() -> Server:
    proc = _run("start")
    server = running() if proc.returncode == 0 else None
    if server is None:
        raise ServerNotRunning(f"scripts/postgres.sh start failed: {(proc.stderr or proc.stdout).strip()}")
    return server


def stop() -> None:
    _run("stop")


def default_port() -> int:
    """DBT_PG_PORT when set (as for dbt), else this checkout's running server; one clear error otherwise."""
    if os.environ.get("DBT_PG_PORT"):
        return int(os.environ["DBT_PG_PORT"])
    server = running()
    if server is None:
        raise SystemExit("no PostgreSQL server for this checkout: start it with `make postgres` (or pass --port)")
    return server.port
