"""The dbt sources are generated from the source contracts, and staging honours each column's PII class."""

import yaml

from glue_jobs.contracts import load_all
from scripts import generate_dbt_sources as gen


def test_committed_source_files_equal_what_the_contracts_generate():
    for system in gen.source_systems():
        path = gen.target_path(system)
        assert path.exists(), f"missing {path}; run python -m scripts.generate_dbt_sources"
        assert path.read_text() == gen.render(system), f"{path} is stale; run python -m scripts.generate_dbt_sources"


def test_check_mode_flags_a_stale_file(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "STAGING_DIR", tmp_path)
    assert gen.main(["--check"]) == 1  # nothing written yet in tmp_path
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    path = gen.target_path("auth")
    path.write_text(path.read_text().replace("not_null", "unique", 1))
    assert gen.main(["--check"]) == 1


def test_every_contract_column_has_type_pii_and_tests():
    for system in gen.source_systems():
        doc = yaml.safe_load(gen.render(system))
        (source,) = doc["sources"]
        assert source["config"]["loaded_at_field"] == "_ingested_at"
        assert source["config"]["freshness"]["error_after"]["count"] > 0
        for table in source["tables"]:
            contract = load_all()[table["name"]]
            assert contract.source_system == system
            columns = {c["name"]: c for c in table["columns"]}
            for col in contract.columns:
                entry = columns[col.name]
                assert entry["data_type"] == col.type
                assert entry["config"]["meta"]["pii"] == col.pii
                tests = entry.get("data_tests", [])
                assert ("not_null" in tests) == col.required, col.name
                accepted = [t["accepted_values"]["arguments"]["values"] for t in tests if isinstance(t, dict)]
                assert accepted == ([list(col.allowed_values)] if col.allowed_values else []), col.name
            key = table["data_tests"][0]["unique_combination_of_columns"]["arguments"]["combination_of_columns"]
            assert key == [*contract.primary_key, "ingest_date"]
            assert {"_ingested_at", "_dq_warnings", "_batch_id", "_source_file", "ingest_date"} <= set(columns)


def test_staging_drops_direct_pii_and_keeps_the_rest(duckdb_marts):
    for table, contract in load_all().items():
        model = f"stg_{contract.source_system}__{table}"
        cols = {r[0] for r in duckdb_marts.execute(
            "select column_name from information_schema.columns where table_schema = 'analytics_staging' "
            "and table_name = ?", [model]).fetchall()}
        assert cols, f"{model} was not built"
        for col in contract.columns:
            if col.pii == "direct":
                assert col.name not in cols, f"{model} exposes direct PII column {col.name}"
        kept = [c.name for c in contract.columns if c.pii != "direct"]
        renamed = {"account_created_date", "transaction_date", "login_timestamp", "risk_factors"}
        assert set(kept) - renamed <= cols
