"""Root test configuration: the offline toolchain environment, and the shared session fixtures.

Session-scoped fixtures that are expensive (the synthesized CDK app, the local SparkSession, the generated
demo bank and its ingested lake, the DuckDB/PostgreSQL dbt builds) live in tests/fixtures/ as plugins, so
every test folder can use them and each is built at most once per test session.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Same environment the Makefile exports, so `pytest` works however it is started.
_node_bin = REPO_ROOT / "node_modules" / ".bin"
if _node_bin.is_dir():
    os.environ["PATH"] = f"{_node_bin}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "true")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Powertools reads these when a Lambda module is first imported (its Logger/Tracer/Metrics are module globals), and
# any test folder may import one first: set offline defaults before collection so import order never matters.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "FinTechAnalytics/Test")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

# Each module below is owned by one area; add a module here rather than fixtures to this file.
pytest_plugins = [
    p
    for p in (
        "tests.fixtures.synth",
        "tests.fixtures.spark",
        "tests.fixtures.lake",
        "tests.fixtures.postgres",
        "tests.fixtures.dbt",
        "tests.fixtures.lambdas",
    )
    if (REPO_ROOT / (p.replace(".", "/") + ".py")).exists()
]
