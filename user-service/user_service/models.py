from datetime import date, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column, validates

from library_common.search_text import fold

from library_common.events import event_model
from library_common.audit import audit_model
from library_common.rate_limits import rate_limit_table

db = SQLAlchemy()
Event = event_model(db)
AuditEntry = audit_model(db)


def utcnow():
    return sa.func.now()


# Every library card number comes from this sequence (cards.new_card_number): never twice, not even after a card
# is retired, with no retry loop.
card_numbers = sa.Sequence("library_card_numbers", metadata=db.metadata)
DEFAULT_CATEGORY = "adult"  # what every account gets unless a librarian says otherwise (and it cannot be deleted)


class PatronCategory(db.Model):
    """A kind of patron (adult, child, staff...), named by the library: what borrow-service's rules are told about
    each account (`category` in GET /users/<username>)."""

    __tablename__ = "patron_categories"
    __table_args__ = (
        sa.CheckConstraint("code ~ '^[a-z0-9_-]{1,32}$'", name="patron_categories_code_format"),
        # two categories named alike would be one choice twice in the librarians' menu
        sa.Index("patron_categories_name_lower_key", sa.func.lower(sa.column("name")), unique=True),
    )

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))


class User(db.Model):
    """An account. A deleted one stays as a tombstone (`deleted_at` set, personal data gone) so that its
    name, which loans and history refer to, is never given to anyone else."""

    __tablename__ = "users"
    __table_args__ = (
        sa.Index("users_username_lower_key", sa.func.lower(sa.column("username")), unique=True),
        # The API's own rule, once more where nothing can bypass it (PostgreSQL's `$` is the end of the text).
        sa.CheckConstraint("username ~ '^[A-Za-z0-9._-]{3,32}$'", name="users_username_format"),
        # prefix searches (LIKE 'x%') by index, whatever the database's collation
        sa.Index("users_username_prefix_idx", sa.func.lower(sa.column("username")),
                 postgresql_ops={"lower(username)": "text_pattern_ops"}),
        sa.Index("users_first_name_prefix_idx", "first_name_folded",
                 postgresql_ops={"first_name_folded": "text_pattern_ops"}),
        sa.Index("users_last_name_prefix_idx", "last_name_folded",
                 postgresql_ops={"last_name_folded": "text_pattern_ops"}),
        # A verified address belongs to one account, whatever its letter case; an unverified one reserves
        # nothing (anyone may type anyone's address); tombstones keep none (see accounts.delete_user).
        sa.Index("users_verified_email_lower_key", sa.func.lower(sa.column("email")), unique=True,
                 postgresql_where=sa.text("email_verified_at IS NOT NULL")),
        # what a barcode font and a scanner both take (cards.CARD_FORMAT), stored upper-case so lookups are exact
        sa.CheckConstraint("card_number ~ '^[0-9A-Z]{6,20}$'", name="users_card_number_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(32))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(16), server_default="patron")
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=utcnow())
    # Tokens issued before this are refused: set by Log out everywhere, a password change, deactivation and
    # deletion; `sessions_ended_because` says which of the first two (a key of library_common.auth.SESSION_ENDED),
    # so the other devices are told why.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sessions_ended_because: Mapped[str | None] = mapped_column(sa.String(32))
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Optional; nothing but its verification link is mailed to it until `email_verified_at` is set.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # A new address asked for while `email` is verified: it waits here, unverified and reserving nothing, until
    # its link is used, and `email` stays the one mail goes to and login takes until then (accounts._set_email).
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    # The names folded (library_common.search_text.fold: lower-case, no accents), kept in step with them,
    # so that a search for "zoe" finds Zoë (PostgreSQL's unaccent is not available everywhere).
    first_name_folded: Mapped[str] = mapped_column(sa.String(100))
    last_name_folded: Mapped[str] = mapped_column(sa.String(100))
    # Registered online and not approved yet: may log in and place holds, not borrow (approval.py). False by
    # default, so every other way to make an account (the desk, the CLI, bulk loads) needs no approval.
    provisional: Mapped[bool] = mapped_column(server_default=sa.false())
    # The patron category (categories.py); borrow-service reads it from the account's answer.
    category: Mapped[str] = mapped_column(sa.String(32),
                                          sa.ForeignKey("patron_categories.code", name="users_category_fkey"),
                                          server_default=DEFAULT_CATEGORY)
    # The library card (cards.py): a number the desk scans, and until when it is valid (None: no expiry, as for
    # the accounts from before cards). A tombstone has none.
    card_number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    card_expires_on: Mapped[date | None] = mapped_column(sa.Date)
    # Contact details the library keeps for the desk: the holder sees the phone and address, only librarians
    # the note; all three go when the account is deleted.
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    postal_address: Mapped[str | None] = mapped_column(sa.String(300))
    staff_note: Mapped[str | None] = mapped_column(sa.String(1000))

    @validates("first_name", "last_name")
    def _keep_folded(self, field, name):
        setattr(self, f"{field}_folded", fold(name))
        return name

    @property
    def email_verified(self):
        return self.email is not None and self.email_verified_at is not None

    @property
    def address_to_confirm(self):
        """The address a verification link is for: the pending one, or an unverified `email`; else None."""
        if self.pending_email is not None:
            return self.pending_email
        return None if self.email is None or self.email_verified else self.email


class RetiredCard(db.Model):
    """A card number that no longer identifies anyone: reported lost and replaced. Kept for good, so a found or
    stolen card is refused with a reason at the desk and at login, instead of being an unknown number."""

    __tablename__ = "retired_cards"

    number: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(32))
    retired_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class EndedSession(db.Model):
    """One device's session that logged out (Log out, not Log out everywhere): its token, named by its `jti`, is
    refused from then on. Kept only until the token would have expired anyway (sessions.log_out prunes)."""

    __tablename__ = "ended_sessions"

    session_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class SigningKey(db.Model):
    """An RS256 key pair: the public half as PEM, the private half sealed with SECRET_KEY (keys.seal)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(sa.Text)
    sealed_private_key: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=utcnow())


class LoginFailures(db.Model):
    """Login attempts not (yet) known to have succeeded, counted per username and client and per client,
    shared by every worker through PostgreSQL. While `blocked_until` is ahead, that scope waits."""

    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    failures: Mapped[int]
    last_attempt: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


rate_limits = rate_limit_table(db.metadata)
