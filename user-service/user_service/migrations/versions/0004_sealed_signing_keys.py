"""signing keys: the public half stored apart; the private half re-encrypted with AES-256-GCM under an
scrypt-derived key (it was PKCS#8 PEM encryption with a low PBKDF2 cost)

The secret comes from the app this migration runs in (`flask db upgrade`, `make run`, the container
entrypoint all build the app from the same settings), so its SECRET_KEY is the one the keys were
encrypted with. A key that SECRET_KEY cannot open stops the migration, with that said.

Revision ID: 0004
Revises: 0003

"""
from alembic import op
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from flask import current_app

from user_service.keys import public_pem, seal, unseal


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

keys = sa.table('signing_keys', sa.column('kid', sa.String), sa.column('private_key_pem', sa.Text),
                sa.column('public_key', sa.Text), sa.column('sealed_private_key', sa.Text))


def upgrade():
    op.add_column('signing_keys', sa.Column('public_key', sa.Text(), nullable=True))
    op.add_column('signing_keys', sa.Column('sealed_private_key', sa.Text(), nullable=True))
    secret = current_app.config["SECRET_KEY"]
    connection = op.get_bind()
    for kid, pem in connection.execute(sa.select(keys.c.kid, keys.c.private_key_pem)).all():
        try:
            private_key = serialization.load_pem_private_key(pem.encode(), password=secret.encode())
        except ValueError as exc:
            raise RuntimeError(f"Signing key {kid} cannot be decrypted with this SECRET_KEY: run the migration "
                               "with the SECRET_KEY the service runs with") from exc
        connection.execute(keys.update().where(keys.c.kid == kid).values(
            public_key=public_pem(private_key.public_key()), sealed_private_key=seal(private_key, secret, kid)))
    op.alter_column('signing_keys', 'public_key', nullable=False)
    op.alter_column('signing_keys', 'sealed_private_key', nullable=False)
    op.drop_column('signing_keys', 'private_key_pem')


def downgrade():
    op.add_column('signing_keys', sa.Column('private_key_pem', sa.Text(), nullable=True))
    secret = current_app.config["SECRET_KEY"]
    connection = op.get_bind()
    for kid, sealed in connection.execute(sa.select(keys.c.kid, keys.c.sealed_private_key)).all():
        pem = unseal(sealed, secret, kid).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(secret.encode()))
        connection.execute(keys.update().where(keys.c.kid == kid).values(private_key_pem=pem.decode()))
    op.alter_column('signing_keys', 'private_key_pem', nullable=False)
    op.drop_column('signing_keys', 'sealed_private_key')
    op.drop_column('signing_keys', 'public_key')
