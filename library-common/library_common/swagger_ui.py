"""Each service's browsable API docs at /docs: Swagger UI served by the service itself, from pinned files.

No CDN: the page works offline, and no script from elsewhere runs on the service's origin. The files
come from the npm registry's swagger-ui-dist package and must match the integrity hashes pinned here
(`python -m library_common.swagger_ui` fetches them: make install and the images do); the page
loads them with those same hashes, under a Content-Security-Policy that allows nothing else.
"""

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory, url_for
from markupsafe import escape

SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_TARBALL = f"https://registry.npmjs.org/swagger-ui-dist/-/swagger-ui-dist-{SWAGGER_UI_VERSION}.tgz"
SWAGGER_UI_FILES = {  # name -> Subresource Integrity of swagger-ui-dist 5.35.0's copy
    "swagger-ui-bundle.js": "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
    "swagger-ui.css": "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
}
STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor" / "swagger-ui"
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")

blp = Blueprint("docs", __name__)


def integrity(data):
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def vendor_swagger_ui(target=VENDOR):
    """Fetch the pinned Swagger UI files into `target`; stop on any file whose hash differs from its pin."""
    with urllib.request.urlopen(SWAGGER_UI_TARBALL, timeout=60) as response:
        tarball = response.read()
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        files = {name: archive.extractfile(f"package/{name}").read() for name in SWAGGER_UI_FILES}
    for name, data in files.items():
        if integrity(data) != SWAGGER_UI_FILES[name]:
            sys.exit(f"swagger-ui-dist {SWAGGER_UI_VERSION}: {name} does not match its pinned integrity hash")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (target / name).write_bytes(data)
    print(f"swagger-ui-dist {SWAGGER_UI_VERSION} -> {target}")


def _page(body):
    return Response(
        f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(current_app.config['API_TITLE'])}: API docs</title>"
        f'<link rel="icon" href="data:,">{body}</html>',  # no favicon to ask for
        headers={"Content-Security-Policy": POLICY, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                 "Referrer-Policy": "same-origin"},
        mimetype="text/html",
    )


@blp.get("/docs")
def docs():
    openapi = url_for("api-docs.openapi_json")
    if not all((VENDOR / name).exists() for name in SWAGGER_UI_FILES):
        return _page(f"</head><body><p>Swagger UI is not installed here (run <code>make install</code>). "
                     f"The OpenAPI document is at <a href=\"{escape(openapi)}\">{escape(openapi)}</a>.</p></body>")

    def asset(name, tag):
        url = escape(url_for("docs.vendored", name=name))
        if tag == "script":
            return f'<script src="{url}" integrity="{SWAGGER_UI_FILES[name]}" crossorigin="anonymous"></script>'
        return f'<link rel="stylesheet" href="{url}" integrity="{SWAGGER_UI_FILES[name]}" crossorigin="anonymous">'

    return _page(
        asset("swagger-ui.css", "link")
        + f"</head><body><div id=\"swagger-ui\" data-openapi-url=\"{escape(openapi)}\"></div>"
        + asset("swagger-ui-bundle.js", "script")
        + f'<script src="{escape(url_for("docs.initializer"))}"></script></body>'
    )


@blp.get("/docs/vendor/<any('swagger-ui-bundle.js', 'swagger-ui.css'):name>")
def vendored(name):
    return send_from_directory(VENDOR, name, max_age=86400)


@blp.get("/docs/docs.js")
def initializer():
    return send_from_directory(STATIC, "docs.js", max_age=3600)


if __name__ == "__main__":
    vendor_swagger_ui()
