from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column, validates

from library_common.search_text import fold

db = SQLAlchemy()


def utcnow():
    return sa.func.now()


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.Index("users_username_lower_key", sa.func.lower(sa.column("username")), unique=True),
        # prefix searches (LIKE 'x%') by index, whatever the database's collation
        sa.Index("users_username_prefix_idx", sa.func.lower(sa.column("username")),
                 postgresql_ops={"lower(username)": "text_pattern_ops"}),
        sa.Index("users_first_name_prefix_idx", "first_name_folded",
                 postgresql_ops={"first_name_folded": "text_pattern_ops"}),
        sa.Index("users_last_name_prefix_idx", "last_name_folded",
                 postgresql_ops={"last_name_folded": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(32))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(16), server_default="patron")
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=utcnow())
    # The names folded (library_common.search_text.fold: lower-case, no accents), kept in step with them,
    # so that a search for "zoe" finds Zoë (PostgreSQL's unaccent is not available everywhere).
    first_name_folded: Mapped[str] = mapped_column(sa.String(100))
    last_name_folded: Mapped[str] = mapped_column(sa.String(100))

    @validates("first_name", "last_name")
    def _keep_folded(self, field, name):
        setattr(self, f"{field}_folded", fold(name))
        return name


class SigningKey(db.Model):
    """An RS256 key pair generated on first use; the private half is encrypted with SECRET_KEY."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=utcnow())


class LoginFailures(db.Model):
    """Failed logins counted per username and per client, shared by every worker through PostgreSQL."""

    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    failures: Mapped[int]
    window_started: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
