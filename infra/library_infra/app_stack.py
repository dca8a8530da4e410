"""The running library: VPC, Aurora Serverless v2, five Fargate services (and their workers) behind one ALB,
mail through Amazon SES, monitoring."""

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .services import BY_NAME, NAMESPACE, NEIGHBOUR_SETTINGS, SERVICES, ServiceSpec
from .signing_key import SigningKeySecret

# AWS Distro for OpenTelemetry's collector: its ECS configuration receives OTLP on localhost:4317/4318 and sends
# the spans to X-Ray (which takes W3C trace ids as they are).
TRACE_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
TRACE_COLLECTOR_CONFIG = "/etc/ecs/ecs-default-config.yaml"


@dataclass(frozen=True)
class StackOptions:
    image_tag: str = "latest"
    tracing: bool = False
    trace_sample_ratio: float = 1.0  # of the traces begun (a request from outside); the hops after follow it
    certificate_arn: str = ""
    alarm_email: str = ""
    desired_count: int = 2
    max_count: int = 6
    # Mail: the SES identity (a verified domain or address) notices are sent from, and the From header.
    mail_domain: str = ""
    mail_from: str = ""
    site_url: str = ""  # links in mail point here; default: the load balancer's address

    @classmethod
    def from_context(cls, node):
        def context(key, default=""):
            return str(node.try_get_context(key) or default)

        return cls(
            image_tag=context("imageTag", "latest"),
            tracing=context("tracing", "false").lower() == "true",
            trace_sample_ratio=float(context("traceSampleRatio", "1")),
            certificate_arn=context("certificateArn"),
            alarm_email=context("alarmEmail"),
            desired_count=int(context("desiredCount", "2")),
            mail_domain=context("mailDomain"),
            mail_from=context("mailFrom"),
            site_url=context("siteUrl"),
        )


class LibraryStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, repository_names: dict, options: StackOptions, **kwargs):
        super().__init__(scope, construct_id, description="Library: services, database and load balancer", **kwargs)
        self.options = options

        self.vpc = ec2.Vpc(
            self,
            "Network",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="services", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        self.alb_security_group = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=self.vpc, description="Library: the public load balancer"
        )
        self.services_security_group = ec2.SecurityGroup(
            self, "ServicesSecurityGroup", vpc=self.vpc, description="Library: the services"
        )
        self.database_security_group = ec2.SecurityGroup(
            self, "DatabaseSecurityGroup", vpc=self.vpc, description="Library: Aurora", allow_all_outbound=False
        )
        self.database_security_group.add_ingress_rule(
            self.services_security_group, ec2.Port.tcp(5432), "only the services reach the database"
        )

        self.database = rds.DatabaseCluster(
            self,
            "Database",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.VER_17_5),
            credentials=rds.Credentials.from_generated_secret("library"),
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            serverless_v2_min_capacity=0.5,
            serverless_v2_max_capacity=4,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.database_security_group],
            storage_encrypted=True,
            backup=rds.BackupProps(retention=cdk.Duration.days(7)),
            removal_policy=cdk.RemovalPolicy.SNAPSHOT,
        )

        self.alarm_topic = sns.Topic(self, "Alarms", display_name="Library alarms")
        if options.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(options.alarm_email))

        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(name=NAMESPACE, use_for_service_connect=False),
        )
        self.secrets = {
            "users": {"SECRET_KEY": self._generated_secret("UserServiceSecretKey", "user-service SECRET_KEY"),
                      "LINK_SECRET_KEY": self._generated_secret("LinkSecretKey", "user-service key of mailed links")},
            "web": {"SECRET_KEY": self._generated_secret("FrontendSecretKey", "web-frontend session key")},
            "borrows": {"HISTORY_PSEUDONYM_KEY": self._generated_secret(
                "HistoryPseudonymKey", "borrow-service key of anonymised borrowers' pseudonyms")},
        }
        # One secret, two names: user-service checks it, notification-service gets its tokens with it.
        notifier = self._generated_secret("NotifierSecret", "notification-service's secret at user-service")
        self.secrets["users"]["NOTIFICATION_SERVICE_SECRET"] = notifier
        self.secrets["notifications"] = {"SERVICE_SECRET": notifier}
        books = self._generated_secret("BooksServiceSecret", "books-service's secret at user-service")
        self.secrets["users"]["BOOKS_SERVICE_SECRET"] = books
        self.secrets["books"] = {"SERVICE_SECRET": books}
        self.signing_key = SigningKeySecret(self, "SigningKey")
        self.secrets["users"]["JWT_PRIVATE_KEY"] = self.signing_key.secret

        self.load_balancer, self.listener = self._load_balancer()
        self.services = {}
        self.target_groups = {}
        self.worker_logs = {}
        for priority, spec in enumerate(SERVICES, start=1):
            repository = ecr.Repository.from_repository_name(
                self, f"{spec.name.title()}Images", repository_names[spec.name]
            )
            service, target_group = self._service(spec, repository, priority)
            self.services[spec.name] = service
            self.target_groups[spec.name] = target_group
            self._scaling(spec, service, target_group)
            self._alarms(spec, target_group)
            if spec.worker:
                self.services[f"{spec.name}-worker"] = self._worker(spec, repository)
        self.services["users"].node.add_dependency(self.signing_key.resource)
        self._mail()

        database_cpu = cloudwatch.Alarm(
            self,
            "DatabaseCpuAlarm",
            alarm_description="Aurora CPU above 80% for 15 minutes",
            metric=self.database.metric_cpu_utilization(period=cdk.Duration.minutes(5)),
            threshold=80,
            evaluation_periods=3,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        database_cpu.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))

        cdk.CfnOutput(self, "Url", value=self._public_url())
        cdk.CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)

    def _generated_secret(self, construct_id, purpose):
        return secretsmanager.Secret(
            self,
            construct_id,
            description=f"Library: {purpose}",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
        )

    def _load_balancer(self):
        load_balancer = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer", vpc=self.vpc, internet_facing=True, security_group=self.alb_security_group,
            drop_invalid_header_fields=True,
        )
        if self.options.certificate_arn:
            load_balancer.add_redirect(source_port=80, target_port=443)
            listener = load_balancer.add_listener(
                "Https", port=443, certificates=[elbv2.ListenerCertificate(self.options.certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_action=elbv2.ListenerAction.fixed_response(404, message_body="Not found"),
            )
        else:
            cdk.Annotations.of(self).add_warning_v2(
                "library:no-certificate",
                "No certificateArn: the library is served over plain HTTP, where the web pages cannot log anyone in "
                "(production session cookies are Secure) and passwords would cross the internet in the clear. "
                "Give an ACM certificate (-c certificateArn=...) for any real use.")
            listener = load_balancer.add_listener(
                "Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404, message_body="Not found")
            )
        return load_balancer, listener

    def _environment(self, spec: ServiceSpec):
        environment = {
            "APP_ENV": "production",
            "BIND": f"0.0.0.0:{spec.port}",
            "METRICS_PORT": str(spec.metrics_port),  # bound to loopback (METRICS_HOST's default)
            "WEB_CONCURRENCY": "2",
            # Only the load balancer and the services (the web frontend above all) live in the VPC: their
            # X-Forwarded-For says who the client is; nobody else's is believed.
            "TRUSTED_PROXIES": self.vpc.vpc_cidr_block,
            "JWKS_URL": f"{BY_NAME['users'].internal_url}/.well-known/jwks.json",
            **{NEIGHBOUR_SETTINGS[name]: BY_NAME[name].internal_url for name in spec.neighbours},
        }
        if spec.path_prefix:
            environment["SCRIPT_NAME"] = spec.path_prefix  # gunicorn serves the app under the ALB's path
        if spec.database:
            environment |= {
                "DB_HOST": self.database.cluster_endpoint.hostname,
                "DB_PORT": cdk.Token.as_string(self.database.cluster_endpoint.port),
                "DB_NAME": spec.database,
            }
        if spec.name == "notifications":
            environment |= {
                "MAIL_TRANSPORT": "ses",  # Amazon SES's API with the task's role: no SMTP password to keep
                "SITE_URL": self.options.site_url or self._public_url(),
                **({"MAIL_FROM": self.options.mail_from} if self.options.mail_from else {}),
            }
        if self.options.tracing:  # library_common.tracing: spans by OTLP/HTTP to the collector beside the app
            environment |= {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
                "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": str(self.options.trace_sample_ratio),
            }
        return environment

    def _public_url(self):
        scheme = "https" if self.options.certificate_arn else "http"
        return f"{scheme}://{self.load_balancer.load_balancer_dns_name}"

    def _container_secrets(self, spec: ServiceSpec):
        secrets = {
            name: ecs.Secret.from_secrets_manager(secret) for name, secret in self.secrets.get(spec.name, {}).items()
        }
        if spec.database:
            secrets["DB_USER"] = ecs.Secret.from_secrets_manager(self.database.secret, "username")
            secrets["DB_PASSWORD"] = ecs.Secret.from_secrets_manager(self.database.secret, "password")
        return secrets

    def _service(self, spec: ServiceSpec, repository, priority):
        title = spec.name.title()
        task = ecs.FargateTaskDefinition(self, f"{title}Task", cpu=512, memory_limit_mib=1024)
        log_group = logs.LogGroup(
            self, f"{title}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        task.add_container(
            spec.name,
            image=ecs.ContainerImage.from_ecr_repository(repository, tag=self.options.image_tag),
            environment=self._environment(spec),
            secrets=self._container_secrets(spec),
            port_mappings=[ecs.PortMapping(container_port=spec.port)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix=spec.name, log_group=log_group),
        )
        self._trace_collector(task, spec.name, log_group)

        service = ecs.FargateService(
            self,
            f"{title}Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=self.options.desired_count,
            min_healthy_percent=100,
            security_groups=[self.services_security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            cloud_map_options=ecs.CloudMapOptions(name=spec.name),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            enable_execute_command=True,
        )
        self.services_security_group.add_ingress_rule(
            self.alb_security_group, ec2.Port.tcp(spec.port), f"the load balancer reaches {spec.name}"
        )
        self.services_security_group.add_ingress_rule(
            self.services_security_group, ec2.Port.tcp(spec.port), f"the other services reach {spec.name}"
        )
        target_group = elbv2.ApplicationTargetGroup(
            self,
            f"{title}Targets",
            vpc=self.vpc,
            port=spec.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service],
            deregistration_delay=cdk.Duration.seconds(30),
            health_check=elbv2.HealthCheck(path=spec.health_path, healthy_http_codes="200",
                                           interval=cdk.Duration.seconds(15)),
        )
        if spec.path_prefix:
            self.listener.add_action(
                f"{title}Route",
                priority=priority * 10,
                conditions=[elbv2.ListenerCondition.path_patterns([spec.path_prefix, f"{spec.path_prefix}/*"])],
                action=elbv2.ListenerAction.forward([target_group]),
            )
        else:
            self.listener.add_action(f"{title}Default", action=elbv2.ListenerAction.forward([target_group]))
        return service, target_group

    def _worker(self, spec: ServiceSpec, repository):
        """The service's worker: its image and settings, the worker command, no load balancer. One task is
        enough (procrastinate hands each job to one worker; the schedule runs once however many there are)."""
        title = f"{spec.name.title()}Worker"
        task = ecs.FargateTaskDefinition(self, f"{title}Task", cpu=256, memory_limit_mib=512)
        log_group = logs.LogGroup(
            self, f"{title}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        task.add_container(
            f"{spec.name}-worker",
            image=ecs.ContainerImage.from_ecr_repository(repository, tag=self.options.image_tag),
            command=["python", "-m", "library_common.worker", spec.worker],
            environment=self._environment(spec),
            secrets=self._container_secrets(spec),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=f"{spec.name}-worker", log_group=log_group),
        )
        self._trace_collector(task, f"{spec.name}-worker", log_group)
        self.worker_logs[spec.name] = log_group
        return ecs.FargateService(
            self,
            f"{title}Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=1,
            min_healthy_percent=0,  # a deployment may stop the old worker first: jobs wait in the database
            security_groups=[self.services_security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )

    def _trace_collector(self, task, name, log_group):
        """With tracing on, the task's app sends its spans to an ADOT collector beside it, which sends them to X-Ray
        with the task's role. Not essential: the app goes on serving should the collector stop."""
        if not self.options.tracing:
            return
        task.add_container(
            "otel-collector",
            image=ecs.ContainerImage.from_registry(TRACE_COLLECTOR_IMAGE),
            command=[f"--config={TRACE_COLLECTOR_CONFIG}"],
            essential=False,
            cpu=64,
            memory_reservation_mib=128,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=f"{name}-otel", log_group=log_group),
        )
        task.task_role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("AWSXRayDaemonWriteAccess"))

    def _mail(self):
        """notification-service and its worker send through SES, from the mail identity alone; mail that
        keeps failing (the worker logs "mail send failed" per attempt, up to MAIL_MAX_ATTEMPTS) raises an alarm."""
        identities = f"arn:{cdk.Aws.PARTITION}:ses:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:identity"
        if self.options.mail_domain:
            # The domain's SES identity, signed with Easy DKIM: its three CNAME records must go into the domain's
            # DNS (the outputs name them) before SES sends for it.
            domain = ses.EmailIdentity(self, "MailIdentity", identity=ses.Identity.domain(self.options.mail_domain))
            for number, record in enumerate(domain.dkim_records, start=1):
                cdk.CfnOutput(self, f"MailDkimRecord{number}", value=f"{record.name} CNAME {record.value}")
            identity = f"{identities}/{self.options.mail_domain}"
        else:
            identity = f"{identities}/*"
            cdk.Annotations.of(self).add_warning_v2(
                "library:no-mail-domain",
                "No mailDomain: notification-service may send from any SES identity of the account. Give the "
                "library's domain (-c mailDomain=library.example.org -c mailFrom='Library <library@...>'): the "
                "stack then creates its SES identity and sends from it alone.")
        for name in ("notifications", "notifications-worker"):
            self.services[name].task_definition.task_role.add_to_principal_policy(iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"], resources=[identity]))
        failures = logs.MetricFilter(
            self, "MailFailuresFilter", log_group=self.worker_logs["notifications"],
            filter_pattern=logs.FilterPattern.literal('"mail send failed"'),
            metric_namespace="Library", metric_name="MailSendFailures", metric_value="1", default_value=0)
        alarm = cloudwatch.Alarm(
            self, "MailFailuresAlarm", metric=failures.metric(statistic="Sum", period=cdk.Duration.minutes(15)),
            threshold=10, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description="notifications: 10 or more mail sends failed in 15 minutes",
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))

    def _scaling(self, spec, service, target_group):
        scaling = service.auto_scale_task_count(min_capacity=self.options.desired_count,
                                                max_capacity=self.options.max_count)
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        scaling.scale_on_request_count("Requests", requests_per_target=600, target_group=target_group)

    def _alarms(self, spec, target_group):
        title = spec.name.title()
        metrics = target_group.metrics
        five_minutes = cdk.Duration.minutes(5)
        error_rate = cloudwatch.MathExpression(
            expression="100 * errors / MAX([requests, 1])",
            using_metrics={
                "errors": metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=five_minutes),
                "requests": metrics.request_count(period=five_minutes),
            },
            period=five_minutes,
            label=f"{spec.name} 5xx %",
        )
        alarms = [
            cloudwatch.Alarm(self, f"{title}ErrorRateAlarm", metric=error_rate, threshold=5, evaluation_periods=1,
                             alarm_description=f"{spec.name}: more than 5% of requests answered 5xx",
                             treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
            cloudwatch.Alarm(self, f"{title}LatencyAlarm",
                             metric=metrics.target_response_time(statistic="p95", period=cdk.Duration.minutes(1)),
                             threshold=1, evaluation_periods=5, datapoints_to_alarm=3,
                             alarm_description=f"{spec.name}: p95 latency above 1 s",
                             treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
            cloudwatch.Alarm(self, f"{title}UnhealthyAlarm",
                             metric=metrics.unhealthy_host_count(period=cdk.Duration.minutes(1)),
                             threshold=1, evaluation_periods=2,
                             comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                             alarm_description=f"{spec.name}: a task fails its health check",
                             treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
