"""Reports from the marts: the daily regulatory filings queue (CTR candidates, SAR case queue, structuring watch,
data quality) and the monthly executive pack, as PDF and one CSV per table. The same code runs locally (DuckDB,
`make demo`) and in the AWS report job (Redshift Data API); nothing here imports the CDK."""
