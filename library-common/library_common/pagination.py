"""Page-number pagination shared by list endpoints: `page`/`per_page` in, `X-Total-Count` and `Link` out."""

from urllib.parse import urlencode

import marshmallow as ma
from flask import request

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE))


def offset(args):
    return (args["page"] - 1) * args["per_page"]


def page_headers(total, page, per_page, complete=True):
    """`X-Total-Count` plus an RFC 8288 `Link` header with first/prev/next/last pages.

    `complete=False`: counting stopped at `total` and there are more (`X-Total-Count-Capped: true`).
    """
    last = max(1, -(-total // per_page))
    targets = {"first": 1, "last": last}
    if page > 1:
        targets["prev"] = min(page - 1, last)
    if page < last:
        targets["next"] = page + 1
    filters = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("page", "per_page")}
    links = []
    for rel, target in targets.items():
        query = {"page": [str(target)], "per_page": [str(per_page)], **filters}
        links.append(f'<{request.base_url}?{urlencode(query, doseq=True)}>; rel="{rel}"')
    headers = {"X-Total-Count": str(total), "Link": ", ".join(links)}
    if not complete:
        headers["X-Total-Count-Capped"] = "true"
    return headers


PAGE_HEADERS_DOC = {
    "X-Total-Count": {"description": "Number of items across all pages", "schema": {"type": "integer"}},
    "Link": {"description": "first, prev, next and last pages (RFC 8288)", "schema": {"type": "string"}},
}
CAPPED_HEADER_DOC = {
    "X-Total-Count-Capped": {
        "description": "Present (true) when counting stopped: X-Total-Count is then a lower bound and the pages "
                       "end there", "schema": {"type": "string", "enum": ["true"]},
    },
}
