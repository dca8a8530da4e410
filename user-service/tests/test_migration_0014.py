"""Migration 0014 on accounts that were there before it: each an adult, each live one with a card that never
expires, tombstones without one; new accounts go on from the same sequence; and back."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from library_common.databases import recreate_database
from user_service import cards, create_app

from .conftest import FAST_HASH, registration

BEFORE = [("alice", None), ("bob", None), ("gone", "2026-11-01T10:00:00+00:00")]


@pytest.fixture
def old_accounts(postgres_server_url):
    url = recreate_database(postgres_server_url, "test_users_migration_0014")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "PASSWORD_HASH_METHOD": FAST_HASH})
    with app.app_context():
        upgrade(revision="0013")
        db = app.extensions["sqlalchemy"]
        db.session.execute(sa.text(
            "INSERT INTO users (username, password_hash, first_name, last_name, first_name_folded, last_name_folded,"
            " deleted_at) VALUES (:username, '!', 'N', 'N', 'n', 'n', :deleted_at)"),
            [{"username": username, "deleted_at": deleted_at} for username, deleted_at in BEFORE])
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def rows(app, sql):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        try:
            return db.session.execute(sa.text(sql)).all()
        finally:
            db.session.remove()


def test_existing_accounts_become_adults_and_live_ones_get_cards_that_never_expire(old_accounts):
    with old_accounts.app_context():
        upgrade()

    assert rows(old_accounts, "SELECT code, name FROM patron_categories ORDER BY code") == [
        ("adult", "Adult"), ("child", "Child"), ("staff", "Staff")]
    accounts = rows(old_accounts, "SELECT username, category, card_number, card_expires_on FROM users ORDER BY id")
    assert accounts == [("alice", "adult", "P000000018", None), ("bob", "adult", "P000000026", None),
                        ("gone", "adult", None, None)]
    assert all(cards.has_valid_check_digit(number) for _name, _category, number, _expiry in accounts[:2])

    registered = old_accounts.test_client().post("/register", json=registration("carol")).json["data"]
    assert registered["card_number"] == "P000000034"  # the same sequence goes on


def test_the_migration_goes_back_and_forth(old_accounts):
    with old_accounts.app_context():
        upgrade()
        downgrade(revision="0013")
        assert "category" not in [column["name"] for column in sa.inspect(
            old_accounts.extensions["sqlalchemy"].engine).get_columns("users")]
        upgrade()

    assert rows(old_accounts, "SELECT count(card_number) FROM users") == [(2,)]
