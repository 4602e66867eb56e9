"""One Logger/Tracer/Metrics per process; service name and namespace come from POWERTOOLS_* variables (set by CDK)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
