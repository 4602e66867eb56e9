"""The PostgreSQL-backed part of the suite, run from a second checkout in a private `mktemp -d` folder.

What a new user does (`d=$(mktemp -d) && git clone … "$d/fresh" && cd "$d/fresh" && make test`), for the part that
depends on the server: the folder is 0700, so as root the server's `postgres` system user cannot enter the
checkout, and this session's own server is running on the same machine at the same time. The second checkout must
get its own server (another port, another data directory) and leave this one alone.

The copy holds exactly what `git add -A && git commit` would hold (tracked and untracked, not ignored files, as they
are in the working tree), so the test checks the change being made, not only the last commit. It runs with this
session's venv (installing a second one would only re-test pip).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INNER_TESTS = [
    "tests/dbt/test_builds.py::test_postgres_build_is_green",
    "tests/delivery/test_redshift_bootstrap_postgres.py",
]

pytestmark = [pytest.mark.postgres, pytest.mark.spark]


def _checkout_copy(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = REPO_ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)


def _server_env(checkout: Path) -> dict[str, str]:
    text = (checkout / ".local" / "postgres.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_a_private_second_checkout_runs_the_postgres_tests_on_its_own_server(postgres_server):
    private = Path(tempfile.mkdtemp(prefix="fresh-clone-"))  # 0700, like mktemp -d
    try:
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        checkout = private / "fresh"
        _checkout_copy(checkout)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_PG_", "PG"))}

        # `make postgres` in the second checkout: its own server, found by its own state file
        started = subprocess.run(["bash", "scripts/postgres.sh", "start"], cwd=checkout, env=env,
                                 capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        theirs = _server_env(checkout)
        assert int(theirs["PGPORT"]) != postgres_server.port
        assert theirs["PGDATA"] != postgres_server.data_dir
        if os.geteuid() == 0:  # the server user could not enter the private folder: data lives outside it
            assert not theirs["PGDATA"].startswith(str(private))

        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *INNER_TESTS],
            cwd=checkout, env=env, capture_output=True, text=True, timeout=900,
        )
        assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
        assert " passed" in tests.stdout.splitlines()[-1]
        assert "failed" not in tests.stdout.splitlines()[-1]

        stopped = subprocess.run(["bash", "scripts/postgres.sh", "stop"], cwd=checkout, env=env,
                                 capture_output=True, text=True)
        assert stopped.returncode == 0, stopped.stderr
        assert not Path(theirs["PGDATA"]).exists()
        # this session's server was not touched by the other checkout's start, tests or stop
        psycopg2.connect(**postgres_server.dsn, dbname="postgres").close()
    finally:
        subprocess.run(["bash", str(private / "fresh" / "scripts" / "postgres.sh"), "stop"], capture_output=True)
        shutil.rmtree(private, ignore_errors=True)
