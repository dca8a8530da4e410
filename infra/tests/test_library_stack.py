"""What the synthesized CloudFormation must contain (aws_cdk.assertions; no AWS account needed)."""

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from library_infra.services import SERVICES

from .conftest import synthesize

PORTS = {spec.name: spec.port for spec in SERVICES}


def resources(template, kind):
    return template.find_resources(kind)


def containers(template):
    for task in resources(template, "AWS::ECS::TaskDefinition").values():
        yield from task["Properties"]["ContainerDefinitions"]


def app_container(template, name):
    return next(c for c in containers(template) if c["Name"] == name)


def test_a_vpc_over_two_availability_zones(template):
    template.resource_count_is("AWS::EC2::VPC", 1)
    subnets = resources(template, "AWS::EC2::Subnet")
    assert len(subnets) == 6  # public, services and database subnets in each of two zones
    template.resource_count_is("AWS::EC2::NatGateway", 1)


def test_one_image_repository_per_service(registry):
    registry.resource_count_is("AWS::ECR::Repository", len(SERVICES))
    registry.has_resource_properties("AWS::ECR::Repository", {
        "RepositoryName": "library/books", "ImageScanningConfiguration": {"ScanOnPush": True},
        "ImageTagMutability": "IMMUTABLE"})


def test_five_fargate_services_and_their_workers_run_the_tagged_images(template):
    template.resource_count_is("AWS::ECS::Cluster", 1)
    template.resource_count_is("AWS::ECS::Service", len(SERVICES) + len([s for s in SERVICES if s.worker]))
    for spec in SERVICES:
        image = json.dumps(app_container(template, spec.name)["Image"])
        assert f"library/{spec.name}" in image and "abc123" in image


def test_borrow_service_s_worker_runs_its_image_with_the_worker_command_and_its_settings(template):
    worker, service = app_container(template, "borrows-worker"), app_container(template, "borrows")

    assert worker["Command"] == ["python", "-m", "library_common.worker", "borrow_service"]
    assert worker["Image"] == service["Image"]
    assert {s["Name"] for s in worker["Secrets"]} == {s["Name"] for s in service["Secrets"]} >= {
        "HISTORY_PSEUDONYM_KEY", "DB_PASSWORD"}
    assert "PortMappings" not in worker or not worker["PortMappings"]
    workers = [r for r in resources(template, "AWS::ECS::Service").values()
               if not r["Properties"].get("LoadBalancers") and r["Properties"]["DesiredCount"] == 1]
    assert len(workers) == len([spec for spec in SERVICES if spec.worker]) == 3


def test_internal_calls_use_service_discovery_not_the_load_balancer(template):
    template.resource_count_is("AWS::ServiceDiscovery::PrivateDnsNamespace", 1)
    template.has_resource_properties("AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "library.internal"})
    template.resource_count_is("AWS::ServiceDiscovery::Service", len(SERVICES))
    environment = {e["Name"]: e["Value"] for e in app_container(template, "borrows")["Environment"]}
    assert environment["BOOKS_SERVICE_URL"] == "http://books.library.internal:5000/api/books"
    assert environment["JWKS_URL"] == "http://users.library.internal:5001/api/users/.well-known/jwks.json"


def test_one_load_balancer_routes_paths_and_checks_health(template):
    template.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 1)
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing"})
    for prefix in ("/api/books", "/api/users", "/api/borrows", "/api/notifications"):
        template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
            "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": [prefix, f"{prefix}/*"]}}]})
    health_paths = sorted(tg["Properties"]["HealthCheckPath"]
                          for tg in resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values())
    assert health_paths == ["/api/books/health", "/api/borrows/health", "/api/notifications/health",
                            "/api/users/health", "/health"]


def test_aurora_serverless_v2_with_generated_credentials(template):
    template.has_resource_properties("AWS::RDS::DBCluster", {
        "Engine": "aurora-postgresql", "StorageEncrypted": True,
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4}})
    template.has_resource_properties("AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless"})
    template.has_resource_properties("AWS::SecretsManager::SecretTargetAttachment",
                                     {"TargetType": "AWS::RDS::DBCluster"})


