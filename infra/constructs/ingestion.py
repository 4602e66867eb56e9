"""Glue ingestion: one Glue 5.0 job per source table, their security configuration, role, logs, and the raw
catalog tables — all derived from glue_jobs/contracts (the same contracts the job validates against).

Design choices (why):
- One job per table, one script: each source gets its own run history, retries, timeout, concurrency guard
  (max 1 concurrent run, so two batches never overwrite the same partitions at once) and alarm, and Step Functions
  runs them as parallel branches; a parameterized single job would share one run queue and one failure signal.
- Registered partitions, not partition projection: Redshift Spectrum (the warehouse's `raw` external schema)
  does not read Athena partition-projection properties, so the job registers each ingest date it wrote
  (glue:BatchCreatePartition) after writing.
- The contracts ship inside the library zip as YAML plus a JSON bundle, so the job never depends on which
  Python packages a Glue version preinstalls (glue_jobs.contracts falls back to the bundle without PyYAML).
- Job bookmarks are enabled (run state is committed per run), but the job reads by ingest-date folders and
  overwrites those partitions, so re-running a date is idempotent with or without a bookmark.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from glue_jobs.contracts import CONTRACTS_DIR, INGEST_PARTITION, TABLES, Column, Contract, load_all
from glue_jobs.ingest.pipeline import DEFAULT_QUARANTINE_THRESHOLD
from infra.config import GlueConfig
from infra.constructs.data_lake import RAW_PREFIX, DataLake

REPO_ROOT = Path(__file__).resolve().parents[2]
QUARANTINE_PREFIX = "quarantine/"
MANIFEST_PREFIX = "manifests/"
GLUE_VERSION = "5.0"
CONTRACT_BUNDLE = "_bundle.json"
_HIVE = {"string": "string", "integer": "int", "bigint": "bigint", "double": "double", "boolean": "boolean",
         "date": "date", "timestamp": "timestamp"}
LINEAGE_COLUMNS = (("_dq_warnings", "string"), ("_ingested_at", "timestamp"), ("_batch_id", "string"),
                   ("_source_file", "string"))


def hive_type(column: Column) -> str:
    ps = column.decimal_precision_scale
    return f"decimal({ps[0]},{ps[1]})" if ps else _HIVE[column.type]


def _library_dir() -> Path:
    """A folder holding `glue_jobs/` (code + contracts + JSON bundle), zipped by the asset for --extra-py-files."""
    staging = Path(tempfile.mkdtemp(prefix="glue-lib-"))
    shutil.copytree(REPO_ROOT / "glue_jobs", staging / "glue_jobs",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "samples", "local_run.py"))
    import yaml

    bundle = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(CONTRACTS_DIR.glob("*.yml"))}
    (staging / "glue_jobs" / "contracts" / CONTRACT_BUNDLE).write_text(json.dumps(bundle, indent=1, sort_keys=True))
    return staging


class Ingestion(Construct):
    """Attributes: ``jobs`` ({table: CfnJob}), ``job_names`` ({table: name}), ``role``, ``security_configuration``,
    ``log_group``, ``tables`` ({table: CfnTable})."""

    def __init__(self, scope: Construct, construct_id: str, *, lake: DataLake, data_key: kms.IKey,
                 logs_key: kms.IKey, glue_config: GlueConfig, name_prefix: str, flex: bool,
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy,
                 quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        contracts = load_all()

        self.log_group = logs.LogGroup(self, "JobLogs", encryption_key=logs_key, retention=log_retention,
                                       removal_policy=removal_policy)
        # Glue requires a name for security configurations; the prefix keeps environments apart in one account.
        self.security_configuration = glue.CfnSecurityConfiguration(
            self, "SecurityConfiguration", name=f"{name_prefix}-ingest",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[glue.CfnSecurityConfiguration.S3EncryptionProperty(
                    s3_encryption_mode="SSE-KMS", kms_key_arn=data_key.key_arn)],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=logs_key.key_arn),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=data_key.key_arn),
            ),
        )

        self.role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                             description="Glue ingest jobs: read landing, write raw/quarantine/manifests, register partitions")
        lake.landing.grant_read(self.role)
        lake.raw.grant_read_write(self.role, f"{RAW_PREFIX}*")
        lake.raw.grant_read_write(self.role, f"{MANIFEST_PREFIX}*")
        lake.quarantine.grant_read_write(self.role, f"{QUARANTINE_PREFIX}*")
        data_key.grant_encrypt_decrypt(self.role)
        logs_key.grant_encrypt_decrypt(self.role)
        self.log_group.grant_write(self.role)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="EncryptedContinuousLogging",
            # Glue associates the security configuration's key with the log groups it writes.
            actions=["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[stack.format_arn(service="logs", resource="log-group", arn_format=_colon(),
                                        resource_name="/aws-glue/*"),
                       self.log_group.log_group_arn]))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="RegisterRawPartitions",
            actions=["glue:GetTable", "glue:GetPartition", "glue:BatchCreatePartition"],
            resources=[lake.glue_catalog_arn, lake.glue_database_arn, lake.glue_tables_arn]))

        script = s3_assets.Asset(self, "Script", path=str(REPO_ROOT / "glue_jobs" / "ingest" / "job.py"))
        library = s3_assets.Asset(self, "Library", path=str(_library_dir()))
        script.grant_read(self.role)
        library.grant_read(self.role)

        self.tables: dict[str, glue.CfnTable] = {}
        self.jobs: dict[str, glue.CfnJob] = {}
        for table in TABLES:
            contract = contracts[table]
            self.tables[table] = self._catalog_table(contract, lake)
            self.jobs[table] = glue.CfnJob(
                self, f"{_camel(table)}Job",
                role=self.role.role_arn,
                glue_version=GLUE_VERSION,
                command=glue.CfnJob.JobCommandProperty(name="glueetl", python_version="3",
                                                       script_location=script.s3_object_url),
                description=f"Ingest {table}: landing CSV -> raw Parquet per glue_jobs/contracts/{table}.yml",
                worker_type=glue_config.worker_type,
                number_of_workers=glue_config.number_of_workers,
                # Flex (spare capacity, cheaper, may start later) outside production only.
                execution_class="FLEX" if flex else "STANDARD",
                timeout=glue_config.timeout_minutes,
                max_retries=1,
                execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
                security_configuration=self.security_configuration.name,
                default_arguments={
                    "--job-language": "python",
                    "--extra-py-files": library.s3_object_url,
                    "--job-bookmark-option": "job-bookmark-enable",
                    "--enable-metrics": "true",
                    "--enable-continuous-cloudwatch-log": "true",
                    "--continuous-log-logGroup": self.log_group.log_group_name,
                    "--source_table": table,
                    "--landing_path": lake.landing.s3_url_for_object(table),
                    "--raw_path": lake.raw.s3_url_for_object(f"{RAW_PREFIX}{table}"),
                    "--quarantine_path": lake.quarantine.s3_url_for_object(f"{QUARANTINE_PREFIX}{table}"),
                    "--manifest_path": lake.raw.s3_url_for_object(f"{MANIFEST_PREFIX}{table}"),
                    "--quarantine_threshold": str(quarantine_threshold),
                    "--catalog_database": lake.glue_database_name,
                    "--catalog_table": table,
                },
            )
            # The job names its security configuration by name (no reference), so order it explicitly.
            self.jobs[table].node.add_dependency(self.security_configuration)
        self.job_names = {t: j.ref for t, j in self.jobs.items()}

    def _catalog_table(self, contract: Contract, lake: DataLake) -> glue.CfnTable:
        columns = [glue.CfnTable.ColumnProperty(name=c.name, type=hive_type(c), comment=c.description[:255])
                   for c in contract.columns]
        columns += [glue.CfnTable.ColumnProperty(name=n, type=t, comment="added by ingestion")
                    for n, t in LINEAGE_COLUMNS]
        table = glue.CfnTable(
            self, f"{_camel(contract.name)}Table",
            catalog_id=Stack.of(self).account,
            database_name=lake.glue_database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=contract.name,
                description=contract.description,
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet", "EXTERNAL": "TRUE",
                            "primary_key": ",".join(contract.primary_key)},
                partition_keys=[glue.CfnTable.ColumnProperty(name=INGEST_PARTITION, type="date")],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=columns,
                    location=lake.raw.s3_url_for_object(f"{RAW_PREFIX}{contract.name}/"),
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
                ),
            ),
        )
        table.node.add_dependency(lake.glue_database)  # named, not referenced: order it explicitly
        return table


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _colon():
    from aws_cdk import ArnFormat

    return ArnFormat.COLON_RESOURCE_NAME
