"""QuickSight as code: dataset and dashboard definitions, the Definition builder, the synth-time field check and
the local renderer.

* :mod:`quicksight.spec` — the small declarative vocabulary (datasets, KPIs, visuals, filters).
* :mod:`quicksight.catalog` — THE definitions: datasets per dbt mart and the three dashboards.
* :mod:`quicksight.models` — the dbt mart models (columns + data_type) read from their ``_*__models.yml``.
* :mod:`quicksight.fieldcheck` — every field used must exist in the model it reads, with a compatible type.
* :mod:`quicksight.definition` — spec -> QuickSight API structures (PascalCase) and the camelCase CDK form.
* :mod:`quicksight.render` — the same definitions rendered from the local DuckDB marts to HTML + PNG.
"""