SECRET_NAMES = {"SECRET_KEY", "JWT_PRIVATE_KEY", "DB_USER", "DB_PASSWORD"}


def test_secrets_are_injected_from_secrets_manager_never_as_plain_values(template):
    for container in containers(template):
        plain = {variable["Name"] for variable in container.get("Environment", [])}
        assert not plain & SECRET_NAMES, container["Name"]
    users = {s["Name"] for s in app_container(template, "users")["Secrets"]}
    web = {s["Name"] for s in app_container(template, "web")["Secrets"]}
    assert users == {"SECRET_KEY", "LINK_SECRET_KEY", "JWT_PRIVATE_KEY", "NOTIFICATION_SERVICE_SECRET",
                     "BOOKS_SERVICE_SECRET", "DB_USER", "DB_PASSWORD"}
    assert web == {"SECRET_KEY"}
    assert "dev-only-insecure-secret" not in json.dumps(template.to_json())


def test_the_signing_key_is_generated_by_a_custom_resource(template):
    template.has_resource_properties("AWS::CloudFormation::CustomResource",
                                     {"SecretId": Match.object_like({"Ref": Match.string_like_regexp("SigningKey")})})
    template.has_resource_properties("AWS::Lambda::Function", {"Runtime": "nodejs24.x", "Handler": "index.handler"})


def test_logs_are_kept_for_a_month(template):
    groups = resources(template, "AWS::Logs::LogGroup")
    service_groups = [g for g in groups.values() if g["Properties"].get("RetentionInDays") == 30]
    assert len(service_groups) == len(SERVICES) + len([spec for spec in SERVICES if spec.worker])


def test_every_service_scales_on_cpu_and_requests(template):
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", len(SERVICES))
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    metrics = sorted(p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
                     ["PredefinedMetricType"] for p in policies)
    assert metrics == ["ALBRequestCountPerTarget"] * len(SERVICES) + ["ECSServiceAverageCPUUtilization"] * len(SERVICES)


