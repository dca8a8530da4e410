"""The web frontend's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps

from .backend import Backend


@dataclass(frozen=True)
class Deps(AppDeps):
    backend: Backend


deps = Deps.current
