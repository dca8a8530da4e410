"""`flask --app user_service create-user NAME --role librarian`: accounts made by hand."""

import click
import marshmallow as ma
from flask.cli import with_appcontext

from library_common.auth import ROLES
from library_common.errors import Conflict

from . import accounts
from .deps import deps
from .schemas import RegistrationSchema


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="patron", show_default=True)
@click.option("--first-name", default=None, help="Defaults to the username.")
@click.option("--last-name", default=None, help="Defaults to the role.")
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_user(username, role, first_name, last_name, password):
    """Create a user account, with the same rules as POST /register."""
    try:
        fields = RegistrationSchema().load(
            {"username": username, "password": password,
             "first_name": first_name or username, "last_name": last_name or f"({role})"}
        )
    except ma.ValidationError as exc:
        raise click.ClickException(str(exc.messages)) from exc
    try:
        accounts.register(deps().hasher, role=role, **fields)
    except Conflict as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {role} {username!r}.")
