"""borrow-service: circulation (port 5002): loans, holds and the hold shelf, who has which copy. It asks
books-service about books and their items and user-service about patrons; its worker runs the jobs in
jobs.py."""

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.audit import audit_blueprint
from library_common.config import DEV_SECRET, load_settings
from library_common.feeds import feed_blueprint
from library_common.http import client_from_settings

from .deps import Deps
from .models import db
from .neighbours import Catalogue, Directory
from .policy import CirculationPolicy
from .reminders import ReminderPolicy
from . import views

DEFAULTS = {
    "BOOKS_SERVICE_URL": "http://127.0.0.1:5000",
    "LOAN_DAYS": 14,
    "MAX_ACTIVE_LOANS": 5,
    "MAX_RENEWALS": 2,
    "MAX_HOLDS": 10,
    "HOLD_PICKUP_DAYS": 7.0,
    "LIBRARY_TIMEZONE": "UTC",
    # false: borrowing on the web is a request (a hold); staff pull the copies to the hold shelf (pull list)
    "WEB_CHECKOUT": True,  # the library's own days: due dates and closed days are dates there
    "HISTORY_RETENTION_DAYS": 30,
    "HISTORY_PSEUDONYM_KEY": DEV_SECRET,
    "DUE_SOON_DAYS": 3,  # a courtesy reminder this long before a loan is due
    "OVERDUE_NOTICE_DAYS": "1,7,14",  # overdue reminders this many days after the due date
    "HOLD_EXPIRY_WARNING_HOURS": 24,  # a reminder this long before a ready hold's pickup window closes
    # How often the worker expires uncollected holds, hands new copies to waiting patrons and anonymises
    # old history (a divisor of 60 or of 3600).
    "SCHEDULE_SECONDS": 60,
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    blueprints = [views.borrows.blp, views.holds.blp, views.circulation.blp, views.patrons.blp, views.rules.blp,
                  feed_blueprint(), audit_blueprint(settings)]
    app = create_service_app(__name__, settings, db, blueprints, secret_names=["HISTORY_PSEUDONYM_KEY"])
    app_deps.attach(app, Deps(
        token_verifier=token_verifier(settings),
        policy=CirculationPolicy.from_settings(settings),
        catalogue=Catalogue(client_from_settings(settings, "books-service", "BOOKS_SERVICE_URL")),
        directory=Directory(client_from_settings(settings, "user-service", "USER_SERVICE_URL")),
        history_key=settings["HISTORY_PSEUDONYM_KEY"],
        reminder_policy=ReminderPolicy.from_settings(settings),
    ))
    return app
