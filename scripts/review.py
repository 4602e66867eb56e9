"""The platform team's review pack: what each environment grants, exposes, acknowledges and costs, from the
synthesized templates.

    make review            # writes review_output/<env>.md + .json and says how each differs from the approved one
    make review-approve    # writes review/<env>.md + .json: the approved baseline, committed with the change

Per environment: every IAM statement (identity policies, inline role policies, managed policies, trust policies and
resource policies) with its principal, actions and resources; KMS key policies; network exposure (security-group
rules, VPC endpoints, and a list of public endpoints that must stay empty); every cdk-nag acknowledgment with its
reason; cost knobs (Redshift RPUs and usage limits, Glue workers, CodeBuild/Lambda sizing, log and data retention);
the SQL of the Redshift bootstrap (who can read what inside the warehouse); resources per stack.

Deterministic on purpose, so a diff is a real change: no asset hashes (64-hex strings become ``<asset-hash>``), no
timestamps, sorted everywhere, CloudFormation intrinsics rendered as readable text (``<Logical.Attr>``,
``<stack:output>``, ``${AWS::Region}``). tests/delivery/test_review_pack.py fails when the synthesized pack differs
from review/<env>.json and prints the diff.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE_DIR = REPO_ROOT / "review"
OUTPUT_DIR = REPO_ROOT / "review_output"
PIPELINE_NAME = "delivery"  # review/delivery.*: the pipeline stack (hosted in one environment's account)
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")

# Resource types whose policy document is a resource policy: (type, property holding the document, what it guards).
RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": ("PolicyDocument", "Bucket"),
    "AWS::SNS::TopicPolicy": ("PolicyDocument", "Topics"),
    "AWS::SQS::QueuePolicy": ("PolicyDocument", "Queues"),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument", "PolicyName"),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy", "SecretId"),
}
# Anything of these types is reachable from the internet by construction.
PUBLIC_BY_TYPE = {
    "AWS::EC2::InternetGateway": "internet gateway",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::EC2::EIP": "elastic IP",
    "AWS::Lambda::Url": "Lambda function URL",
    "AWS::ApiGateway::RestApi": "API Gateway REST API",
    "AWS::ApiGatewayV2::Api": "API Gateway HTTP/WebSocket API",
    "AWS::CloudFront::Distribution": "CloudFront distribution",
    "AWS::AppSync::GraphQLApi": "AppSync API",
}
_ANYWHERE = ("0.0.0.0/0", "::/0")


# --- rendering CloudFormation values ------------------------------------------------------------------------------


def render(value: Any) -> Any:
    """A template value with intrinsics turned into readable, deterministic text."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return f"${{{arg}}}" if str(arg).startswith("AWS::") else f"<{arg}>"
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return f"<{parts[0]}.{parts[1]}>"
            if key == "Fn::Join":
                separator, items = arg
                rendered = [render(i) for i in items]
                if all(isinstance(r, str) for r in rendered):
                    return separator.join(rendered)
                return {"Fn::Join": [separator, rendered]}
            if key == "Fn::Sub":
                return render(arg[0] if isinstance(arg, list) else arg)
            if key == "Fn::ImportValue":
                return f"<import:{render(arg)}>"
            if key == "Fn::GetStackOutput":
                return f"<{arg.get('StackName')}:{arg.get('OutputName')}>"
            if key in ("Fn::Select", "Fn::Split", "Fn::If", "Fn::FindInMap", "Fn::GetAZs", "Fn::Base64"):
                return f"{key}({json.dumps(render(arg), sort_keys=True)})"
        return {k: render(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, str):
        return _ASSET_HASH.sub("<asset-hash>", value)
    return value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _sorted_strings(values: Iterable[Any]) -> list:
    rendered = [render(v) for v in values]
    return sorted(rendered, key=lambda v: json.dumps(v, sort_keys=True))


def render_principal(principal: Any) -> list[str]:
    if principal is None:
        return []
    if principal == "*":
        return ["*"]
    out = []
    for kind, values in sorted(principal.items()):
        for v in _as_list(values):
            r = render(v)
            out.append(f"{kind}:{r if isinstance(r, str) else json.dumps(r, sort_keys=True)}")
    return sorted(out)


def render_statement(statement: dict) -> dict:
    out: dict[str, Any] = {"effect": statement.get("Effect", "Allow")}
    if "Sid" in statement:
        out["sid"] = statement["Sid"]
    if "Principal" in statement or "NotPrincipal" in statement:
        out["principal"] = render_principal(statement.get("Principal", statement.get("NotPrincipal")))
    for key, name in (("Action", "actions"), ("NotAction", "not_actions"), ("Resource", "resources"),
                      ("NotResource", "not_resources")):
        if key in statement:
            out[name] = _sorted_strings(_as_list(statement[key]))
    if "Condition" in statement:
        out["condition"] = render(statement["Condition"])
    return out


def _statement_key(s: dict) -> str:
    return json.dumps(s, sort_keys=True)


# --- sections -----------------------------------------------------------------------------------------------------


def _resources(templates: dict[str, dict]) -> Iterator[tuple[str, str, dict]]:
    for stack_id, template in templates.items():
        for logical_id, resource in sorted(template.get("Resources", {}).items()):
            yield stack_id, logical_id, resource


def _role_trust(templates: dict[str, dict]) -> dict[str, list[str]]:
    trust = {}
    for stack_id, logical_id, resource in _resources(templates):
        if resource["Type"] == "AWS::IAM::Role":
            doc = resource["Properties"].get("AssumeRolePolicyDocument", {})
            principals = sorted({p for s in doc.get("Statement", []) for p in render_principal(s.get("Principal"))})
            trust[f"{stack_id}/{logical_id}"] = principals
    return trust


def _role_label(stack_id: str, role: Any, trust: dict[str, list[str]]) -> str:
    """``role <Logical> (service.amazonaws.com)``; roles of another stack show without their trust."""
    logical = role.strip("<>") if isinstance(role, str) else ""
    trusted = trust.get(f"{stack_id}/{logical}")
    return f"role {role} ({', '.join(trusted)})" if trusted else f"role {role}"


def iam_statements(templates: dict[str, dict]) -> list[dict]:
    trust = _role_trust(templates)
    out = []

    def add(stack_id: str, source: str, principal: list[str], doc: dict, kind: str, attached_to: list[str]) -> None:
        for statement in _as_list(doc.get("Statement")):
            rendered = render_statement(statement)
            # Resource and trust policies name their principal; identity policies get the role they attach to.
            out.append({"stack": stack_id, "source": source, "kind": kind,
                        "principal": rendered.pop("principal", principal), "attached_to": attached_to, **rendered})

    for stack_id, logical_id, resource in _resources(templates):
        props, rtype = resource.get("Properties", {}), resource["Type"]
        if rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [render(r) for r in _as_list(props.get("Roles"))]
            principal = sorted(_role_label(stack_id, r, trust) for r in roles)
            add(stack_id, logical_id, principal, props.get("PolicyDocument", {}), "identity", sorted(roles))
        elif rtype == "AWS::IAM::Role":
            principal = [f"role <{logical_id}> ({', '.join(trust[f'{stack_id}/{logical_id}'])})"]
            add(stack_id, logical_id, trust[f"{stack_id}/{logical_id}"], props.get("AssumeRolePolicyDocument", {}),
                "trust", [f"<{logical_id}>"])
            for policy in props.get("Policies", []):
                add(stack_id, f"{logical_id}/{policy.get('PolicyName')}", principal, policy["PolicyDocument"],
                    "identity", [f"<{logical_id}>"])
            for arn in props.get("ManagedPolicyArns", []):
                out.append({"stack": stack_id, "source": logical_id, "kind": "managed-policy",
                            "attached_to": [f"<{logical_id}>"], "principal": principal, "effect": "Allow",
                            "managed_policy": render(arn)})
        elif rtype in RESOURCE_POLICIES:
            doc_key, target_key = RESOURCE_POLICIES[rtype]
            doc = props.get(doc_key, {})
            if isinstance(doc, str):
                doc = json.loads(doc)
            add(stack_id, logical_id, [], doc, f"resource ({rtype.split('::')[1]})",
                _sorted_strings(_as_list(props.get(target_key))))
        elif rtype == "AWS::Lambda::Permission":
            out.append({"stack": stack_id, "source": logical_id, "kind": "resource (Lambda)", "effect": "Allow",
                        "attached_to": [render(props.get("FunctionName"))],
                        "principal": [str(render(props.get("Principal")))], "actions": [props.get("Action")],
                        "condition": render({k: props[k] for k in ("SourceArn", "SourceAccount") if k in props})})
    order = {stack_id: i for i, stack_id in enumerate(templates)}  # the stage's dependency order
    return sorted(out, key=lambda s: (order[s["stack"]], s["source"], s["kind"], _statement_key(s)))


def kms_keys(templates: dict[str, dict]) -> list[dict]:
    out = []
    for stack_id, logical_id, resource in _resources(templates):
        if resource["Type"] != "AWS::KMS::Key":
            continue
        props = resource["Properties"]
        out.append({
            "stack": stack_id, "key": logical_id, "description": props.get("Description", ""),
            "rotation": bool(props.get("EnableKeyRotation")), "deletion_policy": resource.get("DeletionPolicy", "Delete"),
            "statements": sorted((render_statement(s) for s in props.get("KeyPolicy", {}).get("Statement", [])),
                                 key=_statement_key),
        })
    return out


def _rule(direction: str, rule: dict) -> dict:
    peer = (rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("SourceSecurityGroupId")
            or rule.get("DestinationSecurityGroupId") or rule.get("DestinationPrefixListId")
            or rule.get("SourcePrefixListId"))
    protocol = str(rule.get("IpProtocol"))
    ports = "all" if protocol == "-1" else f"{rule.get('FromPort')}-{rule.get('ToPort')}"
    return {"direction": direction, "peer": render(peer), "protocol": "all" if protocol == "-1" else protocol,
            "ports": ports, "description": rule.get("Description", "")}


def network(templates: dict[str, dict]) -> dict:
    groups: dict[str, dict] = {}
    public: list[str] = []
    endpoints = []
    for stack_id, logical_id, resource in _resources(templates):
        props, rtype = resource.get("Properties", {}), resource["Type"]
        if rtype == "AWS::EC2::SecurityGroup":
            groups[f"<{logical_id}>"] = {
                "stack": stack_id, "description": props.get("GroupDescription", ""),
                "rules": [_rule("ingress", r) for r in props.get("SecurityGroupIngress", [])]
                + [_rule("egress", r) for r in props.get("SecurityGroupEgress", [])],
            }
        elif rtype in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            group = render(props.get("GroupId"))
            group = group.split(".")[0] + ">" if isinstance(group, str) and group.endswith(".GroupId>") else group
            groups.setdefault(str(group), {"stack": stack_id, "description": "(defined in another stack)", "rules": []})
            groups[str(group)]["rules"].append(_rule("ingress" if rtype.endswith("Ingress") else "egress", props))
        elif rtype == "AWS::EC2::VPCEndpoint":
            endpoints.append({"stack": stack_id, "service": render(props.get("ServiceName")),
                              "type": props.get("VpcEndpointType", "Gateway"),
                              "private_dns": props.get("PrivateDnsEnabled", False)})
        if rtype in PUBLIC_BY_TYPE:
            public.append(f"{stack_id}/{logical_id}: {PUBLIC_BY_TYPE[rtype]}")
        if rtype == "AWS::EC2::Subnet" and props.get("MapPublicIpOnLaunch"):
            public.append(f"{stack_id}/{logical_id}: subnet assigns public IPs")
        if rtype == "AWS::RedshiftServerless::Workgroup" and props.get("PubliclyAccessible"):
            public.append(f"{stack_id}/{logical_id}: publicly accessible Redshift workgroup")
        if rtype == "AWS::S3::Bucket":
            block = props.get("PublicAccessBlockConfiguration", {})
            flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
            if not all(block.get(f) for f in flags):
                public.append(f"{stack_id}/{logical_id}: S3 bucket without a full public access block")
        if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer" and props.get("Scheme") != "internal":
            public.append(f"{stack_id}/{logical_id}: internet-facing load balancer")
        if rtype == "AWS::Lambda::Permission" and props.get("Principal") == "*":
            public.append(f"{stack_id}/{logical_id}: Lambda invokable by any principal")
    for name, group in groups.items():
        group["rules"].sort(key=_statement_key)
        for rule in group["rules"]:
            if rule["direction"] == "ingress" and rule["peer"] in _ANYWHERE:
                public.append(f"{group['stack']}/{name}: ingress from {rule['peer']} on {rule['ports']}")
    return {
        "security_groups": dict(sorted(groups.items())),
        "vpc_endpoints": sorted(endpoints, key=_statement_key),
        "public_endpoints": sorted(public),
    }


def _usage_limits(resource: dict) -> dict:
    create = resource["Properties"].get("Create")
    rendered = render(create)
    if isinstance(rendered, str):
        try:
            params = json.loads(rendered).get("parameters", {})
            return {k: params[k] for k in ("amount", "period", "breachAction", "usageType") if k in params}
        except json.JSONDecodeError:
            pass
    return {"create": rendered}


def cost_knobs(templates: dict[str, dict]) -> dict:
    knobs: dict[str, Any] = {"redshift_workgroups": [], "redshift_usage_limits": [], "glue_jobs": [],
                             "codebuild_projects": [], "lambda_functions": [], "log_retention_days": {},
                             "s3_data_retention": [], "interface_endpoints": 0}
    for stack_id, logical_id, resource in _resources(templates):
        props, rtype = resource.get("Properties", {}), resource["Type"]
        name = f"{stack_id}/{logical_id}"
        if rtype == "AWS::RedshiftServerless::Workgroup":
            knobs["redshift_workgroups"].append({"workgroup": name, "base_rpu": props.get("BaseCapacity"),
                                                 "max_rpu": props.get("MaxCapacity"),
                                                 "price_performance_target": render(props.get("PricePerformanceTarget"))})
        elif rtype == "Custom::RedshiftServerlessUsageLimit":
            knobs["redshift_usage_limits"].append({"resource": name, **_usage_limits(resource)})
        elif rtype == "AWS::Glue::Job":
            knobs["glue_jobs"].append({"job": name, "worker_type": props.get("WorkerType"),
                                       "workers": props.get("NumberOfWorkers"),
                                       "execution_class": props.get("ExecutionClass", "STANDARD"),
                                       "timeout_minutes": props.get("Timeout"), "max_retries": props.get("MaxRetries")})
        elif rtype == "AWS::CodeBuild::Project":
            knobs["codebuild_projects"].append({"project": name,
                                                "compute_type": props.get("Environment", {}).get("ComputeType"),
                                                "timeout_minutes": props.get("TimeoutInMinutes", 60)})
        elif rtype == "AWS::Lambda::Function":
            knobs["lambda_functions"].append({"function": name, "memory_mb": props.get("MemorySize", 128),
                                              "timeout_s": props.get("Timeout", 3),
                                              "reserved_concurrency": props.get("ReservedConcurrentExecutions")})
        elif rtype == "AWS::Logs::LogGroup":
            knobs["log_retention_days"][name] = props.get("RetentionInDays", "never expires")
        elif rtype == "AWS::S3::Bucket":
            rules = []
            for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
                rules.append({k: render(v) for k, v in sorted(rule.items()) if k != "Status"})
            knobs["s3_data_retention"].append({
                "bucket": name, "deletion_policy": resource.get("DeletionPolicy", "Delete"),
                "versioning": props.get("VersioningConfiguration", {}).get("Status", "Suspended"),
                "object_lock": render(props.get("ObjectLockConfiguration")), "lifecycle": rules,
            })
        elif rtype == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Interface":
            knobs["interface_endpoints"] += 1
    for key, value in knobs.items():
        if isinstance(value, list):
            value.sort(key=_statement_key)
    return knobs


def warehouse_sql(templates: dict[str, dict]) -> list[dict]:
    out = []
    for _, _, resource in _resources(templates):
        if resource["Type"] == "Custom::RedshiftBootstrap":
            for statement in resource["Properties"].get("Statements", []):
                out.append({k: render(v) for k, v in statement.items()})
    return out  # plan order is execution order: not sorted


def resources_per_stack(templates: dict[str, dict]) -> dict:
    out = {}
    for stack_id, template in templates.items():
        resources = template.get("Resources", {})
        out[stack_id] = {
            "count": len(resources),
            "by_type": dict(sorted(Counter(r["Type"] for r in resources.values()).items())),
            "resources": sorted(f"{r['Type']} {lid}" for lid, r in resources.items()),
        }
    return out


def acknowledgments(acks: Iterable[Any], config: Any) -> list[dict]:
    return sorted(({"path": a.path, "rule": a.rule_for(config), "reason": a.reason} for a in acks),
                  key=lambda a: (a["path"], a["rule"]))


def review_templates(name: str, config: Any, templates: dict[str, dict], acks: Iterable[Any]) -> dict:
    return {
        "environment": name,
        "account": config.account,
        "region": config.region,
        "stacks": list(templates),
        "iam_statements": iam_statements(templates),
        "kms_keys": kms_keys(templates),
        "network": network(templates),
        "nag_acknowledgments": acknowledgments(acks, config),
        "cost_knobs": cost_knobs(templates),
        "warehouse_access_sql": warehouse_sql(templates),
        "resources_per_stack": resources_per_stack(templates),
    }


def review_environment(synthesized: Any) -> dict:
    """The review pack of one synthesized environment (infra.synthesis.SynthesizedEnvironment)."""
    from infra import compliance

    templates = {stack_id: synthesized.template(stack_id) for stack_id in synthesized.stack_ids}
    return review_templates(synthesized.name, synthesized.config, templates,
                            compliance.acknowledgments_for(synthesized.name))


def review_pipeline(template: dict, host: Any) -> dict:
    """The review pack of the delivery pipeline stack alone (its stages' stacks are the environments' packs)."""
    from infra import compliance
    from infra.pipeline import PIPELINE_STACK_ID

    return review_templates(PIPELINE_NAME, host, {PIPELINE_STACK_ID: template}, compliance.cicd_acknowledgments(host))


def synthesize_pipeline(workdir: Path) -> tuple[dict, Any]:
    """(Delivery stack template, host config), synthesized like `cdk synth -c pipeline=true` (nag not run here:
    tests/delivery/test_pipeline.py proves it clean)."""
    from infra.application import new_app
    from infra.pipeline import PIPELINE_STACK_ID, build_delivery_pipeline, pipeline_host

    app = new_app("dev", outdir=workdir, extra_context={"pipeline": "true"}, validation=False)
    delivery = build_delivery_pipeline(app, nag=False)
    app.synth()
    template = json.loads((workdir / f"{PIPELINE_STACK_ID}.template.json").read_text())
    return template, pipeline_host(delivery.configs)


# --- output -------------------------------------------------------------------------------------------------------


def to_json(review: dict) -> str:
    return json.dumps(review, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = "<br>".join(_cell(v) for v in value) if value else "—"
    elif isinstance(value, dict):
        value = json.dumps(value, sort_keys=True) if value else "—"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def to_markdown(review: dict) -> str:
    env = review["environment"]
    net, cost = review["network"], review["cost_knobs"]
    title = "delivery pipeline" if env == PIPELINE_NAME else env
    lines = [f"# Review pack: {title} ({review['account']}, {review['region']})", "",
             "Generated by `make review` from the synthesized templates; approved copy committed by "
             "`make review-approve`. Do not edit by hand.", "",
             f"Stacks: {', '.join(review['stacks'])}", ""]
    lines += ["## Public endpoints (must be none)", ""]
    lines += [f"- {p}" for p in net["public_endpoints"]] or ["None."]
    lines += ["", "## IAM statements", ""]
    lines += _table(["Stack", "Source", "Kind", "Principal", "Effect", "Actions", "Resources", "Condition"],
                    ([s["stack"], s["source"], s["kind"], s.get("principal", []), s["effect"],
                      s.get("actions", s.get("managed_policy", s.get("not_actions", []))),
                      s.get("resources", s.get("not_resources", [])), s.get("condition", {})]
                     for s in review["iam_statements"]))
    lines += ["## KMS key policies", ""]
    for key in review["kms_keys"]:
        lines += [f"### {key['stack']}/{key['key']}: {key['description']}", "",
                  f"Rotation: {'on' if key['rotation'] else 'OFF'}; deletion policy: {key['deletion_policy']}", ""]
        lines += _table(["Principal", "Effect", "Actions", "Resources", "Condition"],
                        ([s.get("principal", []), s["effect"], s.get("actions", []), s.get("resources", []),
                          s.get("condition", {})] for s in key["statements"]))
    lines += ["## Network", "", "### Security groups", ""]
    lines += _table(["Group", "Stack", "Description", "Direction", "Peer", "Protocol", "Ports", "Rule"],
                    ([name, g["stack"], g["description"], r["direction"], r["peer"], r["protocol"], r["ports"],
                      r["description"]] for name, g in net["security_groups"].items() for r in g["rules"] or
                     [{"direction": "—", "peer": "—", "protocol": "—", "ports": "—", "description": "no rules"}]))
    lines += ["### VPC endpoints", ""]
    lines += _table(["Stack", "Service", "Type", "Private DNS"],
                    ([e["stack"], e["service"], e["type"], e["private_dns"]] for e in net["vpc_endpoints"]))
    lines += ["## cdk-nag acknowledgments", ""]
    lines += _table(["Construct (in the stage)", "Rule", "Reason"],
                    ([a["path"], a["rule"], a["reason"]] for a in review["nag_acknowledgments"]))
    lines += ["## Cost knobs", ""]
    lines += _table(["Workgroup", "Base RPU", "Max RPU", "Price-performance target"],
                    ([w["workgroup"], w["base_rpu"], w["max_rpu"], w["price_performance_target"]]
                     for w in cost["redshift_workgroups"]))
    lines += _table(["Usage limit", "Settings"], ([u["resource"], {k: v for k, v in u.items() if k != "resource"}]
                                                  for u in cost["redshift_usage_limits"]))
    lines += _table(["Glue job", "Worker type", "Workers", "Execution class", "Timeout (min)"],
                    ([j["job"], j["worker_type"], j["workers"], j["execution_class"], j["timeout_minutes"]]
                     for j in cost["glue_jobs"])) if cost["glue_jobs"] else ["No Glue jobs in this environment.", ""]
    lines += _table(["CodeBuild project", "Compute", "Timeout (min)"],
                    ([p["project"], p["compute_type"], p["timeout_minutes"]] for p in cost["codebuild_projects"]))
    lines += _table(["Lambda function", "Memory (MB)", "Timeout (s)", "Reserved concurrency"],
                    ([f["function"], f["memory_mb"], f["timeout_s"], f["reserved_concurrency"]]
                     for f in cost["lambda_functions"]))
    lines += [f"Interface VPC endpoints (billed per endpoint per AZ-hour): {cost['interface_endpoints']}", ""]
    lines += _table(["Log group", "Retention (days)"], ([k, v] for k, v in cost["log_retention_days"].items()))
    lines += _table(["Bucket", "Deletion policy", "Versioning", "Object lock", "Lifecycle rules"],
                    ([b["bucket"], b["deletion_policy"], b["versioning"], b["object_lock"] or "—", b["lifecycle"]]
                     for b in cost["s3_data_retention"]))
    lines += ["## Warehouse access (Redshift bootstrap SQL, in execution order)", ""]
    for statement in review["warehouse_access_sql"]:
        sql = statement["sql"] if isinstance(statement["sql"], str) else json.dumps(statement["sql"])
        guard = f" (skipped when `{statement['skip_if']}` returns a row)" if statement.get("skip_if") else ""
        lines += [f"- **{statement['name']}**{guard}", "", "  ```sql", *("  " + s for s in sql.splitlines()),
                  "  ```", ""]
    lines += ["## Resources per stack", ""]
    for stack_id, stack in review["resources_per_stack"].items():
        lines += [f"### {stack_id} ({stack['count']} resources)", ""]
        lines += _table(["Type", "Count"], ([t, n] for t, n in stack["by_type"].items()))
    return "\n".join(lines).rstrip() + "\n"


def diff(approved: str, current: str, env: str) -> str:
    return "".join(difflib.unified_diff(approved.splitlines(keepends=True), current.splitlines(keepends=True),
                                        fromfile=f"review/{env}.json (approved)",
                                        tofile=f"review/{env}.json (synthesized now)", n=2))


def synthesize_all(envs: Iterable[str], workdir: Path) -> dict[str, Any]:
    from infra.synthesis import synthesize_environment

    # Built-in template validation does not change a template: skipped here for speed (make synth/test keep it on).
    return {env: synthesize_environment(env, workdir / env, validation=False) for env in envs}


def main(argv: list[str] | None = None) -> int:
    import tempfile

    from infra.config import ENVIRONMENT_NAMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approve", action="store_true", help="write the approved baseline review/<env>.*")
    parser.add_argument("--env", action="append", choices=(*ENVIRONMENT_NAMES, PIPELINE_NAME),
                        help="default: every environment and the delivery pipeline")
    args = parser.parse_args(argv)
    names = args.env or [*ENVIRONMENT_NAMES, PIPELINE_NAME]
    target = BASELINE_DIR if args.approve else OUTPUT_DIR
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    with tempfile.TemporaryDirectory(prefix="review-") as workdir:
        reviews = {}
        for env, synthesized in synthesize_all([n for n in names if n != PIPELINE_NAME], Path(workdir)).items():
            if synthesized.unacknowledged:
                print(f"error: {env} has {len(synthesized.unacknowledged)} unacknowledged cdk-nag findings: run "
                      "make test (tests/infra/test_compliance.py lists them) before reviewing", file=sys.stderr)
                return 1
            reviews[env] = review_environment(synthesized)
        if PIPELINE_NAME in names:
            (Path(workdir) / PIPELINE_NAME).mkdir()
            reviews[PIPELINE_NAME] = review_pipeline(*synthesize_pipeline(Path(workdir) / PIPELINE_NAME))
        for env, review in reviews.items():
            current = to_json(review)
            baseline = BASELINE_DIR / f"{env}.json"
            approved = baseline.read_text() if baseline.exists() else ""
            (target / f"{env}.json").write_text(current)
            (target / f"{env}.md").write_text(to_markdown(review))
            if approved != current:
                changed.append(env)
            print(f"{env}: wrote {target.relative_to(REPO_ROOT)}/{env}.md and .json"
                  + ("" if args.approve or approved == current else " — differs from the approved baseline"))
    if changed and not args.approve:
        print(f"review: {', '.join(changed)} changed since the approved pack: read review_output/<env>.md, then "
              "`make review-approve` and commit review/ with the change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
