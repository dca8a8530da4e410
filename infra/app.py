"""The library on AWS: `python app.py` (or `cdk synth`) writes CloudFormation templates to cdk.out/.

Two stacks: LibraryRegistry (one ECR repository per image; deploy it first, then push images)
and Library (network, database, services, load balancer, monitoring). Context (cdk.json or -c):
imageTag (the images to run), tracing (true: traces to X-Ray through ADOT collector sidecars) and
traceSampleRatio, certificateArn (HTTPS), alarmEmail (who hears the alarms).
"""

import os

import aws_cdk as cdk

from library_infra.app_stack import LibraryStack, StackOptions
from library_infra.registry import RegistryStack

app = cdk.App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
registry = RegistryStack(app, "LibraryRegistry")
LibraryStack(app, "Library", registry.repository_names, StackOptions.from_context(app.node))
app.synth()
