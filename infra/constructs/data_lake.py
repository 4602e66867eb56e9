"""The lake buckets (landing, raw, quarantine, artifacts), their access-log bucket and the Glue Data Catalog database."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import RetentionConfig
from infra.constructs.secure_bucket import AccessLogsBucket, SecureBucket

# Key prefixes inside the buckets, shared with the Glue jobs and the Spectrum external schema (see ARCHITECTURE.md).
RAW_PREFIX = "raw/"


class DataLake(Construct):
    """Attributes: ``landing``, ``raw``, ``quarantine``, ``artifacts``, ``access_logs`` (s3.Bucket);
    ``glue_database`` (CfnDatabase) and ``glue_database_name``; ``data_key`` (the key everything here uses);
    ``spectrum_role`` (Redshift reads raw/ and the catalog database with it)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_key: kms.IKey,
        retention: RetentionConfig,
        removal_policy: RemovalPolicy,
        glue_database_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.data_key = data_key
        self.access_logs = AccessLogsBucket(
            self,
            "AccessLogs",
            removal_policy=removal_policy,
            noncurrent_version_expiry_days=retention.noncurrent_version_expiry_days,
            # Access logs are audit evidence: keep them as long as the platform keeps its logs.
            expiry_days=retention.log_retention_days,
        ).bucket

        def lake_bucket(construct_id: str, *rules: s3.LifecycleRule) -> s3.Bucket:
            return SecureBucket(
                self,
                construct_id,
                encryption_key=data_key,
                access_logs_bucket=self.access_logs,
                removal_policy=removal_policy,
                noncurrent_version_expiry_days=retention.noncurrent_version_expiry_days,
                lifecycle_rules=rules,
            ).bucket

        tiering = s3.LifecycleRule(
            id="tier-to-infrequent-access-then-glacier",
            transitions=[
                s3.Transition(
                    storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                    transition_after=Duration.days(retention.raw_infrequent_access_days),
                ),
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=Duration.days(retention.raw_glacier_days),
                ),
            ],
        )
        # Landing files are re-deliverable copies of source extracts: once ingested they only cost money.
        self.landing = lake_bucket(
            "Landing", s3.LifecycleRule(id="expire-landed-files", expiration=Duration.days(retention.landing_expiry_days))
        )
        self.raw = lake_bucket("Raw", tiering)
        self.quarantine = lake_bucket("Quarantine", tiering)
        self.artifacts = lake_bucket("Artifacts")

        account = Stack.of(self).account
        # Glue database names are a required input (no generated name exists); the name is also what the Spectrum
        # external schema and the dbt sources point at.
        self.glue_database_name = glue_database_name
        self.glue_database = glue.CfnDatabase(
            self,
            "GlueDatabase",
            catalog_id=account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=glue_database_name,
                description="Raw (post-ingest) source tables, typed per glue_jobs/contracts",
                location_uri=self.raw.s3_url_for_object(RAW_PREFIX),
            ),
        )
        self.glue_database.apply_removal_policy(removal_policy)  # L1 default is DELETE; tables live in it
        # The catalog holds column names and S3 locations of customer data: encrypt it and any connection passwords
        # with the data key (account/region-wide setting: one environment per account).
        self.catalog_encryption = glue.CfnDataCatalogEncryptionSettings(
            self,
            "CatalogEncryption",
            catalog_id=account,
            data_catalog_encryption_settings=glue.CfnDataCatalogEncryptionSettings.DataCatalogEncryptionSettingsProperty(
                encryption_at_rest=glue.CfnDataCatalogEncryptionSettings.EncryptionAtRestProperty(
                    catalog_encryption_mode="SSE-KMS", sse_aws_kms_key_id=data_key.key_arn
                ),
                connection_password_encryption=glue.CfnDataCatalogEncryptionSettings.ConnectionPasswordEncryptionProperty(
                    return_connection_password_encrypted=True, kms_key_id=data_key.key_arn
                ),
            ),
        )

        # Redshift Spectrum's role lives with the data it reads: its wildcard object ARN then references the raw
        # bucket inside this stack, and the warehouse only attaches the role.
        self.spectrum_role = iam.Role(
            self,
            "SpectrumRole",
            description="Redshift Spectrum: read the raw lake and its Glue catalog database",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("redshift.amazonaws.com"), iam.ServicePrincipal("redshift-serverless.amazonaws.com")
            ),
        )
        # Explicit actions instead of raw.grant_read (s3:GetObject*, s3:List* …): Spectrum only lists the bucket
        # and reads objects under the raw/ prefix.
        self.spectrum_role.add_to_policy(
            iam.PolicyStatement(
                sid="ListRawBucket",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[self.raw.bucket_arn],
            )
        )
        self.spectrum_role.add_to_policy(
            iam.PolicyStatement(sid="ReadRawObjects", actions=["s3:GetObject"],
                                resources=[self.raw.arn_for_objects(f"{RAW_PREFIX}*")])
        )
        # Raw objects and the Glue catalog are both encrypted with the data key.
        data_key.grant_decrypt(self.spectrum_role)
        self.spectrum_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadRawCatalogDatabase",
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
                         "glue:GetPartitions", "glue:BatchGetPartition"],
                resources=[self.glue_catalog_arn, self.glue_database_arn, self.glue_tables_arn],
            )
        )

    @property
    def glue_database_arn(self) -> str:
        stack = Stack.of(self)
        return stack.format_arn(service="glue", resource="database", resource_name=self.glue_database_name)

    @property
    def glue_tables_arn(self) -> str:
        """ARN pattern of every table in the database (IAM resources for Glue table actions)."""
        stack = Stack.of(self)
        return stack.format_arn(service="glue", resource="table", resource_name=f"{self.glue_database_name}/*")

    @property
    def glue_catalog_arn(self) -> str:
        stack = Stack.of(self)
        return stack.format_arn(service="glue", resource="catalog")
