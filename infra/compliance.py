"""Compliance gates: the cdk-nag packs every synth runs, and EVERY acknowledged finding of the platform.

cdk-nag 3.x is a CDK validation plugin: ``Validations.of(app).add_plugins(...)`` makes any unacknowledged finding
fail synthesis (``make synth``, ``make demo`` and the test suite all go through :func:`register_packs`).

Acknowledging a finding (extension pattern for every area):
1. Run the infra tests; ``tests/infra/test_compliance.py`` prints each new finding as a ready-to-paste ``Ack(...)``.
2. Add it to your area's tuple below (or start one: ``INGESTION = (...)``, then add it to ``ACKNOWLEDGMENTS``).
   One ``Ack`` = exactly one rule on exactly one construct path (relative to the Stage, e.g.
   ``"Storage/Lake/AccessLogs/Bucket/Resource"``), with a reason an auditor would accept: why the control does
   not apply or how it is met otherwise. Never a prefix, a wildcard or a whole stack.
3. An ``Ack`` whose path no longer exists, or that no longer matches a finding, fails the tests: keep the list true.

Cross-stack references: cdk-nag renders a wildcard resource built on ANOTHER stack's attribute differently before
synthesis (``<LakeRawBucket28F84711.Arn>/raw/*``, the producer's GetAtt) and during it (CDK has then replaced the
reference with ``{"Fn::GetStackOutput":{...}}`` or an ``Fn::ImportValue`` name), so no single exact id could match
both. Write the readable ``<LogicalId.Attr>`` form: :class:`ReferenceForms` canonicalises finding ids and
acknowledgment ids to it, and every gate (:func:`collect_findings` for tests/demo, the validation plugins that
:func:`register_packs` installs for ``cdk synth``) matches canonical ids, so one ``Ack`` covers both phases.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import jsii
from aws_cdk import (Acknowledgment, App, CfnOutput, IPolicyValidationPlugin, PolicyValidationPluginReport,
                     PolicyViolation, Stack, Validations)
from cdk_nag import AwsSolutionsChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

from infra.config import ENVIRONMENT_NAMES, EnvironmentConfig


@dataclass(frozen=True)
class Ack:
    """One acknowledged finding: ``rule`` on the construct at ``path`` (relative to the Stage).

    ``rule`` is the finding id exactly as reported, e.g. ``AwsSolutions-S1`` or, for findings cdk-nag reports per
    policy entry, ``AwsSolutions-IAM5[Resource::<LakeRawBucket28F84711.Arn>/raw/*]``. Entries that embed
    environment-specific values use ``{account}``, ``{region}``, ``{partition}``, ``{glue_database}`` or
    ``{resource_prefix}``.
    """

    path: str
    rule: str
    reason: str
    environments: tuple[str, ...] = ENVIRONMENT_NAMES
    # Only when the config builds the construct (e.g. QuickSight exists only with quicksight.principal_arn).
    when: Callable[[EnvironmentConfig], bool] | None = None

    def applies_to(self, config: EnvironmentConfig) -> bool:
        return config.name in self.environments and (self.when is None or self.when(config))

    def rule_for(self, config: EnvironmentConfig) -> str:
        return self.rule.format(account=config.account, region=config.region, partition="aws",
                                glue_database=config.glue_database_name, resource_prefix=config.resource_prefix)


@dataclass(frozen=True)
class Finding:
    pack: str
    rule: str
    path: str  # relative to the Stage
    description: str

    def as_ack_source(self) -> str:
        return f'Ack("{self.path}", "{self.rule}", "<why this is acceptable>"),  # {self.description[:90]}'


class StaleAcknowledgment(LookupError):
    """An acknowledgment names a construct that no longer exists."""


def _flatten(value) -> str:
    """A resolved CloudFormation value as cdk-nag's flattenCfnReference writes it into a finding id."""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::Join":
            return arg[0].join(_flatten(v) for v in arg[1])
        if fn == "Fn::Sub":
            return _flatten(arg)
        if fn == "Fn::GetAtt":
            return f"<{_flatten(arg[0])}.{_flatten(arg[1])}>"
        if fn == "Fn::ImportValue":
            return _flatten(arg)
        if fn == "Ref":
            return f"<{_flatten(arg)}>"
    return json.dumps(value, separators=(",", ":"))


_STACK_OUTPUT = '{"Fn::GetStackOutput":'


class ReferenceForms:
    """Canonical, readable finding ids: every cross-stack reference in an id becomes the producer's own value
    (``<LakeRawBucket28F84711.Arn>``), whether cdk-nag saw it as ``{"Fn::GetStackOutput":...}`` (CDK's reference
    outputs, present from synthesis on) or as an ``Fn::ImportValue`` of an explicit export (rendered as its name).

    Built from the outputs of every stack under ``root``; build it again after synthesis has added outputs.
    """

    def __init__(self, root: IConstruct) -> None:
        self._outputs: dict[tuple[str, str], str] = {}  # (stack name, output logical id) -> producer's value
        self._exports: dict[str, str] = {}  # export name -> producer's value
        for node in root.node.find_all():
            if isinstance(node, CfnOutput):
                stack = Stack.of(node)
                value = _flatten(stack.resolve(node.value))
                self._outputs[(stack.stack_name, stack.get_logical_id(node))] = value
                if node.export_name:
                    self._exports[stack.resolve(node.export_name)] = value
        # Longest first, so an export name that contains another one is replaced whole.
        self._export_names = sorted(self._exports, key=len, reverse=True)

    def canonical(self, rule: str) -> str:
        start = rule.find(_STACK_OUTPUT)
        while start >= 0:
            # The reference is JSON (cdk-nag's fallback rendering) and may nest, e.g. "Region":{"Ref":...}.
            ref, end = json.JSONDecoder().raw_decode(rule, start)
            ref = ref["Fn::GetStackOutput"]
            value = self._outputs.get((ref.get("StackName"), ref.get("OutputName")))
            if value is not None:
                rule = rule[:start] + value + rule[end:]
                end = start + len(value)
            start = rule.find(_STACK_OUTPUT, end)
        for name in self._export_names:
            rule = rule.replace(name, self._exports[name])
        return rule


def _acknowledged_ids(node: IConstruct, forms: ReferenceForms) -> set[str]:
    """Canonical ids acknowledged on ``node`` or an ancestor (where ``Validations.acknowledge`` records them, the
    same walk cdk-nag does; aws-cdk-lib prefixes keys with 'Annotation::')."""
    ids: set[str] = set()
    current = node
    while current is not None:
        for entry in current.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY and entry.data:
                ids.update(forms.canonical(re.sub(r"^annotation::", "", key, flags=re.IGNORECASE))
                           for key in entry.data)
        current = current.node.scope
    return ids


def _construct_at(root: IConstruct, path: str) -> IConstruct | None:
    node = root
    for part in path.split("/") if path else ():
        node = node.node.try_find_child(part)
        if node is None:
            return None
    return node


def _canonical_violations(pack: NagPack, scope: IConstruct) -> list[tuple[str, PolicyViolation, object]]:
    """(canonical rule id, violation, violating resource) of every finding of ``pack`` under ``scope`` that no
    acknowledgment covers once both sides are canonical."""
    root = scope.node.root
    forms = ReferenceForms(root)
    left = []
    for violation in pack.validate_scope(scope).violations:
        rule = forms.canonical(violation.rule_name)
        for resource in violation.violating_resources:
            node = _construct_at(root, resource.construct_path or "")
            if node is not None and rule in _acknowledged_ids(node, forms):
                continue
            left.append((rule, violation, resource))
    return left


@jsii.implements(IPolicyValidationPlugin)
class AcknowledgingGate:
    """A nag pack as a CDK validation plugin whose acknowledgment matching is canonical (see ReferenceForms):
    cdk-nag's own match is exact, and during synthesis a cross-stack id no longer equals its readable form."""

    def __init__(self, app: App, pack: NagPack) -> None:
        self._app = app
        self._pack = pack

    @property
    def name(self) -> str:
        return self._pack.name

    @property
    def version(self) -> str | None:
        return self._pack.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._pack.rule_ids

    def validate(self, context) -> PolicyValidationPluginReport:
        grouped: dict[str, PolicyViolation] = {}
        resources: dict[str, list] = {}
        for rule, violation, resource in _canonical_violations(self._pack, self._app):
            grouped.setdefault(rule, violation)
            resources.setdefault(rule, []).append(resource)
        violations = [PolicyViolation(rule_name=rule, description=v.description, severity=v.severity,
                                      violating_resources=resources[rule]) for rule, v in grouped.items()]
        return PolicyValidationPluginReport(success=not violations, violations=violations)


def nag_packs(app: App) -> list[NagPack]:
    return [AwsSolutionsChecks(app), PCIDSS321Checks(app), NIST80053R5Checks(app)]


def register_packs(app: App) -> list[NagPack]:
    """Register the three packs as validation plugins (each behind an :class:`AcknowledgingGate`): any
    unacknowledged finding fails ``app.synth()``."""
    packs = nag_packs(app)
    Validations.of(app).add_plugins(*(AcknowledgingGate(app, pack) for pack in packs))
    return packs


# --- acknowledgments, by area ---------------------------------------------------------------------------------
# Reasons shared by many findings; an area may reuse one when it is true for its resource, word by word.

NO_REPLICATION = (
    "Single-region platform by design (data residency): durability comes from S3 (11 nines), versioning and "
    "non-current version retention; cross-region replication would copy customer data out of the region."
)
INLINE_POLICY = (
    "CDK-generated policy attached to exactly one role and holding only that role's least-privilege grants; a "
    "customer-managed policy would add a reusable, detachable object without narrowing any permission."
)
CUSTOM_RESOURCE_PROVIDER = (
    "CDK AwsCustomResource provider Lambda (one per stack), invoked only by CloudFormation during deployments"
)


def _per_pack(path: str, finding: str, reason: str, packs=("PCI.DSS.321", "NIST.800.53.R5")) -> tuple[Ack, ...]:
    """The PCI and NIST packs share rule names (e.g. ``-IAMNoInlinePolicy``): one Ack per pack's finding."""
    return tuple(Ack(path, f"{pack}-{finding}", reason) for pack in packs)


_LAKE_BUCKETS = ("Landing", "Raw", "Quarantine", "Artifacts")
_CR_LAMBDA = "Warehouse/AWS679f53fac002430cb0da5b7982bd2287"

FOUNDATION: tuple[Ack, ...] = (
    # Storage
    *(a for b in _LAKE_BUCKETS for a in _per_pack(f"Storage/Lake/{b}/Bucket/Resource", "S3BucketReplicationEnabled",
                                                  NO_REPLICATION)),
    *_per_pack("Storage/Lake/AccessLogs/Bucket/Resource", "S3BucketReplicationEnabled", NO_REPLICATION),
    *_per_pack("Storage/Lake/AccessLogs/Bucket/Resource", "S3DefaultEncryptionKMS",
               "S3 server access log delivery supports only SSE-S3 on the target bucket; the bucket holds request "
               "metadata, no customer data, and is TLS-only, private and versioned like every other bucket."),
    # Audit
    *_per_pack("Audit/Trail/TrailBucket/Bucket/Resource", "S3BucketReplicationEnabled",
               NO_REPLICATION + " The trail itself is multi-region and log files are integrity-validated."),
    *_per_pack("Audit/Trail/Trail/LogsRole/DefaultPolicy/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (CloudTrail delivery to its one log group)"),
    # Network
    *_per_pack("Network/Network/Vpc/FlowLog/IAMRole/DefaultPolicy/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (flow-log delivery to its one log group)"),
    # Warehouse
    *_per_pack("Storage/Lake/SpectrumRole/DefaultPolicy/Resource", "IAMNoInlinePolicy", INLINE_POLICY),
    Ack("Storage/Lake/SpectrumRole/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::<LakeRawBucket28F84711.Arn>/raw/*]",
        "Spectrum reads every object under the raw/ prefix (tables are partitioned folders created by each ingest "
        "batch); s3:GetObject only, on one bucket and prefix."),
    Ack("Storage/Lake/SpectrumRole/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::arn:{partition}:glue:{region}:{account}:table/{glue_database}/*]",
        "Read-only Glue Get* on the tables of the one raw database; the tables are created later by the ingestion "
        "stack, so their names cannot be listed here."),
    *_per_pack("Warehouse/Warehouse/UsageLimit/CustomResourcePolicy/Resource", "IAMNoInlinePolicy", INLINE_POLICY),
    Ack("Warehouse/Warehouse/UsageLimit/CustomResourcePolicy/Resource",
        "AwsSolutions-IAM5[Resource::arn:{partition}:redshift-serverless:{region}:{account}:usagelimit/*]",
        "Usage-limit ids are generated by CreateUsageLimit at deploy time; Update/DeleteUsageLimit only, in this "
        "account and region."),
    *_per_pack("Warehouse/Warehouse/AdminSecretArn/CustomResourcePolicy/Resource", "IAMNoInlinePolicy", INLINE_POLICY),
    Ack(f"{_CR_LAMBDA}/ServiceRole/Resource",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        CUSTOM_RESOURCE_PROVIDER + "; the AWS managed policy grants only writing its own CloudWatch Logs."),
    Ack(f"{_CR_LAMBDA}/ServiceRole/Resource",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        CUSTOM_RESOURCE_PROVIDER + "; the AWS managed policy grants only the ENI actions a VPC Lambda needs."),
    Ack(f"{_CR_LAMBDA}/Resource", "NIST.800.53.R5-LambdaConcurrency",
        CUSTOM_RESOURCE_PROVIDER + ": at most a few invocations per deployment, no concurrency to cap."),
    Ack(f"{_CR_LAMBDA}/Resource", "NIST.800.53.R5-LambdaDLQ",
        CUSTOM_RESOURCE_PROVIDER + ": invoked synchronously; a failure fails and rolls back the deployment, "
        "so there is no event to park in a dead-letter queue."),
)

_ORCH = "Orchestration/Orchestration"


def _python_job_acks(job: str, project_id: str, source: str, wildcard_reason: str) -> tuple[Ack, ...]:
    """The findings every CodeBuild Python job of infra/constructs/python_job.py carries, with their reasons."""
    role = f"{_ORCH}/{job}/Role/DefaultPolicy/Resource"
    return (
        *(a for r in (f"{job}/Role", f"{job}/SchedulerRole", f"{job}/FailureEvents/EventsRole")
          for a in _per_pack(f"{_ORCH}/{r}/DefaultPolicy/Resource", "IAMNoInlinePolicy", INLINE_POLICY)),
        *_per_pack(f"{_ORCH}/{job}/Project/PolicyDocument/Resource", "IAMNoInlinePolicy",
                   INLINE_POLICY + " (CodeBuild's VPC network-interface permissions for this one project)"),
        Ack(f"{_ORCH}/{job}/Project/PolicyDocument/Resource", "AwsSolutions-IAM5[Resource::*]", _XRAY_AND_VPC),
        *_per_pack(f"{_ORCH}/{job}/Project/Resource", "CodeBuildProjectSourceRepoUrl",
                   f"The source is an S3 asset uploaded by CDK ({source}; no Git repository, no "
                   "stored Git credentials or URL tokens).", packs=("PCI.DSS.321",)),
        Ack(role, "AwsSolutions-IAM5[Resource::*]", wildcard_reason),
        Ack(role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]",
            "CodeBuild VPC builds create their ENI at build time (CreateNetworkInterfacePermission, conditioned by CDK "
            "on this project's subnets); its id cannot be known in advance."),
        Ack(role, f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{{region}}:{{account}}:report-group/<{project_id}>-*]",
            "CodeBuild test-report groups of this project only (CDK default grant)."),
        Ack(role, f"AwsSolutions-IAM5[Resource::arn:aws:logs:{{region}}:{{account}}:log-group:/aws/codebuild/"
                  f"<{project_id}>:*]",
            "Log streams of this project's default log group (CDK default grant); builds log to the KMS group."),
        Ack(role, "AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-{account}-{region}/*]",
            f"Read of the CDK asset object ({source}) the build downloads as its source; the asset "
            "key is a content hash decided at synth."),
        *(Ack(role, f"AwsSolutions-IAM5[Action::{action}]", _L2_GRANT)
          for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")),
        Ack(f"{_ORCH}/{job}/FailureEvents/EventsRole/DefaultPolicy/Resource",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "sns:Publish to the KMS-encrypted alerts topic needs GenerateDataKey* on the topic's key: aws-cdk-lib grant "
            "on that one key (the alerts key), no other key."),
    )
_ORCH_FUNCTIONS = ("StartPipeline", "StartDbtBuild", "DbtBuildCallback", "PipelineTurn")
_XRAY_AND_VPC = (
    "Only actions without resource-level permissions: X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) "
    "and the EC2 network-interface Describe/Create/Delete a VPC function or build needs."
)
_L2_GRANT = "aws-cdk-lib grant for exactly this resource (generated action group); resource-scoped, no other bucket/key."

ORCHESTRATION: tuple[Ack, ...] = (
    # Every orchestration role holds only its own CDK-generated grants.
    *(a for role in (*(f"{f}/ServiceRole" for f in _ORCH_FUNCTIONS), "DbtRunner/Role", "StateMachine/Role",
                     "SchedulerRole")
      for a in _per_pack(f"{_ORCH}/{role}/DefaultPolicy/Resource", "IAMNoInlinePolicy", INLINE_POLICY)),
    *_per_pack(f"{_ORCH}/DbtRunner/Project/PolicyDocument/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (CodeBuild's VPC network-interface permissions for this one project)"),
    *(Ack(f"{_ORCH}/{f}/ServiceRole/Resource", f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
          f"service-role/{policy}]", reason)
      for f in _ORCH_FUNCTIONS for policy, reason in (
          ("AWSLambdaBasicExecutionRole", "AWS managed policy granting only writes to the function's own logs."),
          ("AWSLambdaVPCAccessExecutionRole", "AWS managed policy granting only the ENI actions a VPC Lambda needs.")
      )),
    *(Ack(f"{_ORCH}/{f}/ServiceRole/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]", _XRAY_AND_VPC)
      for f in _ORCH_FUNCTIONS),
    Ack(f"{_ORCH}/StateMachine/Role/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing and CloudWatch Logs delivery (logs:*LogDelivery, DescribeLogGroups...) of the state machine: "
        "these actions have no resource-level permissions."),
    Ack(f"{_ORCH}/StateMachine/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::<OrchestrationStartDbtBuild6A0E5062.Arn>:*]",
        "lambda:InvokeFunction on the start-dbt-build function and its versions/aliases only (CDK LambdaInvoke)."),
    Ack(f"{_ORCH}/StateMachine/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::<OrchestrationPipelineTurnAA530B89.Arn>:*]",
        "lambda:InvokeFunction on the pipeline-turn (run queue) function and its versions/aliases only (CDK "
        "LambdaInvoke)."),
    # Standalone policies, so that nothing the state machine references depends on them (no dependency cycle).
    *_per_pack(f"{_ORCH}/PipelineTurnListExecutions/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (states:ListExecutions on this pipeline's state machine only, for the run queue)"),
    *_per_pack(f"{_ORCH}/DbtRunnerHeartbeat/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (states:SendTaskHeartbeat on this pipeline's state machine only, sent by the "
               "running dbt build)"),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/dbt-runs/*/orchestration/task-token]",
        "s3:GetObject of the waiting task's token of each execution (dbt-runs/<execution id>/orchestration/"
        "task-token), read by the build's heartbeat; the execution id is known only at run time."),
    Ack(f"{_ORCH}/DbtRunner/Project/PolicyDocument/Resource", "AwsSolutions-IAM5[Resource::*]", _XRAY_AND_VPC),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]",
        "sts:GetServiceBearerToken has no resource type; the statement's condition limits it to "
        "sts:AWSServiceName=codeartifact.amazonaws.com (CodeArtifact login)."),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]",
        "CodeBuild VPC builds create their ENI at build time (CreateNetworkInterfacePermission, conditioned by CDK "
        "on this project's subnets); its id cannot be known in advance."),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/"
        "<OrchestrationDbtRunnerProjectAF8E6296>-*]",
        "CodeBuild test-report groups of this project only (CDK default grant)."),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/"
        "<OrchestrationDbtRunnerProjectAF8E6296>:*]",
        "Log streams of this project's default log group (CDK default grant); builds log to the KMS group."),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-{account}-{region}/*]",
        "Read of the CDK asset objects (dbt project, runner scripts) the build downloads as its sources; the asset "
        "keys are content hashes decided at synth."),
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/dbt-runs/*]",
        "The build uploads dbt artifacts under dbt-runs/<execution id>/ (one folder per pipeline execution)."),
    *(Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource", f"AwsSolutions-IAM5[Action::{action}]", _L2_GRANT)
      for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:GetBucket*", "s3:GetObject*",
                     "s3:List*")),
    *_per_pack(f"{_ORCH}/DbtRunner/Project/Resource", "CodeBuildProjectSourceRepoUrl",
               "The sources are S3 assets uploaded by CDK (no GitHub/Bitbucket repository, no stored Git "
               "credentials or URL tokens).", packs=("PCI.DSS.321",)),
    Ack(f"{_ORCH}/DbtBuildCallback/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/dbt-runs/*]",
        "s3:GetObject only, on the dbt artifacts of pipeline executions (dbt-runs/<execution id>/...)."),
    Ack(f"{_ORCH}/StartDbtBuild/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/dbt-runs/*/orchestration/*]",
        "Reads/writes only the orchestration objects of each execution (task token, build claim): "
        "dbt-runs/<execution id>/orchestration/."),
    # Promoted models: the dbt runner reads the manifest and the macros it names (infra/constructs/dbt_runner.py).
    Ack(f"{_ORCH}/DbtRunner/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/models/dbt_macros/*]",
        "s3:GetObject only, on the promoted models' dbt macros: each retraining run writes its own "
        "models/dbt_macros/<run id>/ (the run id is the build's, known only at run time) and the manifest names them."),
    # Model retraining (infra/constructs/model_trainer.py): the same shape as the dbt runner's CodeBuild project.
    *_python_job_acks("ModelTrainer", "OrchestrationModelTrainerProject312F533F", "ml/ and the feature contracts",
                      "sts:GetServiceBearerToken has no resource type; the statement's condition limits it to "
                      "sts:AWSServiceName=codeartifact.amazonaws.com (CodeArtifact login)."),
    Ack(f"{_ORCH}/ModelTrainer/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/models/*]",
        "Get/PutObject under models/ only: every run writes models/<model>/runs/<run id>/, the promoted model, "
        "models/dbt_macros/<run id>/ and the manifest; run ids are the build's, known only at run time."),
    # The report job (infra/constructs/report_job.py): the same shape, plus its bucket and the rule starting it.
    *_python_job_acks("ReportJob", "OrchestrationReportJobProject68468C66",
                      "reports/, the chart code and dbt_project.yml",
                      "Two statements without a resource type: sts:GetServiceBearerToken (conditioned on "
                      "sts:AWSServiceName=codeartifact.amazonaws.com, CodeArtifact login) and the Data API's "
                      "Describe/GetStatementResult/CancelStatement, conditioned on "
                      "redshift-data:statement-owner-iam-userid = the caller (only the statements it submitted)."),
    *_per_pack(f"{_ORCH}/ReportJob/Project/EventsRole/DefaultPolicy/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (EventBridge's role starting the report build after a pipeline execution succeeds)"),
    *_per_pack(f"{_ORCH}/ReportJob/ReportsBucket/Bucket/Resource", "S3BucketReplicationEnabled", NO_REPLICATION),
    *(Ack(f"{_ORCH}/ReportJob/Role/DefaultPolicy/Resource",
          f"AwsSolutions-IAM5[Resource::<OrchestrationReportJobReportsBucket8DCCC9CD.Arn>/{prefix}/*]",
          f"s3:PutObject only, under {prefix}/ of the reports bucket: one PDF and one folder of CSVs per report "
          "date, named at run time.") for prefix in ("regulatory", "executive")),
    Ack(f"{_ORCH}/ReportJob/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-raw-bucket-arn/manifests/*]",
        "s3:GetObject only, on the ingest job's batch manifests (manifests/<table>/<batch>.json; batch ids are "
        "known only at run time) for the report's data-quality section - no raw data."),
    Ack(f"{_ORCH}/ReportJob/Role/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::{resource_prefix}-artifacts-bucket-arn/dbt-runs/*]",
        "s3:GetObject only, on the dbt artifacts of pipeline executions (run_results.json, sources.json under "
        "dbt-runs/<execution id>/) for the report's data-quality section."),
    # EventBridge publishes Glue failure alerts through this role (the target's default would grant the service
    # principal the alerts key without a source-account condition).
    *_per_pack(f"{_ORCH}/GlueFailureEvents/EventsRole/DefaultPolicy/Resource", "IAMNoInlinePolicy",
               INLINE_POLICY + " (EventBridge's role publishing Glue failure alerts)"),
    Ack(f"{_ORCH}/GlueFailureEvents/EventsRole/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "sns:Publish to the KMS-encrypted alerts topic needs GenerateDataKey* on the topic's key: aws-cdk-lib grant "
        "on that one key (the alerts key), no other key."),
)

_QS_ROLE = "QuickSight/QuickSight/VpcConnectionRole/DefaultPolicy/Resource"
_QS_LOGIN_NOT_ROTATED = (
    "QuickSight's database login (user quicksight, role quicksight_reader: SELECT on the marts only) is not rotated "
    "automatically yet: Redshift only learns a password when the bootstrap Lambda runs ALTER USER from this secret "
    "(deploys that change the bootstrap plan), so a rotation function changing the secret alone would lock "
    "QuickSight out. Compensating: 32-character generated password that exists only in this secret (data-key CMK), "
    "readable only by the bootstrap Lambda and QuickSight's Secrets Manager role; the workgroup is private. "
    "Rotate by putting a new value in the secret and re-running the bootstrap."
)


def _quicksight_acks() -> tuple[Ack, ...]:
    # Dataset ids come from the QuickSight catalog (never re-listed here); imported lazily like any area module.
    from quicksight.catalog import DASHBOARDS, DATASETS

    used = [d.id for d in DATASETS if any(d.id in dash.datasets for dash in DASHBOARDS)]
    acks = (
        *_per_pack(_QS_ROLE, "IAMNoInlinePolicy",
                   INLINE_POLICY + " (the ENI permissions of the QuickSight VPC connection)"),
        Ack(_QS_ROLE, "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeSubnets and ec2:DescribeSecurityGroups, which have no resource-level permissions; QuickSight "
            "calls them to validate the VPC connection."),
        Ack(_QS_ROLE, "AwsSolutions-IAM5[Resource::arn:{partition}:ec2:{region}:{account}:network-interface/*]",
            "QuickSight creates the VPC connection's network interfaces itself, so their ids are unknown; creation "
            "is also scoped to this VPC's isolated subnets and the connection's own security group."),
        # The pipeline refreshes these datasets: CreateIngestion/DescribeIngestion on each dataset's ingestions.
        *(Ack("Orchestration/Orchestration/StateMachine/Role/DefaultPolicy/Resource",
              f"AwsSolutions-IAM5[Resource::arn:{{partition}}:quicksight:{{region}}:{{account}}:dataset/"
              f"{{resource_prefix}}-{dataset_id}/ingestion/*]",
              "SPICE ingestion ids are generated per pipeline run (States.UUID()); the grant covers the "
              "ingestions of this one dataset only.")
          for dataset_id in used),
        *(Ack("Warehouse/Warehouse/QuickSightLogin/Resource", rule, _QS_LOGIN_NOT_ROTATED)
          for rule in ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled")),
    )
    # An environment without a QuickSight principal has no QuickSight stack (infra/stage.py): nothing to acknowledge.
    return tuple(dataclasses.replace(a, when=_has_quicksight) for a in acks)


def _has_quicksight(config: EnvironmentConfig) -> bool:
    return bool(config.quicksight.principal_arn)


QUICKSIGHT: tuple[Ack, ...] = _quicksight_acks()

_BOOT = "WarehouseBootstrap/Bootstrap"
_BOOT_FRAMEWORK = (
    "CDK custom-resource provider framework Lambda of the Redshift bootstrap, invoked only by CloudFormation during "
    "deployments"
)

WAREHOUSE_BOOTSTRAP: tuple[Ack, ...] = (
    *(a for role in ("Handler/ServiceRole", "Provider/framework-onEvent/ServiceRole")
      for a in _per_pack(f"{_BOOT}/{role}/DefaultPolicy/Resource", "IAMNoInlinePolicy", INLINE_POLICY)),
    *(Ack(f"{_BOOT}/{fn}/ServiceRole/Resource", f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
          f"service-role/{policy}]", reason)
      for fn in ("Handler", "Provider/framework-onEvent") for policy, reason in (
          ("AWSLambdaBasicExecutionRole", "AWS managed policy granting only writes to the function's own logs."),
          ("AWSLambdaVPCAccessExecutionRole", "AWS managed policy granting only the ENI actions a VPC Lambda needs.")
      )),
    Ack(f"{_BOOT}/Handler/ServiceRole/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]",
        "redshift-data:DescribeStatement/GetStatementResult/CancelStatement have no resource type; the statement is "
        "conditioned on redshift-data:statement-owner-iam-userid = ${aws:userid} (only statements this role ran). "
        "The rest are ENI actions of a VPC Lambda, which have no resource-level permissions."),
    Ack(f"{_BOOT}/Provider/framework-onEvent/ServiceRole/DefaultPolicy/Resource",
        "AwsSolutions-IAM5[Resource::<BootstrapHandler7B31C7A5.Arn>:*]",
        "lambda:InvokeFunction on the bootstrap handler and its versions only (CDK provider framework grant)."),
    Ack(f"{_BOOT}/Handler/Resource", "NIST.800.53.R5-LambdaDLQ",
        "Invoked synchronously by the provider framework during a deployment: a failure fails the deployment with "
        "the statement named, so there is no event to park in a dead-letter queue."),
    Ack(f"{_BOOT}/Provider/framework-onEvent/Resource", "NIST.800.53.R5-LambdaDLQ",
        _BOOT_FRAMEWORK + ": invoked synchronously by CloudFormation; a failure fails and rolls back the deployment."),
    Ack(f"{_BOOT}/Provider/framework-onEvent/Resource", "NIST.800.53.R5-LambdaConcurrency",
        _BOOT_FRAMEWORK + ": one invocation per deployment; the handler it calls has a reserved concurrency of 1."),
)

_INGEST_ROLE = "Ingestion/Ingestion/JobRole/DefaultPolicy/Resource"
_INGEST_ONE_ROLE = "The five per-table Glue ingest jobs share this one role (same script, same prefixes); "

INGESTION: tuple[Ack, ...] = (
    *_per_pack(_INGEST_ROLE, "IAMNoInlinePolicy", INLINE_POLICY + " (the Glue ingest jobs' role)"),
    *(Ack(_INGEST_ROLE, f"AwsSolutions-IAM5[Action::{action}]",
          "CDK grant action group (grant_read / grant_read_write / grant_encrypt_decrypt) on resources that are "
          "themselves scoped to the lake buckets' ingest prefixes and the data/logs keys; no other resource.")
      for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*",
                     "s3:GetObject*", "s3:List*")),
    # Buckets of the Storage stack: the readable form covers the synth-time Fn::GetStackOutput form too
    # (ReferenceForms), so each wildcard has exactly one acknowledgment.
    Ack(_INGEST_ROLE, "AwsSolutions-IAM5[Resource::<LakeLandingBucketBDA6CF65.Arn>/*]",
        _INGEST_ONE_ROLE + "read-only on the landing bucket, whose top-level folders are exactly the source tables."),
    Ack(_INGEST_ROLE, "AwsSolutions-IAM5[Resource::<LakeRawBucket28F84711.Arn>/raw/*]",
        _INGEST_ONE_ROLE + "each run replaces the ingest-date partitions it writes under raw/<table>/."),
    Ack(_INGEST_ROLE, "AwsSolutions-IAM5[Resource::<LakeRawBucket28F84711.Arn>/manifests/*]",
        _INGEST_ONE_ROLE + "each run writes manifests/<table>/<batch id>.json; batch ids are per run."),
    Ack(_INGEST_ROLE, "AwsSolutions-IAM5[Resource::<LakeQuarantineBucket4D216B98.Arn>/quarantine/*]",
        _INGEST_ONE_ROLE + "each run replaces the quarantine partitions of the dates it ingests."),
    Ack(_INGEST_ROLE, "AwsSolutions-IAM5[Resource::arn:{partition}:glue:{region}:{account}:table/{glue_database}/*]",
        "GetTable/GetPartition/BatchCreatePartition on the tables of the one raw database: the job registers the "
        "ingest-date partitions it wrote (Redshift Spectrum reads registered partitions only)."),
    Ack(_INGEST_ROLE, "AwsSolutions-IAM5[Resource::arn:{partition}:logs:{region}:{account}:log-group:/aws-glue/*]",
        "Glue writes driver/executor output to its fixed /aws-glue/* log groups (names chosen by the service) and "
        "associates the security configuration's KMS key with them; log actions only."),
    Ack(_INGEST_ROLE,
        "AwsSolutions-IAM5[Resource::arn:{partition}:s3:::cdk-hnb659fds-assets-{account}-{region}/*]",
        "Read-only on the CDK bootstrap assets bucket, where the job script and library zip are published under "
        "content-hash keys that change with every code change."),
)

_CB_DEFAULTS = "CodeBuild default grants of this one project: its own log streams and test-report groups."
_ARTIFACT_GRANT = (
    "aws-cdk-lib grant on the delivery pipeline's artifact bucket and its KMS key only (generated action group: "
    "read/write pipeline artifacts); no other bucket or key."
)
_CDK_PIPELINES_REPO = (
    "The CodeBuild project's source is the pipeline's artifact (CodePipeline hands it the CodeConnections source "
    "output); no repository URL, OAuth token or stored Git credentials are configured on the project."
)


def cicd_acknowledgments(config: EnvironmentConfig) -> tuple[Ack, ...]:
    """Findings of the delivery pipeline stack (infra/pipeline.py; paths relative to that stack, not to a Stage).
    The source action's construct id is the repository name with '/' replaced by '_' (CDK Pipelines)."""
    source_role = f"CodePipeline/Source/{config.cicd.repository.replace('/', '_')}/CodePipelineActionRole"
    synth_role = "CodePipeline/Build/Synth/CdkBuildProject/Role"
    mutation_role = "Pipeline/UpdatePipeline/SelfMutation/Role"
    assets_role = "Pipeline/Assets/FileRole"
    read_write = ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*",
                  "s3:GetObject*", "s3:List*")
    wildcards = {
        "CodePipeline/Role": read_write,
        source_role: read_write,
        synth_role: read_write,
        mutation_role: ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:GetBucket*", "s3:GetObject*", "s3:List*"),
        assets_role: ("s3:GetBucket*", "s3:GetObject*", "s3:List*"),
    }
    policies = (*wildcards, "Pipeline/CodeBuildActionRole")
    return (
        *(a for b in ("Artifacts", "AccessLogs")
          for a in _per_pack(f"{b}/Bucket/Resource", "S3BucketReplicationEnabled",
                             NO_REPLICATION + " The bucket holds build artifacts re-creatable from the repository.")),
        *_per_pack("AccessLogs/Bucket/Resource", "S3DefaultEncryptionKMS",
                   "S3 server access log delivery supports only SSE-S3 on the target bucket; the bucket holds request "
                   "metadata of the artifact bucket, no customer data."),
        *(a for role in policies for a in _per_pack(f"{role}/DefaultPolicy/Resource", "IAMNoInlinePolicy",
                                                     INLINE_POLICY + " (CDK Pipelines-generated role)")),
        *(Ack(f"{role}/DefaultPolicy/Resource", f"AwsSolutions-IAM5[Action::{action}]", _ARTIFACT_GRANT)
          for role, actions in wildcards.items() for action in actions),
        *(Ack(f"{role}/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::<ArtifactsBucket88671897.Arn>/*]",
              "Pipeline artifacts are objects with generated keys under the artifact bucket; read/write is limited "
              "to that one bucket.") for role in wildcards),
        *(Ack(f"{role}/DefaultPolicy/Resource", rule, _CB_DEFAULTS) for role, project in (
            (synth_role, "<CodePipelineBuildSynthCdkBuildProjectEDF0E7B6>"),
            (mutation_role, "<PipelineUpdatePipelineSelfMutationDAA41400>"))
          for rule in (f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{{region}}:{{account}}:report-group/{project}-*]",
                       f"AwsSolutions-IAM5[Resource::arn:aws:logs:{{region}}:{{account}}:log-group:/aws/codebuild/"
                       f"{project}:*]")),
        Ack(f"{assets_role}/DefaultPolicy/Resource",
            "AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/*]",
            "CDK Pipelines asset-publishing role (shared by its asset projects): CodeBuild report groups in this "
            "account and region only."),
        Ack(f"{assets_role}/DefaultPolicy/Resource",
            "AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/*]",
            "CDK Pipelines asset-publishing role: log streams of its CodeBuild projects in this account and region."),
        Ack(f"{assets_role}/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]",
            "codebuild:StartBuild/BatchGetBuilds/StopBuild (CDK Pipelines default for the role its CodeBuild actions "
            "use): the asset project lives in the same stack and is started only by this pipeline."),
        Ack(f"{mutation_role}/DefaultPolicy/Resource", "AwsSolutions-IAM5[Resource::*]",
            "cloudformation:DescribeStacks and s3:ListBucket, which the self-mutation step needs to read the "
            "bootstrap stacks and buckets (CDK Pipelines default)."),
        Ack(f"{mutation_role}/DefaultPolicy/Resource",
            "AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
            "sts:AssumeRole on this account's CDK bootstrap roles only, selected by the condition "
            "iam:ResourceTag/aws-cdk:bootstrap-role in (deploy, file-publishing, image-publishing) (CDK Pipelines "
            "self-mutation)."),
        Ack("CodePipeline/Build/Synth/CdkBuildProject/Resource", "AwsSolutions-CB5",
            "The synth step runs the whole test suite, which needs Debian's chromium and PostgreSQL packages (the "
            "curated Ubuntu image ships chromium only as a snap): Docker's official python:3.11-bookworm image from "
            "ECR Public, the same image the pull-request workflow uses. Build-time only; it deploys nothing itself."),
        *(a for project in ("CodePipeline/Build/Synth/CdkBuildProject/Resource",
                            "Pipeline/UpdatePipeline/SelfMutation/Resource", "Pipeline/Assets/FileAsset/Resource")
          for a in _per_pack(project, "CodeBuildProjectSourceRepoUrl", _CDK_PIPELINES_REPO, packs=("PCI.DSS.321",))),
    )


def apply_pipeline_acknowledgments(stack: IConstruct, config: EnvironmentConfig) -> None:
    """Attach :func:`cicd_acknowledgments` to the delivery pipeline stack (hosted in ``config``'s account)."""
    for ack in cicd_acknowledgments(config):
        target = _find(stack, ack.path)
        if target is None:
            raise StaleAcknowledgment(
                f"infra/compliance.py: pipeline acknowledgment of {ack.rule} names {ack.path!r}, which does not exist: "
                "fix the path or remove the acknowledgment"
            )
        Validations.of(target).acknowledge(Acknowledgment(id=ack.rule_for(config), reason=ack.reason))


# Other areas: define INGESTION / ORCHESTRATION / QUICKSIGHT / CICD tuples above this line and add them here.
ACKNOWLEDGMENTS: tuple[Ack, ...] = (*FOUNDATION, *INGESTION, *ORCHESTRATION, *QUICKSIGHT, *WAREHOUSE_BOOTSTRAP,)


def acknowledgments_for(env_name: str) -> list[Ack]:
    return [a for a in ACKNOWLEDGMENTS if env_name in a.environments]


def acknowledged_rules(config: EnvironmentConfig, forms: ReferenceForms | None = None) -> set[tuple[str, str]]:
    """(path, rule id) of every acknowledgment that applies to this environment; canonical ids with ``forms``
    (compare them with :func:`collect_findings`' ids)."""
    return {(a.path, forms.canonical(a.rule_for(config)) if forms else a.rule_for(config))
            for a in acknowledgments_for(config.name) if a.applies_to(config)}


def _find(root: IConstruct, path: str) -> IConstruct | None:
    node = root
    for part in path.split("/"):
        node = node.node.try_find_child(part)
        if node is None:
            return None
    return node


def apply_acknowledgments(stage: IConstruct, config: EnvironmentConfig) -> None:
    """Attach each acknowledgment to exactly the construct it names. Raises StaleAcknowledgment (one line)."""
    env_name = config.name
    for ack in acknowledgments_for(env_name):
        if not ack.applies_to(config):
            continue
        target = _find(stage, ack.path)
        if target is None:
            raise StaleAcknowledgment(
                f"infra/compliance.py: acknowledgment of {ack.rule} names {ack.path!r}, which does not exist in "
                f"{env_name}: fix the path or remove the acknowledgment"
            )
        Validations.of(target).acknowledge(Acknowledgment(id=ack.rule_for(config), reason=ack.reason))


def collect_findings(packs: list[NagPack], scope: IConstruct, stage_path: str) -> list[Finding]:
    """Findings of every pack under ``scope`` that are not acknowledged (cdk-nag's own scope walk), with canonical
    rule ids and the same canonical matching as the synth-time gate."""
    findings = []
    prefix = stage_path.rstrip("/") + "/"
    for pack in packs:
        for rule, violation, resource in _canonical_violations(pack, scope):
            path = resource.construct_path or ""
            findings.append(
                Finding(
                    pack=pack.read_pack_name,
                    rule=rule,
                    path=path[len(prefix):] if path.startswith(prefix) else path,
                    description=violation.description,
                )
            )
    return sorted(set(findings), key=lambda f: (f.path, f.rule))
