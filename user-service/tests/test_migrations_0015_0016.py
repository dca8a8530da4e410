"""Migrations 0015 (a pending address beside the confirmed one) and 0016 (sessions ended one by one, and why all
ended) go back and forth on a database that holds an account."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from library_common.databases import recreate_database
from user_service import create_app

from .conftest import FAST_HASH


def test_the_migrations_go_back_and_forth(postgres_server_url):
    url = recreate_database(postgres_server_url, "test_users_migrations_0015_0016")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "PASSWORD_HASH_METHOD": FAST_HASH})
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        upgrade()
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (username, password_hash, first_name, last_name, first_name_folded,"
                " last_name_folded, pending_email, sessions_ended_because)"
                " VALUES ('alice', '!', 'A', 'L', 'a', 'l', 'new@example.org', 'logged_out_everywhere')"))
            connection.execute(sa.text("INSERT INTO ended_sessions VALUES ('abc', now())"))

        downgrade(revision="0014")
        inspector = sa.inspect(engine)
        assert not {"pending_email", "sessions_ended_because"} & {c["name"] for c in inspector.get_columns("users")}
        assert "ended_sessions" not in inspector.get_table_names()

        upgrade()
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT username, pending_email FROM users")).all() == [("alice", None)]
        engine.dispose()
