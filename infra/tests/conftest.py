import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from library_infra.app_stack import LibraryStack, StackOptions
from library_infra.registry import RegistryStack


def synthesize(**options):
    app = cdk.App()
    registry = RegistryStack(app, "LibraryRegistry")
    stack = LibraryStack(app, "Library", registry.repository_names, StackOptions(**options))
    return Template.from_stack(stack), Template.from_stack(registry)


@pytest.fixture(scope="session")
def templates():
    return synthesize(image_tag="abc123")


@pytest.fixture(scope="session")
def template(templates):
    return templates[0]


@pytest.fixture(scope="session")
def registry(templates):
    return templates[1]
