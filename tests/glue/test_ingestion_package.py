"""What the Glue job receives: the library zip's contracts load without PyYAML (the JSON bundle), identical to the
YAML ones, and the catalog column types derive from the same contracts."""

from __future__ import annotations

import subprocess
import sys

from glue_jobs.contracts import TABLES, load_all
from infra.constructs.ingestion import CONTRACT_BUNDLE, _library_dir, hive_type


def test_library_contracts_load_from_the_bundle_without_pyyaml():
    lib = _library_dir()
    assert (lib / "glue_jobs" / "contracts" / CONTRACT_BUNDLE).exists()
    assert not (lib / "glue_jobs" / "local_run.py").exists() and not (lib / "glue_jobs" / "samples").exists()
    probe = (
        "import sys; sys.modules['yaml'] = None\n"  # as on a Glue image without PyYAML
        "from glue_jobs.contracts import load_all\n"
        "print(repr(sorted((n, c.primary_key, tuple(x.name for x in c.columns)) for n, c in load_all().items())))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=lib, capture_output=True, text=True, check=True).stdout
    expected = sorted((n, c.primary_key, tuple(x.name for x in c.columns)) for n, c in load_all().items())
    assert out.strip() == repr(expected)


def test_catalog_types_follow_the_contracts():
    contracts = load_all()
    types = {(t, c.name): hive_type(c) for t in TABLES for c in contracts[t].columns}
    assert types[("transactions", "amount")] == "decimal(18,2)"
    assert types[("transactions", "transaction_date")] == "timestamp"
    assert types[("credit_scores", "credit_score")] == "int"
    assert types[("accounts", "as_of_date")] == "date"
    assert types[("transactions", "is_fraudulent")] == "boolean"
