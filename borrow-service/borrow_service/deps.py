"""borrow-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps

from .neighbours import Catalogue, Directory
from .policy import CirculationPolicy
from .reminders import ReminderPolicy


@dataclass(frozen=True)
class Deps(AppDeps):
    policy: CirculationPolicy
    catalogue: Catalogue
    directory: Directory
    history_key: str  # keys the pseudonyms of anonymised borrowers
    reminder_policy: ReminderPolicy


deps = Deps.current
