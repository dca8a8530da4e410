from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Loan(db.Model):
    __tablename__ = "loans"
    __table_args__ = (
        # A patron holds at most one copy of a book at a time, whatever the application does.
        sa.Index("loans_one_active_per_user_book", "username", "book_id", unique=True,
                 postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_active_by_book", "book_id", postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_by_user", "username", sa.column("borrow_date").desc()),
        sa.Index("loans_active_by_due_date", "due_date", postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_by_book", "book_id", sa.column("borrow_date").desc()),
        sa.Index("loans_active_newest", sa.column("borrow_date").desc(), sa.column("id").desc(),
                 postgresql_where=sa.text("NOT returned")),
        sa.CheckConstraint("returned = (returned_date IS NOT NULL)", name="loans_returned_has_date"),
        sa.CheckConstraint("renewals >= 0", name="loans_renewals_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(32))
    book_id: Mapped[int]
    borrow_date: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    due_date: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    returned: Mapped[bool] = mapped_column(server_default=sa.false())
    returned_date: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    renewals: Mapped[int] = mapped_column(server_default="0")
