"""borrow-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps

from .loans import LoanPolicy
from .neighbours import Catalogue, Directory


@dataclass(frozen=True)
class Deps(AppDeps):
    policy: LoanPolicy
    catalogue: Catalogue
    directory: Directory


deps = Deps.current
