"""Glue ingest job: pure transforms (transforms.py), batch orchestration (pipeline.py), Glue entry (job.py)."""
