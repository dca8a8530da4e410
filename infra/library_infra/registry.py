import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from .services import SERVICES


class RegistryStack(cdk.Stack):
    """One ECR repository per image. Kept apart so CI can push images before the app stack deploys them."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs):
        super().__init__(scope, construct_id, description="Library: container image repositories", **kwargs)
        self.repository_names = {}
        for spec in SERVICES:
            ecr.Repository(
                self,
                f"{spec.name.title()}Repository",
                repository_name=f"library/{spec.name}",
                image_scan_on_push=True,
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                lifecycle_rules=[ecr.LifecycleRule(max_image_count=30, description="keep the last 30 images")],
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            self.repository_names[spec.name] = f"library/{spec.name}"  # a plain name: no cross-stack export
