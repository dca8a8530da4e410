"""books-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps

from .neighbours import Circulation
from .spelling import Vocabulary


@dataclass(frozen=True)
class Deps(AppDeps):
    circulation: Circulation
    vocabulary: Vocabulary


deps = Deps.current
