"""App-lifetime objects (clients for other services, the token verifier, policies), reached one way.

Each package's `deps.py` declares a frozen dataclass of what it needs, extending AppDeps, and names its
accessor `deps = Deps.current`; `create_app` builds the objects once and `attach`es them; views, rules
and CLI commands call `deps()`. Tests swap one object with `replace`.
"""

import dataclasses
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:  # auth reaches the verifier through here
    from .auth import TokenVerifier

_KEY = "deps"


@dataclasses.dataclass(frozen=True)
class AppDeps:
    token_verifier: "TokenVerifier"  # every app verifies the library's tokens

    @classmethod
    def current(cls):
        return current_app.extensions[_KEY]


def attach(app, deps):
    app.extensions[_KEY] = deps
    return deps


def replace(app, **changes):
    """Swap some of an app's objects (a test's token verifier, a fake neighbour)."""
    app.extensions[_KEY] = dataclasses.replace(app.extensions[_KEY], **changes)
    return app.extensions[_KEY]
