"""The web frontend's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.auth import RemoteAccountCheck
from library_common.deps import AppDeps

from .backend import Backend


@dataclass(frozen=True)
class Deps(AppDeps):
    backend: Backend
    mailbox: object  # the local mail catcher's API (a ServiceClient), in development only; else None
    account_check: RemoteAccountCheck  # also inside token_verifier; logout tells it a token has ended


deps = Deps.current