def test_alarms_for_errors_latency_health_and_database_cpu(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    descriptions = sorted(a["Properties"]["AlarmDescription"] for a in alarms)
    assert len(descriptions) == 3 * len(SERVICES) + 2
    for spec in SERVICES:
        assert f"{spec.name}: more than 5% of requests answered 5xx" in descriptions
        assert f"{spec.name}: p95 latency above 1 s" in descriptions
        assert f"{spec.name}: a task fails its health check" in descriptions
    assert "Aurora CPU above 80% for 15 minutes" in descriptions
    assert "notifications: 10 or more mail sends failed in 15 minutes" in descriptions
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def _ingress_rules(template):
    """Every ingress rule, standalone or written inside its security group, with the group it opens."""
    rules = [rule["Properties"] for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    for logical, group in resources(template, "AWS::EC2::SecurityGroup").items():
        rules += [{"GroupId": {"Fn::GetAtt": [logical, "GroupId"]}, **rule}
                  for rule in group["Properties"].get("SecurityGroupIngress", [])]
    return rules


def _group_id(template, description):
    return next(logical for logical, group in resources(template, "AWS::EC2::SecurityGroup").items()
                if group["Properties"]["GroupDescription"] == description)


def test_only_the_load_balancer_and_the_services_reach_the_services(template):
    services = _group_id(template, "Library: the services")
    load_balancer = _group_id(template, "Library: the public load balancer")
    into_services = [r for r in _ingress_rules(template) if r.get("GroupId") == {"Fn::GetAtt": [services, "GroupId"]}]
    assert into_services
    for rule in into_services:
        assert "CidrIp" not in rule
        assert rule["SourceSecurityGroupId"]["Fn::GetAtt"][0] in {services, load_balancer}
        assert rule["FromPort"] in PORTS.values()


def test_only_the_services_reach_the_database(template):
    database = _group_id(template, "Library: Aurora")
    services = _group_id(template, "Library: the services")
    into_database = [r for r in _ingress_rules(template) if r.get("GroupId") == {"Fn::GetAtt": [database, "GroupId"]}]
    assert [(r["SourceSecurityGroupId"]["Fn::GetAtt"][0], r["FromPort"]) for r in into_database] == [(services, 5432)]


def test_the_public_side_is_only_the_load_balancer(template):
    load_balancer = _group_id(template, "Library: the public load balancer")
    public = [r for r in _ingress_rules(template) if r.get("CidrIp") == "0.0.0.0/0"]
    assert public and all(r["GroupId"] == {"Fn::GetAtt": [load_balancer, "GroupId"]} for r in public)


@pytest.mark.parametrize("tracing", [False, True])
def test_tracing_is_behind_a_flag_and_sends_every_task_s_spans_through_an_adot_collector_to_x_ray(tracing):
    template, _ = synthesize(tracing=tracing)
    tasks = [task["Properties"] for task in resources(template, "AWS::ECS::TaskDefinition").values()]
    assert len(tasks) == len(SERVICES) + len([spec for spec in SERVICES if spec.worker])
    for task in tasks:
        apps = [c for c in task["ContainerDefinitions"] if c["Name"] != "otel-collector"]
        collectors = [c for c in task["ContainerDefinitions"] if c["Name"] == "otel-collector"]
        settings = {setting["Name"]: setting["Value"] for app in apps for setting in app["Environment"]}
        if not tracing:
            assert not collectors and not [name for name in settings if name.startswith("OTEL_")]
            continue
        [collector] = collectors
        assert "aws-observability/aws-otel-collector:" in collector["Image"] and collector["Essential"] is False
        assert collector["Command"] == ["--config=/etc/ecs/ecs-default-config.yaml"]
        assert settings["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://localhost:4318"  # library_common.tracing
        assert settings["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
        role = task["TaskRoleArn"]["Fn::GetAtt"][0]
        policies = json.dumps(template.to_json()["Resources"][role]["Properties"]["ManagedPolicyArns"])
        assert "AWSXRayDaemonWriteAccess" in policies
    assert "xray-daemon" not in json.dumps(template.to_json())


def test_https_when_a_certificate_is_given():
    template, _ = synthesize(certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/abc")
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {"Port": 443, "Protocol": "HTTPS"})
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 80, "DefaultActions": [Match.object_like({
            "Type": "redirect", "RedirectConfig": Match.object_like({"Protocol": "HTTPS", "Port": "443"})})]})
    listeners = resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert not [listener for listener in listeners
                if listener["Properties"].get("Protocol") == "HTTP"
                and listener["Properties"]["DefaultActions"][0]["Type"] != "redirect"]


def test_only_addresses_inside_the_vpc_may_say_who_the_client_is(template):
    vpc = next(iter(resources(template, "AWS::EC2::VPC")))
    for spec in SERVICES:
        environment = {e["Name"]: e["Value"] for e in app_container(template, spec.name)["Environment"]}
        assert environment["TRUSTED_PROXIES"] == {"Fn::GetAtt": [vpc, "CidrBlock"]}, spec.name


def test_without_a_certificate_synthesis_warns_that_one_is_needed():
    import aws_cdk as cdk
    from aws_cdk.assertions import Annotations

    from library_infra.app_stack import LibraryStack, StackOptions
    from library_infra.registry import RegistryStack

    def stack(certificate_arn):
        app = cdk.App()
        registry = RegistryStack(app, "LibraryRegistry")
        return LibraryStack(app, "Library", registry.repository_names, StackOptions(certificate_arn=certificate_arn))

    Annotations.from_stack(stack("")).has_warning("/Library", Match.string_like_regexp("No certificateArn"))
    with_certificate = Annotations.from_stack(stack("arn:aws:acm:eu-west-1:123456789012:certificate/abc"))
    with_certificate.has_no_warning("/Library", Match.string_like_regexp("No certificateArn"))


def test_notification_service_and_its_worker_mail_through_ses_with_the_secret_user_service_checks(template):
    service, worker = app_container(template, "notifications"), app_container(template, "notifications-worker")
    users = {s["Name"]: s["ValueFrom"] for s in app_container(template, "users")["Secrets"]}

    for container in (service, worker):
        environment = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert environment["MAIL_TRANSPORT"] == "ses" and environment["DB_NAME"] == "notifications"
        assert environment["USER_SERVICE_URL"] == "http://users.library.internal:5001/api/users"
        secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
        assert secrets["SERVICE_SECRET"] == users["NOTIFICATION_SERVICE_SECRET"]
    assert worker["Command"] == ["python", "-m", "library_common.worker", "notification_service"]
    web = {e["Name"]: e["Value"] for e in app_container(template, "web")["Environment"]}
    assert web["NOTIFICATION_SERVICE_URL"] == "http://notifications.library.internal:5003/api/notifications"


def test_only_notification_service_may_send_mail(template):
    sending = []
    for logical, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("ses:") for action in actions):
                sending.append(logical)
    assert len(sending) == 2 and all(name.startswith("Notifications") for name in sending)


def test_the_mail_domain_gets_its_ses_identity_and_failures_are_counted_and_alarm():
    template, _registry = synthesize(mail_domain="library.example.org")

    template.has_resource_properties("AWS::Logs::MetricFilter", {
        "FilterPattern": '"mail send failed"',
        "MetricTransformations": [Match.object_like({"MetricName": "MailSendFailures", "MetricValue": "1"})]})
    policy = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "identity/library.example.org" in policy and "identity/*" not in policy
    template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "library.example.org"})
    assert len([name for name in template.find_outputs("*") if name.startswith("MailDkimRecord")]) == 3


