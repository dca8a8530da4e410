"""`with transaction():` commits what its block did, or nothing at all when the block raises."""

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from library_common.databases import recreate_database
from library_common.transactions import transaction


@pytest.fixture(scope="module")
def app(postgres_server_url):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = recreate_database(postgres_server_url, "test_transactions")
    db = SQLAlchemy(app)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE notes (text varchar PRIMARY KEY)"))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def notes(session):
    session.rollback()
    return session.scalars(sa.text("SELECT text FROM notes ORDER BY text")).all()


def test_a_transaction_commits_its_block(app):
    with app.app_context():
        with transaction() as session:
            session.execute(sa.text("INSERT INTO notes VALUES ('kept')"))

        assert notes(session) == ["kept"]


def test_a_transaction_that_raises_leaves_nothing_behind_and_re_raises(app):
    with app.app_context():
        with pytest.raises(LookupError), transaction() as session:
            session.execute(sa.text("INSERT INTO notes VALUES ('lost')"))
            raise LookupError("changed my mind")

        assert "lost" not in notes(session)
