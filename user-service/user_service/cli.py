"""Commands for operators: `flask --app user_service create-user NAME --role librarian` (accounts made by hand)
and `flask --app user_service rotate-keys [--remove-retired]` (signing keys)."""

from datetime import timedelta

import click
import marshmallow as ma
from flask import current_app
from flask.cli import with_appcontext

from library_common.auth import ROLES
from library_common.clock import now
from library_common.errors import Conflict

from . import accounts
from .deps import deps
from .keys import token_lifetime_with_leeway
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
        accounts.register(deps(), role=role, now=now(), **fields)
    except Conflict as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {role} {username!r}.")


@click.command("rotate-keys")
@click.option("--remove-retired", is_flag=True,
              help="Also remove the keys replaced so long ago that no token they signed is still valid.")
@click.option("--grace-seconds", type=click.IntRange(min=0), default=None,
              help="With --remove-retired: remove keys replaced longer ago than this instead "
                   "(default: JWT_TTL_SECONDS plus the 30 s clock leeway). 0 refuses their tokens at once.")
@with_appcontext
def rotate_keys(remove_retired, grace_seconds):
    """Make a new signing key. It is published at once and signs once every service has had time to fetch it
    (JWKS_CACHE_SECONDS); the keys it replaces keep verifying until removed. A removed key stops verifying
    everywhere within JWKS_CACHE_SECONDS."""
    key_store = deps().key_store
    try:
        kid = key_store.rotate()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = current_app.config
    seconds = settings["JWKS_CACHE_SECONDS"]
    click.echo(f"New signing key {kid}: published now; it signs after {seconds} s (in every worker within "
               f"{2 * seconds} s).")
    if remove_retired:
        grace = timedelta(seconds=grace_seconds) if grace_seconds is not None \
            else token_lifetime_with_leeway(settings["JWT_TTL_SECONDS"])
        removed = key_store.remove_retired(now(), grace)
        click.echo(f"Removed {len(removed)} retired key(s){': ' + ', '.join(removed) if removed else ''}.")
