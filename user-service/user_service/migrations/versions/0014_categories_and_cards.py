"""patron categories (adult, child, staff) and library cards (a number from a sequence, an expiry date, retired
numbers); contact details for the desk (phone, postal address, a staff note). Every existing account is an adult;
every live one gets a card that never expires (null), since nobody told its holder it would

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 1000


def luhn_check_digit(digits):
    """As user_service.cards.luhn_check_digit, copied: a migration must keep making the numbers it made, whatever
    the application's code becomes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def card_number_for(serial):
    digits = f"{serial:08d}"
    return f"P{digits}{luhn_check_digit(digits)}"


def upgrade():
    categories = op.create_table(
        "patron_categories",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.CheckConstraint("code ~ '^[a-z0-9_-]{1,32}$'", name="patron_categories_code_format"),
    )
    op.create_index("patron_categories_name_lower_key", "patron_categories", [sa.text("lower(name)")], unique=True)
    op.bulk_insert(categories, [{"code": "adult", "name": "Adult"}, {"code": "child", "name": "Child"},
                                {"code": "staff", "name": "Staff"}])
    # NOT NULL with a default: PostgreSQL fills every existing row with 'adult' as it adds the column.
    op.add_column("users", sa.Column("category", sa.String(32), server_default="adult", nullable=False))
    op.create_foreign_key("users_category_fkey", "users", "patron_categories", ["category"], ["code"])

    op.execute("CREATE SEQUENCE library_card_numbers")
    op.add_column("users", sa.Column("card_number", sa.String(20), nullable=True))
    op.add_column("users", sa.Column("card_expires_on", sa.Date(), nullable=True))
    op.create_unique_constraint("users_card_number_key", "users", ["card_number"])
    op.create_check_constraint("users_card_number_format", "users", "card_number ~ '^[0-9A-Z]{6,20}$'")
    op.create_table(
        "retired_cards",
        sa.Column("number", sa.String(20), primary_key=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.add_column("users", sa.Column("phone", sa.String(30), nullable=True))
    op.add_column("users", sa.Column("postal_address", sa.String(300), nullable=True))
    op.add_column("users", sa.Column("staff_note", sa.String(1000), nullable=True))

    # A card for every live account, oldest first, from the same sequence new accounts draw from.
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id")).scalars().all()
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        serials = connection.execute(sa.text("SELECT nextval('library_card_numbers') FROM generate_series(1, :n)"),
                                     {"n": len(batch)}).scalars().all()
        connection.execute(sa.text("UPDATE users SET card_number = :number WHERE id = :id"),
                           [{"id": user_id, "number": card_number_for(serial)}
                            for user_id, serial in zip(batch, sorted(serials), strict=True)])


def downgrade():
    op.drop_column("users", "staff_note")
    op.drop_column("users", "postal_address")
    op.drop_column("users", "phone")
    op.drop_table("retired_cards")
    op.drop_constraint("users_card_number_format", "users", type_="check")
    op.drop_constraint("users_card_number_key", "users", type_="unique")
    op.drop_column("users", "card_expires_on")
    op.drop_column("users", "card_number")
    op.execute("DROP SEQUENCE library_card_numbers")
    op.drop_constraint("users_category_fkey", "users", type_="foreignkey")
    op.drop_column("users", "category")
    op.drop_index("patron_categories_name_lower_key", table_name="patron_categories")
    op.drop_table("patron_categories")
