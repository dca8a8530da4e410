"""Each service's /docs works offline and runs no code from elsewhere (issue 12, finding 7)."""

from urllib.parse import urlsplit

import pytest


@pytest.mark.parametrize("service", ["books", "users", "borrows"])
def test_the_api_docs_render_from_the_service_alone_under_its_policy(stack, page, service):
    origin = urlsplit(stack.url[service]).netloc
    elsewhere, problems = [], []
    page.on("request", lambda request: urlsplit(request.url).netloc != origin and elsewhere.append(request.url))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda answer: answer.status >= 400 and problems.append(f"{answer.status} {answer.url}"))

    page.goto(f"{stack.url[service]}/docs")

    page.locator(".opblock").first.wait_for(timeout=15_000)  # the operations, read from /openapi.json
    assert page.locator(".opblock").count() >= 3
    assert elsewhere == []
    assert problems == []  # a Content-Security-Policy violation would be reported here
