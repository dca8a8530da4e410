"""/docs serves Swagger UI from the service's own pinned files (issue 12, finding 7: the page loaded a CDN
script without an integrity hash, and was blank offline)."""

import re

import pytest
from flask import Flask

from library_common import swagger_ui
from library_common.api import Api


@pytest.fixture
def client():
    app = Flask(__name__)
    app.config.update(API_TITLE="Library test-service", API_VERSION="1", OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json")
    Api(app)
    app.register_blueprint(swagger_ui.blp)
    return app.test_client()


def test_the_page_loads_only_local_files_with_their_pinned_hashes(client):
    if not (swagger_ui.VENDOR / "swagger-ui-bundle.js").exists():
        pytest.skip("Swagger UI is not vendored (make install fetches it)")

    response = client.get("/docs")

    html = response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources == ["data:,", "/docs/vendor/swagger-ui.css", "/docs/vendor/swagger-ui-bundle.js", "/docs/docs.js"]
    for name, pinned in swagger_ui.SWAGGER_UI_FILES.items():
        assert f'integrity="{pinned}"' in html
        served = client.get(f"/docs/vendor/{name}")
        assert served.status_code == 200 and swagger_ui.integrity(served.data) == pinned
    assert 'data-openapi-url="/openapi.json"' in html
    assert "<script>" not in html  # no inline code: the policy below allows none


def test_the_page_allows_scripts_from_its_own_origin_only(client):
    policy = client.get("/docs").headers["Content-Security-Policy"]

    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy


def test_only_the_pinned_files_are_served(client):
    assert client.get("/docs/vendor/swagger-ui-standalone-preset.js").status_code == 404
    assert client.get("/docs/vendor/..%2f..%2fconfig.py").status_code == 404
    assert client.get("/docs/docs.js").status_code == 200


def test_without_the_files_the_page_points_at_the_openapi_document(client, monkeypatch, tmp_path):
    monkeypatch.setattr(swagger_ui, "VENDOR", tmp_path)

    html = client.get("/docs").get_data(as_text=True)

    assert "make install" in html and 'href="/openapi.json"' in html and "<script" not in html
