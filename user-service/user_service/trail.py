"""What the audit trail (library_common.audit) keeps of the accounts librarians change."""

from library_common import audit

# An account's fields as the trail shows their changes: never a password or its hash.
ACCOUNT_FIELDS = ("first_name", "last_name", "email", "pending_email", "role", "active", "provisional", "category",
                  "card_number", "card_expires_on", "phone", "postal_address", "staff_note")


def record_account(action, user, changes=None):
    """An entry about an account (none when its holder acts for themself)."""
    audit.record(action, user.username, subject=user.username, summary=user.username, changes=changes)


def account_action(changes):
    """What a librarian's change of an account mostly was, for the trail's action."""
    if "active" in changes:
        return "account.deactivated" if changes["active"]["after"] is False else "account.reactivated"
    if "role" in changes:
        return "account.role_changed"
    return "account.updated"