def test_books_service_s_worker_imports_with_the_secret_user_service_checks(template):
    users = {s["Name"]: s["ValueFrom"] for s in app_container(template, "users")["Secrets"]}
    for name in ("books", "books-worker"):
        secrets = {s["Name"]: s["ValueFrom"] for s in app_container(template, name)["Secrets"]}
        assert secrets["SERVICE_SECRET"] == users["BOOKS_SERVICE_SECRET"] != users["NOTIFICATION_SERVICE_SECRET"]
    assert app_container(template, "books-worker")["Command"] == ["python", "-m", "library_common.worker",
                                                                  "books_service"]


def test_metrics_are_served_inside_each_task_never_through_the_load_balancer_or_the_security_groups(template):
    metrics_ports = {spec.metrics_port for spec in SERVICES}
    assert len(metrics_ports) == len(SERVICES) and not metrics_ports & set(PORTS.values())
    for container in containers(template):
        if container["Name"] == "xray-daemon":
            continue
        environment = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert int(environment["METRICS_PORT"]) in metrics_ports and "METRICS_HOST" not in environment  # loopback
        assert not {m["ContainerPort"] for m in container.get("PortMappings", [])} & metrics_ports
    for target_group in resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values():
        assert target_group["Properties"]["Port"] not in metrics_ports
    for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values():
        assert listener["Properties"]["Port"] not in metrics_ports
    for rule in _ingress_rules(template):
        assert not any(rule["FromPort"] <= port <= rule["ToPort"] for port in metrics_ports), rule


def test_the_prometheus_alerts_of_make_monitor_watch_what_the_cloudwatch_alarms_watch(template):
    """monitoring/rules: each alert that names a CloudWatch alarm (annotation aws_alarm) has one of that description,
    so the thresholds an operator reads are the same here and there."""
    import yaml

    rules = yaml.safe_load((Path(__file__).resolve().parents[2] / "monitoring/rules/library.yml").read_text())
    named = {rule["alert"]: rule["annotations"]["aws_alarm"] for group in rules["groups"] for rule in group["rules"]
             if "aws_alarm" in rule.get("annotations", {})}
    descriptions = [a["Properties"]["AlarmDescription"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]

    assert set(named) == {"ServiceDown", "ErrorRate", "Latency", "MailFailures"}
    for alert, alarm in named.items():
        assert any(description.endswith(alarm) for description in descriptions), alert
