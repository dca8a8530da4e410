"""Reading history is the patron's (ALA: keeping it is opt-in). A patron chooses whether returned loans
stay theirs; otherwise, HISTORY_RETENTION_DAYS after the return, a loan loses its borrower's name and
keeps only a keyed pseudonym (HMAC-SHA256 with HISTORY_PSEUDONYM_KEY, as Koha's pseudonymisation does),
so statistics can still count distinct readers while nobody, librarians included, can see who read what.
A patron can also wipe their history at once. Closed holds of such patrons go the same way.
"""

import hashlib
import hmac

import sqlalchemy as sa

from library_common import events
from library_common.errors import Forbidden
from library_common.transactions import transaction

from .models import Hold, Loan, PatronSettings, db

BATCH = 1000


def pseudonym(key, username):
    return hmac.new(key.encode(), username.lower().encode(), hashlib.sha256).hexdigest()


def settings_of(actor, username):
    """A patron's choices (the patron, or a librarian looking)."""
    if not actor.may_act_for(username):
        raise Forbidden("You may only see your own settings")
    return db.session.get(PatronSettings, username) or PatronSettings(username=username, keep_history=False)


def choose(actor, username, keep_history):
    """Only the patron chooses whether their reading history is kept."""
    if actor.username.lower() != username.lower():
        raise Forbidden("Only the patron chooses whether their history is kept")
    with transaction():
        settings = db.session.get(PatronSettings, actor.username) or PatronSettings(username=actor.username)
        settings.keep_history = keep_history
        db.session.add(settings)
    return settings


def forget(actor, username, key):
    """The patron wipes their history now: every returned loan loses their name, closed holds go, and the
    event log forgets what it said of them (a notice not yet made from it is not made)."""
    if actor.username.lower() != username.lower():
        raise Forbidden("Only the patron deletes their history")
    with transaction():
        _anonymise(sa.select(Loan.id).where(Loan.username == actor.username, Loan.returned), key)
        db.session.execute(sa.delete(Hold).where(Hold.username == actor.username, Hold.status.not_in(("waiting",
                                                                                                        "ready"))))
        events.scrub(actor.username)


def anonymise_expired(policy, key, now):
    """Returned loans and closed holds older than the retention period, of patrons who did not choose to keep
    their history, lose the patron's name (the worker runs this on its schedule). Returns how many loans."""
    keeping = sa.select(PatronSettings.username).where(PatronSettings.keep_history)
    cutoff = now - policy.history_retention
    done = 0
    while True:
        with transaction():
            batch = _anonymise(sa.select(Loan.id).where(Loan.returned, Loan.returned_date < cutoff,
                                                        Loan.username.is_not(None), Loan.username.not_in(keeping))
                               .limit(BATCH), key)
        done += batch
        if batch < BATCH:
            break
    with transaction():
        db.session.execute(sa.delete(Hold).where(Hold.closed_at < cutoff, Hold.username.not_in(keeping)))
        # Events are pruned long before this once read; a reader stalled this long reads them anonymous.
        events.scrub(before=cutoff)
    return done


def _anonymise(loan_ids, key):
    loans = db.session.execute(sa.select(Loan.id, Loan.username).where(Loan.id.in_(loan_ids))).all()
    for loan_id, username in loans:
        db.session.execute(sa.update(Loan).where(Loan.id == loan_id)
                           .values(username=None, borrower_key=pseudonym(key, username)))
    return len(loans)
